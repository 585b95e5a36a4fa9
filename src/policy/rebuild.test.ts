/**
 * The "rebuild on a newer base digest" advice (rebuild.ts through advice.ts) under Lading's default
 * bundle, with the real matcher and dpkg comparator: an inherited finding the newer base fixes is
 * removed by the rebuild (listed with the newer version), the image's own finding still gets its
 * upgrade, a newer base that fixes nothing or is the current one gives no rebuild, a package the
 * newer base dropped goes with its findings, and without vulnerability data the effect is estimated.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { packageKey } from '../sbom/base.js';
import type { Package, Sbom } from '../sbom/model.js';
import { markInherited } from '../vulns/inherited.js';
import { MemoryLookup } from '../vulns/lookup.js';
import { scanSbom } from '../vulns/scan.js';
import { affected } from '../vulns/testing.js';
import { adviseImage, type NewerBase, type RebuildAdvice } from './advice.js';
import { loadBundle } from './bundle.js';
import { DEFAULT_BUNDLE } from './default-bundle.js';
import { rebuiltSbom } from './rebuild.js';
import { NOW, makeSbom, pkg } from './testing.js';

const bundle = loadBundle(DEFAULT_BUNDLE);
const TAG = 'docker.io/team/app:1.0';
const BASE = { digest: `sha256:${'b'.repeat(64)}`, tag: 'docker.io/library/debian:12' };
const NEWER = `sha256:${'c'.repeat(64)}`;

const lookup = new MemoryLookup().add({
  affected: [
    affected({ vulnId: 'CVE-2024-1001', name: 'openssl', fixedVersions: ['3.0.13-1~deb12u1'], ranges: [{ introduced: '0', fixed: '3.0.13-1~deb12u1' }], severity: 'High' }),
    affected({ vulnId: 'CVE-2024-3001', name: 'zlib', fixedVersions: ['1:1.2.13.dfsg-2'], ranges: [{ introduced: '0', fixed: '1:1.2.13.dfsg-2' }], severity: 'High' }),
    affected({ vulnId: 'CVE-2024-3002', name: 'tar', fixedVersions: ['1.35+dfsg-1'], ranges: [{ introduced: '0', fixed: '1.35+dfsg-1' }], severity: 'Critical' }),
  ],
});
const rescan = (sbom: Sbom) => scanSbom(sbom, lookup, { input: 'test', now: NOW });

const deb = (name: string, version: string, source: string, layer: number): Package =>
  pkg(name, version, { sourceName: source, sourceVersion: version, purl: `pkg:deb/debian/${name}@${version}?distro=debian-12`, locations: [{ path: '/var/lib/dpkg/status', layer }] });
const zlib = deb('zlib1g', '1:1.2.13.dfsg-1', 'zlib', 0);
const tar = deb('tar', '1.34+dfsg-1.2', 'tar', 0);
const libssl3 = deb('libssl3', '3.0.11-1~deb12u1', 'openssl', 1);
const inherited = new Set([packageKey(zlib), packageKey(tar)]);

const image = (packages: Package[]) => makeSbom({ packages });
const newer = (packages: Package[], digest = NEWER): NewerBase => ({ tag: BASE.tag, digest, sbom: { packages } });

async function advise(sbom: Sbom, candidates: NewerBase[], withRescan = true) {
  const scan = markInherited((await rescan(sbom))!, inherited);
  return adviseImage(bundle, { sbom, scan }, { tag: TAG, now: NOW }, withRescan ? rescan : undefined, { base: BASE, inherited, newer: candidates });
}

describe('rebuild on a newer base digest', () => {
  test('the newer base fixes the inherited findings: the rebuild comes first, the own finding still gets its upgrade, and the image passes', async () => {
    const a = await advise(image([zlib, tar, libssl3]), [newer([deb('zlib1g', '1:1.2.13.dfsg-2', 'zlib', 0), deb('tar', '1.35+dfsg-1', 'tar', 0), deb('tzdata', '2024a-0+deb12u1', 'tzdata', 0)])]);
    assert.equal(a.status_after, 'pass');
    assert.equal(a.verified_by, 'rescan');
    assert.deepEqual(a.entries.map((e) => e.kind), ['rebuild-base', 'upgrade']);
    const r = a.entries[0] as RebuildAdvice;
    assert.deepEqual(r.base, { tag: BASE.tag, digest: BASE.digest });
    assert.deepEqual(r.to, { tag: BASE.tag, digest: NEWER });
    assert.equal(r.inherited_findings, 2);
    assert.deepEqual([...r.fixed].sort((x, y) => x.vulnerability.localeCompare(y.vulnerability)), [
      { vulnerability: 'CVE-2024-3001', package: 'zlib1g', version: '1:1.2.13.dfsg-1', to: '1:1.2.13.dfsg-2' },
      { vulnerability: 'CVE-2024-3002', package: 'tar', version: '1.34+dfsg-1.2', to: '1.35+dfsg-1' },
    ]);
    assert.equal(r.removes.length, 2);
    assert.ok(r.removes.every((f) => f.gate === 'vulnerabilities' && /CVE-2024-300[12]/.test(f.trigger_id)), JSON.stringify(r.removes));
    const u = a.entries[1]!;
    assert.equal(u.kind, 'upgrade');
    assert.equal(u.kind === 'upgrade' && u.package.name, 'libssl3');
  });

  test('of several newer digests, the one removing the most STOP rows; one that fixes nothing or is the current base gives no rebuild', async () => {
    const partial = newer([deb('zlib1g', '1:1.2.13.dfsg-2', 'zlib', 0), tar], `sha256:${'d'.repeat(64)}`);
    const full = newer([deb('zlib1g', '1:1.2.13.dfsg-2', 'zlib', 0), deb('tar', '1.35+dfsg-1', 'tar', 0)]);
    const a = await advise(image([zlib, tar, libssl3]), [partial, full]);
    assert.equal((a.entries[0] as RebuildAdvice).to.digest, NEWER);
    const none = await advise(image([zlib, tar, libssl3]), [newer([zlib, tar]), newer([deb('zlib1g', '1:1.2.13.dfsg-2', 'zlib', 0)], BASE.digest)]);
    assert.deepEqual(none.entries.map((e) => e.kind), ['upgrade', 'upgrade', 'upgrade'], 'no rebuild: only upgrades');
  });

  test('a package the newer base no longer has goes with its findings; the image\'s own packages stay', () => {
    const r = rebuiltSbom(image([zlib, tar, libssl3]), inherited, { packages: [deb('zlib1g', '1:1.2.13.dfsg-2', 'zlib', 0)] });
    assert.deepEqual(r.sbom.packages.map((p) => `${p.name} ${p.version}`), ['zlib1g 1:1.2.13.dfsg-2', 'libssl3 3.0.11-1~deb12u1']);
    assert.deepEqual([...r.changed.values()], ['1:1.2.13.dfsg-2', null]);
    assert.equal(r.inherited.size, 1);
  });

  test('without vulnerability data to re-match, the rebuild is estimated from the fix versions', async () => {
    const a = await advise(image([zlib, tar]), [newer([deb('zlib1g', '1:1.2.13.dfsg-2', 'zlib', 0)])], false);
    assert.equal(a.verified_by, 'estimate');
    const r = a.entries[0] as RebuildAdvice;
    assert.deepEqual(r.fixed.map((f) => [f.vulnerability, f.to]).sort(), [['CVE-2024-3001', '1:1.2.13.dfsg-2'], ['CVE-2024-3002', null]]);
    assert.equal(a.status_after, 'pass');
  });
});
