import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readSyft } from './read-syft.js';
import { writeSyftJson } from './syft-json.js';
import { exampleSbom } from './testing.js';
import { sortPackages } from './common.js';
import type { Package } from '../model.js';

/**
 * What syft JSON carries of a package (metadata other than the OS details is syft's, not read back);
 * a location's layer is syft's layerID, the diff_id: the compressed digest is not carried.
 */
const carried = (p: Package) => ({
  name: p.name, version: p.version, type: p.type, purl: p.purl, cpes: p.cpes, licenses: p.licenses,
  locations: p.locations.map(({ layerDigest: _compressed, ...l }) => l),
  sourceName: p.sourceName, sourceVersion: p.sourceVersion, arch: p.arch, epoch: p.epoch, foundBy: p.foundBy,
});

test('syft-json: read-syft reads back every package, the distro and the image as written', () => {
  const sbom = exampleSbom();
  const doc = JSON.parse(writeSyftJson(sbom));
  assert.equal(doc.schema.url.includes('anchore/syft'), true);
  assert.ok(doc.artifacts.every((a: { id: string; locations: { layerID?: string }[] }) => /^[a-f0-9]{16}$/.test(a.id)));
  const back = readSyft(doc);
  assert.deepEqual(back.warnings, []);
  assert.deepEqual(sortPackages(back.packages).map(carried), sortPackages(sbom.packages).map(carried));
  assert.deepEqual({ ...back.distro, source: '' }, { ...sbom.distro, source: '' });
  assert.equal(back.source.imageId, sbom.source.imageId);
  assert.equal(back.source.manifestDigest, sbom.source.manifestDigest);
  assert.deepEqual(back.source.layers.map((l) => l.diffId), sbom.source.layers.map((l) => l.diffId));
  assert.deepEqual(back.source.platform, sbom.source.platform);
});

test('syft-json: a location with a layer index but no digest gets the layer\'s diff_id', () => {
  const sbom = exampleSbom();
  const p = { ...sbom.packages[0]!, locations: [{ path: '/var/lib/dpkg/status', layer: 2 }] };
  const doc = JSON.parse(writeSyftJson({ ...sbom, packages: [p] }));
  assert.equal(doc.artifacts[0].locations[0].layerID, sbom.source.layers[2]!.diffId);
  assert.deepEqual(readSyft(doc).packages[0]!.locations, [{ path: '/var/lib/dpkg/status', layer: 2, layerDiffId: sbom.source.layers[2]!.diffId }]);
});
