import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { ImportContext } from '../driver.js';
import { collect, fakeSyncContext, startFeedServer, type FeedServer } from '../../testkit/feed-server.js';
import { zstdCompress } from '../../testkit/images.js';
import { tarBuffer } from '../../testkit/tar.js';
import type { Affected, FeedBatch } from '../model.js';
import { redhatDriver } from './redhat.js';
import { csafComponent, parseNevra, rhelPlatform } from './redhat/products.js';
import { idFromPath, parseChanges } from './redhat/documents.js';

const DATA = resolve(process.cwd(), '../shared/vulndata/redhat');
const skip = existsSync(DATA) ? false : `Red Hat samples not found at ${DATA} (../shared/vulndata relative to the repo root)`;
const noWarn: ImportContext = { warn: (m: string) => assert.fail(`unexpected warning: ${m}`) };
const VEX_38545 = join(DATA, 'claircore-vex/cve-2023-38545.json');

function zstdOrSkip(): string | false {
  try {
    zstdCompress(Buffer.from('x'));
    return false;
  } catch {
    return 'zstd-napi (optional dependency) is not installed; cannot build a .tar.zst fixture';
  }
}

async function importFile(path: string, ctx = noWarn): Promise<Required<FeedBatch>> {
  const { batches } = await redhatDriver.importPath(path, ctx);
  return collect(batches);
}

function find(list: Affected[], namespace: string, name: string, stream?: string): Affected | undefined {
  return list.find((a) => a.namespace === namespace && a.name === name && a.moduleStream === stream);
}

async function withTmp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'lading-redhat-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('redhat driver', { skip }, () => {
  describe('parsing pieces', () => {
    test('NEVRA names, including epochs, arches and dashes in names', () => {
      assert.deepEqual(parseNevra('curl-0:7.76.1-26.el9_3.2.src'), { name: 'curl', epoch: '0', version: '7.76.1', release: '26.el9_3.2', arch: 'src' });
      assert.deepEqual(parseNevra('bind-32:9.11.36-5.el8'), { name: 'bind', epoch: '32', version: '9.11.36', release: '5.el8' });
      assert.deepEqual(parseNevra('java-1.8.0-openjdk-1:1.8.0.412.b08-2.el9.x86_64'), { name: 'java-1.8.0-openjdk', epoch: '1', version: '1.8.0.412.b08', release: '2.el9', arch: 'x86_64' });
      assert.equal(parseNevra('gstreamer-plugins-good'), undefined);
      assert.equal(parseNevra('nodejs:18-8090020231019152822.a75119d5'), undefined);
    });

    test('RHEL platforms from CPEs: mainline, extended support, and not RHEL', () => {
      assert.deepEqual(rhelPlatform('cpe:/o:redhat:enterprise_linux:9::baseos'), { namespace: 'rhel:9', main: true });
      assert.deepEqual(rhelPlatform('cpe:/a:redhat:enterprise_linux:8::appstream'), { namespace: 'rhel:8', main: true });
      assert.deepEqual(rhelPlatform('cpe:/a:redhat:rhel_eus:9.0::appstream'), { namespace: 'rhel:9', main: false });
      assert.deepEqual(rhelPlatform('cpe:/o:redhat:rhel_els:6'), { namespace: 'rhel:6', main: false });
      assert.equal(rhelPlatform('cpe:/a:redhat:rhel_satellite_client:6::el7'), undefined);
      assert.equal(rhelPlatform('cpe:/a:redhat:openshift:4.16::el9'), undefined);
      assert.equal(rhelPlatform('cpe:/a:redhat:jboss_core_services:1::el8'), undefined);
    });

    test('components from purls: source vs binary, epoch, module stream; non-rpm ignored', () => {
      assert.deepEqual(csafComponent('x', 'pkg:rpm/redhat/curl@7.76.1-26.el9_3.2?arch=src'), { name: 'curl', nameKind: 'source', arch: 'src', version: '7.76.1-26.el9_3.2' });
      assert.deepEqual(csafComponent('x', 'pkg:rpm/redhat/foreman-installer@3.7.0.7-1.el8sat?arch=noarch&epoch=1'), { name: 'foreman-installer', nameKind: 'binary', arch: 'noarch', version: '1:3.7.0.7-1.el8sat' });
      assert.deepEqual(csafComponent('x', 'pkg:rpm/redhat/ruby@2.7.8-139.module%2Bel8.8.0%2B18745%2Bf1bef313?arch=src&rpmmod=ruby:2.7:8080020230427102918:63b34585'), {
        name: 'ruby', nameKind: 'source', arch: 'src', version: '2.7.8-139.module+el8.8.0+18745+f1bef313', stream: 'ruby:2.7',
      });
      assert.deepEqual(csafComponent('libcurl', 'pkg:rpm/redhat/libcurl'), { name: 'libcurl', nameKind: 'source' });
      assert.deepEqual(csafComponent('kernel', undefined), { name: 'kernel', nameKind: 'source' });
      assert.equal(csafComponent('x', 'pkg:oci/ubi9@sha256%3Aabc'), undefined);
      assert.match(String(csafComponent('x', 'pkg:rpm/redhat/firefox-flatpak@128.0-1.el10?arch=src&rpmmod=rhel10')), /rpmmod "rhel10" is not module:stream/);
    });

    test('changes.csv and deletions.csv as the feed serves them', async () => {
      const warnings: string[] = [];
      const changes = parseChanges(await readFile(join(DATA, 'vunnel-fixture/csaf/server/changes.csv'), 'utf8'), (m) => warnings.push(m), 'changes.csv');
      assert.equal(changes.length, 5);
      assert.deepEqual(changes[0], { path: '2024/rhsa-2024_0010.json', time: '2025-02-18T14:28:08+00:00', ms: Date.parse('2025-02-18T14:28:08Z') });
      const deletions = parseChanges(await readFile(join(DATA, 'vunnel-fixture/csaf/server/deletions.csv'), 'utf8'), (m) => warnings.push(m), 'deletions.csv');
      assert.deepEqual(deletions.map((d) => idFromPath(d.path)), ['RHEA-2024:5245', 'RHSA-2024:2106']);
      assert.equal(warnings.length, 0, warnings.join('\n'));
      assert.equal(idFromPath('2023/cve-2023-38545.json'), 'CVE-2023-38545');
      const bad = parseChanges('"../../etc/passwd.json","2025-01-01T00:00:00+00:00"\n"https://evil/x.json","2025-01-01T00:00:00+00:00"\nnonsense\n', (m) => warnings.push(m), 'c');
      assert.deepEqual(bad, []);
      assert.equal(warnings.length, 3);
    });
  });

  describe('CSAF VEX', () => {
    test('CVE-2023-38545: the vulnerability record', async () => {
      const src = JSON.parse(await readFile(VEX_38545, 'utf8')) as { vulnerabilities: { notes: { category: string; text: string }[]; references: { url: string }[] }[] };
      const out = await importFile(VEX_38545);
      assert.equal(out.vulnerabilities.length, 1);
      const v = out.vulnerabilities[0]!;
      assert.equal(v.id, 'CVE-2023-38545');
      assert.equal(v.source, 'redhat');
      assert.equal(v.summary, 'curl: heap based buffer overflow in the SOCKS5 proxy handshake');
      assert.equal(v.description, src.vulnerabilities[0]!.notes.find((n) => n.category === 'description')!.text);
      assert.equal(v.severity, 'High', 'Important → High');
      assert.equal(v.published, '2023-10-11T00:00:00+00:00');
      assert.equal(v.modified, '2025-11-21T14:31:32+00:00');
      assert.deepEqual(v.cvss, [{ source: 'redhat', version: '3.1', vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H', baseScore: 8.1 }]);
      assert.deepEqual(v.references, src.vulnerabilities[0]!.references.map((r) => r.url));
    });

    test('CVE-2023-38545: affected packages per RHEL release', async () => {
      const { affected } = await importFile(VEX_38545);
      const curl9 = find(affected, 'rhel:9', 'curl');
      // mainline 9.2 and 9.3 streams; the 9.0 EUS build (7.76.1-14.el9_0.9) is not mainline and is left out
      assert.deepEqual(curl9, {
        vulnId: 'CVE-2023-38545', source: 'redhat', namespace: 'rhel:9', name: 'curl', nameKind: 'source', scheme: 'rpm',
        ranges: [{ introduced: '0', fixed: '7.76.1-23.el9_2.4' }, { introduced: '0', fixed: '7.76.1-26.el9_3.2' }],
        versions: [], state: 'fixed', fixedVersions: ['7.76.1-23.el9_2.4', '7.76.1-26.el9_3.2'], severity: 'High',
      });
      // binary builds (libcurl, curl-minimal...) are covered by their source package curl
      assert.equal(affected.filter((a) => a.namespace === 'rhel:9').length, 1);
      for (const ns of ['rhel:6', 'rhel:7', 'rhel:8']) assert.equal(find(affected, ns, 'curl')?.state, 'not-affected', ns);
      assert.equal(find(affected, 'rhel:8', 'libcurl-minimal')?.state, 'not-affected');
      // layered products (Satellite, JBoss Core Services) are not RHEL namespaces
      assert.ok(affected.every((a) => /^rhel:\d+$/.test(a.namespace) && a.scheme === 'rpm' && a.source === 'redhat'));
      assert.ok(!affected.some((a) => /puppet|jbcs|foreman|katello|pulp/.test(a.name)), affected.map((a) => a.name).join(' '));
    });

    test('known_affected with remediations, and under_investigation', async () => {
      // CVE-2023-38545 as Red Hat might have published it before the fix: RHEL 8 affected, RHEL 7 being looked at
      const doc = JSON.parse(await readFile(VEX_38545, 'utf8')) as {
        vulnerabilities: { product_status: Record<string, string[]>; remediations: { category: string; details: string; product_ids: string[] }[] }[];
      };
      const v = doc.vulnerabilities[0]!;
      const notAffected = v.product_status.known_not_affected!;
      const rhel8 = notAffected.filter((id) => id.startsWith('red_hat_enterprise_linux_8:'));
      const rhel7 = notAffected.filter((id) => id.startsWith('red_hat_enterprise_linux_7:'));
      v.product_status.known_not_affected = notAffected.filter((id) => !rhel8.includes(id) && !rhel7.includes(id));
      v.product_status.known_affected = rhel8;
      v.product_status.under_investigation = rhel7;
      v.remediations.push(
        { category: 'no_fix_planned', details: 'Will not fix', product_ids: rhel8.filter((id) => !id.endsWith(':libcurl-minimal')) },
        { category: 'none_available', details: 'Affected', product_ids: ['red_hat_enterprise_linux_8:libcurl-minimal'] },
      );
      await withTmp(async (dir) => {
        const file = join(dir, 'cve-2023-38545.json');
        await writeFile(file, JSON.stringify(doc));
        const { affected } = await importFile(file);
        assert.equal(find(affected, 'rhel:8', 'curl')?.state, 'wont-fix');
        assert.equal(find(affected, 'rhel:8', 'libcurl-minimal')?.state, 'not-fixed');
        assert.deepEqual(find(affected, 'rhel:8', 'curl')?.ranges, []);
        assert.equal(find(affected, 'rhel:7', 'curl')?.state, 'unknown');
        assert.equal(find(affected, 'rhel:6', 'curl')?.state, 'not-affected');
        assert.equal(find(affected, 'rhel:9', 'curl')?.state, 'fixed');
      });
    });

    test('a deleted document withdraws its CVE', async () => {
      const out = await importFile(join(DATA, 'claircore-csaf/cve-1999-0001-deleted.json'));
      assert.equal(out.vulnerabilities.length, 1);
      assert.equal(out.vulnerabilities[0]!.id, 'CVE-2023-0118');
      assert.ok(out.vulnerabilities[0]!.withdrawn);
      assert.equal(out.affected.length, 0);
    });

    test('old-style products without purls (kernel) and layered products only', async () => {
      const kernel = await importFile(join(DATA, 'claircore-csaf/cve-2021-0084.json'));
      assert.deepEqual(kernel.affected.map((a) => `${a.namespace} ${a.name} ${a.state}`).sort(), [
        'rhel:5 kernel not-affected', 'rhel:6 kernel not-affected', 'rhel:7 kernel not-affected', 'rhel:7 kernel-alt not-affected',
        'rhel:7 kernel-rt not-affected', 'rhel:8 kernel not-affected', 'rhel:8 kernel-rt not-affected', 'rhel:9 kernel not-affected',
      ]);
      // Satellite and OpenShift only: a vulnerability record, no RHEL packages
      for (const f of ['claircore-csaf/cve-2024-22047.json', 'claircore-vex/cve-2024-24786-simple.json']) {
        const out = await importFile(join(DATA, f));
        assert.equal(out.vulnerabilities.length, 1, f);
        assert.equal(out.affected.length, 0, f);
      }
    });

    test('a bad component is warned about, naming the product, and skipped; the rest is kept', async () => {
      const doc = JSON.parse(await readFile(join(DATA, 'claircore-vex/cve-2024-24786-simple.json'), 'utf8')) as {
        product_tree: { branches: Record<string, unknown>[]; relationships: Record<string, unknown>[] };
        vulnerabilities: { product_status: Record<string, string[]> }[];
      };
      // the same document, with RHEL 9 AppStream as the platform and a second component with a malformed module
      doc.product_tree.branches.push(
        { category: 'product_name', name: 'Red Hat Enterprise Linux AppStream (v. 9)', product: { name: 'Red Hat Enterprise Linux AppStream (v. 9)', product_id: 'AppStream-9.4.0.Z.MAIN', product_identification_helper: { cpe: 'cpe:/a:redhat:enterprise_linux:9::appstream' } } },
        { category: 'product_version', name: 'cri-tools-0:1.29.0-3.1.el9.src', product: { name: 'cri-tools-0:1.29.0-3.1.el9.src', product_id: 'cri-tools-0:1.29.0-3.1.el9.src', product_identification_helper: { purl: 'pkg:rpm/redhat/cri-tools@1.29.0-3.1.el9?arch=src' } } },
        { category: 'product_version', name: 'firefox-flatpak-0:128.0-1.el9.src', product: { name: 'firefox-flatpak-0:128.0-1.el9.src', product_id: 'firefox-flatpak-0:128.0-1.el9.src', product_identification_helper: { purl: 'pkg:rpm/redhat/firefox-flatpak@128.0-1.el9?arch=src&rpmmod=rhel9' } } },
      );
      for (const c of ['cri-tools-0:1.29.0-3.1.el9.src', 'firefox-flatpak-0:128.0-1.el9.src']) {
        doc.product_tree.relationships.push({ category: 'default_component_of', full_product_name: { name: c, product_id: `AppStream-9.4.0.Z.MAIN:${c}` }, product_reference: c, relates_to_product_reference: 'AppStream-9.4.0.Z.MAIN' });
        doc.vulnerabilities[0]!.product_status.fixed!.push(`AppStream-9.4.0.Z.MAIN:${c}`);
      }
      await withTmp(async (dir) => {
        const file = join(dir, 'doc.json');
        await writeFile(file, JSON.stringify(doc));
        const warnings: string[] = [];
        const out = await importFile(file, { warn: (m) => warnings.push(m) });
        assert.deepEqual(out.affected.map((a) => [a.namespace, a.name, a.state, a.fixedVersions.join()]), [['rhel:9', 'cri-tools', 'fixed', '1.29.0-3.1.el9']]);
        assert.equal(warnings.length, 1);
        assert.match(warnings[0]!, /product AppStream-9\.4\.0\.Z\.MAIN:firefox-flatpak-0:128\.0-1\.el9\.src skipped: .*rpmmod "rhel9"/);
      });
    });
  });

  describe('CSAF advisories', () => {
    test('an RHSA becomes one record with its CVEs as aliases; modular packages carry their stream', async () => {
      const out = await importFile(join(DATA, 'vunnel-fixture/csaf/advisories/rhsa-2023_3821.json'));
      assert.equal(out.vulnerabilities.length, 1);
      const v = out.vulnerabilities[0]!;
      assert.equal(v.id, 'RHSA-2023:3821');
      assert.deepEqual(v.aliases, ['CVE-2021-33621', 'CVE-2023-28755', 'CVE-2023-28756']);
      assert.equal(v.severity, 'Medium');
      const ruby = find(out.affected, 'rhel:8', 'ruby', 'ruby:2.7');
      assert.ok(ruby, out.affected.map((a) => `${a.namespace} ${a.name} ${a.moduleStream}`).join(', '));
      assert.deepEqual(ruby.fixedVersions, ['2.7.8-139.module+el8.8.0+18745+f1bef313']);
      assert.equal(ruby.state, 'fixed');
      assert.equal(ruby.nameKind, 'source');
      assert.ok(out.affected.every((a) => a.moduleStream === 'ruby:2.7' && a.vulnId === 'RHSA-2023:3821'));
    });

    test('an advisory whose source package is not listed as fixed keeps its binary packages', async () => {
      const out = await importFile(join(DATA, 'vunnel-fixture/csaf/advisories/2025/rhsa-2025_23414.json'));
      assert.deepEqual(out.affected.map((a) => `${a.namespace} ${a.name} ${a.nameKind} ${a.fixedVersions.join()}`), [
        'rhel:6 bind binary 32:9.8.2-0.68.rc1.el6_10.17',
        'rhel:6 bind-libs binary 32:9.8.2-0.68.rc1.el6_10.17',
        'rhel:6 bind-sdb binary 32:9.8.2-0.68.rc1.el6_10.17',
        'rhel:6 bind-utils binary 32:9.8.2-0.68.rc1.el6_10.17',
      ]);
    });
  });

  describe('Security Data API CVE JSON', () => {
    test('CVE-2021-25220: fixes per release with epochs; extended-support fixes only where mainline has none', async () => {
      const out = await importFile(join(DATA, 'vunnel-fixture/csaf/hydra/cve-2021-25220.json'));
      const v = out.vulnerabilities[0]!;
      assert.equal(v.id, 'CVE-2021-25220');
      assert.equal(v.severity, 'Medium');
      assert.equal(v.summary, 'bind: DNS forwarders - cache poisoning vulnerability');
      assert.deepEqual(v.cvss, [{ source: 'redhat', version: '3.1', vector: 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:N/I:H/A:N', baseScore: 6.8 }]);
      assert.deepEqual(v.references, ['https://www.cve.org/CVERecord?id=CVE-2021-25220', 'https://nvd.nist.gov/vuln/detail/CVE-2021-25220', 'https://kb.isc.org/docs/CVE-2021-25220', 'https://bugzilla.redhat.com/show_bug.cgi?id=2064512']);
      const by = Object.fromEntries(out.affected.map((a) => [`${a.namespace} ${a.name}`, a.fixedVersions.join(' ')]));
      assert.deepEqual(by, {
        'rhel:6 bind': '32:9.8.2-0.68.rc1.el6_10.17', // ELS only
        'rhel:7 bind': '32:9.11.4-26.P2.el7_9.13',
        'rhel:8 bind': '32:9.11.36-5.el8', // not the 8.2/8.4/8.6 AUS/EUS builds
        'rhel:8 bind9.16': '32:9.16.23-0.9.el8.1',
        'rhel:8 dhcp': '12:4.3.6-47.el8_6.2', // only an 8.6 EUS fix exists
        'rhel:9 bind': '32:9.16.23-5.el9_1', // not the 9.0 E4S build
        'rhel:9 dhcp': '12:4.4.2-17.b1.el9',
      });
      assert.ok(out.affected.every((a) => a.state === 'fixed' && a.nameKind === 'source' && a.severity === 'Medium'));
    });

    test('package_state: will not fix, out of support scope, not affected, module streams; flatpaks skipped', async () => {
      const full = join(DATA, 'vunnel-fixture/oval/input/cve/full');
      const gst = await importFile(join(full, 'CVE-2022-1921'));
      assert.deepEqual(gst.affected.map((a) => `${a.namespace} ${a.name} ${a.state} ${a.fixedVersions.join()}`), [
        'rhel:6 gstreamer-plugins-good wont-fix ',
        'rhel:7 gstreamer-plugins-good wont-fix ',
        'rhel:7 gstreamer1-plugins-good wont-fix ',
        'rhel:8 gstreamer1-plugins-good wont-fix ',
        'rhel:9 gstreamer1-plugins-good fixed 1.18.4-6.el9',
      ]);
      const lxml = await importFile(join(full, 'CVE-2022-2309'));
      assert.equal(find(lxml.affected, 'rhel:8', 'python-lxml', 'python38:3.8')?.state, 'not-affected');
      assert.equal(find(lxml.affected, 'rhel:8', 'python-lxml', 'python39:3.9')?.state, 'not-affected');
      assert.equal(find(lxml.affected, 'rhel:8', 'python-lxml')?.state, 'not-affected');
      assert.ok(!lxml.affected.some((a) => a.name.startsWith('rh-python38')), 'Software Collections is not RHEL');
      assert.ok(!lxml.affected.some((a) => a.moduleStream?.includes('flatpak')));
    });

    test('"Affected" and "Fix deferred" are not fixed yet; an unknown fix_state is warned about', async () => {
      const doc = JSON.parse(await readFile(join(DATA, 'vunnel-fixture/oval/input/cve/full/CVE-2022-1921'), 'utf8')) as { package_state: Record<string, string>[] };
      doc.package_state[3]!.fix_state = 'Affected';
      doc.package_state[2]!.fix_state = 'Fix deferred';
      doc.package_state[0]!.fix_state = 'Pending magic';
      await withTmp(async (dir) => {
        const file = join(dir, 'CVE-2022-1921.json');
        await writeFile(file, JSON.stringify(doc));
        const warnings: string[] = [];
        const out = await importFile(file, { warn: (m) => warnings.push(m) });
        assert.equal(find(out.affected, 'rhel:8', 'gstreamer1-plugins-good')?.state, 'not-fixed');
        assert.equal(find(out.affected, 'rhel:7', 'gstreamer-plugins-good')?.state, 'not-fixed');
        assert.equal(find(out.affected, 'rhel:6', 'gstreamer-plugins-good'), undefined);
        assert.equal(warnings.length, 1);
        assert.match(warnings[0]!, /package_state 0 \(gstreamer-plugins-good\) skipped: unknown fix_state "Pending magic"/);
      });
    });
  });

  describe('directories and archives', () => {
    test('a directory: every document, a broken one warned about and skipped', async (t) => {
      await withTmp(async (dir) => {
        for (const f of ['claircore-vex/cve-2023-38545.json', 'claircore-vex/cve-2023-4154.json', 'claircore-vex/cve-2024-24786-simple.json', 'claircore-csaf/cve-2021-0084.json']) {
          await writeFile(join(dir, f.split('/')[1]!), await readFile(join(DATA, f)));
        }
        await writeFile(join(dir, 'broken.json'), '{"document": {"tracking": ');
        await writeFile(join(dir, 'changes.csv'), 'ignored');
        const warnings: string[] = [];
        const out = await importFile(dir, { warn: (m) => warnings.push(m) });
        assert.deepEqual(out.vulnerabilities.map((v) => v.id).sort(), ['CVE-2021-0084', 'CVE-2023-38545', 'CVE-2023-4154', 'CVE-2024-24786']);
        assert.equal(warnings.length, 1);
        assert.match(warnings[0]!, /broken\.json: invalid JSON/);
      });
      // throughput over every Red Hat sample document
      const started = performance.now();
      let records = 0;
      let docs = 0;
      for (const d of ['claircore-vex', 'claircore-csaf', 'vunnel-fixture/csaf', 'vunnel-fixture/oval/input/cve/full']) {
        const out = await importFile(join(DATA, d));
        records += out.vulnerabilities.length + out.affected.length;
        docs += out.vulnerabilities.length;
      }
      const ms = performance.now() - started;
      t.diagnostic(`Red Hat samples: ${docs} documents, ${records} records in ${ms.toFixed(1)} ms = ${Math.round(records / (ms / 1000))} records/s`);
    });

    test('a .tar.zst archive (and .tar.gz) imports as a full replacement with the same records', { skip: zstdOrSkip() }, async () => {
      const files = ['claircore-vex/cve-2023-38545.json', 'claircore-vex/cve-2023-4154.json', 'claircore-csaf/cve-2021-0084.json', 'claircore-csaf/cve-1999-0001-deleted.json'];
      const entries = await Promise.all(files.map(async (f, i) => ({ type: 'file' as const, path: `202${i}/${f.split('/')[1]}`, content: await readFile(join(DATA, f)) })));
      const tar = tarBuffer([{ type: 'dir', path: '2020/' }, ...entries, { type: 'file', path: 'index.txt', content: 'not a document' }]);
      await withTmp(async (dir) => {
        const zst = join(dir, 'csaf_vex_2025-02-15.tar.zst');
        const tgz = join(dir, 'csaf_vex_2025-02-15.tar.gz');
        await writeFile(zst, zstdCompress(tar));
        await writeFile(tgz, gzipSync(tar));
        await mkdir(join(dir, 'plain'));
        for (const e of entries) await writeFile(join(dir, 'plain', e.path.replace('/', '-')), e.content);
        const plain = await importFile(join(dir, 'plain'));
        for (const archive of [zst, tgz]) {
          const { full, batches } = await redhatDriver.importPath(archive, noWarn);
          const out = await collect(batches);
          assert.equal(full, true, archive);
          assert.deepEqual(out.vulnerabilities.map((v) => v.id).sort(), plain.vulnerabilities.map((v) => v.id).sort());
          assert.deepEqual(out.affected, plain.affected);
        }
        assert.equal(await redhatDriver.detect(zst, zstdCompress(tar).subarray(0, 64)), true);
      });
    });

    test('a truncated archive fails the import instead of replacing everything with part of it', { skip: zstdOrSkip() }, async () => {
      const tar = tarBuffer([{ type: 'file', path: '2023/cve-2023-38545.json', content: await readFile(VEX_38545) }, { type: 'file', path: '2023/cve-2023-4154.json', content: await readFile(join(DATA, 'claircore-vex/cve-2023-4154.json')) }]);
      await withTmp(async (dir) => {
        for (const [name, bytes] of [['cut.tar.zst', zstdCompress(tar)], ['cut.tar.gz', gzipSync(tar)], ['cut.tar', tar]] as const) {
          const file = join(dir, name);
          await writeFile(file, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
          await assert.rejects(redhatDriver.importPath(file, { warn() {} }).then((r) => collect(r.batches)), /cannot read the archive|not a readable tar archive/, name);
        }
      });
    });

    test('detect: VEX, advisories, Security Data API JSON; not other feeds', async () => {
      const head = async (f: string): Promise<Buffer> => (await readFile(f)).subarray(0, 4096);
      for (const f of ['claircore-vex/cve-2023-38545.json', 'claircore-csaf/cve-1999-0001-deleted.json', 'vunnel-fixture/csaf/advisories/rhsa-2023_3821.json', 'vunnel-fixture/csaf/hydra/cve-2024-8088.json', 'vunnel-fixture/oval/input/cve/full/CVE-2022-1921']) {
        assert.equal(await redhatDriver.detect(join(DATA, f), await head(join(DATA, f))), true, f);
      }
      assert.equal(await redhatDriver.detect(join(DATA, 'claircore-vex'), Buffer.alloc(0)), true);
      for (const f of ['../nvd/vunnel-fixture/single-entry.json', '../kev/known_exploited_vulnerabilities.json', '../osv/ghsa/github-advisory-database/GHSA-35jh-r3h4-6jhm.json']) {
        const p = join(DATA, f);
        if (existsSync(p)) assert.equal(await redhatDriver.detect(p, await head(p)), false, f);
      }
    });

    test('a single file that is not Red Hat data is a clear error', async () => {
      await assert.rejects(redhatDriver.importPath(join(DATA, '../kev/known_exploited_vulnerabilities_schema.json'), noWarn), /neither a Red Hat CSAF document nor Security Data API CVE JSON/);
    });
  });

  describe('online', { skip: zstdOrSkip() }, () => {
    let server: FeedServer;
    const base = '/data/csaf/v2/vex/';
    const put = (path: string, body: Buffer | string): void => {
      server.files.set(base + path, { body });
    };

    before(async () => {
      server = await startFeedServer();
      const archived = await Promise.all(['claircore-vex/cve-2023-38545.json', 'claircore-vex/cve-2023-4154.json', 'claircore-csaf/cve-2021-0084.json'].map(async (f) => {
        const name = f.split('/')[1]!;
        return { type: 'file' as const, path: `${name.slice(4, 8)}/${name}`, content: await readFile(join(DATA, f)) };
      }));
      put('archive_latest.txt', 'csaf_vex_2025-02-15.tar.zst\n');
      put('csaf_vex_2025-02-15.tar.zst', zstdCompress(tarBuffer(archived)));
      put('2024/cve-2024-24786.json', await readFile(join(DATA, 'claircore-vex/cve-2024-24786-simple.json')));
      put('2021/cve-2021-0084.json', await readFile(join(DATA, 'claircore-csaf/cve-2021-0084.json')));
      put('2023/cve-2023-38545.json', await readFile(VEX_38545));
      put('2023/cve-2023-4154.json', await readFile(join(DATA, 'claircore-vex/cve-2023-4154.json')));
      put('changes.csv', [
        '"2024/cve-2024-24786.json","2025-02-18T14:28:08+00:00"',
        '"2023/cve-2023-4154.json","2025-02-17T11:00:00+00:00"',
        '"2023/cve-2023-38545.json","2025-01-03T10:00:00+00:00"',
      ].join('\n'));
      put('deletions.csv', [
        '"2023/cve-2023-0118.json","2025-02-16T09:00:00+00:00"',
        '"2021/cve-2021-0084.json","2025-02-16T10:00:00+00:00"',
        '"2022/cve-2022-0001.json","2024-12-01T00:00:00+00:00"',
      ].join('\n'));
    });
    after(() => server.close());

    test('first sync: the archive, then later changes and deletions; then 304; then only what changed', async () => {
      const state: Record<string, string> = {};
      const validators = new Map<string, string>();
      const url = server.url + base;

      const ctx1 = fakeSyncContext({ baseUrl: url, state, validators });
      const first = await redhatDriver.sync(ctx1);
      const out1 = await collect(first.batches);
      ctx1.commit();
      assert.equal(first.full, true);
      assert.deepEqual(ctx1.warnings, []);
      // one version of each document: what changed or went after the archive is not taken from it
      assert.deepEqual(out1.vulnerabilities.map((v) => `${v.id}${v.withdrawn ? ' withdrawn' : ''}`), [
        'CVE-2023-38545', // the archive (its January change is already in it)
        'CVE-2023-4154', 'CVE-2024-24786', // changed after the archive, fetched one by one
        'CVE-2023-0118 withdrawn', 'CVE-2021-0084 withdrawn', // deleted after the archive
      ]);
      const alone = await importFile(join(DATA, 'claircore-vex/cve-2023-4154.json'));
      assert.ok(alone.affected.length > 0);
      assert.deepEqual(out1.affected.filter((a) => a.vulnId === 'CVE-2023-4154'), alone.affected, 'no second copy from the archive');
      assert.ok(!out1.affected.some((a) => a.vulnId === 'CVE-2021-0084'));
      assert.equal(find(out1.affected, 'rhel:9', 'curl')?.state, 'fixed');
      assert.equal(state.lastChange, '2025-02-18T14:28:08.000Z');
      const fetched = server.requests.map((r) => r.path.slice(base.length));
      assert.ok(!fetched.includes('2023/cve-2023-38545.json'), fetched.join(' '));

      const before2 = server.requests.length;
      const ctx2 = fakeSyncContext({ baseUrl: url, state, validators });
      const second = await redhatDriver.sync(ctx2);
      const out2 = await collect(second.batches);
      ctx2.commit();
      assert.equal(second.full, false);
      assert.equal(out2.vulnerabilities.length, 0);
      assert.deepEqual(server.requests.slice(before2).map((r) => `${r.path.slice(base.length)} ${r.status}`), ['changes.csv 304']);

      put('changes.csv', [
        '"2021/cve-2021-0084.json","2025-02-20T08:00:00+00:00"',
        '"2025/cve-2025-9999.json","2025-02-20T09:00:00+00:00"',
        '"2024/cve-2024-24786.json","2025-02-18T14:28:08+00:00"',
        '"../secret.json","2025-02-20T09:00:00+00:00"',
      ].join('\n'));
      const before3 = server.requests.length;
      const ctx3 = fakeSyncContext({ baseUrl: url, state, validators });
      const third = await redhatDriver.sync(ctx3);
      const out3 = await collect(third.batches);
      ctx3.commit();
      assert.equal(third.full, false);
      assert.deepEqual(out3.vulnerabilities.map((v) => v.id), ['CVE-2021-0084']);
      assert.equal(find(out3.affected, 'rhel:9', 'kernel')?.state, 'not-affected');
      assert.deepEqual(server.requests.slice(before3).map((r) => `${r.path.slice(base.length)} ${r.status}`).sort(), [
        '2021/cve-2021-0084.json 200', '2025/cve-2025-9999.json 404', 'changes.csv 200', 'deletions.csv 200',
      ]);
      assert.equal(ctx3.warnings.length, 2, ctx3.warnings.join('\n'));
      assert.ok(ctx3.warnings.some((w) => w.includes('"../secret.json"')));
      assert.ok(ctx3.warnings.some((w) => w.includes('cve-2025-9999.json') && w.includes('404')));
      assert.equal(state.lastChange, '2025-02-20T09:00:00.000Z');
    });

    test('a failed document download fails the sync and keeps the cursor', async () => {
      const state = { lastChange: '2025-02-20T09:00:00.000Z' };
      server.files.set(`${base}2026/cve-2026-0001.json`, { status: 500, body: 'oops', noEtag: true });
      put('changes.csv', '"2026/cve-2026-0001.json","2026-01-01T00:00:00+00:00"\n');
      const ctx = fakeSyncContext({ baseUrl: server.url + base, state });
      await assert.rejects(redhatDriver.sync(ctx).then((r) => collect(r.batches)), /HTTP 500/);
      assert.deepEqual(ctx.pending, {});
    });
  });
});
