import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLadingError } from '../errors.js';
import { REDACTED, SecretBox, redact, redactUrlPasswords } from './secrets.js';

const KEY_A = 'key-a-0123456789abcdef';
const KEY_B = 'key-b-0123456789abcdef';
const SECRET = 'hunter2-registry-password';

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e) => {
    assert.ok(isLadingError(e), String(e));
    assert.equal(e.code, 'BAD_INPUT');
    assert.match(e.message, pattern);
    for (const leak of [SECRET, KEY_A, KEY_B]) assert.ok(!e.message.includes(leak), `message leaks ${leak}: ${e.message}`);
    return true;
  });
}

test('round trip: v1 envelope, a fresh IV each time, unicode and empty strings', () => {
  const box = new SecretBox(KEY_A);
  const env = box.encrypt(SECRET);
  assert.match(env, /^v1:[A-Za-z0-9+/]{16}:[A-Za-z0-9+/]{22}==:[A-Za-z0-9+/=]+$/);
  assert.ok(!env.includes(SECRET));
  assert.ok(SecretBox.isEnvelope(env));
  assert.equal(box.decrypt(env), SECRET);
  assert.notEqual(box.encrypt(SECRET), env);
  for (const s of ['', 'päss wörd ✓ 🔑', 'x'.repeat(10_000)]) assert.equal(box.decrypt(box.encrypt(s)), s);
  // another instance over the same key string reads it
  assert.equal(new SecretBox([KEY_A]).decrypt(env), SECRET);
});

test('tampering with any part is detected', () => {
  const box = new SecretBox(KEY_A);
  const env = box.encrypt(SECRET);
  const [v, iv, tag, ct] = env.split(':') as [string, string, string, string];
  const flip = (b64: string) => {
    const b = Buffer.from(b64, 'base64');
    b[0] = b[0]! ^ 1;
    return b.toString('base64');
  };
  for (const bad of [`${v}:${flip(iv)}:${tag}:${ct}`, `${v}:${iv}:${flip(tag)}:${ct}`, `${v}:${iv}:${tag}:${flip(ct)}`]) {
    rejects(() => box.decrypt(bad), /cannot decrypt a stored secret: the configured encryption key does not open it/);
  }
  rejects(() => box.decrypt(`v2:${iv}:${tag}:${ct}`), /not a valid v1 envelope \(unsupported version v2\)/);
  rejects(() => box.decrypt(`${iv}:${tag}:${ct}`), /not a valid v1 envelope \(3 fields instead of 4\)/);
  rejects(() => box.decrypt(`${v}:${iv}:${tag}:not*base64`), /ciphertext is not base64/);
  rejects(() => box.decrypt(`${v}:${Buffer.alloc(8).toString('base64')}:${tag}:${ct}`), /iv is 8 bytes, not 12/);
  rejects(() => box.decrypt(SECRET), /not a valid v1 envelope/);
});

test('the wrong key: a clear error naming what to do, no plaintext', () => {
  const env = new SecretBox(KEY_A).encrypt(SECRET);
  rejects(() => new SecretBox(KEY_B).decrypt(env), /the configured encryption key does not open it\. If encryption_key was changed, list the old key under previous_encryption_keys/);
  rejects(() => new SecretBox([KEY_B, 'key-c-0123456789abcdef']).decrypt(env), /none of the 2 configured encryption keys opens it\. If encryption_key was changed/);
});

test('a context binds the ciphertext to its record', () => {
  const box = new SecretBox(KEY_A);
  const env = box.encrypt(SECRET, 'registry:acme/ghcr.io');
  assert.equal(box.decrypt(env, 'registry:acme/ghcr.io'), SECRET);
  rejects(() => box.decrypt(env, 'registry:other/ghcr.io'), /cannot decrypt/);
  rejects(() => box.decrypt(env), /cannot decrypt/);
});

test('rotation: decrypt with any listed key, encrypt with the first; needsReencrypt and reencrypt', () => {
  const old = new SecretBox(KEY_A);
  const rotated = new SecretBox([KEY_B, KEY_A]);
  const before = old.encrypt(SECRET, 'ctx');
  assert.equal(rotated.decrypt(before, 'ctx'), SECRET);
  assert.equal(rotated.needsReencrypt(before, 'ctx'), true);
  const after = rotated.reencrypt(before, 'ctx');
  assert.equal(rotated.needsReencrypt(after, 'ctx'), false);
  assert.equal(new SecretBox(KEY_B).decrypt(after, 'ctx'), SECRET);
  rejects(() => old.decrypt(after, 'ctx'), /cannot decrypt/);
});

test('keys are required and at least 16 characters; messages never show them', () => {
  rejects(() => new SecretBox([]), /no encryption key is configured: set encryption_key \(LADING_ENCRYPTION_KEY\)/);
  rejects(() => new SecretBox('short'), /encryption key 1 of 1 is shorter than 16 characters/);
  assert.throws(() => new SecretBox([KEY_A, 'tiny-key']), /encryption key 2 of 2/);
});

test('redact: strings, sensitive keys at any depth, URL passwords, envelopes', () => {
  const env = new SecretBox(KEY_A).encrypt(SECRET);
  assert.equal(redact(SECRET), REDACTED);
  assert.equal(redact(''), '');
  assert.equal(redact(undefined), undefined);
  const record = {
    registry: 'ghcr.io',
    registry_user: 'bot',
    registry_pass: SECRET,
    nested: { password: SECRET, apiKey: SECRET, Authorization: `Basic ${SECRET}`, list: [{ token: SECRET }], count: 3 },
    registryPass: SECRET,
    stored: env,
    url: `https://bot:${SECRET}@ghcr.io/v2/`,
    bypass: true,
    when: new Date(0),
  };
  const out = redact(record);
  const text = JSON.stringify(out);
  assert.ok(!text.includes(SECRET), text);
  assert.ok(!text.includes(env), text);
  assert.equal(out.registry, 'ghcr.io');
  assert.equal(out.registry_user, 'bot');
  assert.equal(out.registry_pass, REDACTED);
  assert.equal(out.nested.count, 3);
  assert.equal(out.bypass, true);
  assert.equal(out.url, 'https://bot:***@ghcr.io/v2/');
  assert.deepEqual(out.when, new Date(0));
  assert.equal(record.registry_pass, SECRET, 'the input is not changed');
  assert.equal(redactUrlPasswords('postgres://u:p@h/db and http://a:b@c/'), 'postgres://u:***@h/db and http://a:***@c/');
  const loop: Record<string, unknown> = { a: 1 };
  loop.self = loop;
  assert.deepEqual(redact(loop), { a: 1, self: '[circular]' });
});
