/**
 * Everyday use (issue 17): a path-like reference naming no file is "no such file" (never a
 * registry lookup), and reading commands never create a database or its directory.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { buildImage, dockerArchiveBuffer, writeOciLayout } from '../testkit/images.js';
import { forward, opensslAvailable, pushImage, registryAvailable, registrySkipReason, selfSignedCert, startRegistry } from '../testkit/registry.js';
import { deb, sbomOf } from '../vulns/testing.js';
import { lading } from './testing.js';

let dir: string;
let env: Record<string, string>;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-everyday-'));
  // no registry is reachable: a typo that fell through to one would say so instead
  env = { LADING_DATA_DIR: join(dir, 'fresh'), HOME: dir, XDG_CACHE_HOME: join(dir, 'cache'), HTTPS_PROXY: '', https_proxy: '' };
});
after(async () => rm(dir, { recursive: true, force: true }));

test('path-like references that do not exist: "no such file", exit 2', async () => {
  for (const args of [['image', 'inspect', '/nonexistent.tar'], ['sbom', 'sbom.cdx.jsn'], ['sbom', './x'], ['image', 'files', '../x'], ['sbom', '*.tar']]) {
    const r = await lading(args, env);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    const ref = args[args.length - 1]!;
    assert.match(r.stderr, new RegExp(`^lading: error: no such file: ${ref.replace(/[.*]/g, '\\$&')} `), args.join(' '));
    assert.doesNotMatch(r.stderr, /docker\.io|cannot reach|repository component/, args.join(' '));
  }
});

test('scan --db naming a missing file, and evaluate in a fresh data directory: nothing is created, the database is named', async () => {
  const sbom = join(dir, 'app.lading.json');
  await writeFile(sbom, JSON.stringify(sbomOf([deb('base-files', '12.4')])));
  const typo = join(dir, 'some', 'typo', 'x.db');
  const s = await lading(['scan', sbom, '--db', typo], env);
  assert.equal(s.code, 2, s.stderr);
  assert.match(s.stderr, new RegExp(`the vulnerability database ${typo.replace(/[.]/g, '\\.')} does not exist: create it with \`lading db update\``));
  assert.equal(existsSync(join(dir, 'some')), false, 'no directory was made');

  const e = await lading(['evaluate', sbom], env);
  assert.match(e.stderr, /warning: the vulnerability database .*fresh\/lading\.db does not exist: create it with `lading db update` \(online\) or `lading db import PATH` \(offline\)/);
  assert.match(e.stdout, /vulnerability_data_unavailable/);
  assert.equal(existsSync(join(dir, 'fresh')), false, 'the data directory was not made');
});

test('--insecure is a boolean (as in grype and trivy); --insecure-registry HOST names one registry', {
  skip: !registryAvailable() ? registrySkipReason : opensslAvailable() ? false : 'openssl is not installed',
}, async () => {
  const registry = await startRegistry();
  const tls = await selfSignedCert();
  // the registry behind TLS with a certificate nobody trusts
  const front = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => forward(req, res, registry.host));
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(front.address() as AddressInfo).port}`;
  try {
    await pushImage(registry.host, 'team/app', 'v1', buildImage({ layers: [{ entries: [{ type: 'file', path: 'etc/hello', content: 'hi' }] }] }));
    const ref = `${host}/team/app:v1`;
    const strict = await lading(['image', 'inspect', ref], env);
    assert.equal(strict.code, 2, strict.stderr);
    assert.match(strict.stderr, /certificate/i);
    for (const args of [['image', 'inspect', '--insecure', ref], ['image', 'inspect', ref, '--insecure-registry', host],
      ['--insecure', 'image', 'inspect', ref], ['image', 'files', '--insecure', ref]]) {
      const r = await lading(args, env);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, args[1] === 'files' ? /etc\/hello/ : /team\/app/, args.join(' '));
    }
    const other = await lading(['image', 'inspect', ref, '--insecure-registry', 'elsewhere.example:5000'], env);
    assert.equal(other.code, 2, 'another host listed: this one is still verified');
  } finally {
    front.closeAllConnections();
    await new Promise((r) => front.close(r));
    await registry.stop();
    await rm(tls.dir, { recursive: true, force: true });
  }
});

test('the same details everywhere: octal modes, layer digest and diff_id, one wording for a missing digest, what an SBOM input lacks', async () => {
  const image = buildImage({ layers: [
    { entries: [{ type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' }] },
    { entries: [{ type: 'file', path: 'var/lib/dpkg/status', content: 'Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2\n', mode: 0o644 }] },
  ] });
  const layout = join(dir, 'details');
  await writeOciLayout(layout, { v1: image });
  const ref = `oci-dir:${layout}:v1`;
  const files = JSON.parse((await lading(['image', 'files', ref, '-o', 'json'], env)).stdout) as { path: string; mode: unknown }[];
  const sbom = JSON.parse((await lading(['sbom', ref, '-o', 'json', '--no-cache'], env)).stdout) as {
    files: { path: string; mode: unknown }[]; packages: { name: string; locations: Record<string, unknown>[] }[] };
  const mode = (list: { path: string; mode: unknown }[]) => list.find((f) => f.path === '/var/lib/dpkg/status')?.mode;
  assert.equal(mode(files), '0644');
  assert.equal(mode(sbom.files), '0644');
  // the layer named both ways: its digest as the manifest (and `image inspect`) names it, and its diff_id
  const layer = image.layers[1]!;
  assert.notEqual(layer.desc.digest, layer.diffId);
  assert.deepEqual(sbom.packages.find((p) => p.name === 'bash')?.locations,
    [{ path: '/var/lib/dpkg/status', layer: 1, layerDigest: layer.desc.digest, layerDiffId: layer.diffId }]);

  const tar = join(dir, 'details.tar');
  await writeFile(tar, dockerArchiveBuffer(image, ['example.com/details:1']));
  const inspect = await lading(['image', 'inspect', `docker-archive:${tar}`], env);
  assert.match(inspect.stdout, /^Manifest digest: +\(none: legacy docker-archive\)$/m);
  const wide = { ...env, COLUMNS: '400' };
  const evaluated = await lading(['evaluate', `docker-archive:${tar}`], wide);
  assert.match(evaluated.stdout, /^Digest: +\(none: legacy docker-archive\)$/m);

  // an SBOM made elsewhere: no image, no distro
  const cdx = join(dir, 'my.cdx.json');
  await writeFile(cdx, JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', version: 1,
    components: [{ type: 'library', name: 'lodash', version: '4.17.20', purl: 'pkg:npm/lodash@4.17.20' }] }));
  const fromSbom = await lading(['evaluate', cdx], wide);
  assert.match(fromSbom.stdout, /^Image ID: +\(none: SBOM input\)$/m);
  assert.match(fromSbom.stdout, /^Digest: +\(none: SBOM input\)$/m);
  assert.match(fromSbom.stdout, /distro namespace: \(no distro in SBOM\)/);
  assert.doesNotMatch(fromSbom.stdout, /None/);
});
