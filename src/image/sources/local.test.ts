import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildImage, buildIndex, writeOciLayout, ociArchiveBuffer, dockerArchiveBuffer, type BuiltImage } from '../../testkit/images.js';
import { tarBuffer, sha256 } from '../../testkit/tar.js';
import { DirStore, TarStore } from './store.js';
import { OciLayoutSource } from './oci-layout.js';
import { DockerArchiveSource } from './docker-archive.js';
import { splitPathSelector } from './local-path.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { parsePlatform } from '../platform.js';
import type { ResolvedImage } from '../types.js';

let dir: string;
let amd: BuiltImage;
let arm: BuiltImage;

async function blobBytes(img: ResolvedImage, i: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await img.openBlob(img.layers[i]!)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-local-'));
  amd = buildImage({
    layers: [
      { entries: [{ type: 'dir', path: 'etc' }, { type: 'file', path: 'etc/os-release', content: 'ID=test\n' }] },
      { entries: [{ type: 'file', path: 'app/run.sh', content: '#!/bin/sh\n', mode: 0o755 }], compression: 'none' },
    ],
    config: { User: 'app', Labels: { a: 'b' } },
  });
  arm = buildImage({ layers: [{ entries: [{ type: 'file', path: 'arm', content: 'arm64' }] }], platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
});
after(async () => rm(dir, { recursive: true, force: true }));

test('oci-dir: by tag, by digest, platform from an index', async () => {
  const layout = join(dir, 'layout');
  await writeOciLayout(layout, { v1: amd, multi: buildIndex([amd, arm]) });
  const store = await DirStore.open(layout);
  const v1 = await new OciLayoutSource(store, 'v1', 'oci-dir', layout, DEFAULT_LIMITS).resolve({});
  assert.equal(v1.manifestDigest, amd.manifestDigest);
  assert.equal(v1.configDigest, amd.configDigest);
  assert.deepEqual(v1.origin.tags, ['v1']);
  assert.equal(v1.layers.length, 2);
  assert.equal(v1.layers[1]!.diffId, amd.layers[1]!.diffId);
  assert.deepEqual(await blobBytes(v1, 0), amd.layers[0]!.blob);

  const byDigest = await new OciLayoutSource(store, amd.manifestDigest, 'oci-dir', layout, DEFAULT_LIMITS).resolve({});
  assert.equal(byDigest.configDigest, amd.configDigest);

  const multiArm = await new OciLayoutSource(store, 'multi', 'oci-dir', layout, DEFAULT_LIMITS).resolve({ platform: parsePlatform('linux/arm64') });
  assert.equal(multiArm.manifestDigest, arm.manifestDigest);
  assert.equal(multiArm.platform.architecture, 'arm64');
  assert.ok(multiArm.indexDigest);
  const multiDefault = await new OciLayoutSource(store, 'multi', 'oci-dir', layout, DEFAULT_LIMITS).resolve({});
  assert.equal(multiDefault.manifestDigest, amd.manifestDigest);
  await assert.rejects(new OciLayoutSource(store, 'multi', 'oci-dir', layout, DEFAULT_LIMITS).resolve({ platform: parsePlatform('linux/ppc64le') }),
    /no image for platform linux\/ppc64le; available: linux\/amd64, linux\/arm64\/v8/);
  await assert.rejects(new OciLayoutSource(store, undefined, 'oci-dir', layout, DEFAULT_LIMITS).resolve({}), /holds 2 images; name one: v1, multi/);
  await assert.rejects(new OciLayoutSource(store, 'nope', 'oci-dir', layout, DEFAULT_LIMITS).resolve({}), /has no image "nope"; it has: v1, multi/);
});

test('oci-archive: the same layout in a tar, plain or gzip-compressed', async () => {
  for (const gz of [false, true]) {
    const file = join(dir, gz ? 'image.oci.tar.gz' : 'image.oci.tar');
    const tar = ociArchiveBuffer({ latest: amd });
    await writeFile(file, gz ? gzipSync(tar) : tar);
    const store = await TarStore.open(file, DEFAULT_LIMITS);
    const img = await new OciLayoutSource(store, undefined, 'oci-archive', file, DEFAULT_LIMITS).resolve({});
    assert.equal(img.manifestDigest, amd.manifestDigest);
    assert.deepEqual(await blobBytes(img, 1), amd.layers[1]!.blob);
    await store.close();
  }
});

test('docker-archive: legacy and OCI-style layouts', async () => {
  for (const layout of ['legacy', 'oci'] as const) {
    const file = join(dir, `docker-${layout}.tar`);
    await writeFile(file, dockerArchiveBuffer(amd, ['example.com/app:1.0'], layout));
    const store = await TarStore.open(file, DEFAULT_LIMITS);
    const img = await new DockerArchiveSource(store, undefined, file, DEFAULT_LIMITS).resolve({});
    assert.equal(img.configDigest, amd.configDigest);
    assert.deepEqual(img.origin.tags, ['example.com/app:1.0']);
    assert.equal(img.layers.length, 2);
    // docker save stores layers uncompressed: the blob is the tar, its digest the diff_id.
    assert.equal(img.layers[0]!.digest, amd.layers[0]!.diffId);
    assert.equal(sha256(await blobBytes(img, 0)), amd.layers[0]!.diffId);
    assert.equal(layout === 'oci' ? typeof img.manifestDigest : img.manifestDigest, layout === 'oci' ? 'string' : undefined);
    await assert.rejects(new DockerArchiveSource(store, undefined, file, DEFAULT_LIMITS).resolve({ platform: parsePlatform('linux/arm64') }),
      /holds an image for linux\/amd64, not linux\/arm64/);
    await store.close();
  }
});

test('docker-archive: bad input is named', async () => {
  const write = async (name: string, files: Record<string, string | Buffer>) => {
    const file = join(dir, name);
    await writeFile(file, tarBuffer(Object.entries(files).map(([path, content]) => ({ type: 'file' as const, path, content }))));
    return file;
  };
  const open = async (file: string) => new DockerArchiveSource(await TarStore.open(file, DEFAULT_LIMITS), undefined, file, DEFAULT_LIMITS).resolve({});
  await assert.rejects(open(await write('nomanifest.tar', { 'x.txt': 'hi' })), /is not a docker-archive \(no manifest.json\)/);
  await assert.rejects(open(await write('badjson.tar', { 'manifest.json': '{not json' })), /manifest.json is not valid JSON/);
  await assert.rejects(open(await write('badshape.tar', { 'manifest.json': '[{"Config": 1}]' })), /entry 0 needs "Config"/);
  await assert.rejects(open(await write('noconfig.tar', { 'manifest.json': '[{"Config":"c.json","Layers":[]}]' })), /has no member c.json/);
  const cfg = JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256('x')] } });
  await assert.rejects(open(await write('nolayer.tar', { 'manifest.json': '[{"Config":"c.json","Layers":["l/layer.tar"]}]', 'c.json': cfg })),
    /layer 0 \(l\/layer.tar\) is missing/);
  const notConfig = Buffer.from([0, 0xff, 0x13]);
  await assert.rejects(open(await write('cfgbad.tar', { 'manifest.json': '[{"Config":"c.json","Layers":[]}]', 'c.json': notConfig })), /config c.json is not valid JSON/);
  const named = `${sha256('other').slice(7)}.json`;
  await assert.rejects(open(await write('cfgdigest.tar', { 'manifest.json': `[{"Config":"${named}","Layers":[]}]`, [named]: cfg })), /content digest is sha256:/);
  await writeFile(join(dir, 'garbage.tar'), Buffer.alloc(2048, 7));
  await assert.rejects(TarStore.open(join(dir, 'garbage.tar'), DEFAULT_LIMITS), /is not a tar archive/);
  const truncated = dockerArchiveBuffer(amd, [], 'legacy');
  await writeFile(join(dir, 'truncated.tar'), truncated.subarray(0, Math.floor(truncated.length / 2)));
  await assert.rejects(TarStore.open(join(dir, 'truncated.tar'), DEFAULT_LIMITS), /truncated/);
});

test('oci-dir: missing blob, tampered manifest, not a layout', async () => {
  const layout = join(dir, 'broken');
  await writeOciLayout(layout, { latest: amd });
  const store = await DirStore.open(layout);
  await rm(join(layout, 'blobs', 'sha256', amd.layers[1]!.desc.digest.slice(7)));
  await assert.rejects(new OciLayoutSource(store, 'latest', 'oci-dir', layout, DEFAULT_LIMITS).resolve({}), /layer blob sha256:[0-9a-f]+ is missing/);
  await writeFile(join(layout, 'blobs', 'sha256', amd.manifestDigest.slice(7)), amd.manifestBytes.toString().replace('"schemaVersion": 2', '"schemaVersion":2'));
  await assert.rejects(new OciLayoutSource(store, 'latest', 'oci-dir', layout, DEFAULT_LIMITS).resolve({}), /size is \d+ bytes, the descriptor says|content digest/);
  const empty = join(dir, 'empty');
  await mkdir(empty);
  await assert.rejects(new OciLayoutSource(await DirStore.open(empty), undefined, 'oci-dir', empty, DEFAULT_LIMITS).resolve({}), /is not an OCI image layout/);
});

test('PATH[:SELECTOR] splitting keeps colons in paths', async () => {
  const p = join(dir, 'a:b');
  await mkdir(p);
  assert.deepEqual(splitPathSelector(p), { path: p });
  assert.deepEqual(splitPathSelector(`${p}:v1`), { path: p, selector: 'v1' });
  assert.deepEqual(splitPathSelector(`${p}:repo:tag`), { path: p, selector: 'repo:tag' });
});

test('a path-like reference naming no file is "no such file", not a registry image (issue 17)', async () => {
  const { classifyInput, looksLikePath } = await import('./index.js');
  for (const typo of ['/nonexistent.tar', './x', '../x', './no-such-dir/', '~/images/app.tar', '*.tar', 'sbom.cdx.jsn', 'app.tar', 'out/sbom.cdx.json', 'image.tar.gz', 'C:\\images\\app.tar']) {
    assert.equal(looksLikePath(typo), true, typo);
    await assert.rejects(classifyInput(typo), (e: Error) => e.message.startsWith(`no such file: ${typo} `), typo);
  }
  for (const ref of ['debian', 'debian:12', 'library/debian:12', '127.0.0.1:5000/app:v1', '[::1]:5000/app', 'ghcr.io/org/app', 'localhost/app',
    `docker.io/library/nginx@sha256:${'a'.repeat(64)}`, 'my.registry.example:443/team/app.web:1.0']) {
    assert.equal(looksLikePath(ref), false, ref);
    assert.deepEqual(await classifyInput(ref), { scheme: 'registry', rest: ref });
  }
  assert.deepEqual(await classifyInput('registry:sbom.cdx.jsn'), { scheme: 'registry', rest: 'sbom.cdx.jsn' }, 'an explicit scheme is obeyed');
});
