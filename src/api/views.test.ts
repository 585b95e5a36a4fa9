import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTENT_TYPES, contentItems } from './views.js';
import { ECOSYSTEMS, type Ecosystem } from '../sbom/ecosystems.js';
import { exampleSbom } from '../sbom/formats/testing.js';

test('every Anchore content type of the ecosystem table is one of Anchore\'s content types', () => {
  for (const [type, e] of Object.entries(ECOSYSTEMS) as [string, Ecosystem][]) {
    if (e.anchore.content) assert.ok((CONTENT_TYPES as readonly string[]).includes(e.anchore.type), `${type}: ${e.anchore.type}`);
  }
});

test('content items: os lists the distro packages, each language content type its rows\' packages under Anchore\'s names', () => {
  const sbom = exampleSbom();
  const names = (type: (typeof CONTENT_TYPES)[number]) => (contentItems(sbom, type) as { package: string; type: string }[]).map((i) => `${i.type} ${i.package}`).sort();
  assert.deepEqual(names('os'), ['APKG libcrypto3', 'dpkg libc6', 'dpkg login', 'rpm openssl-libs']);
  assert.deepEqual(names('java'), ['JAVA jackson-databind']);
  assert.deepEqual(names('python'), ['PYTHON acme-tools', 'PYTHON requests']);
  assert.deepEqual(names('go'), ['GO golang.org/x/net']);
  assert.deepEqual(names('binary'), ['BINARY node']);
  assert.deepEqual(names('malware'), []);
});
