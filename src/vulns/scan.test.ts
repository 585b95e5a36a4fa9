import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLookup } from './lookup.js';
import { failingMatches, parseSeverity, scanSbom } from './scan.js';
import { affected, deb, fakeSchemes, sbomOf } from './testing.js';
import { parseIgnoreFile } from './ignore.js';

const lookup = () => new MemoryLookup().add({
  affected: [
    affected({ vulnId: 'CVE-2024-0001', name: 'a', state: 'not-fixed', severity: 'Medium' }),
    affected({ vulnId: 'CVE-2024-0002', name: 'b', state: 'not-fixed', severity: 'Critical' }),
    affected({ vulnId: 'CVE-2024-0003', name: 'a', state: 'not-fixed', severity: 'Critical' }),
  ],
});

test('scanSbom: result shape, most severe first, ignores and their warnings, the no-data warning', async () => {
  const sbom = sbomOf([deb('a', '1.0-1'), deb('b', '1.0-1')]);
  const ignore = parseIgnoreFile('ignore:\n  - vulnerability: CVE-2024-0002\n  - vulnerability: CVE-2024-0001\n    expires: 2020-01-01\n');
  const r = await scanSbom(sbom, lookup(), { input: 'app.json', ignore, schemes: fakeSchemes, now: new Date('2025-01-01T00:00:00Z') });
  assert.equal(r.schema, 'lading-scan/1');
  assert.equal(r.createdAt, '2025-01-01T00:00:00.000Z');
  assert.deepEqual(r.source, { imageId: sbom.source.imageId, manifestDigest: sbom.source.manifestDigest, tags: ['example.com/app:1.0'], input: 'app.json' });
  assert.deepEqual(r.distro, { id: 'debian', versionId: '12' });
  assert.deepEqual(r.matches.map((m) => `${m.vulnerability.severity} ${m.vulnerability.id}`), ['Critical CVE-2024-0003', 'Medium CVE-2024-0001']);
  assert.deepEqual(r.suppressed.map((m) => m.vulnerability.id), ['CVE-2024-0002']);
  assert.deepEqual(r.warnings, ['ignore rule 2 (CVE-2024-0001) expired on 2020-01-01: it no longer suppresses anything']);
  assert.deepEqual(r.db, { sources: [] });
  const eol = await scanSbom(sbomOf([deb('a', '1.0-1')], { id: 'debian', versionId: '9', idLike: [], source: '/etc/os-release' }), lookup(), { input: 'x', schemes: fakeSchemes });
  assert.deepEqual(eol.warnings, ['no vulnerability data for debian:9 (unsupported or end-of-life release?)']);
});

test('failingMatches: reported findings at or above the bar; parseSeverity ignores case', async () => {
  const r = await scanSbom(sbomOf([deb('a', '1.0-1')]), lookup(), { input: 'x', schemes: fakeSchemes });
  assert.deepEqual(failingMatches(r, 'Critical').map((m) => m.vulnerability.id), ['CVE-2024-0003']);
  assert.equal(failingMatches(r, 'Medium').length, 2);
  assert.equal(failingMatches({ ...r, matches: [] }, 'Negligible').length, 0);
  assert.equal(parseSeverity('HIGH'), 'High');
  assert.equal(parseSeverity('negligible'), 'Negligible');
  assert.equal(parseSeverity('severe'), undefined);
});
