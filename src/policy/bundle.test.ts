import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBundle, parseRfc3339 } from './bundle.js';
import { DEFAULT_BUNDLE } from './default-bundle.js';
import { readFileSync } from 'node:fs';

type Rule = { gate: string; trigger: string; action?: string; params?: unknown };

function bundle(rules: Rule[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'b1', version: '1_0', name: 'test',
    policies: [{ id: 'p1', version: '1_0', rules: rules.map((r, i) => ({ id: `r${i}`, action: 'STOP', params: [], ...r })) }],
    whitelists: [{ id: 'w1', version: '1_0', items: [] }],
    mappings: [{ name: 'all', registry: '*', repository: '*', image: { type: 'tag', value: '*' }, policy_id: 'p1', whitelist_ids: ['w1'] }],
    ...extra,
  };
}

const problems = (doc: unknown, strict = false) => loadBundle(doc, { strict }).problems.map((p) => `${p.severity} ${p.location}: ${p.message}`);
const params = (o: Record<string, unknown>) => Object.entries(o).map(([name, value]) => ({ name, value }));

test('the default bundle and the documented bundles are valid', () => {
  assert.deepEqual(problems(DEFAULT_BUNDLE, true), []);
  for (const f of ['docs/bundles/strict.json']) {
    assert.deepEqual(problems(JSON.parse(readFileSync(new URL(`../../${f}`, import.meta.url), 'utf8')), true), [], f);
  }
});

const cases: { name: string; doc: unknown; strict?: boolean; want: string[] }[] = [
  { name: 'a misspelt parameter, with a suggestion', doc: bundle([
    { gate: 'always', trigger: 'always' }, { gate: 'always', trigger: 'always' }, { gate: 'always', trigger: 'always' },
    { gate: 'vulnerabilities', trigger: 'package', params: params({ package_type: 'all', sevrity: 'high' }) }]),
  want: ['error policies[0].rules[3].params[1]: unknown parameter "sevrity" for vulnerabilities/package (did you mean severity?)'] },
  { name: 'a parameter for a trigger that takes none', doc: bundle([{ gate: 'always', trigger: 'always', params: params({ x: '1' }) }]),
    want: ['error policies[0].rules[0].params[0]: unknown parameter "x": always/always takes no parameters'] },
  { name: 'an unknown gate', doc: bundle([{ gate: 'vulnerabilites', trigger: 'package' }]),
    want: ['error policies[0].rules[0].gate: unknown gate "vulnerabilites" (did you mean vulnerabilities?)'] },
  { name: 'an unknown gate far from any', doc: bundle([{ gate: 'sbom', trigger: 'x' }]),
    want: ['error policies[0].rules[0].gate: unknown gate "sbom"; the gates are always, dockerfile, files, passwd_file, packages, vulnerabilities, licenses, ruby_gems, npms, secret_scans, metadata, retrieved_files, malware'] },
  { name: 'an unknown trigger', doc: bundle([{ gate: 'dockerfile', trigger: 'exposed_port', params: params({ ports: '22', type: 'blacklist' }) }]),
    want: ['error policies[0].rules[0].trigger: unknown trigger "exposed_port" for gate dockerfile (did you mean exposed_ports?)'] },
  { name: 'a missing required parameter', doc: bundle([{ gate: 'vulnerabilities', trigger: 'package', params: params({ severity: 'high' }) }]),
    want: ['error policies[0].rules[0].params: missing required parameter "package_type" for vulnerabilities/package'] },
  { name: 'bad values', doc: bundle([
    { gate: 'vulnerabilities', trigger: 'package', params: params({ package_type: 'all', severity: 'severe', fix_available: 'yes', max_days_since_fix: '3.5' }) },
    { gate: 'dockerfile', trigger: 'exposed_ports', params: params({ ports: '22,ssh', type: 'blacklist' }) }]),
  want: [
    'error policies[0].rules[0].params[1].value: bad value for severity of vulnerabilities/package: expected one of "unknown", "negligible", "low", "medium", "high", "critical", got "severe"',
    'error policies[0].rules[0].params[2].value: bad value for fix_available of vulnerabilities/package: expected "true" or "false", got "yes"',
    'error policies[0].rules[0].params[3].value: bad value for max_days_since_fix of vulnerabilities/package: expected a whole number such as "30", got "3.5"',
    'error policies[0].rules[1].params[0].value: bad value for ports of dockerfile/exposed_ports: expected a comma-separated list of numbers such as "22,80", got "22,ssh"',
  ] },
  { name: 'a value that is not a string', doc: bundle([{ gate: 'vulnerabilities', trigger: 'stale_feed_data', params: params({ max_days_since_sync: 2 }) }]),
    want: ['error policies[0].rules[0].params[0].value: max_days_since_sync must be a string (bundles write every value as a string, e.g. "2"), not a number'] },
  { name: 'a bad action', doc: bundle([{ gate: 'always', trigger: 'always', action: 'BLOCK' }]),
    want: ['error policies[0].rules[0].action: invalid action "BLOCK": expected GO, WARN or STOP'] },
  { name: 'names and actions in any case; aliases', doc: bundle([
    { gate: 'Vulnerabilities', trigger: 'PACKAGE', action: 'warn', params: params({ Package_Type: 'all', SEVERITY: 'high' }) },
    { gate: 'passwd_file', trigger: 'blacklist_usernames', action: 'Go', params: params({ usernameblacklist: 'ftp' }) }]), want: [] },
  { name: 'dangling policy and whitelist ids', doc: bundle([], { mappings: [
    { name: 'm', registry: '*', repository: '*', image: { type: 'tag', value: '*' }, policy_id: 'p2', whitelist_ids: ['w1', 'w9'] },
    { name: 'n', registry: '*', repository: '*', image: { type: 'tag', value: '*' }, policy_ids: ['p1', 'P1'] }] }),
  want: [
    'error mappings[0].policy_id: no policy with id "p2" (did you mean p1?)',
    'error mappings[0].whitelist_ids[1]: no whitelist with id "w9" (did you mean w1?)',
    'error mappings[1].policy_ids[1]: no policy with id "P1" (did you mean p1?)',
  ] },
  { name: 'policy_id and policy_ids together, and neither', doc: bundle([], { mappings: [
    { name: 'm', registry: '*', repository: '*', image: { type: 'tag', value: '*' }, policy_id: 'p1', policy_ids: ['p1'] },
    { name: 'n', registry: '*', repository: '*', image: { type: 'tag', value: '*' } }] }),
  want: ['error mappings[0]: give either policy_id or policy_ids, not both', 'error mappings[1]: missing policy_id (or policy_ids): a mapping must name the policy to apply'] },
  { name: 'mapping fields', doc: bundle([], { mappings: [
    { registry: '*', repository: 'regexp:(', image: { type: 'name', value: '*' }, policy_id: 'p1' },
    { name: 'x', repository: '*', image: '*', policy_id: 'p1' }] }),
  want: [
    'error mappings[0]: missing required field "name"',
    'error mappings[0].repository: invalid regular expression "(": unterminated group',
    'error mappings[0].image.type: unknown image match type "name": expected tag, digest or id',
    'error mappings[1]: missing required field "registry"',
    'error mappings[1].image: must be an object with "type" and "value", not a string',
  ] },
  { name: 'versions of policies and whitelists', doc: bundle([], { policies: [{ id: 'p1', version: '2_0', rules: [] }], whitelists: [{ id: 'w1', items: [] }] }),
    want: ['error policies[0].version: unsupported policy version "2_0": it must be "1_0"', 'error whitelists[0].version: missing whitelist version: it must be "1_0"'] },
  { name: 'duplicate ids', doc: bundle([], {
    policies: [{ id: 'p1', version: '1_0', rules: [] }, { id: 'p1', version: '1_0', rules: [] }],
    whitelists: [{ id: 'w1', version: '1_0', items: [] }, { id: 'w1', version: '1_0', items: [] }] }),
  want: ['error policies[1].id: policy id "p1" is also used by policies[0]', 'error whitelists[1].id: whitelist id "w1" is used more than once'] },
  { name: 'allowlist items', doc: bundle([], { whitelists: [{ id: 'w1', version: '1_0', items: [
    { id: 'i1', gate: 'vulnerabilities', trigger_id: 'CVE-2021-44228+*', expires_on: '2030-01-01T00:00:00Z' },
    { id: 'i2', gate: 'vulnerabilites', trigger_id: 'x' },
    { id: 'i3', gate: 'files', trigger_id: 'x', expires_on: '2030-01-01' },
    { id: 'i4', gate: 'files' },
    { id: 'i5', gate: 'files', trigger_id: 'regexp:[' }] }] }),
  want: [
    'warn whitelists[0].items[1].gate: unknown gate "vulnerabilites" (did you mean vulnerabilities?): this item never matches',
    'error whitelists[0].items[2].expires_on: "2030-01-01" is not an RFC 3339 UTC time such as "2025-01-31T00:00:00Z"',
    'error whitelists[0].items[3]: missing required field "trigger_id"',
    'error whitelists[0].items[4].trigger_id: invalid regular expression "[": unterminated character class',
  ] },
  { name: 'values that only fail when evaluated, and rules that never fire, are warnings', doc: bundle([
    { gate: 'files', trigger: 'name_match', params: params({ regex: '(' }) },
    { gate: 'dockerfile', trigger: 'instruction', params: params({ instruction: 'FROM', check: '=' }) },
    { gate: 'metadata', trigger: 'attribute', params: params({ attribute: 'size', check: '>', value: '1GB' }) },
    { gate: 'metadata', trigger: 'attribute', params: params({ attribute: 'distro', check: 'like' }) },
    { gate: 'always', trigger: 'always' }]),
  want: [
    'warn policies[0].rules[0].params[0].value: files/name_match: invalid regular expression "(": unterminated group; the rule will fail when evaluated',
    'warn policies[0].rules[1].params: dockerfile/instruction: check "=" compares with a value but none is given: this rule never fires',
    'error policies[0].rules[2].params[2].value: metadata/attribute: for attribute size, expected a number of bytes such as "1073741824" or "1gb", got "1GB"',
    'warn policies[0].rules[3].params: metadata/attribute: check "like" compares with a value but none is given: this rule never fires',
  ] },
  { name: 'a parameter given twice', doc: bundle([{ gate: 'vulnerabilities', trigger: 'stale_feed_data', params: params({ max_days_since_sync: '2', MAX_DAYS_SINCE_SYNC: '5' }) }]),
    want: ['warn policies[0].rules[0].params[1]: parameter "MAX_DAYS_SINCE_SYNC" is given more than once; the last value is used'] },
  { name: 'end-of-life gates parse and are reported', doc: bundle([{ gate: 'anchoresec', trigger: 'vulnhigh', params: params({ anything: 'goes' }) }, { gate: 'suiddiff', trigger: 'suidfileadd' }]),
    want: [
      'warn policies[0].rules[0].gate: gate anchoresec is end-of-life: the rule is not evaluated and should be removed or replaced with the vulnerabilities gate',
      'warn policies[0].rules[1].gate: gate suiddiff is end-of-life: the rule is not evaluated and should be removed',
    ] },
  { name: 'end-of-life gates with strict validation', strict: true, doc: bundle([{ gate: 'fileparse_passwd', trigger: 'usernamematch' }]),
    want: ['error policies[0].rules[0].gate: gate fileparse_passwd is end-of-life: the rule is not evaluated and should be removed or replaced with the passwd_file gate'] },
  { name: 'an unknown trigger of an end-of-life gate', doc: bundle([{ gate: 'anchoresec', trigger: 'package' }]),
    want: ['error policies[0].rules[0].trigger: unknown trigger "package" for gate anchoresec; its triggers are vulnlow, vulnmedium, vulnhigh, vulncritical, vulnunknown, feedoutofdate, unsupporteddistro'] },
  { name: 'missing sections', doc: { id: 'b', version: '1_0' }, want: ['error (bundle): missing required field "policies"', 'error (bundle): missing required field "mappings"'] },
  { name: 'wrong shapes', doc: { id: 'b', version: '1_0', policies: {}, mappings: [], whitelisted_images: [{ name: 'x', registry: '*', repository: '*', image: { type: 'digest' } }] },
    want: ['error (bundle).policies: must be a list, not an object', 'error whitelisted_images[0].image: missing required field "value"'] },
  { name: 'an unsupported bundle version is fatal', doc: { id: 'b', version: '2_0', policies: [], mappings: [] }, want: ['error version: unsupported bundle version "2_0": it must be "1_0"'] },
  { name: 'not an object', doc: [], want: ['error : a bundle must be a JSON object, not a list'] },
];

for (const c of cases) {
  test(`bundle validation: ${c.name}`, () => assert.deepEqual(problems(c.doc, c.strict), c.want));
}

test('fatal problems are marked', () => {
  assert.equal(loadBundle({ version: '0_9' }).problems[0]!.fatal, true);
  assert.equal(loadBundle(bundle([{ gate: 'nope', trigger: 'x' }])).problems[0]!.fatal, undefined);
});

test('rules compile to parsed values with canonical names', () => {
  const b = loadBundle(bundle([{ gate: 'VULNERABILITIES', trigger: 'Package', action: 'warn', params: params({ PACKAGE_TYPE: 'os', cvss_v3_base_score: ' 7.5 ', vendor_only: 'False' }) }]));
  const rule = b.policies.get('p1')!.rules[0]!;
  assert.equal(rule.gate.name, 'vulnerabilities');
  assert.equal(rule.trigger.name, 'package');
  assert.equal(rule.action, 'warn');
  assert.deepEqual(rule.values, { package_type: 'os', cvss_v3_base_score: 7.5, vendor_only: false });
});

test('RFC 3339 times as Anchore accepted them', () => {
  assert.equal(parseRfc3339('2024-01-31T10:00:00Z')?.toISOString(), '2024-01-31T10:00:00.000Z');
  assert.equal(parseRfc3339('2024-01-31T10:00:00.5Z')?.toISOString(), '2024-01-31T10:00:00.500Z');
  assert.equal(parseRfc3339('2024-01-31T10:00:00+02:00')?.toISOString(), '2024-01-31T08:00:00.000Z');
  assert.equal(parseRfc3339('2024-02-30T10:00:00Z'), undefined);
  assert.equal(parseRfc3339('yesterday'), undefined);
});
