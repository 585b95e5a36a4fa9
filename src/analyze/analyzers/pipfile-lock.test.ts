import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAnalyzer } from '../testing.js';
import { pipfileLockAnalyzer } from './pipfile-lock.js';

const lock = JSON.stringify({
  _meta: { hash: { sha256: 'abc' }, 'pipfile-spec': 6, requires: { python_version: '3.11' },
    sources: [{ name: 'pypi', url: 'https://pypi.org/simple', verify_ssl: true }] },
  default: {
    certifi: { hashes: ['sha256:539c'], index: 'pypi', markers: "python_version >= '3.6'", version: '==2023.7.22' },
    'Django_Rest.Framework': { hashes: [], index: 'pypi', version: '==3.14.0' },
    mylib: { editable: true, path: '.' },
    gitdep: { git: 'https://github.com/x/y.git', ref: 'abc123' },
  },
  develop: {
    pytest: { hashes: ['sha256:1'], index: 'pypi', version: '==7.4.2' },
    certifi: { hashes: ['sha256:539c'], index: 'pypi', version: '==2023.7.22' },
  },
});

test('Pipfile.lock: default and develop, pinned versions only, runtime wins over dev', async () => {
  const r = await runAnalyzer(pipfileLockAnalyzer, { '/app/Pipfile.lock': { content: lock, layer: 1 } });
  assert.deepEqual(r.warnings, []);
  const ids = (r.packages ?? []).map((p) => `${p.name}@${p.version}:${String(p.metadata?.dev)}`);
  assert.deepEqual(ids, ['certifi@2023.7.22:false', 'Django_Rest.Framework@3.14.0:false', 'pytest@7.4.2:true']);
  const drf = r.packages?.[1];
  assert.equal(drf?.purl, 'pkg:pypi/django-rest-framework@3.14.0');
  assert.equal(drf?.foundBy, 'pipfile-lock');
  assert.deepEqual(drf?.locations, [{ path: '/app/Pipfile.lock', layer: 1 }]);
});

test('Pipfile.lock: broken or foreign JSON warns', async () => {
  const r = await runAnalyzer(pipfileLockAnalyzer, { '/a/Pipfile.lock': '{"default": ', '/b/Pipfile.lock': '{"x": 1}' });
  assert.deepEqual(r.packages, []);
  assert.equal(r.warnings.length, 2);
  assert.match(r.warnings[0] ?? '', /^\/a\/Pipfile\.lock: not valid JSON/);
  assert.match(r.warnings[1] ?? '', /^\/b\/Pipfile\.lock: no default or develop section/);
});
