/** `lading evaluate` and `lading policy`, run as processes: output, and exit codes 0 pass / 1 fail / 2 error. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './testing.js';
import { writeOciLayout } from '../testkit/images.js';
import { appImage, cleanImage } from '../policy/e2e-images.js';
import { writers } from '../sbom/formats/index.js';
import { openSource } from '../image/sources/index.js';
import { analyzeImage } from '../analyze/analyze.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const driver = join(here, 'testdata', 'evaluate-driver.ts');
const everyGate = join(here, '..', 'policy', 'testdata', 'every-gate.json');
const anchoreDefault = join(here, '..', 'policy', 'testdata', 'anchore-default.json');
const strict = join(root, 'docs', 'bundles', 'strict.json');

// Wide enough that no row wraps: these tests read the rows (fitting a terminal is tested on its own).
const lading = (args: string[], env: Record<string, string> = {}) => runCli(driver, args, { COLUMNS: '1000', ...env });

let dir: string;
let layout: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-evaluate-'));
  layout = join(dir, 'layout');
  await writeOciLayout(layout, { app: appImage(), clean: cleanImage() });
});
after(async () => rm(dir, { recursive: true, force: true }));

test('evaluate: a failing image, as a table grouped by action, exits 1', async () => {
  const r = await lading(['evaluate', `oci-dir:${layout}:app`, '--bundle', everyGate, '--tag', 'docker.io/myorg/app:1.0'], { LADING_TEST_SCAN: 'app' });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /^Status: +fail \(final action STOP, reason policy_evaluation\)$/m);
  assert.match(r.stdout, /^Mapping: +default -> policy full$/m);
  const groups = [...r.stdout.matchAll(/^(STOP|WARN|GO) \((\d+)\)$/gm)].map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual(groups, ['STOP 7', 'WARN 13', 'GO 3']);
  assert.match(r.stdout, /vulnerabilities +package +CVE-2024-0001\+openssl +CRITICAL Vulnerability found/);
  assert.match(r.stdout, /GHSA-rv95-896h-c2vc\+express .*\[allowlisted by "Temporary exceptions" \(item express-until-2999\)\]/);
  assert.match(r.stdout, /warn: policies\[0\]\.rules\[29\]\.gate: gate anchoresec is end-of-life/);
});

test('evaluate: JSON is Anchore\'s evaluation document', async () => {
  const r = await lading(['evaluate', `oci-dir:${layout}:app`, '--bundle', everyGate, '--tag', 'docker.io/myorg/app:1.0', '-o', 'json'], { LADING_TEST_SCAN: 'app' });
  assert.equal(r.code, 1, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual([doc.final_action, doc.final_action_reason, doc.status, doc.tag], ['stop', 'policy_evaluation', 'fail', 'docker.io/myorg/app:1.0']);
  const table = doc.result[doc.image_id].result;
  assert.deepEqual(table.header, ['Image_Id', 'Repo_Tag', 'Trigger_Id', 'Gate', 'Trigger', 'Check_Output', 'Gate_Action', 'Whitelisted', 'Policy_Id']);
  assert.equal(table.row_count, 23);
  assert.deepEqual(table.rows[1], [doc.image_id, 'docker.io/myorg/app:1.0', '41cb7cdf04850e33a11f80c42bf660b3', 'dockerfile', 'instruction',
    "Dockerfile directive 'HEALTHCHECK' not found, matching condition 'not_exists' check", 'warn', false, 'full']);
});

test('evaluate: a passing image exits 0; the mapping follows --tag', async () => {
  const r = await lading(['evaluate', `oci-dir:${layout}:app`, '--bundle', everyGate, '--tag', 'localhost:5000/team/app:dev-1'], { LADING_TEST_SCAN: 'app' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Status: +pass \(final action GO, reason policy_evaluation\)$/m);
  assert.match(r.stdout, /^GO \(1\)$/m);
});

test('evaluate: the default bundle; without --tag the image\'s own tag; without a database the vulnerability rules say so', async () => {
  const r = await lading(['evaluate', `oci-dir:${layout}:clean`]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /no vulnerability database is available/);
  assert.match(r.stdout, /^Bundle: +Lading default bundle/m);
  assert.match(r.stdout, /^Tag: +localbuild\/image:clean$/m);
  assert.match(r.stdout, /vulnerabilities +package +\w+ +Vulnerability data unavailable: no vulnerability database was available/);
  assert.doesNotMatch(r.stdout, /HEALTHCHECK/);
});

test('evaluate: an SBOM file instead of an image', async () => {
  const source = await openSource(`oci-dir:${layout}:clean`);
  const sbom = await analyzeImage(await source.resolve({}));
  await source.close();
  const file = join(dir, 'clean.lading.json');
  await writeFile(file, writers.json.write(sbom));
  const r = await lading(['evaluate', file, '--bundle', anchoreDefault, '--tag', 'docker.io/myorg/base:1', '-o', 'json'], { LADING_TEST_SCAN: 'none-found' });
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual([doc.status, doc.result[doc.image_id].result.row_count], ['pass', 0]);
});

test('evaluate: errors exit 2 with one line', async () => {
  const bad = join(dir, 'bad.json');
  await writeFile(bad, JSON.stringify({ id: 'x', version: '2_0', policies: [], mappings: [] }));
  const r = await lading(['evaluate', `oci-dir:${layout}:clean`, '--bundle', bad]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `lading: error: ${bad}: version: unsupported bundle version "2_0": it must be "1_0"\n`);
  const missing = await lading(['evaluate', `oci-dir:${layout}:clean`, '--bundle', join(dir, 'none.json')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read the bundle/);
});

test('evaluate: a broken mapped policy is a STOP with its problems', async () => {
  const broken = join(dir, 'broken.json');
  await writeFile(broken, JSON.stringify({ id: 'b', version: '1_0',
    policies: [{ id: 'p', version: '1_0', rules: [{ id: 'r', gate: 'vulnerabilities', trigger: 'package', action: 'STOP', params: [{ name: 'sevrity', value: 'high' }] }] }],
    mappings: [{ name: 'all', registry: '*', repository: '*', image: { type: 'tag', value: '*' }, policy_id: 'p' }] }));
  const r = await lading(['evaluate', `oci-dir:${layout}:clean`, '--bundle', broken]);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /error: policies\[0\]\.rules\[0\]\.params\[0\]: unknown parameter "sevrity" for vulnerabilities\/package \(did you mean severity\?\)/);
  assert.match(r.stdout, /error: policies\[0\]\.rules\[0\]\.params: missing required parameter "package_type"/);
});

test('policy validate: valid bundles exit 0, invalid ones 1 with every problem located', async () => {
  for (const f of [everyGate, strict, anchoreDefault]) {
    const r = await lading(['policy', 'validate', f]);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /: valid/);
  }
  const strictEol = await lading(['policy', 'validate', everyGate, '--strict']);
  assert.equal(strictEol.code, 1);
  assert.match(strictEol.stdout, /^error: policies\[0\]\.rules\[29\]\.gate: gate anchoresec is end-of-life/m);
  const bad = join(dir, 'invalid.json');
  await writeFile(bad, JSON.stringify({ id: 'b', version: '1_0',
    policies: [{ id: 'p', version: '1_0', rules: [{ gate: 'dockerfile', trigger: 'exposed_ports', action: 'HALT', params: [{ name: 'ports', value: 'ssh' }] }] }],
    mappings: [{ name: 'all', registry: '*', repository: '*', image: { type: 'tag', value: '*' }, policy_id: 'q' }] }));
  const r = await lading(['policy', 'validate', bad, '-o', 'json']);
  assert.equal(r.code, 1);
  assert.deepEqual(JSON.parse(r.stdout), { valid: false, problems: [
    { severity: 'error', type: 'InvalidGateAction', location: 'policies[0].rules[0].action', message: 'invalid action "HALT": expected GO, WARN or STOP' },
    { severity: 'error', type: 'ParameterValueInvalidError', location: 'policies[0].rules[0].params[0].value', message: 'bad value for ports of dockerfile/exposed_ports: expected a comma-separated list of numbers such as "22,80", got "ssh"' },
    { severity: 'error', type: 'RequiredParameterNotSetError', location: 'policies[0].rules[0].params', message: 'missing required parameter "type" for dockerfile/exposed_ports' },
    { severity: 'error', type: 'ReferencedObjectNotFoundError', location: 'mappings[0].policy_id', message: 'no policy with id "q" (did you mean p?)' },
  ] });
});

test('policy describe: the catalogue, one gate, one trigger, as a table or as policy_spec JSON', async () => {
  const all = await lading(['policy', 'describe']);
  assert.equal(all.code, 0);
  assert.match(all.stdout, /^vulnerabilities +active +/m);
  assert.doesNotMatch(all.stdout, /anchoresec/);
  const withEol = await lading(['policy', 'describe', '--all']);
  assert.match(withEol.stdout, /^anchoresec +eol \(use vulnerabilities\)/m);
  const gate = await lading(['policy', 'describe', '--gate', 'passwd_file']);
  assert.match(gate.stdout, /^blacklist_usernames +user_names\* +/m);
  const trig = await lading(['policy', 'describe', '--gate', 'dockerfile', '--trigger', 'exposed_ports']);
  assert.match(trig.stdout, /^ports +yes +A comma-separated list of whole numbers +80,8080,8088/m);
  const json = JSON.parse((await lading(['policy', 'describe', '--gate', 'metadata', '-o', 'json'])).stdout);
  assert.deepEqual(Object.keys(json[0]), ['name', 'description', 'state', 'superceded_by', 'triggers']);
  assert.deepEqual(json[0].triggers[0].parameters.map((p: { name: string; required: boolean }) => [p.name, p.required]), [['attribute', true], ['check', true], ['value', false]]);
  assert.equal(json[0].triggers[0].parameters[2].validator.type, 'LinkedValidator');
  const unknown = await lading(['policy', 'describe', '--gate', 'vulns']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown gate "vulns"/);
});

test('evaluate and policy describe fit 100 columns when standard output is no terminal (COLUMNS unset): long cells wrap', async () => {
  const narrow = { COLUMNS: '' };
  const runs = [
    await lading(['evaluate', `oci-dir:${layout}:app`, '--bundle', everyGate, '--tag', 'docker.io/myorg/app:1.0'], { ...narrow, LADING_TEST_SCAN: 'app' }),
    await lading(['policy', 'describe'], narrow),
    await lading(['policy', 'describe', '--gate', 'dockerfile', '--trigger', 'exposed_ports'], narrow),
  ];
  for (const r of runs) {
    // the tables' rows, not the one-line headings above them
    const rows = r.stdout.split('\n').filter((l) => !/^(Trigger|Gate|Image ID|Digest|Tag|Bundle|Mapping|Status) /.test(l));
    assert.deepEqual(rows.filter((l) => l.length > 100), [], r.stdout);
  }
  // the wrapped check output continues under its column
  assert.match(runs[0]!.stdout, /^vulnerabilities +package +CVE-2024-0001\+openssl +CRITICAL Vulnerability\n {20,}found in os/m);
  // one problem per item, continued further in
  assert.match(runs[0]!.stdout, /^ {2}warn: policies\[0\]\.rules\[29\]\.gate: gate anchoresec is end-of-life.*\n {4}\S/m);
});

test('policy default prints a bundle that validates', async () => {
  const r = await lading(['policy', 'default']);
  assert.equal(r.code, 0);
  const f = join(dir, 'default.json');
  await writeFile(f, r.stdout);
  assert.equal((await lading(['policy', 'validate', f, '--strict'])).code, 0);
});

test('evaluate: content rules feed files/content_regex_match', async () => {
  const bundle = join(dir, 'content.json');
  await writeFile(bundle, JSON.stringify({ id: 'c', version: '1_0',
    policies: [{ id: 'p', version: '1_0', rules: [{ id: 'r', gate: 'files', trigger: 'content_regex_match', action: 'WARN', params: [{ name: 'regex_name', value: 'DEBUG_ON' }] }] }],
    mappings: [{ name: 'all', registry: '*', repository: '*', image: { type: 'tag', value: '*' }, policy_id: 'p' }] }));
  const r = await lading(['evaluate', `oci-dir:${layout}:app`, '--bundle', bundle, '--content-rule', 'DEBUG_ON=debug=true', '--content-rule', 'PORT=port=\\d+', '-o', 'json'], { LADING_TEST_SCAN: 'app' });
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.deepEqual(doc.result[doc.image_id].result.rows.map((row: string[]) => [row[5], row[6]]), [
    ['File content analyzer found regexp match in container: file=/etc/app.conf regexp=DEBUG_ON', 'warn'],
  ]);
});
