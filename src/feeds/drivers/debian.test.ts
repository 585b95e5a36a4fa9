import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { debianDriver, releaseVerdict, trackerBatches } from './debian.js';
import { startFeedServer, fakeSyncContext, collect, importContext, serve, committed } from '../../testkit/feed-server.js';
import type { Affected } from '../model.js';
import { isLadingError } from '../../errors.js';
import { sample, skipWithoutSample as skipWithout } from '../../testkit/vulndata.js';


const VUNNEL = 'debian/vunnel-fixture/debian.json';
const OSVDEV = 'debian/osv.dev-testdata/debian/debian_security_tracker_mock.json';

function find(list: Affected[], name: string, id: string, namespace: string): Affected | undefined {
  return list.find((a) => a.name === name && a.vulnId === id && a.namespace === namespace);
}

test('tracker JSON imports as a full snapshot: resolved, "0", open end-of-life, sid', { skip: skipWithout(VUNNEL) }, async () => {
  const ctx = importContext();
  const { full, batches } = await debianDriver.importPath(sample(VUNNEL), ctx);
  const got = await collect(batches);
  assert.equal(full, true);
  assert.deepEqual(ctx.warnings, []);
  // 7 flaws in 6 packages (chromium-browser CVE-2022-0358 has an empty releases list) over 25 release entries.
  assert.equal(got.vulnerabilities.length, 7);
  assert.equal(got.affected.length, 25);

  assert.deepEqual(find(got.affected, 'prototypejs', 'CVE-2008-7220', 'debian:10'), {
    vulnId: 'CVE-2008-7220', source: 'debian', namespace: 'debian:10', name: 'prototypejs', nameKind: 'source', scheme: 'dpkg',
    ranges: [{ introduced: '0', fixed: '1.6.0.2-1' }], versions: [], state: 'fixed', fixedVersions: ['1.6.0.2-1'], severity: 'High',
  });
  assert.deepEqual(find(got.affected, 'prototypejs', 'CVE-2007-2383', 'debian:9'), {
    vulnId: 'CVE-2007-2383', source: 'debian', namespace: 'debian:9', name: 'prototypejs', nameKind: 'source', scheme: 'dpkg',
    ranges: [], versions: [], state: 'not-affected', fixedVersions: [], severity: 'Negligible',
  });
  const eol = find(got.affected, 'chromium', 'CVE-2022-0456', 'debian:10')!;
  assert.equal(eol.state, 'wont-fix');
  assert.equal(eol.severity, undefined);
  assert.deepEqual(eol.ranges, []);
  const backport = find(got.affected, 'chromium', 'CVE-2022-0456', 'debian:11')!;
  assert.deepEqual([backport.state, backport.fixedVersions, backport.severity], ['fixed', ['98.0.4758.80-1~deb11u1'], 'Unknown']);
  assert.equal(find(got.affected, 'sope', 'CVE-2025-53603', 'debian:unstable')?.fixedVersions[0], '5.12.1-2');
  assert.equal(find(got.affected, 'txt2man', 'CVE-2013-1444', 'debian:8')?.severity, 'Low', 'jessie is 8; low** is low');

  const v = got.vulnerabilities.find((x) => x.id === 'CVE-2013-1444')!;
  assert.match(v.description!, /^A certain Debian patch for txt2man 1\.5\.5/);
  assert.deepEqual(v.references, ['https://security-tracker.debian.org/tracker/CVE-2013-1444']);
});

test('open with no fix is affected with no fix (not-fixed)', { skip: skipWithout(OSVDEV) }, async () => {
  const got = await collect((await debianDriver.importPath(sample(OSVDEV), importContext())).batches);
  const open = find(got.affected, 'apparmor', 'CVE-2016-1585', 'debian:12')!;
  assert.deepEqual([open.state, open.ranges, open.fixedVersions, open.severity], ['not-fixed', [], [], 'Negligible']);
  assert.equal(find(got.affected, 'apparmor', 'CVE-2016-1585', 'debian:13')?.state, 'fixed');
  assert.equal(got.affected.length, 15);
});

test('status, no-dsa and urgency rules (the tracker fields, one case each)', () => {
  assert.deepEqual(releaseVerdict({ status: 'undetermined', urgency: 'not yet assigned' }), { state: 'unknown', severity: 'Unknown' });
  assert.deepEqual(releaseVerdict({ status: 'open', urgency: 'unimportant', nodsa: 'Minor issue', nodsa_reason: 'postponed' }), { state: 'not-fixed', severity: 'Negligible' });
  assert.deepEqual(releaseVerdict({ status: 'open', urgency: 'low', nodsa: 'contrib/minizip not built', nodsa_reason: 'ignored' }), { state: 'wont-fix', severity: 'Low' });
  assert.deepEqual(releaseVerdict({ status: 'open', urgency: 'medium', nodsa: 'Minor issue', nodsa_reason: '' }), { state: 'wont-fix', severity: 'Medium' });
  assert.deepEqual(releaseVerdict({ status: 'open', urgency: 'high*' }), { state: 'not-fixed', severity: 'High' });
  assert.deepEqual(releaseVerdict({ status: 'open', urgency: 'end-of-life' }), { state: 'wont-fix' });
  assert.deepEqual(releaseVerdict({ status: 'resolved', urgency: 'medium', fixed_version: '1.2-3', nodsa: 'x', nodsa_reason: 'ignored' }), { state: 'fixed', fixed: '1.2-3', severity: 'Medium' });
  assert.deepEqual(releaseVerdict({ status: 'resolved', fixed_version: '0' }), { state: 'not-affected' });
  assert.deepEqual(releaseVerdict({ status: 'resolved' }), { state: 'unknown' });
  assert.equal(releaseVerdict({ status: 'weird' }), undefined);
});

test('bad entries are warned about by package, id and release and skipped; the rest is kept', () => {
  const warnings: string[] = [];
  const doc = {
    broken: 'not a map',
    zlib: {
      'CVE-2023-45853': { description: 'MiniZip overflow', releases: {
        bookworm: { status: 'open', urgency: 'unimportant', nodsa: 'not built', nodsa_reason: 'ignored', repositories: { bookworm: '1:1.2.13.dfsg-1' } },
        buzz: { status: 'resolved', fixed_version: '1' },
        bullseye: { status: 'someday' },
        trixie: 'nope',
      } },
      'CVE-2023-0000': { description: 'no releases' },
    },
  };
  const batches = [...trackerBatches(doc, (m) => warnings.push(m))];
  const affected = batches.flatMap((b) => b.affected ?? []);
  assert.deepEqual(affected.map((a) => [a.namespace, a.state]), [['debian:12', 'wont-fix']]);
  assert.deepEqual(batches.flatMap((b) => b.vulnerabilities ?? []).map((v) => v.id), ['CVE-2023-45853']);
  assert.equal(warnings.length, 5, warnings.join('\n'));
  for (const part of ['broken', '"buzz"', 'zlib CVE-2023-45853 bullseye', 'zlib CVE-2023-45853 trixie', 'zlib CVE-2023-0000']) {
    assert.ok(warnings.some((w) => w.includes(part)), `a warning names ${part}`);
  }
});

test('online: conditional GET, second sync is a no-op on 304; an empty document is refused', { skip: skipWithout(VUNNEL) }, async () => {
  const server = await startFeedServer();
  try {
    serve(server, '/tracker/data/json', await readFile(sample(VUNNEL)));
    const ctx1 = fakeSyncContext({ baseUrl: `${server.url}/tracker` });
    const first = await debianDriver.sync(ctx1);
    assert.equal(first.full, true);
    assert.equal((await collect(first.batches)).affected.length, 25);

    const second = await debianDriver.sync(committed(ctx1));
    assert.equal(second.full, false);
    assert.equal((await collect(second.batches)).batches, 0);
    assert.deepEqual(server.requests.map((r) => [!!r.headers['if-none-match'], r.status]), [[false, 200], [true, 304]]);

    serve(server, '/tracker/data/json', '{}');
    await assert.rejects(debianDriver.sync(committed(committed(ctx1))), (e) => isLadingError(e) && /empty/.test(e.message));
    serve(server, '/tracker/data/json', 'oops', 500);
    await assert.rejects(debianDriver.sync(fakeSyncContext({ baseUrl: `${server.url}/tracker` })), (e) => isLadingError(e) && e.code === 'NETWORK');
  } finally {
    await server.close();
  }
});

test('detect recognises the tracker JSON only', { skip: skipWithout(VUNNEL) }, async () => {
  const head = async (p: string) => (await readFile(p)).subarray(0, 512);
  assert.equal(await debianDriver.detect(sample(VUNNEL), await head(sample(VUNNEL))), true);
  assert.equal(await debianDriver.detect(sample(OSVDEV), await head(sample(OSVDEV))), true);
  const other = sample('osv/go/golang-vulndb/GO-2020-0001.json');
  if (other) assert.equal(await debianDriver.detect(other, await head(other)), false);
  const alpine = sample('alpine/derived-json/v3.11-main.json');
  if (alpine) assert.equal(await debianDriver.detect(alpine, await head(alpine)), false);
  await assert.rejects(debianDriver.importPath(sample('debian'), importContext()), /expected the tracker JSON file/);
});
