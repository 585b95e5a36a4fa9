import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LadingError } from '../../errors.js';
import { readNative, writeNative } from './native.js';
import { exampleSbom } from './testing.js';

test('Lading JSON: same Sbom, same bytes, whatever the order it was built in', () => {
  const a = exampleSbom();
  const b = exampleSbom();
  b.packages.reverse();
  b.source = { ...b.source, config: { ...b.source.config } };
  const shuffled = Object.fromEntries(Object.entries(b).reverse()) as typeof b;
  assert.equal(writeNative(shuffled), writeNative(a));
});

test('Lading JSON: key order and package order', () => {
  const doc = JSON.parse(writeNative(exampleSbom())) as { packages: { type: string; name: string; version: string }[] } & Record<string, unknown>;
  assert.deepEqual(Object.keys(doc).slice(0, 6), ['schema', 'createdAt', 'tool', 'source', 'distro', 'packages']);
  assert.deepEqual(Object.keys(doc.packages[0] ?? {}).slice(0, 4), ['name', 'version', 'type', 'purl']);
  const keys = doc.packages.map((p) => [p.type, p.name, p.version].join('\u0000'));
  assert.deepEqual(keys, [...keys].sort());
  assert.equal(doc.packages[0]?.type, 'apk');
});

test('Lading JSON reads back unchanged', () => {
  const sbom = exampleSbom();
  const back = readNative(JSON.parse(writeNative(sbom)));
  assert.equal(writeNative(back), writeNative(sbom));
  assert.equal(back.packages.length, sbom.packages.length);
  assert.deepEqual(back.files, sbom.files);
});

test('Lading JSON with a broken package is refused with its index', () => {
  const doc = JSON.parse(writeNative(exampleSbom())) as { packages: Record<string, unknown>[] };
  delete doc.packages[3]?.purl;
  assert.throws(() => readNative(doc), (e: unknown) => e instanceof LadingError && e.code === 'BAD_INPUT' && /packages\[3\]/.test(e.message));
});

test('Lading JSON writes file modes as octal strings, as `image files -o json` does, and reads both spellings back', () => {
  const sbom = exampleSbom();
  sbom.files = [
    { path: '/etc/passwd', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 10, layer: 0 },
    { path: '/usr/bin/passwd', type: 'file', mode: 0o4755, uid: 0, gid: 0, size: 10, layer: 0, setuid: true },
  ];
  const doc = JSON.parse(writeNative(sbom)) as { files: { path: string; mode: unknown }[] };
  assert.deepEqual(doc.files.map((f) => f.mode), ['0644', '4755']);
  assert.deepEqual(readNative(doc).files.map((f) => f.mode), [0o644, 0o4755]);
  const older = { ...doc, files: doc.files.map((f) => ({ ...f, mode: f.path === '/etc/passwd' ? 420 : 2541 })) };
  assert.deepEqual(readNative(older).files.map((f) => f.mode), [0o644, 0o4755]);
  assert.throws(() => readNative({ ...doc, files: [{ ...doc.files[0], mode: 'rw-r--r--' }] }), /files\[0\]\.mode "rw-r--r--" is not an octal mode/);
});
