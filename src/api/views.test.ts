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
  assert.deepEqual(names('java'), ['JAVA-JAR jackson-databind']);
  assert.deepEqual(names('python'), ['PYTHON acme-tools', 'PYTHON requests']);
  assert.deepEqual(names('go'), ['GO golang.org/x/net']);
  assert.deepEqual(names('binary'), ['BINARY node']);
  assert.deepEqual(names('malware'), []);
});

test('java items carry Anchore\'s manifest and pom versions, the pom.properties read, and JAVA-<extension> types', () => {
  const sbom = exampleSbom();
  const jar = sbom.packages.find((p) => p.type === 'java-archive')!;
  jar.metadata = { ...jar.metadata, pomPath: 'META-INF/maven/x/pom.properties', virtualPath: '/app/app.war:WEB-INF/lib/jackson-databind-2.15.2.jar',
    manifest: { 'Specification-Version': '2.15', 'Implementation-Version': '2.15.2', 'Implementation-Vendor': 'FasterXML' } };
  sbom.packages.push({ ...jar, name: 'tool', version: '1.0', metadata: { virtualPath: '/opt/tool.ear' }, locations: [{ path: '/opt/tool.ear' }] });
  const [a, b] = contentItems(sbom, 'java') as Record<string, unknown>[];
  assert.deepEqual(a, {
    package: 'jackson-databind', type: 'JAVA-JAR', location: '/app/app.war:WEB-INF/lib/jackson-databind-2.15.2.jar',
    'specification-version': '2.15', 'implementation-version': '2.15.2', 'maven-version': '2.15.2', version: '2.15.2',
    origin: 'com.fasterxml.jackson.core', license: 'Apache-2.0', licenses: ['Apache-2.0'], cpes: jar.cpes,
    metadata: {
      'pom.properties': '\ngroupId=com.fasterxml.jackson.core\nartifactId=jackson-databind\nversion=2.15.2\n',
      manifest: { 'Specification-Version': '2.15', 'Implementation-Version': '2.15.2', 'Implementation-Vendor': 'FasterXML' },
    },
  });
  assert.deepEqual([b!.type, b!['specification-version'], b!['implementation-version'], b!['maven-version'], b!.metadata], ['JAVA-EAR', 'N/A', 'N/A', 'N/A', {}]);
});
