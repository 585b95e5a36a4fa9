/**
 * SBOM imports: the store (operations, expiry, uploads checked by type, invalidation), the analysis
 * built from uploaded content (metadata from config and manifest, digest checks), and end to end on
 * both databases: a syft, a CycloneDX and an SPDX SBOM of a Debian image with a vulnerable package
 * become analyzed images whose vulnerabilities, content and policy check work as for a pulled one.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeImage } from '../analyze/analyze.js';
import { sha256Digest } from '../image/manifest.js';
import { writers } from '../sbom/formats/index.js';
import type { Sbom } from '../sbom/model.js';
import { openDatabase, type DatabaseHandle } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { buildImage, buildIndex, type BuiltImage } from '../testkit/images.js';
import { memoryImage } from '../testkit/memory-image.js';
import { ADMIN as admin, assertErrorBody, describeService, type ApiClient, seedOpensslAdvisory } from '../testkit/service.js';
import { CatalogStore } from '../store/catalog.js';
import { importImage, importedAnalysis, importTag } from './imports.js';
import { ImportStore } from '../store/imports.js';

/** A Debian 12 image with libssl3 (source openssl), vulnerable to the seeded CVE. */
function debianImage(marker: string): BuiltImage {
  return buildImage({
    layers: [
      { entries: [{ type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' }] },
      { entries: [
        { type: 'file', path: 'var/lib/dpkg/status', content: 'Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u1\nSource: openssl\n' },
        { type: 'file', path: 'etc/marker', content: marker },
      ], createdBy: '/bin/sh -c apt-get install -y libssl3' },
    ],
    config: { Labels: { marker } },
  });
}

/** What `syft -o json` writes for that image (schema 16, the parts Anchore's import reads). */
function syftDocument(image: BuiltImage): Record<string, unknown> {
  const diffIds = image.config.rootfs.diff_ids;
  return {
    artifacts: [{
      id: '2c3a6b8f1d0e4a57', name: 'libssl3', version: '3.0.11-1~deb12u1', type: 'deb', foundBy: 'dpkg-db-cataloger',
      locations: [{ path: '/var/lib/dpkg/status', layerID: diffIds[1], accessPath: '/var/lib/dpkg/status', annotations: { evidence: 'primary' } }],
      licenses: [], language: '',
      cpes: [{ cpe: 'cpe:2.3:a:libssl3:libssl3:3.0.11-1\\~deb12u1:*:*:*:*:*:*:*', source: 'syft-generated' }],
      purl: 'pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&upstream=openssl&distro=debian-12',
      metadataType: 'dpkg-db-entry',
      metadata: { package: 'libssl3', source: 'openssl', version: '3.0.11-1~deb12u1', sourceVersion: '', architecture: 'amd64', installedSize: 6000, files: [] },
    }],
    artifactRelationships: [],
    source: {
      id: image.manifestDigest, name: 'reg.example/team/syft', version: image.manifestDigest, type: 'image',
      metadata: {
        userInput: 'reg.example/team/syft:1', imageID: image.configDigest, manifestDigest: image.manifestDigest, mediaType: image.manifestMediaType,
        tags: ['reg.example/team/syft:1'], imageSize: 1234, architecture: 'amd64', os: 'linux',
        layers: image.manifest.layers.map((l, i) => ({ mediaType: l.mediaType, digest: diffIds[i], size: l.size })),
      },
    },
    distro: { prettyName: 'Debian GNU/Linux 12 (bookworm)', name: 'Debian GNU/Linux', id: 'debian', version: '12 (bookworm)', versionID: '12', versionCodename: 'bookworm' },
    descriptor: { name: 'syft', version: '1.4.1' },
    schema: { version: '16.0.10', url: 'https://raw.githubusercontent.com/anchore/syft/main/schema/json/schema-16.0.10.json' },
  };
}

async function lading(image: BuiltImage): Promise<Sbom> {
  return analyzeImage(memoryImage(image), {});
}

async function withDb(fn: (db: DatabaseHandle) => Promise<void>): Promise<void> {
  const db = await openDatabase(':memory:');
  try {
    await migrateToLatest(db.kysely);
    await fn(db);
  } finally {
    await db.close();
  }
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

test('import store: operations per account, expiry, uploads checked by type and deduplicated, invalidation', async () => {
  await withDb(async (db) => {
    let now = new Date('2025-03-01T10:00:00.000Z');
    const store = new ImportStore(db.kysely, { now: () => now, maxContentBytes: 1024 * 1024 });
    const op = await store.create('a');
    assert.equal(op.status, 'pending');
    assert.equal(op.expiresAt, '2025-03-02T10:00:00.000Z');
    assert.deepEqual((await store.list('a')).map((o) => o.uuid), [op.uuid]);
    assert.deepEqual(await store.list('b'), []);
    assert.equal(await store.get('b', op.uuid), undefined);
    await assert.rejects(store.addContent('b', op.uuid, 'dockerfile', Buffer.from('FROM x\n')), { code: 'NOT_FOUND' });

    const sbomBytes = Buffer.from(writers['cyclonedx-json'].write(await lading(debianImage('s'))));
    const first = await store.addContent('a', op.uuid, 'packages', sbomBytes);
    assert.equal(first.digest, sha256Digest(sbomBytes).slice(7));
    now = new Date('2025-03-01T11:00:00.000Z');
    const again = await store.addContent('a', op.uuid, 'packages', sbomBytes);
    assert.deepEqual(again, first, 'the same bytes keep their first record');
    assert.deepEqual((await store.listContent('a', op.uuid, 'packages')).map((c) => c.digest), [first.digest]);
    assert.deepEqual(await store.listContent('a', op.uuid, 'manifest'), []);
    assert.deepEqual(await store.content('a', op.uuid, 'packages', `sha256:${first.digest}`), sbomBytes);
    assert.equal(await store.content('a', op.uuid, 'manifest', first.digest), undefined, 'content is kept per type');

    const bad: [Parameters<ImportStore['addContent']>[2], Buffer, RegExp][] = [
      ['packages', json({ hello: 'world' }), /^packages: not a CycloneDX, SPDX or syft JSON document/],
      ['packages', Buffer.from('{"bomFormat": "CycloneDX",'), /^packages: .*not JSON/],
      ['packages', Buffer.alloc(0), /^packages: the upload is empty/],
      ['packages', Buffer.alloc(1024 * 1024 + 1, 0x20), /over the limit of 1048576/],
      ['dockerfile', Buffer.from(' \n'), /^dockerfile: the Dockerfile is blank/],
      ['dockerfile', Buffer.from([0xff, 0xfe, 0x00]), /not UTF-8 text/],
      ['manifest', buildIndex([debianImage('i')]).bytes, /^manifest: this is a manifest list or index; upload it as parent_manifest/],
      ['manifest', json({ schemaVersion: 1, name: 'x' }), /^manifest: .*schema 1/],
      ['parent_manifest', debianImage('p').manifestBytes, /^parent_manifest: this is an image manifest/],
      ['image_config', json({ architecture: 'amd64' }), /^image_config: .*rootfs\.diff_ids/],
    ];
    for (const [type, bytes, message] of bad) {
      await assert.rejects(store.addContent('a', op.uuid, type, bytes), (e: Error) => message.test(e.message), `${type}: ${message}`);
    }

    // A day after creation the operation has expired; it takes nothing more.
    now = new Date('2025-03-02T10:00:00.000Z');
    assert.equal((await store.get('a', op.uuid))!.status, 'expired');
    assert.equal(await store.complete('a', op.uuid), false);
    await assert.rejects(store.addContent('a', op.uuid, 'dockerfile', Buffer.from('FROM x\n')), /is expired: it accepts no more content/);

    // Invalidating drops the content; a complete operation stays complete.
    const inv = await store.invalidate('a', op.uuid);
    assert.equal(inv!.status, 'invalidated');
    assert.deepEqual(await store.listContent('a', op.uuid, 'packages'), []);
    assert.equal(await store.invalidate('a', 'no-such-op'), undefined);
    const done = await store.create('a');
    assert.equal(await store.complete('a', done.uuid), true);
    assert.equal(await store.complete('a', done.uuid), false, 'an operation completes once');
    assert.equal((await store.invalidate('a', done.uuid))!.status, 'complete');
  });
});

test('imported analysis: metadata from the config and manifest, identity from the request, digests checked', async () => {
  const image = debianImage('meta');
  const packages = Buffer.from(JSON.stringify(syftDocument(image)));
  const req = { digest: image.manifestDigest, tags: ['reg.example/team/app:v2', 'reg.example/team/app:latest'], operationUuid: 'op', contents: { packages: 'x' } };
  const tags = req.tags.map(importTag);

  const full = importedAnalysis(req, tags, { packages, manifest: image.manifestBytes, image_config: image.configBytes, dockerfile: Buffer.from('FROM debian:12\nRUN apt-get install -y libssl3\n') });
  assert.equal(full.source.imageId, image.configDigest);
  assert.equal(full.source.manifestDigest, image.manifestDigest);
  assert.deepEqual(full.source.tags, ['reg.example/team/app:v2', 'reg.example/team/app:latest']);
  assert.equal(full.source.repository, 'team/app');
  assert.deepEqual(full.source.layers.map((l) => [l.digest, l.diffId, l.size]), image.layers.map((l) => [l.desc.digest, l.diffId, l.desc.size]));
  assert.equal(full.source.layers[1]!.createdBy, 'RUN apt-get install -y libssl3');
  assert.deepEqual(full.source.config.labels, { marker: 'meta' });
  assert.deepEqual(full.source.dockerfile, { mode: 'actual', text: 'FROM debian:12\nRUN apt-get install -y libssl3\n' });
  assert.deepEqual(full.distro && [full.distro.id, full.distro.versionId], ['debian', '12']);
  assert.deepEqual(full.packages.map((p) => [p.name, p.sourceName, p.locations[0]?.layer]), [['libssl3', 'openssl', 1]]);
  assert.deepEqual(full.files, [], 'no layers were read: no file list');

  // Only the SBOM: syft's own image description, under the request's identity.
  const bare = importedAnalysis({ ...req, localImageId: 'f'.repeat(64) }, tags, { packages });
  assert.equal(bare.source.imageId, `sha256:${'f'.repeat(64)}`);
  assert.equal(bare.source.layers.length, 2);
  assert.equal(bare.source.dockerfile.mode, 'guessed');

  const other = debianImage('other');
  assert.throws(() => importedAnalysis(req, tags, { packages, manifest: image.manifestBytes, image_config: other.configBytes }),
    { code: 'DIGEST_MISMATCH', message: /the uploaded manifest names config sha256:.*but the uploaded image_config is/ });
  assert.throws(() => importedAnalysis({ ...req, manifestDigest: other.manifestDigest }, tags, { packages, manifest: image.manifestBytes }),
    { code: 'DIGEST_MISMATCH', message: /manifest_digest .* is not the digest of the uploaded manifest/ });
  const index = buildIndex([other]);
  assert.throws(() => importedAnalysis(req, tags, { packages, parent_manifest: index.bytes }), { code: 'DIGEST_MISMATCH', message: /does not list the image digest/ });
  const own = buildIndex([image]);
  assert.equal(importedAnalysis({ ...req, parentDigest: own.digest }, tags, { packages, parent_manifest: own.bytes }).source.indexDigest, own.digest);
  assert.throws(() => importTag('reg.example/team/app@' + image.manifestDigest), /names a digest/);
});

test('import: one transaction records the image analyzed and completes the operation; reuse is refused', async () => {
  await withDb(async (db) => {
    const image = debianImage('tx');
    const store = new ImportStore(db.kysely);
    const op = await store.create('a');
    const pkg = await store.addContent('a', op.uuid, 'packages', json(syftDocument(image)));
    const req = { digest: image.manifestDigest, tags: ['reg.example/team/app:v1'], operationUuid: op.uuid, contents: { packages: pkg.digest } };
    await assert.rejects(importImage({ imports: store, catalog: new CatalogStore(db.kysely) }, 'b', req), { code: 'NOT_FOUND' }, 'another account does not see the operation');
    const img = await importImage({ imports: store, catalog: new CatalogStore(db.kysely) }, 'a', req, { annotations: { team: 'x' } });
    assert.equal(img.analysisStatus, 'analyzed');
    assert.deepEqual(img.annotations, { team: 'x', 'anchore.system/import_operation_id': op.uuid });
    assert.equal(img.imageId, image.configDigest.slice(7), 'syft names the image id');
    assert.equal((await store.get('a', op.uuid))!.status, 'complete');
    assert.equal(await store.content('a', op.uuid, 'packages', req.contents.packages), undefined, 'the uploaded bytes are dropped once the import is complete');
    assert.equal((await store.listContent('a', op.uuid, 'packages')).length, 1, 'what was uploaded stays listed');
    const sbom = await new CatalogStore(db.kysely).getSbom('a', image.manifestDigest);
    assert.deepEqual(sbom!.packages.map((p) => p.name), ['libssl3']);
    await assert.rejects(importImage({ imports: store, catalog: new CatalogStore(db.kysely) }, 'a', req), /is complete: it accepts no more content or images/);
  });
});

test('import: the SBOM kept from its upload and the one read back by another process store the same analysis, once', async () => {
  await withDb(async (db) => {
    const image = debianImage('kept');
    const uploader = new ImportStore(db.kysely);
    const imported: Sbom[] = [];
    let before = '';
    for (const [i, importer] of [uploader, new ImportStore(db.kysely)].entries()) {
      const op = await uploader.create('a');
      const pkg = await uploader.addContent('a', op.uuid, 'packages', json(syftDocument(image)));
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (i === 0) before = new Date().toISOString();
      const digest = `sha256:${String(i).repeat(64)}`;
      const req = { digest, tags: ['reg.example/team/app:v1'], operationUuid: op.uuid, contents: { packages: `sha256:${pkg.digest}` } };
      await importImage({ imports: importer, catalog: new CatalogStore(db.kysely) }, 'a', req);
      imported.push((await new CatalogStore(db.kysely).getSbom('a', digest))!);
      const left = uploader.takeParsedSbom('a', op.uuid, pkg.digest);
      if (i === 0) assert.equal(left, undefined, 'the kept SBOM is taken by the image add');
      else assert.ok(left, 'an add served elsewhere read the stored bytes; this process keeps its copy until evicted');
    }
    // Equal but for the digest each was imported under and the time each was read (syft's document has none: it is when it was read).
    const [kept, read] = imported.map((s) => ({ ...s, createdAt: '', source: { ...s!.source, manifestDigest: '' } }));
    assert.deepEqual(kept, read);
    assert.ok(imported.every((s) => s.createdAt >= before), 'a kept SBOM without its own creation time is stamped when it is used, as one read then');
  });
});

async function upload(api: ApiClient, op: string, type: string, body: string | Buffer, contentType: string): Promise<string> {
  const r = await api('POST', `/v1/imports/images/${op}/${type}`, { ...admin, body, headers: { 'content-type': contentType } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.match(r.body.digest, /^[a-f0-9]{64}$/);
  assert.match(r.body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  return r.body.digest;
}

/** Vulnerabilities, content and the policy check of an imported image, as for a pulled one. */
async function assertLikePulled(api: ApiClient, digest: string, fulltag: string): Promise<void> {
  const vulns = await api('GET', `/v1/images/${digest}/vuln/all`, admin);
  assert.equal(vulns.status, 200, JSON.stringify(vulns.body));
  assert.deepEqual(vulns.body.vulnerabilities.map((v: any) => [v.vuln, v.package, v.severity, v.fix, v.feed_group, v.package_path]),
    [['CVE-2024-0001', 'libssl3-3.0.11-1~deb12u1', 'High', '3.0.15-1~deb12u1', 'debian:12', '/var/lib/dpkg/status']]);
  const os = await api('GET', `/v1/images/${digest}/content/os`, admin);
  assert.deepEqual(os.body.content.map((p: any) => [p.package, p.version, p.sourcepkg]), [['libssl3', '3.0.11-1~deb12u1', 'openssl']]);
  const files = await api('GET', `/v1/images/${digest}/content/files`, admin);
  assert.equal(files.status, 200, JSON.stringify(files.body));
  assert.deepEqual(files.body.content, [], 'no layers were read: the file list is empty, not an error');
  const check = await api('GET', `/v1/images/${digest}/check?tag=${encodeURIComponent(fulltag)}&detail=true`, admin);
  assert.equal(check.status, 200, JSON.stringify(check.body));
  const evaluation = check.body[0][digest][fulltag][0];
  assert.equal(evaluation.status, 'fail');
  assert.equal(evaluation.detail.result.final_action, 'stop');
  const table = (Object.values(evaluation.detail.result.result).find((x: any) => x && typeof x === 'object' && 'result' in x) as any).result;
  assert.ok(table.rows.some((row: unknown[]) => row[3] === 'vulnerabilities' && String(row[5]).includes('CVE-2024-0001')), JSON.stringify(table.rows));
}

describeService('SBOM import', { seed: seedOpensslAdvisory }, (h) => {
  const syftImage = debianImage('syft');
  const cdxImage = debianImage('cyclonedx');
  const spdxImage = debianImage('spdx');
  let cdx: string;
  let spdx: string;
  before(async () => {
    cdx = writers['cyclonedx-json'].write(await lading(cdxImage));
    spdx = writers['spdx-json'].write(await lading(spdxImage));
  });

  test('a syft SBOM with its manifest, config and Dockerfile becomes an analyzed image', async () => {
    const { api } = h();
    const op = (await api('POST', '/v1/imports/images', admin)).body.uuid;
    const packages = await upload(api, op, 'packages', JSON.stringify(syftDocument(syftImage)), 'application/json');
    const manifest = await upload(api, op, 'manifest', syftImage.manifestBytes, syftImage.manifestMediaType);
    const config = await upload(api, op, 'image_config', syftImage.configBytes, 'application/json');
    const dockerfile = await upload(api, op, 'dockerfile', 'FROM debian:12\nRUN apt-get install -y libssl3\n', 'text/plain');
    assert.equal(config, syftImage.configDigest.slice(7), 'a content digest is the sha256 of the bytes sent');
    const fulltag = 'reg.example/team/syft:1';
    const added = await api('POST', '/v1/images', { ...admin, body: { source: { import: {
      digest: syftImage.manifestDigest, tags: [fulltag], operation_uuid: op, manifest_digest: syftImage.manifestDigest,
      contents: { packages, manifest, image_config: config, dockerfile },
    } } } });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    const img = added.body[0];
    assert.equal(img.imageDigest, syftImage.manifestDigest);
    assert.equal(img.analysis_status, 'analyzed');
    assert.deepEqual(img.image_content.metadata, {
      arch: 'amd64', distro: 'debian', distro_version: '12', dockerfile_mode: 'Actual',
      image_size: String(syftImage.layers.reduce((n, l) => n + l.desc.size, 0)), layer_count: 2,
    });
    assert.equal(img.image_detail[0].fulltag, fulltag);
    assert.equal(img.image_detail[0].imageId, syftImage.configDigest.slice(7));
    assert.equal(Buffer.from(img.image_detail[0].dockerfile, 'base64').toString(), 'FROM debian:12\nRUN apt-get install -y libssl3\n');
    assert.equal(img.annotations['anchore.system/import_operation_id'], op);
    assert.equal((await api('GET', `/v1/imports/images/${op}`, admin)).body.status, 'complete');

    const listed = await api('GET', '/v1/images?analysis_status=analyzed', admin);
    assert.ok(listed.body.some((i: any) => i.imageDigest === syftImage.manifestDigest));
    await assertLikePulled(api, syftImage.manifestDigest, fulltag);
  });

  test('a CycloneDX SBOM alone (no manifest or config) becomes an analyzed image', async () => {
    const { api } = h();
    const op = (await api('POST', '/imports/images', admin)).body.uuid;
    const packages = await upload(api, op, 'packages', cdx, 'application/vnd.cyclonedx+json');
    const fulltag = 'reg.example/team/cdx:1';
    const added = await api('POST', '/images', { ...admin, body: { source: { import: {
      digest: cdxImage.manifestDigest, tags: [fulltag], operation_uuid: op, local_image_id: null, contents: { packages: `sha256:${packages}` },
    } } } });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.equal(added.body[0].analysis_status, 'analyzed');
    assert.equal(added.body[0].image_detail[0].imageId, cdxImage.configDigest.slice(7), 'Lading\'s CycloneDX names the image id');
    await assertLikePulled(api, cdxImage.manifestDigest, fulltag);
  });

  test('an SPDX SBOM with the image config becomes an analyzed image', async () => {
    const { api } = h();
    const op = (await api('POST', '/v1/imports/images', admin)).body.uuid;
    const packages = await upload(api, op, 'packages', spdx, 'application/spdx+json');
    const config = await upload(api, op, 'image_config', spdxImage.configBytes, 'application/vnd.oci.image.config.v1+json');
    const fulltag = 'reg.example/team/spdx:1';
    const added = await api('POST', '/v1/images', { ...admin, body: { source: { import: {
      digest: spdxImage.manifestDigest, tags: [fulltag, 'reg.example/team/spdx:stable'], operation_uuid: op, contents: { packages, image_config: config },
    } } } });
    assert.equal(added.status, 200, JSON.stringify(added.body));
    const img = added.body[0];
    assert.deepEqual(img.image_detail.map((d: any) => d.fulltag).sort(), [fulltag, 'reg.example/team/spdx:stable']);
    assert.equal(img.image_detail[0].imageId, spdxImage.configDigest.slice(7));
    assert.equal(img.image_content.metadata.dockerfile_mode, 'Guessed');
    await assertLikePulled(api, spdxImage.manifestDigest, fulltag);
  });

  test('an image add refuses unknown operations, missing or mismatched content, and a used operation', async () => {
    const { api } = h();
    const image = debianImage('errors');
    const op = (await api('POST', '/v1/imports/images', admin)).body.uuid;
    const packages = await upload(api, op, 'packages', cdx, 'application/json');
    const config = await upload(api, op, 'image_config', image.configBytes, 'application/json');
    const add = (imp: Record<string, unknown>) => api('POST', '/v1/images', { ...admin, body: { source: { import: {
      digest: image.manifestDigest, tags: ['reg.example/team/err:1'], operation_uuid: op, contents: { packages }, ...imp,
    } } } });
    assertErrorBody(await add({ operation_uuid: '00000000-0000-4000-8000-000000000000' }), 404, /no import operation/);
    assertErrorBody(await add({ contents: { packages: 'a'.repeat(64) } }), 400, /contents\.packages: nothing with digest a{64} was uploaded as packages/);
    assertErrorBody(await add({ contents: { packages: config } }), 400, /contents\.packages: nothing with digest/, );
    assertErrorBody(await add({ contents: { packages, manifest: 'b'.repeat(64) } }), 400, /contents\.manifest/);
    assertErrorBody(await add({ contents: { packages, image_config: config }, digest: 'sha256:1234' }), 400, /source\.import\.digest: expected sha256/);
    assertErrorBody(await add({ tags: [] }), 400, /at least one tag is required/);
    assertErrorBody(await add({ tags: [`reg.example/team/err@${image.manifestDigest}`] }), 400, /names a digest/);
    assertErrorBody(await api('POST', '/v1/images', { ...admin, body: { tag: 'reg.example/x:1', source: { import: {} } } }), 400);
    assert.equal((await api('GET', `/v1/imports/images/${op}`, admin)).body.status, 'pending', 'refused adds leave the operation usable');
    assertErrorBody(await api('GET', `/v1/images/${image.manifestDigest}`, admin), 404);

    assert.equal((await add({})).status, 200);
    assertErrorBody(await add({}), 400, /is complete/);
    assertErrorBody(await api('POST', `/v1/imports/images/${op}/dockerfile`, { ...admin, body: 'FROM x\n', headers: { 'content-type': 'text/plain' } }), 400, /is complete/);
  });
});
