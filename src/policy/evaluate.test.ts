import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIGEST, IMAGE_ID, NOW, evaluateDoc, makeSbom, makeScan, match, retrieved } from './testing.js';
import { checkResponse, checkRows, evaluationDoc, CHECK_HEADER } from './result.js';
import { md5TriggerId } from './gate.js';
import { LadingError } from '../errors.js';

const ID = IMAGE_ID.slice('sha256:'.length);
const sbom = makeSbom({ retrievedFiles: [retrieved('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nftp:x:14:50::/srv/ftp:/bin/sh\n')] });
const scan = makeScan([match('CVE-2024-0001', 'Critical', 'openssl'), match('CVE-2024-0002', 'Medium', 'zlib1g'), match('CVE-2023-0003', 'High', 'tar')]);

const rule = (id: string, gate: string, trigger: string, action: string, params: Record<string, string> = {}) =>
  ({ id, gate, trigger, action, params: Object.entries(params).map(([name, value]) => ({ name, value })) });
const policy = (id: string, rules: unknown[]) => ({ id, name: `policy ${id}`, version: '1_0', rules });
const mapping = (name: string, registry: string, repository: string, image: { type: string; value: string }, policy: string | string[], whitelists: string[] = []) =>
  ({ id: `m-${name}`, name, registry, repository, image, ...(Array.isArray(policy) ? { policy_ids: policy } : { policy_id: policy }), whitelist_ids: whitelists });
const allowlist = (id: string, items: { id: string; gate: string; trigger_id: string; expires_on?: string }[]) => ({ id, name: `list ${id}`, version: '1_0', items });
const anyTag = { type: 'tag', value: '*' };

const vulnRules = [
  rule('r-crit', 'vulnerabilities', 'package', 'STOP', { package_type: 'all', severity_comparison: '>=', severity: 'high' }),
  rule('r-med', 'vulnerabilities', 'package', 'WARN', { package_type: 'all', severity_comparison: '=', severity: 'medium' }),
];
const passwdRule = rule('r-ftp', 'passwd_file', 'blacklist_usernames', 'WARN', { user_names: 'ftp' });
const FTP_MSG = "Blacklisted user 'ftp' found in image's /etc/passwd: pentry=ftp:x:14:50::/srv/ftp:/bin/sh";

function doc(extra: Record<string, unknown>) {
  return {
    id: 'bundle-1', name: 'test bundle', version: '1_0',
    policies: [policy('strict', [...vulnRules, passwdRule]), policy('lenient', [rule('r-always', 'always', 'always', 'GO')])],
    whitelists: [],
    mappings: [mapping('all', '*', '*', anyTag, 'strict')],
    ...extra,
  };
}

const rows = (tag: string, extra: Record<string, unknown>, now = NOW) => checkRows(evaluateDoc(doc(extra), { sbom, scan }, tag, now)).map((r) => [r[2], r[3], r[6], r[7] === false ? false : r[7].matched_rule_id, r[8]]);

test('rules run grouped by gate in order of first appearance; the worst action decides', () => {
  const e = evaluateDoc(doc({ policies: [policy('strict', [vulnRules[1], passwdRule, vulnRules[0]])] }), { sbom, scan });
  assert.deepEqual(e.decisions.map((d) => [d.triggerId, d.ruleId, d.action]), [
    ['CVE-2024-0002+zlib1g', 'r-med', 'warn'],
    ['CVE-2024-0001+openssl', 'r-crit', 'stop'],
    ['CVE-2023-0003+tar', 'r-crit', 'stop'],
    [md5TriggerId('passwd_file', 'blacklist_usernames', FTP_MSG), 'r-ftp', 'warn'],
  ]);
  assert.equal(e.policyAction, 'stop');
  assert.deepEqual([e.finalAction, e.reason, e.status], ['stop', 'policy_evaluation', 'fail']);
});

const mappingCases: { name: string; tag: string; mappings: unknown[]; want: string | undefined }[] = [
  { name: 'first matching mapping wins', tag: 'docker.io/app:dev-3', want: 'dev',
    mappings: [mapping('dev', 'docker.io', 'app', { type: 'tag', value: 'dev-*' }, 'lenient'), mapping('all', '*', '*', anyTag, 'strict')] },
  { name: 'a later mapping when the first does not match', tag: 'docker.io/app:1.0', want: 'all',
    mappings: [mapping('dev', 'docker.io', 'app', { type: 'tag', value: 'dev-*' }, 'lenient'), mapping('all', '*', '*', anyTag, 'strict')] },
  { name: 'registry and repository must match', tag: 'quay.io/app:dev-3', want: 'all',
    mappings: [mapping('dev', 'docker.io', 'app', { type: 'tag', value: 'dev-*' }, 'lenient'), mapping('all', '*', '*', anyTag, 'strict')] },
  { name: 'regexp: patterns', tag: 'registry.example.com:5000/team-a/api:2', want: 'team-a',
    mappings: [mapping('team-a', 'regexp:^registry\\.example\\.com(:\\d+)?$', 'regexp:team-a/', anyTag, 'lenient'), mapping('all', '*', '*', anyTag, 'strict')] },
  { name: 'by digest, whatever the tag', tag: 'docker.io/other:9', want: 'pinned',
    mappings: [mapping('pinned', '*', '*', { type: 'digest', value: DIGEST }, 'lenient'), mapping('all', '*', '*', anyTag, 'strict')] },
  { name: 'by image id', tag: 'docker.io/other:9', want: 'by-id',
    mappings: [mapping('by-id', '*', '*', { type: 'id', value: ID }, 'lenient')] },
  { name: 'a tag mapping whose value is the image id', tag: 'docker.io/other:9', want: 'tag-is-id',
    mappings: [mapping('tag-is-id', '*', '*', { type: 'tag', value: ID }, 'lenient')] },
  { name: 'another digest', tag: 'docker.io/app:1', want: undefined,
    mappings: [mapping('pinned', '*', '*', { type: 'digest', value: `sha256:${'0'.repeat(64)}` }, 'lenient')] },
  { name: 'dockerhub/ is read as docker.io/', tag: 'dockerhub/app:1', want: 'hub',
    mappings: [mapping('hub', 'docker.io', 'app', anyTag, 'lenient')] },
];
for (const c of mappingCases) {
  test(`mapping: ${c.name}`, () => {
    const e = evaluateDoc(doc({ mappings: c.mappings }), { sbom, scan }, c.tag);
    assert.equal(e.mapping?.name, c.want);
  });
}

test('no mapping matched: GO with no rows, and a warning', () => {
  const e = evaluateDoc(doc({ mappings: [mapping('prod', 'prod.example.com', '*', anyTag, 'strict')] }), { sbom, scan });
  assert.deepEqual([e.finalAction, e.reason, e.decisions.length], ['go', 'policy_evaluation', 0]);
  assert.deepEqual(e.problems.map((p) => [p.type, p.message]), [['NoMatchedMappingWarning', 'no mapping rule matched the tag docker.io/app:1.0: no policy was applied']]);
  assert.equal(evaluationDoc(e).matched_mapping_rule, false);
});

const allowCases: { name: string; lists: unknown[]; ids: string[]; now?: Date; want: unknown[][] }[] = [
  { name: 'an exact vulnerability trigger id', ids: ['a'], lists: [allowlist('a', [{ id: 'i1', gate: 'vulnerabilities', trigger_id: 'CVE-2024-0001+openssl' }])],
    want: [['CVE-2024-0001+openssl', 'vulnerabilities', 'go', 'i1', 'strict'], ['CVE-2023-0003+tar', 'vulnerabilities', 'stop', false, 'strict'],
      ['CVE-2024-0002+zlib1g', 'vulnerabilities', 'warn', false, 'strict'], [md5TriggerId('passwd_file', 'blacklist_usernames', FTP_MSG), 'passwd_file', 'warn', false, 'strict']] },
  { name: 'wildcards, the gate in any case, and an md5 trigger id', ids: ['a'], lists: [allowlist('a', [
    { id: 'i1', gate: 'Vulnerabilities', trigger_id: 'CVE-*+*' },
    { id: 'i2', gate: 'passwd_file', trigger_id: md5TriggerId('passwd_file', 'blacklist_usernames', FTP_MSG) }])],
  want: [['CVE-2024-0001+openssl', 'vulnerabilities', 'go', 'i1', 'strict'], ['CVE-2023-0003+tar', 'vulnerabilities', 'go', 'i1', 'strict'],
    ['CVE-2024-0002+zlib1g', 'vulnerabilities', 'go', 'i1', 'strict'], [md5TriggerId('passwd_file', 'blacklist_usernames', FTP_MSG), 'passwd_file', 'go', 'i2', 'strict']] },
  { name: 'an item for another gate does not apply', ids: ['a'], lists: [allowlist('a', [{ id: 'i1', gate: 'files', trigger_id: '*' }])],
    want: [['CVE-2024-0001+openssl', 'vulnerabilities', 'stop', false, 'strict'], ['CVE-2023-0003+tar', 'vulnerabilities', 'stop', false, 'strict'],
      ['CVE-2024-0002+zlib1g', 'vulnerabilities', 'warn', false, 'strict'], [md5TriggerId('passwd_file', 'blacklist_usernames', FTP_MSG), 'passwd_file', 'warn', false, 'strict']] },
  { name: 'expired and unexpired items; lists in mapping order, first match wins', ids: ['b', 'a'], lists: [
    allowlist('a', [{ id: 'a1', gate: 'vulnerabilities', trigger_id: 'CVE-2024-*' }]),
    allowlist('b', [{ id: 'b-expired', gate: 'vulnerabilities', trigger_id: '*', expires_on: '2024-06-01T12:00:00Z' },
      { id: 'b-tar', gate: 'vulnerabilities', trigger_id: 'CVE-2023-0003+tar', expires_on: '2024-06-01T12:00:01Z' }])],
  want: [['CVE-2024-0001+openssl', 'vulnerabilities', 'go', 'a1', 'strict'], ['CVE-2023-0003+tar', 'vulnerabilities', 'go', 'b-tar', 'strict'],
    ['CVE-2024-0002+zlib1g', 'vulnerabilities', 'go', 'a1', 'strict'], [md5TriggerId('passwd_file', 'blacklist_usernames', FTP_MSG), 'passwd_file', 'warn', false, 'strict']] },
];
for (const c of allowCases) {
  test(`allowlist: ${c.name}`, () => {
    assert.deepEqual(rows('docker.io/app:1.0', { whitelists: c.lists, mappings: [mapping('all', '*', '*', anyTag, 'strict', c.ids)] }, c.now), c.want);
  });
}

test('allowlisted rows show the list and item; the policy action counts them as GO', () => {
  const e = evaluateDoc(doc({
    policies: [policy('strict', vulnRules)],
    whitelists: [allowlist('a', [{ id: 'i1', gate: 'vulnerabilities', trigger_id: '*' }])],
    mappings: [mapping('all', '*', '*', anyTag, 'strict', ['a'])],
  }), { sbom, scan });
  assert.deepEqual(checkRows(e)[0]![7], { whitelist_name: 'list a', whitelist_id: 'a', matched_rule_id: 'i1' });
  assert.deepEqual([e.policyAction, e.finalAction, e.status], ['go', 'go', 'pass']);
});

test('several policies: every one runs, the worst decides', () => {
  const e = evaluateDoc(doc({ mappings: [mapping('both', '*', '*', anyTag, ['lenient', 'strict'])] }), { sbom, scan });
  assert.deepEqual(e.policyActions, [{ policyId: 'lenient', action: 'go' }, { policyId: 'strict', action: 'stop' }]);
  assert.deepEqual(e.decisions.map((d) => d.policyId), ['lenient', 'strict', 'strict', 'strict', 'strict']);
  assert.equal(e.finalAction, 'stop');
});

const imageListCases: { name: string; extra: Record<string, unknown>; want: [string, string, string] }[] = [
  { name: 'a whitelisted image is GO whatever the policies say', want: ['go', 'whitelisted', 'stop'],
    extra: { whitelisted_images: [{ name: 'trusted', registry: 'docker.io', repository: 'app', image: anyTag }] } },
  { name: 'a blacklisted image is STOP whatever the policies say', want: ['stop', 'blacklisted', 'go'],
    extra: { mappings: [mapping('all', '*', '*', anyTag, 'lenient')], blacklisted_images: [{ name: 'banned', registry: '*', repository: '*', image: { type: 'digest', value: DIGEST } }] } },
  { name: 'blacklisted beats whitelisted', want: ['stop', 'blacklisted', 'go'],
    extra: { mappings: [mapping('all', '*', '*', anyTag, 'lenient')],
      whitelisted_images: [{ name: 'trusted', registry: '*', repository: '*', image: anyTag }],
      blacklisted_images: [{ name: 'banned', registry: '*', repository: '*', image: { type: 'id', value: ID } }] } },
  { name: 'image lists that do not match', want: ['stop', 'policy_evaluation', 'stop'],
    extra: { whitelisted_images: [{ name: 'trusted', registry: '*', repository: 'other', image: anyTag }],
      blacklisted_images: [{ name: 'banned', registry: '*', repository: '*', image: { type: 'tag', value: 'old-*' } }] } },
  { name: 'image lists apply with no mapping too', want: ['stop', 'blacklisted', 'go'],
    extra: { mappings: [], blacklisted_images: [{ name: 'banned', registry: '*', repository: '*', image: anyTag }] } },
];
for (const c of imageListCases) {
  test(`image lists: ${c.name}`, () => {
    const e = evaluateDoc(doc(c.extra), { sbom, scan });
    assert.deepEqual([e.finalAction, e.reason, e.policyAction], c.want);
    const d = evaluationDoc(e);
    assert.equal(d.final_action, c.want[0]);
    assert.equal((d.result[ID] as { result: { final_action: string } }).result.final_action, c.want[2]);
  });
}

test('a rule that cannot be evaluated is a WARN row with the reason, and a problem', () => {
  const e = evaluateDoc(doc({ policies: [policy('strict', [rule('r-re', 'files', 'name_match', 'STOP', { regex: '(' }), rule('r-mal', 'malware', 'scans', 'STOP')])] }), { sbom, scan });
  assert.deepEqual(e.decisions.map((d) => [d.gate, d.trigger, d.triggerId, d.action, d.failed, d.message]), [
    ['files', 'name_match', 'evaluation_error', 'warn', true, 'Evaluation error: invalid regular expression "(": unterminated group'],
    ['malware', 'scans', 'evaluation_error', 'warn', true, 'Not evaluated: no malware scan was run: Lading has no malware scanner yet'],
  ]);
  assert.deepEqual([e.policyAction, e.finalAction, e.status], ['warn', 'warn', 'pass']);
  assert.deepEqual(e.problems.map((p) => [p.type, p.location]), [
    ['ValidationWarning', 'policies[0].rules[0].params[0].value'], ['TriggerEvaluationError', 'policies[0].rules[0]'], ['DataUnavailable', 'policies[0].rules[1]']]);
});

test('a failed rule is not allowlisted away', () => {
  const e = evaluateDoc(doc({
    policies: [policy('strict', [rule('r-mal', 'malware', 'scans', 'STOP')])],
    whitelists: [allowlist('a', [{ id: 'i', gate: 'malware', trigger_id: '*' }])],
    mappings: [mapping('all', '*', '*', anyTag, 'strict', ['a'])],
  }), { sbom, scan });
  assert.deepEqual(e.decisions.map((d) => [d.action, d.allowlisted]), [['warn', undefined]]);
});

test('problems in the mapped policy stop the evaluation with no rows; problems elsewhere do not', () => {
  const broken = policy('broken', [rule('r1', 'vulnerabilities', 'package', 'STOP', { severity: 'high' })]);
  const e = evaluateDoc(doc({ policies: [policy('lenient', [rule('r-always', 'always', 'always', 'GO')]), broken], mappings: [mapping('all', '*', '*', anyTag, 'broken')] }), { sbom, scan });
  assert.deepEqual([e.finalAction, e.reason, e.decisions.length, e.mapping?.name], ['stop', 'policy_evaluation', 0, 'all']);
  assert.deepEqual(evaluationDoc(e).evaluation_problems, [{ severity: 'error', problem_type: 'RequiredParameterNotSetError',
    details: 'policies[1].rules[0].params: missing required parameter "package_type" for vulnerabilities/package' }]);

  const ok = evaluateDoc(doc({ policies: [policy('lenient', [rule('r-always', 'always', 'always', 'GO')]), broken], mappings: [mapping('all', '*', '*', anyTag, 'lenient')] }), { sbom, scan });
  assert.deepEqual([ok.finalAction, ok.decisions.length, ok.problems.length], ['go', 1, 0]);
});

test('a mapping naming a missing allowlist stops the evaluation', () => {
  const e = evaluateDoc(doc({ mappings: [mapping('all', '*', '*', anyTag, 'lenient', ['nope'])] }), { sbom, scan });
  assert.deepEqual([e.finalAction, e.problems.map((p) => p.type)], ['stop', ['ReferencedObjectNotFoundError']]);
});

test('end-of-life rules are reported and never fire', () => {
  const e = evaluateDoc(doc({ policies: [policy('old', [rule('r-old', 'anchoresec', 'vulnhigh', 'STOP'), rule('r-always', 'always', 'always', 'WARN')])], mappings: [mapping('all', '*', '*', anyTag, 'old')] }), { sbom, scan });
  assert.deepEqual([e.finalAction, e.decisions.map((d) => d.gate)], ['warn', ['always']]);
  assert.deepEqual(e.problems.map((p) => [p.severity, p.type, p.location]), [['warn', 'EndOfLifedError', 'policies[0].rules[0].gate']]);
});

test('a bundle that cannot be used is an error, not a verdict', () => {
  assert.throws(() => evaluateDoc({ version: '1_1' }, { sbom, scan }), (e: Error) => e instanceof LadingError && /unsupported bundle version "1_1"/.test(e.message));
});

test('Anchore\'s evaluation document and check response', () => {
  const e = evaluateDoc(doc({ policies: [policy('strict', [passwdRule])] }), { sbom, scan });
  const d = evaluationDoc(e, 'admin');
  assert.deepEqual(Object.keys(d), ['user_id', 'image_id', 'image_digest', 'tag', 'bundle', 'matched_mapping_rule', 'matched_whitelisted_images_rule',
    'matched_blacklisted_images_rule', 'final_action', 'final_action_reason', 'status', 'evaluation_problems', 'created_at', 'last_modified', 'result']);
  assert.equal(d.image_id, ID);
  assert.equal(d.created_at, Math.floor(NOW.getTime() / 1000));
  assert.deepEqual(d.result, {
    [ID]: { result: { header: [...CHECK_HEADER], row_count: 1, final_action: 'warn', rows: [
      [ID, 'docker.io/app:1.0', md5TriggerId('passwd_file', 'blacklist_usernames', FTP_MSG), 'passwd_file', 'blacklist_usernames', FTP_MSG, 'warn', false, 'strict']] } },
    policy_data: [], whitelist_data: [], policy_name: '', whitelist_names: [],
  });
  assert.deepEqual(checkResponse(e), [{ [DIGEST]: { 'docker.io/app:1.0': [{ detail: {}, last_evaluation: '2024-06-01T12:00:00Z', policyId: 'bundle-1', status: 'pass' }] } }]);
  const detailed = checkResponse(e, { detail: true })[0]![DIGEST]!['docker.io/app:1.0']![0] as { detail: { result: { final_action: string }; policy: { id: string } } };
  assert.deepEqual([detailed.detail.result.final_action, detailed.detail.policy.id], ['warn', 'bundle-1']);
});
