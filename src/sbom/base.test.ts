/**
 * Base images over real analyses of fixture images (analyze/testing-bases.ts): the longest proper
 * prefix wins among several candidates, the annotations name a base when no layers match, and a
 * package is inherited only when the base has it at the same version and the image did not
 * re-install it in a later layer.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { analyzed, baseFixtures } from '../analyze/testing-bases.js';
import { BASE_DIGEST_ANNOTATION, BASE_NAME_ANNOTATION, candidateOf, chainIds, findBase, inheritedPackages, isProperPrefix } from './base.js';
import type { Sbom } from './model.js';

let os: Sbom, tools: Sbom, app: Sbom, other: Sbom;
const layers = (s: Sbom) => s.source.layers.map((l) => l.diffId);
const names = (s: Sbom, keys: Set<string>) =>
  s.packages.filter((p) => keys.has(JSON.stringify([p.type, p.name, p.version, p.purl, p.locations[0]?.path ?? ''])))
    .map((p) => `${p.name}@${p.version}${p.type === 'npm' ? ` ${p.locations[0]?.path}` : ''}`).sort();

before(async () => {
  const f = baseFixtures();
  [os, tools, app, other] = await Promise.all([analyzed(f.os, 'os'), analyzed(f.tools, 'tools'), analyzed(f.app, 'app'), analyzed(f.other, 'other')]);
});

test('the base is the candidate with the longest proper prefix of the layers, in any order', () => {
  const image = { digest: app.source.manifestDigest!, diffIds: layers(app) };
  for (const order of [[os, tools, other, app], [app, other, tools, os]]) {
    const base = findBase(image, order.map((s) => candidateOf(s)));
    assert.deepEqual(base, { digest: tools.source.manifestDigest, tag: 'reg.test/tools:1', sharedLayers: 2, source: 'layers' });
  }
  assert.deepEqual(findBase({ digest: tools.source.manifestDigest!, diffIds: layers(tools) }, [os, app].map((s) => candidateOf(s)))?.sharedLayers, 1,
    'an image built on the candidate (app) is no base of it');
  assert.equal(findBase({ digest: os.source.manifestDigest!, diffIds: layers(os) }, [os, tools, other].map((s) => candidateOf(s))), undefined,
    'the image itself and images with the same layers are not proper prefixes');
  assert.equal(isProperPrefix(layers(app), layers(app)), false);
});

test('chain ids are equal exactly up to the shared depth', () => {
  const [a, t] = [chainIds(layers(app)), chainIds(layers(tools))];
  assert.deepEqual(a.slice(0, 2), t);
  assert.notEqual(a[2], t[1]);
  assert.notEqual(chainIds(layers(other))[0], a[0]);
});

test('the OCI annotations name the base when no candidate is a layer prefix', async () => {
  const f = baseFixtures({ [BASE_NAME_ANNOTATION]: 'reg.test/other:1', [BASE_DIGEST_ANNOTATION]: other.source.manifestDigest! });
  const annotated = await analyzed(f.app, 'app');
  assert.deepEqual(annotated.source.annotations?.[BASE_NAME_ANNOTATION], 'reg.test/other:1', 'the manifest annotations are in the SBOM');
  const annotation = { name: 'reg.test/other:1', digest: other.source.manifestDigest! };
  const image = { digest: annotated.source.manifestDigest!, diffIds: layers(annotated), annotation };
  assert.deepEqual(findBase(image, [candidateOf(other)]), { digest: other.source.manifestDigest, tag: 'reg.test/other:1', sharedLayers: 0, source: 'annotation' });
  assert.deepEqual(findBase(image, []), { digest: other.source.manifestDigest, tag: 'reg.test/other:1', sharedLayers: 0, source: 'annotation' }, 'named but not analyzed');
  assert.equal(findBase(image, [candidateOf(tools)])?.source, 'layers', 'a layer prefix wins over the annotation');
});

test('inherited: same version in the base and installed within the shared layers; upgraded or re-installed later is the image\'s own', () => {
  assert.deepEqual(names(app, inheritedPackages(app, tools, 2)), ['bash@5.2.15-2', 'curl@7.88.1-10', 'libc6@2.36-9', 'lodash@4.17.20 /usr/lib/node_modules/lodash/package.json']);
  assert.deepEqual(names(app, inheritedPackages(app, os, 1)), ['bash@5.2.15-2', 'libc6@2.36-9', 'lodash@4.17.20 /usr/lib/node_modules/lodash/package.json'],
    'curl came with the tools layer, not the OS base');
  const own = app.packages.filter((p) => !inheritedPackages(app, tools, 2).has(JSON.stringify([p.type, p.name, p.version, p.purl, p.locations[0]?.path ?? ''])));
  assert.deepEqual(own.map((p) => `${p.name}@${p.version}`).sort(), ['lodash@4.17.20', 'zlib1g@1:1.2.13.dfsg-2'], 'the upgraded zlib1g and the app\'s own lodash copy');
  assert.equal(inheritedPackages(app, tools, 0).size, 0, 'no shared layer: nothing is inherited');
});
