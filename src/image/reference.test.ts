import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReference, formatReference, familiarName } from './reference.js';

const D = 'sha256:' + 'ab'.repeat(32);

const cases: [string, string][] = [
  ['debian', 'docker.io/library/debian:latest'],
  ['debian:12', 'docker.io/library/debian:12'],
  ['library/debian', 'docker.io/library/debian:latest'],
  ['bitnami/redis:7.2', 'docker.io/bitnami/redis:7.2'],
  ['docker.io/debian', 'docker.io/library/debian:latest'],
  ['index.docker.io/library/debian:11', 'docker.io/library/debian:11'],
  ['localhost/app', 'localhost/app:latest'],
  ['localhost:5000/app:v1', 'localhost:5000/app:v1'],
  ['127.0.0.1:5000/ns/sub/app:1.0', '127.0.0.1:5000/ns/sub/app:1.0'],
  ['example.com/a/b', 'example.com/a/b:latest'],
  [`debian@${D}`, `docker.io/library/debian@${D}`],
  [`debian:12@${D}`, `docker.io/library/debian:12@${D}`],
  [`host:5000/app:v1@${D}`, `host:5000/app:v1@${D}`],
  ['[::1]:5000/app', '[::1]:5000/app:latest'],
  ['a__b/c-d_e.f', 'docker.io/a__b/c-d_e.f:latest'],
];

for (const [input, want] of cases) {
  test(`reference ${input}`, () => {
    assert.equal(formatReference(parseReference(input)), want);
  });
}

test('reference parts', () => {
  const r = parseReference('127.0.0.1:5000/debian-app:v2s2');
  assert.deepEqual(r, { registry: '127.0.0.1:5000', repository: 'debian-app', tag: 'v2s2' });
  assert.equal(familiarName(parseReference('debian')), 'debian');
  assert.equal(familiarName(r), '127.0.0.1:5000/debian-app');
});

const badInputs: [string, RegExp][] = [
  ['', /empty/],
  ['Debian', /lowercase/],
  ['debian:bad tag', /whitespace/],
  ['debian@sha256:1234', /not a digest/],
  ['debian:-x', /not a valid tag/],
  ['a//b', /not valid/],
  ['host:5000/', /empty|not valid/],
  ['bad_host!:5000/x', /not a valid registry host/],
];
for (const [input, re] of badInputs) {
  test(`bad reference ${JSON.stringify(input)}`, () => {
    assert.throws(() => parseReference(input), (e: Error) => re.test(e.message) && e.message.includes('invalid image reference'));
  });
}
