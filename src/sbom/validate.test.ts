import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cycloneDxLicenseIds, validateCycloneDx, validateSpdx } from './validate.js';

test('CycloneDX validation names what is wrong', () => {
  assert.deepEqual(validateCycloneDx({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [] }), []);
  const errors = validateCycloneDx({
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    metadata: { timestamp: 'yesterday' },
    components: [{ type: 'library', name: 'x', licenses: [{ license: { id: 'Not-A-Licence' } }] }, { type: 'gadget', name: 'y' }],
  });
  assert.ok(errors.includes('/metadata/timestamp must match format "date-time" (format=date-time)'), errors.join('\n'));
  assert.ok(errors.some((e) => e.startsWith('/components/0/licenses/0/license/id must be equal to one of the allowed values')), errors.join('\n'));
  assert.ok(errors.some((e) => e.startsWith('/components/1/type must be equal to one of the allowed values')), errors.join('\n'));
  assert.deepEqual(validateCycloneDx({ bomFormat: 'CycloneDX' }), ["/ must have required property 'specVersion' (missingProperty=specVersion)"]);
});

test('SPDX validation names what is wrong', () => {
  const errors = validateSpdx({
    spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT', name: 'x',
    creationInfo: { created: '2024-01-01T00:00:00Z', creators: ['Tool: x'] },
    packages: [{ SPDXID: 'SPDXRef-a', name: 'a' }, { SPDXID: 'SPDXRef-b', name: 'b', downloadLocation: 'NOASSERTION', primaryPackagePurpose: 'OPERATING-SYSTEM' }],
  });
  assert.ok(errors.includes("/packages/0 must have required property 'downloadLocation' (missingProperty=downloadLocation)"), errors.join('\n'));
  assert.ok(errors.includes('/packages/1/primaryPackagePurpose must be equal to one of the allowed values'), errors.join('\n'));
  assert.equal(errors.length, 2, errors.join('\n'));
});

test('the SPDX ids CycloneDX accepts come from its schema', () => {
  const ids = cycloneDxLicenseIds();
  assert.ok(ids.has('MIT') && ids.has('GPL-2.0-or-later') && ids.has('Classpath-exception-2.0'));
  assert.ok(!ids.has('mit'));
});
