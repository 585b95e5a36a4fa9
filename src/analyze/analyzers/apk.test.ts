import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAnalyzer } from '../testing.js';
import { apkAnalyzer } from './apk.js';

const DB = `C:Q1Yq7d2mHl+J3pK3ax3sbHCxpAjuo=
P:musl
V:1.2.4-r2
A:x86_64
S:383152
I:622592
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
t:1696854413
c:5e7b8e1e8cb2b0be26cda8c95f67e8f4e1b4a8d9
F:lib
R:ld-musl-x86_64.so.1
R:libc.musl-x86_64.so.1

P:libcrypto3
V:3.1.4-r1
A:x86_64
L:Apache-2.0
o:openssl
F:usr/lib
R:libcrypto.so.3
F:etc/ssl
R:openssl.cnf

V:1.0
`;

test('apk installed database', async () => {
  const r = await runAnalyzer(apkAnalyzer, { '/lib/apk/db/installed': DB },
    { id: 'alpine', versionId: '3.18.4', idLike: [], source: '/etc/os-release' });
  const [musl, crypto] = r.packages!;
  assert.equal(r.packages!.length, 2);
  assert.equal(musl!.purl, 'pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.18.4&upstream=musl');
  assert.deepEqual(musl!.files, ['/lib/ld-musl-x86_64.so.1', '/lib/libc.musl-x86_64.so.1']);
  assert.deepEqual(musl!.licenses, ['MIT']);
  assert.equal(crypto!.sourceName, 'openssl');
  assert.deepEqual(crypto!.files, ['/usr/lib/libcrypto.so.3', '/etc/ssl/openssl.cnf']);
  assert.match(r.warnings[0]!, /record without P: or V:/);
});
