import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Json } from './common.js';
import { cycloneDxDocument } from './cyclonedx.js';
import { writeCycloneDxXml, xmlText } from './cyclonedx-xml.js';
import { exampleSbom } from './testing.js';

/** The official CycloneDX 1.6 XSD, as the cyclonedx-library dependency ships it. */
const XSD = join(dirname(createRequire(import.meta.url).resolve('@cyclonedx/cyclonedx-library/package.json')), 'res', 'schema', 'bom-1.6.SNAPSHOT.xsd');
const xmllint = spawnSync('xmllint', ['--version']).status === 0;

test('cyclonedx-xml is valid by the official CycloneDX 1.6 XML schema', { skip: xmllint ? false : 'xmllint (libxml2-utils) is not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lading-cdx-xml-'));
  try {
    const sbom = exampleSbom();
    const p = { ...sbom.packages[0]!, name: 'a<b>&"c"\u0001' };
    const file = join(dir, 'bom.xml');
    writeFileSync(file, writeCycloneDxXml({ ...sbom, packages: [...sbom.packages, p] }));
    const out = execFileSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.equal(out, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cyclonedx-xml holds every component of the JSON document, with its purl, licences and properties', () => {
  const sbom = exampleSbom();
  const xml = writeCycloneDxXml(sbom);
  const doc = cycloneDxDocument(sbom);
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<bom xmlns="http:\/\/cyclonedx.org\/schema\/bom\/1.6" serialNumber="urn:uuid:[0-9a-f-]{36}" version="1">/);
  for (const c of doc.components as Json[]) {
    assert.ok(xml.includes(`bom-ref="${xmlText(String(c['bom-ref']))}"`), String(c['bom-ref']));
    if (c.purl) assert.ok(xml.includes(`<purl>${xmlText(String(c.purl))}</purl>`), String(c.purl));
    for (const pr of (c.properties ?? []) as Json[]) assert.ok(xml.includes(`<property name="${xmlText(String(pr.name))}">${xmlText(String(pr.value))}</property>`));
  }
  assert.equal(xml.match(/<component /g)?.length, (doc.components as Json[]).length + 2);
  assert.match(xml, /<licenses>\n\s+<license>\n\s+<id>LGPL-2.1-or-later<\/id>/);
  assert.equal(xmlText('a<b>&"\u0000'), 'a&lt;b&gt;&amp;&quot;');
});
