import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anchoreTag, parseTag } from './tag.js';

const cases: [string, ReturnType<typeof parseTag>][] = [
  ['nginx', { registry: 'docker.io', repo: 'nginx', tag: 'latest' }],
  ['nginx:1.25', { registry: 'docker.io', repo: 'nginx', tag: '1.25' }],
  ['library/nginx:1.25', { registry: 'docker.io', repo: 'library/nginx', tag: '1.25' }],
  ['docker.io/library/nginx:1.25', { registry: 'docker.io', repo: 'library/nginx', tag: '1.25' }],
  ['quay.io/org/app:v2', { registry: 'quay.io', repo: 'org/app', tag: 'v2' }],
  ['localhost:5000/app', { registry: 'localhost:5000', repo: 'app', tag: 'latest' }],
  ['localbuild/app:dev', { registry: 'localbuild', repo: 'app', tag: 'dev' }],
  [`reg.example.com/app@sha256:${'1'.repeat(64)}`, { registry: 'reg.example.com', repo: 'app', digest: `sha256:${'1'.repeat(64)}` }],
  ['a'.repeat(64), { registry: '', repo: '', imageId: 'a'.repeat(64) }],
];
for (const [input, want] of cases) {
  test(`tag ${input}`, () => assert.deepEqual(parseTag(input), want));
}

test('Lading tags in the form Anchore stored them', () => {
  assert.equal(anchoreTag('docker.io/library/debian:12'), 'docker.io/debian:12');
  assert.equal(anchoreTag('docker.io/bitnami/redis:7'), 'docker.io/bitnami/redis:7');
  assert.equal(anchoreTag('ghcr.io/library/x:1'), 'ghcr.io/library/x:1');
  assert.equal(anchoreTag('nginx:latest'), 'docker.io/nginx:latest');
});
