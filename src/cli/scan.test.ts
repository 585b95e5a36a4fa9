import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { LadingError } from '../errors.js';
import { writeCycloneDxJson } from '../sbom/formats/cyclonedx.js';
import { writeNative } from '../sbom/formats/native.js';
import { validateSarif } from '../sbom/validate.js';
import { buildImage, dockerArchiveBuffer } from '../testkit/images.js';
import { MemoryLookup } from '../vulns/lookup.js';
import { affected, deb, sbomOf } from '../vulns/testing.js';
import { sbomFromFile, scanCommand } from './commands/scan.js';
import { runCommand } from './testing.js';

let dir: string;
let sbomPath: string;
const DIGEST = `sha256:${'a'.repeat(64)}`;

/** Only High findings: libssl3 (source openssl) below the fix, and curl with no fix. */
function lookup(): MemoryLookup {
  return new MemoryLookup().add({
    affected: [
      affected({ vulnId: 'CVE-2024-0001', name: 'openssl', fixedVersions: ['3.0.15-1~deb12u1'], severity: 'High' }),
      affected({ vulnId: 'CVE-2024-0002', name: 'curl', state: 'not-fixed', severity: 'High' }),
      affected({ vulnId: 'CVE-2024-0003', name: 'zlib', fixedVersions: ['1:1.2.13.dfsg-1'], severity: 'Critical' }),
    ],
  });
}

interface Run { code: number; stdout: string; stderr: string; closed: number }

/** Runs `lading scan ARGS` in this process with an in-memory database; exit code as main() would return it. */
async function scan(args: string[], db: MemoryLookup = lookup()): Promise<Run> {
  let closed = 0;
  const cmd = scanCommand(async () => Object.assign(db, { close: async () => { closed++; } })).exitOverride();
  return { ...(await runCommand(cmd, args)), closed };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-scan-'));
  sbomPath = join(dir, 'app.lading.json');
  const sbom = sbomOf([
    deb('libssl3', '3.0.11-1~deb12u1', 'openssl'),
    deb('libcurl4', '7.88.1-10+deb12u5', 'curl'),
    deb('zlib1g', '1:1.2.13.dfsg-1', 'zlib'),
  ], undefined, DIGEST);
  await writeFile(sbomPath, writeNative(sbom));
  await writeFile(join(dir, 'app.cdx.json'), writeCycloneDxJson(sbom));
});
after(async () => rm(dir, { recursive: true, force: true }));

test('--fail-on high exits 1 with only High findings; --fail-on critical exits 0; -o json has the top-level matches', async () => {
  const out = join(dir, 'high.json');
  const high = await scan([sbomPath, '--fail-on', 'high', '-o', 'json', '--file', out]);
  assert.equal(high.code, 1);
  assert.match(high.stderr, /2 finding\(s\) at or above High \(--fail-on high\)/);
  assert.equal(high.closed, 1, 'the database is closed');
  const doc = JSON.parse(await readFile(out, 'utf8'));
  assert.ok(Array.isArray(doc.matches));
  assert.deepEqual(doc.matches.map((m: { vulnerability: { id: string; severity: string } }) => `${m.vulnerability.id} ${m.vulnerability.severity}`).sort(), ['CVE-2024-0001 High', 'CVE-2024-0002 High']);
  assert.equal(doc.source.input, sbomPath);
  assert.equal(doc.matches[0].package.type, 'deb');

  const critical = await scan([sbomPath, '--fail-on', 'CRITICAL', '-o', 'json', '--file', join(dir, 'critical.json')]);
  assert.equal(critical.code, 0);
  assert.equal(critical.stderr, '');
  assert.equal((await scan([sbomPath, '-o', 'json', '--file', join(dir, 'none.json')])).code, 0);
});

test('the default table goes to standard output; a CycloneDX SBOM is read as well', async () => {
  const r = await scan([join(dir, 'app.cdx.json')]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^NAME +INSTALLED +FIXED-IN +TYPE +VULNERABILITY +SEVERITY/);
  assert.match(r.stdout, /libssl3 +3\.0\.11-1~deb12u1 +3\.0\.15-1~deb12u1 +deb +CVE-2024-0001 +High/);
  assert.match(r.stdout, /2 vulnerabilities \(1 fixable\): 0 critical, 2 high/);
});

test('--vex and --ignore-file suppress; --only-fixed drops the unfixed; suppressed findings do not fail the gate', async () => {
  const vex = join(dir, 'openssl.vex.json');
  await writeFile(vex, JSON.stringify({
    '@context': 'https://openvex.dev/ns/v0.2.0',
    statements: [{ vulnerability: { name: 'CVE-2024-0001' }, products: [{ '@id': 'pkg:deb/debian/libssl3' }], status: 'not_affected', justification: 'vulnerable_code_not_in_execute_path' }],
  }));
  const ignore = join(dir, 'ignore.yaml');
  await writeFile(ignore, 'ignore:\n  - vulnerability: CVE-2024-0002\n    reason: curl is never run\n    expires: 2999-01-01\n');
  const out = join(dir, 'suppressed.json');
  const r = await scan([sbomPath, '--vex', vex, '--ignore-file', ignore, '--fail-on', 'high', '-o', 'json', '--file', out]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(await readFile(out, 'utf8'));
  assert.deepEqual(doc.matches, []);
  assert.deepEqual(doc.suppressed.map((s: { reason: string }) => s.reason).sort(), [
    'ignore: curl is never run (until 2999-01-01)',
    `vex:not_affected (vulnerable_code_not_in_execute_path) [${vex}]`,
  ]);

  const fixedOnly = join(dir, 'fixed.json');
  assert.equal((await scan([sbomPath, '--only-fixed', '-o', 'json', '--file', fixedOnly])).code, 0);
  assert.deepEqual(JSON.parse(await readFile(fixedOnly, 'utf8')).matches.map((m: { vulnerability: { id: string } }) => m.vulnerability.id), ['CVE-2024-0001']);
});

test('-o sarif writes a valid SARIF log; --db is passed to the database opener', async () => {
  const out = join(dir, 'scan.sarif');
  let seen: string | undefined;
  const cmd = scanCommand(async (p) => {
    seen = p;
    return Object.assign(lookup(), { close: async () => {} });
  }).exitOverride();
  await cmd.parseAsync([sbomPath, '-o', 'sarif', '--file', out, '--db', '/tmp/x.db'], { from: 'user' });
  assert.equal(seen, '/tmp/x.db');
  const doc = JSON.parse(await readFile(out, 'utf8'));
  assert.deepEqual(validateSarif(doc), []);
  assert.equal(doc.runs[0].results.length, 2);
});

test('bad inputs are errors (exit 2 through main): a bad VEX, a JSON file that is no SBOM, an unknown --fail-on', async () => {
  const badVex = join(dir, 'bad.vex.json');
  await writeFile(badVex, JSON.stringify({ '@context': 'https://openvex.dev/ns/v0.2.0', statements: [{ vulnerability: { name: 'CVE-1' }, products: [{ '@id': 'pkg:npm/a' }], status: 'maybe' }] }));
  await assert.rejects(scan([sbomPath, '--vex', badVex]), (e: unknown) => e instanceof LadingError && e.code === 'BAD_INPUT' && /bad\.vex\.json: statements\[0\]: "status" "maybe"/.test(e.message));
  const notSbom = join(dir, 'package.json');
  await writeFile(notSbom, '{"name": "x"}');
  await assert.rejects(scan([notSbom]), (e: unknown) => e instanceof LadingError && e.code === 'BAD_INPUT' && /package\.json: not a CycloneDX, SPDX or syft JSON document/.test(e.message));
  await assert.rejects(scan([join(dir, 'missing.json')]), (e: unknown) => e instanceof LadingError && e.code === 'NOT_FOUND' && /no such SBOM file/.test(e.message));
  await assert.rejects(scan([sbomPath, '--fail-on', 'severe']), (e: unknown) => e instanceof CommanderError && /expected one of negligible, low, medium, high, critical/.test(e.message));
  await assert.rejects(scan([sbomPath, '--ignore-file', join(dir, 'missing.yaml')]), (e: unknown) => e instanceof LadingError && /cannot read the ignore file/.test(e.message));
});

test('an image (docker-archive tar, not mistaken for an SBOM) is analysed and scanned', async () => {
  const image = buildImage({
    layers: [{ entries: [
      { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
      { type: 'file', path: 'var/lib/dpkg/status', content: 'Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u1\nSource: openssl\n' },
    ] }],
  });
  const tar = join(dir, 'app.tar');
  await writeFile(tar, dockerArchiveBuffer(image, ['example.com/app:1.0']));
  assert.equal(await sbomFromFile(tar), undefined);
  assert.equal(await sbomFromFile(dir), undefined);
  assert.equal(await sbomFromFile(join(dir, 'nothing-here')), undefined);
  const out = join(dir, 'image.json');
  const r = await scan([tar, '--fail-on', 'high', '-o', 'json', '--file', out]);
  assert.equal(r.code, 1);
  const doc = JSON.parse(await readFile(out, 'utf8'));
  assert.deepEqual(doc.matches.map((m: { vulnerability: { id: string }; package: { name: string; locations: { path: string }[] } }) => [m.vulnerability.id, m.package.name, m.package.locations[0]!.path]), [['CVE-2024-0001', 'libssl3', '/var/lib/dpkg/status']]);
  assert.equal(doc.distro.id, 'debian');
});

/** Findings of three severities: openssl High and Medium, curl High and Low. */
function mixed(): MemoryLookup {
  return new MemoryLookup().add({
    affected: [
      affected({ vulnId: 'CVE-2024-0001', name: 'openssl', fixedVersions: ['3.0.15-1~deb12u1'], severity: 'High' }),
      affected({ vulnId: 'CVE-2024-0002', name: 'curl', state: 'not-fixed', severity: 'High' }),
      affected({ vulnId: 'CVE-2024-0004', name: 'curl', state: 'not-fixed', severity: 'Low' }),
      affected({ vulnId: 'CVE-2024-0005', name: 'openssl', fixedVersions: ['3.0.13-1~deb12u1'], severity: 'Medium' }),
    ],
    vulnerabilities: [{ id: 'CVE-2024-0004', source: 'debian', aliases: [], description: 'a "quoted", comma\nline', cvss: [], references: [] }],
  });
}

test('--severity keeps only the listed severities (trivy\'s syntax, any case), and --fail-on counts only those', async () => {
  const r = await scan([sbomPath, '--severity', 'LOW,medium', '-o', 'csv', '--fail-on', 'high'], mixed());
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\r\n');
  assert.equal(lines[0], 'Package,Version,Type,Purl,Path,Vulnerability,Severity,FixState,FixedIn,Epss,Kev,Namespace,Aliases,Description');
  assert.deepEqual(lines.slice(1).map((l) => l.split(',').slice(5, 7).join(' ')), ['CVE-2024-0005 Medium', 'CVE-2024-0004 Low']);
  assert.match(r.stdout, /,"a ""quoted"", comma\nline"\r\n$/);
  const high = await scan([sbomPath, '--severity', 'high', '--fail-on', 'high', '-o', 'csv'], mixed());
  assert.equal(high.code, 1);
  assert.equal(high.stdout.trimEnd().split('\r\n').length, 3);
  await assert.rejects(scan([sbomPath, '--severity', 'LOW,SEVERE'], mixed()), /"SEVERE" is not a severity; expected a comma-separated list of negligible, low, medium, high, critical, unknown/);
});

test('--quiet: the table\'s rows only, no warnings, no --fail-on message (the exit code stays)', async () => {
  const r = await scan([sbomPath, '--quiet', '--fail-on', 'high'], mixed());
  assert.equal(r.code, 1);
  assert.equal(r.stderr, '');
  assert.doesNotMatch(r.stdout, /NAME|vulnerabilities|suppressed/);
  assert.equal(r.stdout.trimEnd().split('\n').length, 4);
  assert.match(r.stdout.split('\n')[0]!, /^libcurl4 +7\.88\.1-10\+deb12u5 +deb +CVE-2024-0002 +High/);
});

test('-o template --template FILE: {{range .}}…{{end}} with {{.Field}} per finding; bad templates are named errors', async () => {
  const tpl = join(dir, 'report.tpl');
  await writeFile(tpl, 'findings:\n{{range .}}- {{.Vulnerability}} {{.severity}} in {{.Package}}@{{.Version}} fix: {{.FixedIn}}\n{{end}}end\n');
  const r = await scan([sbomPath, '-o', 'template', '--template', tpl, '--severity', 'high,medium'], mixed());
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, [
    'findings:',
    '- CVE-2024-0002 High in libcurl4@7.88.1-10+deb12u5 fix: ',
    '- CVE-2024-0001 High in libssl3@3.0.11-1~deb12u1 fix: 3.0.15-1~deb12u1',
    '- CVE-2024-0005 Medium in libssl3@3.0.11-1~deb12u1 fix: 3.0.13-1~deb12u1',
    'end', '',
  ].join('\n'));
  const bad = join(dir, 'bad.tpl');
  await writeFile(bad, 'x\n{{range .}}{{.Packag}}{{end}}');
  await assert.rejects(scan([sbomPath, '-o', 'template', '--template', bad], mixed()), /bad\.tpl line 2: unknown field \{\{\.Packag\}\}; a finding has \.Package, \.Version/);
  await writeFile(bad, '{{range .}}{{ .Package | printf "%s" }}{{end}}');
  await assert.rejects(scan([sbomPath, '-o', 'template', '--template', bad], mixed()), /is not supported; a template has \{\{range \.\}\}…\{\{end\}\} and \{\{\.Field\}\} only/);
  await writeFile(bad, '{{range .}}{{.Package}}');
  await assert.rejects(scan([sbomPath, '-o', 'template', '--template', bad], mixed()), /\{\{range \.\}\} has no \{\{end\}\}/);
  await assert.rejects(scan([sbomPath, '-o', 'template'], mixed()), /-o template needs --template FILE/);
});
