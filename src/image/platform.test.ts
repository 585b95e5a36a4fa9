import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePlatform, choosePlatform, formatPlatform } from './platform.js';
import type { Descriptor } from './types.js';

const d = (os: string, architecture: string, variant?: string): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${architecture}${variant ?? ''}`, size: 1,
  platform: { os, architecture, ...(variant ? { variant } : {}) },
});
const index = [d('linux', 'amd64'), d('linux', 'arm64', 'v8'), d('linux', 'arm', 'v6'), d('linux', 'arm', 'v7'), d('unknown', 'unknown')];

test('parse and format platforms', () => {
  assert.equal(formatPlatform(parsePlatform('linux/amd64')), 'linux/amd64');
  assert.equal(formatPlatform(parsePlatform('linux/arm64/v8')), 'linux/arm64');
  assert.equal(formatPlatform(parsePlatform('linux/x86_64')), 'linux/amd64');
  assert.throws(() => parsePlatform('linux'), /expected os\/arch/);
  assert.throws(() => parsePlatform('a/b/c/d'), /expected os\/arch/);
});

test('choose a platform from an index', () => {
  assert.equal(choosePlatform(index, parsePlatform('linux/amd64'), 'x').digest, 'sha256:amd64');
  assert.equal(choosePlatform(index, parsePlatform('linux/arm64'), 'x').digest, 'sha256:arm64v8');
  assert.equal(choosePlatform(index, parsePlatform('linux/arm64/v8'), 'x').digest, 'sha256:arm64v8');
  assert.equal(choosePlatform(index, parsePlatform('linux/arm/v6'), 'x').digest, 'sha256:armv6');
  assert.equal(choosePlatform(index, parsePlatform('linux/arm'), 'x').digest, 'sha256:armv7');
});

test('a missing platform lists the available ones', () => {
  assert.throws(() => choosePlatform(index, parsePlatform('linux/s390x'), 'index of app:1'),
    /index of app:1 has no image for platform linux\/s390x; available: linux\/amd64, linux\/arm64\/v8, linux\/arm\/v6, linux\/arm\/v7/);
});
