import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fire, makeSbom, retrieved } from '../testing.js';
import type { Sbom } from '../../sbom/model.js';

const ROOT = 'root:x:0:0:root:/root:/bin/bash';
const DAEMON = 'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin';
const FTP = 'ftp:x:14:50:FTP User:/var/ftp:/sbin/nologin';
const withPasswd = makeSbom({ retrievedFiles: [retrieved('/etc/passwd', `${ROOT}\n${DAEMON}\n\n${FTP}\n`)] });
const without = makeSbom({ retrievedFiles: [retrieved('/etc/group', 'root:x:0:\n')] });

const cases: { name: string; trigger: string; params: Record<string, string>; sbom?: Sbom; want: string[] }[] = [
  { name: 'passwd not retrieved', trigger: 'content_not_available', params: {}, sbom: without,
    want: ['Cannot locate /etc/passwd in image stored files archive: check analyzer settings.'] },
  { name: 'passwd retrieved', trigger: 'content_not_available', params: {}, want: [] },
  { name: 'user names', trigger: 'blacklist_usernames', params: { user_names: 'daemon, nobody' },
    want: [`Blacklisted user 'daemon' found in image's /etc/passwd: pentry=${DAEMON}`] },
  { name: 'user names by their old name', trigger: 'blacklist_usernames', params: { usernameblacklist: 'ftp' },
    want: [`Blacklisted user 'ftp' found in image's /etc/passwd: pentry=${FTP}`] },
  { name: 'user ids', trigger: 'blacklist_userids', params: { user_ids: '0,14' },
    want: [`Blacklisted uid '0' found in image's /etc/passwd: pentry=${ROOT}`, `Blacklisted uid '14' found in image's /etc/passwd: pentry=${FTP}`] },
  { name: 'user ids by their old name', trigger: 'blacklist_userids', params: { useridblacklist: '1' },
    want: [`Blacklisted uid '1' found in image's /etc/passwd: pentry=${DAEMON}`] },
  { name: 'group ids', trigger: 'blacklist_groupids', params: { group_ids: '50' },
    want: [`Blacklisted gid '50' found in image's /etc/passwd: pentry=${FTP}`] },
  { name: 'shells', trigger: 'blacklist_shells', params: { shells: '/bin/bash,/bin/zsh' },
    want: [`Blacklisted shell '/bin/bash' found in image's /etc/passwd: pentry=${ROOT}`] },
  { name: 'full entry', trigger: 'blacklist_full_entry', params: { entry: ` ${FTP} ` },
    want: [`Blacklisted pentry '${FTP}' found in image's /etc/passwd: pentry=${FTP}`] },
  { name: 'full entry absent', trigger: 'blacklist_full_entry', params: { entry: 'ftp:x:14:50::/:/bin/sh' }, want: [] },
  { name: 'no passwd: blacklists do not fire', trigger: 'blacklist_usernames', params: { user_names: 'root' }, sbom: without, want: [] },
];

for (const c of cases) {
  test(`passwd_file/${c.trigger}: ${c.name}`, () => {
    assert.deepEqual(fire('passwd_file', c.trigger, c.params, { sbom: c.sbom ?? withPasswd }).map((f) => f.msg), c.want);
  });
}
