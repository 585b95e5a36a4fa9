/**
 * Advice under Lading's default bundle (STOP on a High or Critical finding, STOP on port 22), with
 * the real matcher and dpkg comparator over real-format records: a fixable finding becomes an
 * upgrade that, applied, passes; an upgrade that brings another finding is raised past it; an
 * unfixable finding and a non-package trigger are reported as not removable, with what would
 * need to change.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLookup } from '../vulns/lookup.js';
import { scanSbom } from '../vulns/scan.js';
import { affected } from '../vulns/testing.js';
import type { Package, Sbom } from '../sbom/model.js';
import { adviseImage, upgradedSbom } from './advice.js';
import { loadBundle } from './bundle.js';
import { DEFAULT_BUNDLE } from './default-bundle.js';
import { evaluateBundle } from './evaluate.js';
import { NOW, makeSbom, pkg } from './testing.js';

const bundle = loadBundle(DEFAULT_BUNDLE);
const TAG = 'docker.io/team/app:1.0';

const lookup = new MemoryLookup().add({
  affected: [
    affected({ vulnId: 'CVE-2024-1001', name: 'openssl', fixedVersions: ['3.0.13-1~deb12u1'], ranges: [{ introduced: '0', fixed: '3.0.13-1~deb12u1' }], severity: 'High' }),
    affected({ vulnId: 'CVE-2024-1002', name: 'openssl', fixedVersions: ['3.0.15-1~deb12u1'], ranges: [{ introduced: '0', fixed: '3.0.15-1~deb12u1' }], severity: 'Critical' }),
    // Brought in by 3.0.14 and fixed in 3.0.16: the first upgrade (to 3.0.15) has it.
    affected({ vulnId: 'CVE-2024-1003', name: 'openssl', fixedVersions: ['3.0.16-1~deb12u1'], ranges: [{ introduced: '3.0.14-1~deb12u1', fixed: '3.0.16-1~deb12u1' }], severity: 'High' }),
    affected({ vulnId: 'CVE-2024-2001', name: 'zlib', state: 'not-fixed', severity: 'High' }),
  ],
});
const rescan = (sbom: Sbom) => scanSbom(sbom, lookup, { input: 'test', now: NOW });

const libssl3 = pkg('libssl3', '3.0.11-1~deb12u1', { sourceName: 'openssl', sourceVersion: '3.0.11-1~deb12u1', locations: [{ path: '/var/lib/dpkg/status', layer: 1 }] });
const zlib = pkg('zlib1g', '1:1.2.13.dfsg-1', { sourceName: 'zlib', sourceVersion: '1:1.2.13.dfsg-1', locations: [{ path: '/var/lib/dpkg/status', layer: 0 }] });

function image(packages: Package[], exposedPorts: string[] = []): Sbom {
  return makeSbom({
    packages,
    source: {
      config: { exposedPorts },
      layers: [
        { index: 0, digest: `sha256:${'1'.repeat(64)}`, diffId: `sha256:${'1'.repeat(64)}`, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 10 },
        { index: 1, digest: `sha256:${'2'.repeat(64)}`, diffId: `sha256:${'2'.repeat(64)}`, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 10 },
      ],
      history: [
        { createdBy: '/bin/sh -c #(nop) ADD file:debian12 in / ', emptyLayer: false },
        { createdBy: '/bin/sh -c apt-get update && apt-get install -y libssl3', emptyLayer: false },
      ],
    },
  });
}

async function advise(sbom: Sbom, withRescan = true) {
  return adviseImage(bundle, { sbom, scan: await rescan(sbom) }, { tag: TAG, now: NOW }, withRescan ? rescan : undefined);
}

describe('advice', () => {
  test('a fixable finding: upgrade to the fix, naming the instruction that installed the package; applied, the image passes', async () => {
    const sbom = image([libssl3]);
    const a = await advise(sbom);
    assert.equal(a.status, 'fail');
    assert.equal(a.status_after, 'pass');
    assert.equal(a.verified_by, 'rescan');
    assert.deepEqual(a.remaining, []);
    assert.equal(a.entries.length, 1);
    const e = a.entries[0]!;
    assert.equal(e.kind, 'upgrade');
    assert.deepEqual(e.package, { name: 'libssl3', type: 'deb', version: '3.0.11-1~deb12u1', path: '/var/lib/dpkg/status' });
    // 3.0.15 fixes both findings but has CVE-2024-1003 (3.0.14 up to 3.0.16): the re-match raises the advice to 3.0.16.
    assert.equal(e.to, '3.0.16-1~deb12u1');
    assert.deepEqual(e.vulnerabilities, ['CVE-2024-1001', 'CVE-2024-1002', 'CVE-2024-1003']);
    assert.equal(e.layer_index, 1);
    assert.equal(e.instruction, 'RUN apt-get update && apt-get install -y libssl3');
    assert.deepEqual(e.removes.map((r) => r.trigger_id).sort(), ['CVE-2024-1001+libssl3', 'CVE-2024-1002+libssl3']);

    // Applying the advice by hand: the image passes.
    const applied = upgradedSbom(sbom, new Map([[`deb\0libssl3\0/var/lib/dpkg/status`, { pkg: { ...e.package, layer: 1, inherited: false }, to: e.to, vulnerabilities: new Set(), triggerIds: new Set() }]]));
    assert.equal(applied.packages[0]!.version, '3.0.16-1~deb12u1');
    assert.equal(evaluateBundle(bundle, { sbom: applied, scan: await rescan(applied) }, { tag: TAG, now: NOW }).status, 'pass');
  });

  test('an unfixable finding and a non-package trigger are not removable: each says what would need to change', async () => {
    const a = await advise(image([libssl3, zlib], ['22/tcp']));
    assert.equal(a.status_after, 'fail');
    assert.deepEqual(a.entries.map((e) => [e.kind === 'upgrade' ? e.package.name : e.kind, e.to]), [['libssl3', '3.0.16-1~deb12u1']]);
    const rows = new Map(a.remaining.map((r) => [`${r.gate}/${r.trigger}`, r]));
    assert.deepEqual([...rows.keys()].sort(), ['dockerfile/exposed_ports', 'vulnerabilities/package']);
    const vuln = rows.get('vulnerabilities/package')!;
    assert.equal(vuln.trigger_id, 'CVE-2024-2001+zlib1g');
    assert.match(vuln.remedy, /zlib1g 1:1\.2\.13\.dfsg-1 has CVE-2024-2001 and no fixed version is known: remove or replace the package, or allowlist trigger id CVE-2024-2001\+zlib1g/);
    assert.match(rows.get('dockerfile/exposed_ports')!.remedy, /change the Dockerfile \(exposed_ports\)/);
  });

  test('without vulnerability data to re-match, the effect of the fix versions is estimated', async () => {
    const a = await advise(image([libssl3]), false);
    assert.equal(a.verified_by, 'estimate');
    assert.equal(a.status_after, 'pass');
    assert.equal(a.entries[0]!.to, '3.0.15-1~deb12u1');
  });

  test('a passing image needs no advice', async () => {
    const a = await advise(image([pkg('base-files', '12.4')]));
    assert.deepEqual(a, { status: 'pass', status_after: 'pass', entries: [], remaining: [], verified_by: 'none' });
  });
});
