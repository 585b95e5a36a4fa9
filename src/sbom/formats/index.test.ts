import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LadingError } from '../../errors.js';
import { detectSbom, readSbom, sbomFormats, writers } from './index.js';
import { exampleSbom } from './testing.js';

const identities = (packages: { type: string; name: string; version: string; purl: string }[]) =>
  packages.map((p) => `${p.type}|${p.name}|${p.version}|${p.purl}`).sort();

test('every JSON writer writes JSON that readSbom reads back to the same packages', () => {
  const sbom = exampleSbom();
  assert.deepEqual(sbomFormats, ['json', 'cyclonedx-json', 'spdx-json', 'cyclonedx-xml', 'spdx-tag-value', 'syft-json']);
  const kinds = { json: 'lading', 'cyclonedx-json': 'cyclonedx', 'spdx-json': 'spdx', 'syft-json': 'syft' } as const;
  for (const format of ['json', 'cyclonedx-json', 'spdx-json', 'syft-json'] as const) {
    const w = writers[format];
    assert.ok(w.mediaType.startsWith('application/'));
    assert.ok(w.fileExtension.endsWith('.json'));
    const text = w.write(sbom);
    assert.equal(detectSbom(text), kinds[format], format);
    assert.deepEqual(identities(readSbom(text).packages), identities(sbom.packages), format);
  }
});

test('detectSbom: syft JSON, and nothing for other JSON or non-JSON', () => {
  assert.equal(detectSbom(JSON.stringify({ artifacts: [], descriptor: { name: 'syft', version: '1.0.0' } })), 'syft');
  assert.equal(detectSbom('\uFEFF{"bomFormat":"CycloneDX","specVersion":"1.5"}'), 'cyclonedx');
  assert.equal(detectSbom('{"artifacts": []}'), undefined);
  assert.equal(detectSbom('{"hello": "world"}'), undefined);
  assert.equal(detectSbom('not json'), undefined);
});

test('readSbom refuses anything that is not an SBOM, saying what it expected', () => {
  const refused = (text: string, detail: RegExp) =>
    assert.throws(() => readSbom(text), (e: unknown) =>
      e instanceof LadingError && e.code === 'BAD_INPUT' && /^not a CycloneDX, SPDX or syft JSON document/.test(e.message) && detail.test(e.message));
  refused('PK\u0003\u0004 garbage', /it is not JSON/);
  refused('', /it is not JSON/);
  refused('{"name": "some other json"}', /expected "bomFormat": "CycloneDX"/);
  refused('[1, 2, 3]', /an "spdxVersion"/);
  refused('null', /syft's "artifacts" list/);
});
