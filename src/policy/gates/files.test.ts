import { test } from 'node:test';
import assert from 'node:assert/strict';
import { file, fire, makeSbom } from '../testing.js';
import { DataUnavailableError } from '../subject.js';
import type { Sbom } from '../../sbom/model.js';

const SHA = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const sbom = makeSbom({
  files: [
    file('/etc', { type: 'dir', mode: 0o755 }),
    file('/etc/passwd', { mode: 0o644, sha256: SHA }),
    file('/etc/ssl/private/server.pem', { mode: 0o600, sha256: SHA }),
    file('/usr/bin/passwd', { mode: 0o4755, sha256: SHA }),
    file('/usr/bin/wall', { mode: 0o2755, sha256: SHA }),
    file('/var/mail', { type: 'dir', mode: 0o2775 }),
    file('/tmp', { type: 'dir', mode: 0o1777 }),
  ],
  contentMatches: [
    { ruleId: 'PASSWORD', path: '/app/settings.py', line: 3, match: 'password=...' },
    { ruleId: 'PASSWORD', path: '/app/settings.py', line: 9, match: 'password=...' },
    { ruleId: 'INTERNAL_HOST', path: '/app/hosts', line: 1, match: 'db.internal' },
  ],
});
const noDigests = makeSbom({ files: [file('/etc/passwd')] });

const cases: { name: string; trigger: string; params: Record<string, string>; sbom?: Sbom; want: string[] }[] = [
  { name: 'every content match, once per file and rule', trigger: 'content_regex_match', params: {},
    want: ['File content analyzer found regexp match in container: file=/app/hosts regexp=INTERNAL_HOST',
      'File content analyzer found regexp match in container: file=/app/settings.py regexp=PASSWORD'] },
  { name: 'one named rule', trigger: 'content_regex_match', params: { regex_name: 'PASSWORD' },
    want: ['File content analyzer found regexp match in container: file=/app/settings.py regexp=PASSWORD'] },
  { name: 'a rule given as NAME=regex', trigger: 'content_regex_match', params: { regex_name: 'INTERNAL_HOST=.*\\.internal' },
    want: ['File content analyzer found regexp match in container: file=/app/hosts regexp=INTERNAL_HOST'] },
  { name: 'a rule that matched nothing', trigger: 'content_regex_match', params: { regex_name: 'TOKEN' }, want: [] },

  { name: 'name_match on full paths, anchored at the start', trigger: 'name_match', params: { regex: '.*\\.pem' },
    want: ['Application of regex matched file found in container: file=/etc/ssl/private/server.pem regexp=.*\\.pem'] },
  { name: 'name_match with Python syntax', trigger: 'name_match', params: { regex: '(?i)/ETC/(?P<f>passwd)$' },
    want: ['Application of regex matched file found in container: file=/etc/passwd regexp=(?i)/ETC/(?P<f>passwd)$'] },
  { name: 'name_match without a leading wildcard', trigger: 'name_match', params: { regex: 'server' }, want: [] },

  { name: 'mode equals', trigger: 'attribute_match', params: { filename: '/etc/passwd', mode: '00644', mode_op: 'equals' },
    want: ['filename=/etc/passwd and mode=0o644 op=equals specified_mode=0o644'] },
  { name: 'mode not_equals when equal', trigger: 'attribute_match', params: { filename: '/etc/passwd', mode: '0644', mode_op: 'not_equals' }, want: [] },
  { name: 'mode not_equals', trigger: 'attribute_match', params: { filename: '/etc/ssl/private/server.pem', mode: '0644', mode_op: 'not_equals' },
    want: ['filename=/etc/ssl/private/server.pem and mode=0o600 op=not_equals specified_mode=0o644'] },
  { name: 'checksum equals (default op) and mode', trigger: 'attribute_match', params: { filename: '/etc/passwd', checksum: SHA, checksum_algorithm: 'sha256', mode: '644' },
    want: [`filename=/etc/passwd and checksum=${SHA} op=equals specified_checksum=${SHA} and mode=0o644 op=equals specified_mode=0o644`] },
  { name: 'checksum equals fails: nothing fires even if mode would', trigger: 'attribute_match', params: { filename: '/etc/passwd', checksum: 'abc', mode: '644' }, want: [] },
  { name: 'checksum not_equals', trigger: 'attribute_match', params: { filename: '/etc/passwd', checksum: 'abc', checksum_match: 'not_equals' },
    want: [`filename=/etc/passwd and checksum=${SHA} op=not_equals specified_checksum=abc`] },
  { name: 'a directory has no checksum', trigger: 'attribute_match', params: { filename: '/etc', checksum: 'abc', checksum_match: 'not_equals' },
    want: ['filename=/etc and checksum=DIRECTORY_OR_OTHER op=not_equals specified_checksum=abc'] },
  { name: 'missing file skipped by default', trigger: 'attribute_match', params: { filename: '/etc/shadow', mode: '0600' }, want: [] },
  { name: 'missing file with skip_missing=false', trigger: 'attribute_match', params: { filename: '/etc/shadow', mode: '0600', skip_missing: 'false' },
    want: ['filename=/etc/shadow and skip_missing=False'] },
  { name: 'present file with no checks', trigger: 'attribute_match', params: { filename: '/etc/passwd' }, want: [] },

  { name: 'setuid and setgid files and directories, with full modes', trigger: 'suid_or_guid_set', params: {},
    want: ['SUID or SGID found set on file /usr/bin/passwd. Mode: 0o104755',
      'SUID or SGID found set on file /usr/bin/wall. Mode: 0o102755',
      'SUID or SGID found set on file /var/mail. Mode: 0o42775'] },
  { name: 'no set-id files', trigger: 'suid_or_guid_set', params: {}, sbom: noDigests, want: [] },
];

for (const c of cases) {
  test(`files/${c.trigger}: ${c.name}`, () => {
    assert.deepEqual(fire('files', c.trigger, c.params, { sbom: c.sbom ?? sbom }).map((f) => f.msg), c.want);
  });
}

test('files/attribute_match: a checksum check without recorded digests says so', () => {
  assert.throws(() => fire('files', 'attribute_match', { filename: '/etc/passwd', checksum: SHA }, { sbom: noDigests }),
    (e: Error) => e instanceof DataUnavailableError && /--file-digests/.test(e.message));
});

test('files/attribute_match: a mode that is not octal fails the rule', () => {
  assert.throws(() => fire('files', 'attribute_match', { filename: '/etc/passwd', mode: 'rw-r--r--' }, { sbom }), /not an octal number/);
});

test('files/suid_or_guid_set: the trigger id Anchore gave /usr/bin/chage', () => {
  const chage = makeSbom({ files: [file('/usr/bin/chage', { mode: 0o4755 })] });
  assert.deepEqual(fire('files', 'suid_or_guid_set', {}, { sbom: chage }), [
    { id: '639f6f1177735759703e928c14714a59', msg: 'SUID or SGID found set on file /usr/bin/chage. Mode: 0o104755' },
  ]);
});
