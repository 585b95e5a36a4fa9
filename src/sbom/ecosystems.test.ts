import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PackageURL } from 'packageurl-js';
import {
  ANCHORE_TYPE, ECOSYSTEMS, OSV_LANGUAGE_NAMESPACES, PACKAGE_SCHEME, PACKAGE_TYPES, ecosystemOf, isOsType, isPackageType,
  languageNamespace, namespaceInName, typeOfPurl, typesOfAnchoreContent, type Ecosystem, type PackageType,
} from './ecosystems.js';
import { examplePackages } from './formats/testing.js';
import { SCHEMES } from '../versions/index.js';

const rows = Object.entries(ECOSYSTEMS) as [PackageType, Ecosystem][];

/** Values claimed by more than one row. */
function claimedTwice(values: (string | undefined)[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const v of values) if (v !== undefined) (seen.has(v) ? twice : seen).add(v);
  return [...twice];
}

test('the package types are the rows of the table, in table order', () => {
  assert.deepEqual(PACKAGE_TYPES, Object.keys(ECOSYSTEMS));
  const known = ['deb', 'rpm', 'apk', 'npm', 'python', 'gem', 'java-archive', 'go-module', 'rust-crate', 'dotnet', 'php-composer', 'binary'];
  assert.deepEqual(known.filter((t) => !isPackageType(t)), [], 'a type stored SBOMs use has no row');
  for (const type of PACKAGE_TYPES) {
    assert.ok(isPackageType(type), type);
    assert.equal(ecosystemOf(type), ECOSYSTEMS[type]);
  }
  for (const bogus of ['', 'Deb', 'java', 'pypi', 'constructor', 'toString', '__proto__', 'hasOwnProperty', 42, undefined, null]) {
    assert.equal(isPackageType(bogus), false, String(bogus));
    if (typeof bogus === 'string') {
      assert.equal(ecosystemOf(bogus), undefined, bogus);
      assert.equal(isOsType(bogus), false, bogus);
      assert.equal(namespaceInName(bogus), false, bogus);
    }
  }
});

test('every row names a registered version scheme; PACKAGE_SCHEME is the column', () => {
  for (const [type, e] of rows) {
    assert.equal(SCHEMES[e.scheme]?.id, e.scheme, `${type}: scheme ${e.scheme} is not in versions/index.ts`);
    assert.equal(PACKAGE_SCHEME[type], e.scheme, type);
  }
});

test('os rows are the distro package managers and have no language namespace; language rows have one', () => {
  assert.deepEqual(PACKAGE_TYPES.filter(isOsType), ['deb', 'rpm', 'apk']);
  for (const [type, e] of rows) {
    assert.equal(e.vulns !== undefined, e.kind === 'language', `${type}: kind ${e.kind} with${e.vulns ? '' : 'out'} a namespace`);
    if (e.kind !== 'other') assert.ok(e.purl.type, `${type}: an ${e.kind} type writes a purl type`);
  }
});

test('no two rows claim the same purl type, namespace, OSV ecosystem or Anchore name', () => {
  const purls = rows.flatMap(([, e]) => [e.purl.type, ...(e.purl.alsoRead ?? [])]);
  assert.deepEqual(claimedTwice(purls), [], 'purl types');
  assert.deepEqual(claimedTwice(rows.map(([, e]) => e.vulns?.namespace)), [], 'namespaces');
  assert.deepEqual(claimedTwice(rows.map(([, e]) => e.vulns?.osv)), [], 'OSV ecosystems');
  assert.deepEqual(claimedTwice(rows.map(([, e]) => e.anchore.type.toLowerCase())), [], 'Anchore names');
  assert.deepEqual(claimedTwice(Object.keys(ECOSYSTEMS)), []);
});

test('purl types read back as their row', () => {
  for (const [type, e] of rows) {
    for (const p of [e.purl.type, ...(e.purl.alsoRead ?? [])]) if (p) assert.equal(typeOfPurl(p), type, p);
  }
  assert.equal(typeOfPurl('alpm'), 'binary');
  for (const unknown of ['generic', 'oci', 'PYPI', 'constructor', '']) assert.equal(typeOfPurl(unknown), undefined, unknown);
});

test('the example packages of every type: purl type and name agree with their row', () => {
  for (const p of examplePackages) {
    const parsed = PackageURL.fromString(p.purl);
    const row: Ecosystem = ECOSYSTEMS[p.type];
    if (row.purl.type) assert.equal(parsed.type, row.purl.type, p.name);
    const joined = parsed.namespace ? `${parsed.namespace}/${parsed.name}` : parsed.name;
    if (namespaceInName(p.type)) assert.equal(joined, p.name, p.name);
    else if (row.kind === 'language') assert.equal(parsed.name, p.name, p.name);
  }
});

test('OSV ecosystems map to their row\'s namespace, and the namespace back to the row\'s scheme and rules', () => {
  const osvRows = rows.filter(([, e]) => e.vulns?.osv);
  assert.deepEqual(Object.keys(OSV_LANGUAGE_NAMESPACES), osvRows.map(([, e]) => e.vulns!.osv));
  for (const [type, e] of osvRows) {
    const namespace = OSV_LANGUAGE_NAMESPACES[e.vulns!.osv!];
    assert.equal(namespace, e.vulns!.namespace, type);
    const back = languageNamespace(namespace!);
    assert.equal(back?.scheme, e.scheme, type);
    assert.equal(back?.normalize, e.vulns!.normalize, type);
  }
  assert.equal(languageNamespace('debian:12'), undefined);
  assert.equal(languageNamespace('PyPI'), undefined);
});

test('name rules: PEP 503 for pypi, lower case for nuget and composer, Maven group:artifact', () => {
  assert.equal(languageNamespace('pypi')?.normalize?.('Zope.Interface__x-Y'), 'zope-interface-x-y');
  assert.equal(languageNamespace('nuget')?.normalize?.('Newtonsoft.Json'), 'newtonsoft.json');
  assert.equal(languageNamespace('composer')?.normalize?.('Monolog/Monolog'), 'monolog/monolog');
  assert.equal(languageNamespace('npm')?.normalize, undefined);
  const maven = languageNamespace('maven')!.lookupName!;
  assert.equal(maven({ name: 'x', purl: '', metadata: { groupId: 'org.yaml', artifactId: 'snakeyaml' } }), 'org.yaml:snakeyaml');
  assert.equal(maven({ name: 'snakeyaml', purl: 'pkg:maven/org.yaml/snakeyaml@2.2' }), 'org.yaml:snakeyaml');
  assert.equal(maven({ name: 'lonely', purl: 'pkg:maven/lonely@1' }), undefined);
});

test('Anchore names, and the types under each Anchore content type', () => {
  const anchore: Partial<Record<PackageType, string>> = {
    deb: 'dpkg', rpm: 'rpm', apk: 'APKG', npm: 'npm', python: 'python', gem: 'gem', 'java-archive': 'java',
    'go-module': 'go', 'rust-crate': 'rust', dotnet: 'nuget', 'php-composer': 'composer', binary: 'binary',
  };
  for (const [type, name] of Object.entries(anchore)) assert.equal(ANCHORE_TYPE[type as PackageType], name, type);
  assert.deepEqual(typesOfAnchoreContent('java'), ['java-archive']);
  assert.deepEqual(typesOfAnchoreContent('go'), ['go-module']);
  assert.deepEqual(typesOfAnchoreContent('binary'), ['binary']);
  for (const none of ['os', 'files', 'rust', 'nuget', 'java-archive', 'malware']) assert.deepEqual(typesOfAnchoreContent(none), [], none);
});
