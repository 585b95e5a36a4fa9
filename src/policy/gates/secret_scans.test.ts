import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fire, makeSbom } from '../testing.js';
import { md5TriggerId } from '../gate.js';
import { ruleText } from './secret_scans.js';
import { DEFAULT_SECRET_RULES } from '../../analyze/secrets/rules.js';

const AWS = 'AWS_ACCESS_KEY=(?i).*aws_access_key_id( *=+ *).*(?<![A-Z0-9])[A-Z0-9]{20}(?![A-Z0-9]).*';
const PRIV = 'PRIV_KEY=(?i)-+BEGIN(.*)PRIVATE KEY-+';
const GH = `GITHUB_TOKEN=${DEFAULT_SECRET_RULES.find((r) => r.id === 'GITHUB_TOKEN')!.regex.source}`;
const found = (file: string, rule: string) => `Secret content search analyzer found regexp match in container: file=${file} regexp=${rule}`;

const sbom = makeSbom({ secrets: [
  { ruleId: 'AWS_ACCESS_KEY', description: '', path: '/srv/.env', line: 1, match: 'AKIA****' },
  { ruleId: 'AWS_ACCESS_KEY', description: '', path: '/srv/.env', line: 4, match: 'AKIA****' },
  { ruleId: 'PRIV_KEY', description: '', path: '/root/.ssh/id_rsa', line: 1, match: '-----BEGIN RSA PRIVATE KEY-----' },
  { ruleId: 'GITHUB_TOKEN', description: '', path: '/app/config.yml', line: 2, match: 'ghp_****' },
] });
const clean = makeSbom();

const cases: { name: string; params: Record<string, string>; sbom?: typeof sbom; want: string[] }[] = [
  { name: 'every finding, once per file and rule, quoting Anchore\'s regex for its rules', params: {},
    want: [found('/app/config.yml', GH), found('/root/.ssh/id_rsa', PRIV), found('/srv/.env', AWS)] },
  { name: 'one rule', params: { content_regex_name: 'PRIV_KEY' }, want: [found('/root/.ssh/id_rsa', PRIV)] },
  { name: 'files by path', params: { filename_regex: '/srv/.*', match_type: 'found' }, want: [found('/srv/.env', AWS)] },
  { name: 'notfound when there are findings', params: { match_type: 'notfound' }, want: [] },
  { name: 'notfound with no findings', params: { match_type: 'notfound' }, sbom: clean,
    want: ['Secret content search analyzer did not find regexp match in container: filename_regex=* content_regex_name=all'] },
  { name: 'notfound for a rule and path that match nothing', params: { match_type: 'notfound', content_regex_name: 'API_KEY', filename_regex: '/etc/.*' },
    want: ['Secret content search analyzer did not find regexp match in container: filename_regex=/etc/.* content_regex_name=API_KEY'] },
];
for (const c of cases) {
  test(`secret_scans/content_regex_checks: ${c.name}`, () => {
    assert.deepEqual(fire('secret_scans', 'content_regex_checks', c.params, { sbom: c.sbom ?? sbom }).map((f) => f.msg), c.want);
  });
}

test('secret_scans: a rule Lading does not know is quoted by name', () => {
  assert.equal(ruleText('MY_RULE'), 'MY_RULE');
});

test('secret_scans: ids hash the Anchore message, so allowlisted findings stay allowlisted', () => {
  const [f] = fire('secret_scans', 'content_regex_checks', { content_regex_name: 'AWS_ACCESS_KEY' }, { sbom });
  assert.equal(f!.id, md5TriggerId('secret_scans', 'content_regex_checks', found('/srv/.env', AWS)));
});
