/** RegistrySource round trips against a real registry on 127.0.0.1. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { RegistrySource, type RegistryOptions } from './registry.js';
import { parseReference } from '../reference.js';
import { withLimits } from '../limits.js';
import { parsePlatform } from '../platform.js';
import { MediaTypes, type ResolvedImage } from '../types.js';
import { TokenCache } from '../registry/auth.js';
import { buildImage, buildIndex, type BuiltImage } from '../../testkit/images.js';
import { fetchUpstream, pushImage, registryAvailable, registrySkipReason, startProxy, startRegistry, type RunningServer } from '../../testkit/registry.js';

const skip = registryAvailable() ? false : registrySkipReason;
const CREDS = { user: 'reader', pass: 'correct horse' };

function image(format: 'oci' | 'docker', arch: string, variant?: string): BuiltImage {
  return buildImage({
    format,
    platform: { os: 'linux', architecture: arch, ...(variant ? { variant } : {}) },
    layers: [
      { entries: [{ type: 'dir', path: 'etc' }, { type: 'file', path: 'etc/os-release', content: `ID=test\nARCH=${arch}\n` }] },
      { entries: [{ type: 'file', path: `usr/bin/tool-${arch}`, content: `binary for ${arch} ${format}` }] },
    ],
  });
}

const ociAmd = image('oci', 'amd64');
const ociArm = image('oci', 'arm64', 'v8');
const ociIndex = buildIndex([ociAmd, ociArm], 'oci');
const dockerAmd = image('docker', 'amd64');
const dockerArm = image('docker', 'arm64', 'v8');
const dockerList = buildIndex([dockerAmd, dockerArm], 'docker');

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The resolved image is the built one: manifest, config, layers, and the blob bytes. */
async function assertImage(r: ResolvedImage, want: BuiltImage): Promise<void> {
  assert.equal(r.manifestDigest, want.manifestDigest);
  assert.equal(r.manifestMediaType, want.manifestMediaType);
  assert.deepEqual(r.manifest, want.manifest);
  assert.equal(r.configDigest, want.configDigest);
  assert.deepEqual(r.config, want.config);
  assert.deepEqual(r.platform, { os: want.config.os, architecture: want.config.architecture, ...(want.config.variant ? { variant: want.config.variant } : {}) });
  assert.deepEqual(r.layers.map((l) => [l.digest, l.diffId, l.size]), want.layers.map((l) => [l.desc.digest, l.diffId, l.desc.size]));
  for (const [i, l] of r.layers.entries()) assert.deepEqual(await readAll(await r.openBlob(l)), want.layers[i]!.blob);
}

describe('registry source', { skip }, () => {
  let reg: RunningServer;
  let authReg: RunningServer;
  const sources: RegistrySource[] = [];
  const others: RunningServer[] = [];

  const source = (input: string, extra: Partial<RegistryOptions> = {}) => {
    const s = new RegistrySource(parseReference(input), {
      limits: withLimits(), credentialLookup: false, tokenCache: new TokenCache(), http: { retryBaseMs: 5 }, input, ...extra,
    });
    sources.push(s);
    return s;
  };

  before(async () => {
    [reg, authReg] = await Promise.all([startRegistry(), startRegistry({ htpasswd: CREDS })]);
    await Promise.all([
      pushImage(reg.host, 'oci/app', 'v1', ociAmd),
      pushImage(reg.host, 'docker/app', 'v1', dockerAmd),
      pushImage(reg.host, 'oci/multi', 'v1', ociIndex),
      pushImage(reg.host, 'docker/multi', 'v1', dockerList),
      pushImage(authReg.host, 'private/app', 'v1', ociAmd, CREDS),
    ]);
  });

  after(async () => {
    await Promise.all(sources.map((s) => s.close()));
    await Promise.all([...others, reg, authReg].filter(Boolean).map((s) => s.stop()));
  });

  it('resolves a 2-layer OCI image by tag', async () => {
    const input = `${reg.host}/oci/app:v1`;
    const r = await source(input).resolve({});
    await assertImage(r, ociAmd);
    assert.deepEqual(r.origin, { kind: 'registry', input, registry: reg.host, repository: 'oci/app', tag: 'v1', tags: ['v1'] });
    assert.equal(r.indexDigest, undefined);
  });

  it('resolves a Docker schema 2 image', async () => {
    const r = await source(`${reg.host}/docker/app:v1`).resolve({});
    await assertImage(r, dockerAmd);
    assert.equal(r.manifestMediaType, MediaTypes.dockerManifest);
  });

  for (const [kind, repo, index, amd, arm] of [
    ['OCI index', 'oci/multi', ociIndex, ociAmd, ociArm],
    ['Docker manifest list', 'docker/multi', dockerList, dockerAmd, dockerArm],
  ] as const) {
    it(`${kind}: linux/amd64 by default, linux/arm64 on request, a missing platform lists the available ones`, async () => {
      const input = `${reg.host}/${repo}:v1`;
      const def = await source(input).resolve({});
      await assertImage(def, amd);
      assert.equal(def.indexDigest, index.digest);

      const viaResolve = await source(input).resolve({ platform: parsePlatform('linux/arm64') });
      await assertImage(viaResolve, arm);
      assert.equal(viaResolve.indexDigest, index.digest);
      assert.deepEqual(viaResolve.platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });
      const viaOptions = await source(input, { platform: parsePlatform('linux/arm64/v8') }).resolve({});
      assert.equal(viaOptions.manifestDigest, arm.manifestDigest);

      await assert.rejects(source(input).resolve({ platform: parsePlatform('linux/s390x') }), {
        code: 'PLATFORM_NOT_FOUND',
        message: `${reg.host}/${repo}:v1 has no image for platform linux/s390x; available: linux/amd64, linux/arm64/v8`,
      });
    });
  }

  it('resolves by digest, and by tag plus digest (the digest wins)', async () => {
    const byImageDigest = await source(`${reg.host}/oci/multi@${ociArm.manifestDigest}`).resolve({});
    await assertImage(byImageDigest, ociArm);
    assert.equal(byImageDigest.indexDigest, undefined);
    assert.deepEqual(byImageDigest.origin.tags, []);

    const byIndexDigest = await source(`${reg.host}/oci/multi@${ociIndex.digest}`).resolve({ platform: parsePlatform('linux/arm64') });
    assert.equal(byIndexDigest.manifestDigest, ociArm.manifestDigest);
    assert.equal(byIndexDigest.indexDigest, ociIndex.digest);

    // the tag v1 names the index; the digest names the amd64 image, and the digest wins
    const both = await source(`${reg.host}/oci/multi:v1@${ociAmd.manifestDigest}`).resolve({});
    assert.equal(both.manifestDigest, ociAmd.manifestDigest);
    assert.equal(both.indexDigest, undefined);
    assert.equal(both.origin.tag, 'v1');

    await assert.rejects(source(`${reg.host}/oci/app@sha256:${'0'.repeat(64)}`).resolve({}), {
      code: 'NOT_FOUND', message: new RegExp(`^manifest sha256:0{64} not found in ${reg.host}/oci/app`),
    });
  });

  it('missing tags and repositories are NOT_FOUND', async () => {
    await assert.rejects(source(`${reg.host}/oci/app:latest`).resolve({}), { code: 'NOT_FOUND', message: new RegExp(`^manifest latest not found in ${reg.host}/oci/app`) });
  });

  it('a config blob that does not match its digest is refused', async () => {
    const tamper = await startProxy(reg.host, async (req, res) => {
      if (!req.url?.endsWith(`/blobs/${ociAmd.configDigest}`)) return false;
      const up = await fetchUpstream(reg.host, req.url);
      const body = Buffer.from(up.body.toString().replace('amd64', 'arm64'));
      res.writeHead(200, { 'content-length': String(body.length) });
      res.end(body);
      return true;
    });
    others.push(tamper);
    await assert.rejects(source(`${tamper.host}/oci/app:v1`).resolve({}), {
      code: 'DIGEST_MISMATCH', message: new RegExp(`^config of ${tamper.host}/oci/app:v1 ${ociAmd.configDigest}: content digest is sha256:`),
    });
  });

  it('an htpasswd registry: anonymous refused, credentials from the docker config accepted', async () => {
    const input = `${authReg.host}/private/app:v1`;
    await assert.rejects(source(input).resolve({}), { code: 'UNAUTHORIZED', message: new RegExp(`^authentication required for ${authReg.host}/private/app`) });
    const dir = await mkdtemp(join(tmpdir(), 'lading-dockercfg-'));
    try {
      await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { [`http://${authReg.host}`]: { auth: Buffer.from(`${CREDS.user}:${CREDS.pass}`).toString('base64') } } }));
      const r = await source(input, { credentialLookup: { dockerConfigDir: dir, env: {}, ecr: false } }).resolve({});
      await assertImage(r, ociAmd);
      await assert.rejects(source(input, { credentials: { username: CREDS.user, password: 'bad' } }).resolve({}),
        { code: 'UNAUTHORIZED', message: new RegExp(`^authentication denied for ${authReg.host}/private/app`) });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
