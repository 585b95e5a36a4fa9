/**
 * Counts current after a vulnerability-data change made by another process (issue 15), on both
 * databases: images imported through the API (CycloneDX SBOMs), then `lading db import` of a
 * changed Debian tracker file run as a separate child process; within a bounded wait the
 * dashboard, the image list and each image's summary equal a recomputation from `vuln/all`, with
 * no timer run (the re-match timer is a day): the data-watch cycle noticed the change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { analyzeImage } from '../analyze/analyze.js';
import { writers } from '../sbom/formats/index.js';
import { buildImage, type BuiltImage } from '../testkit/images.js';
import { memoryImage } from '../testkit/memory-image.js';
import { ADMIN as admin, describeService, seedOpensslAdvisory, type ApiClient } from '../testkit/service.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The Debian tracker's JSON: openssl's CVE-2024-0001 lowered to medium urgency, a new zlib flaw with a fix. */
const CHANGED_TRACKER = {
  openssl: { 'CVE-2024-0001': { description: 'openssl flaw', releases: { bookworm: { status: 'resolved', fixed_version: '3.0.15-1~deb12u1', urgency: 'medium', repositories: { bookworm: '3.0.15-1~deb12u1' } } } } },
  zlib: { 'CVE-2024-0005': { description: 'zlib flaw', releases: { bookworm: { status: 'resolved', fixed_version: '1:1.3-1', urgency: 'medium', repositories: { bookworm: '1:1.3-1' } } } } },
};

/** `lading db import FILE --db URL` as its own process (not the service's). */
async function importInAnotherProcess(dbUrl: string, dir: string): Promise<string> {
  const file = join(dir, 'tracker.json');
  await writeFile(file, JSON.stringify(CHANGED_TRACKER));
  const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'db', 'import', '--db', dbUrl, file], {
    cwd: repoRoot, env: { ...process.env, LADING_CONFIG: '', LADING_DATA_DIR: join(dir, 'cli-data') },
  });
  return r.stdout + r.stderr;
}

const SEVERITIES = ['Critical', 'High', 'Medium', 'Low', 'Negligible', 'Unknown'] as const;
type Counts = Record<(typeof SEVERITIES)[number] | 'total' | 'fixable', number>;

function debianImage(marker: string, packages: [string, string, string][]): BuiltImage {
  const status = packages.map(([name, version, source]) => `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\nSource: ${source}\n`).join('\n');
  return buildImage({ layers: [{ entries: [
    { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
    { type: 'file', path: 'var/lib/dpkg/status', content: status },
    { type: 'file', path: 'etc/marker', content: marker },
  ] }] });
}

const SSL: [string, string, string] = ['libssl3', '3.0.11-1~deb12u1', 'openssl'];
const ZLIB: [string, string, string] = ['zlib1g', '1:1.2.13.dfsg-1', 'zlib'];
const ZSTD: [string, string, string] = ['libzstd1', '1.5.4+dfsg2-5', 'libzstd'];
const IMAGES = [debianImage('a', [SSL]), debianImage('b', [SSL, ZLIB]), debianImage('c', [ZLIB]), debianImage('d', [ZSTD])];

async function importImage(api: ApiClient, image: BuiltImage, tag: string): Promise<void> {
  const op = (await api('POST', '/v1/imports/images', admin)).body.uuid;
  const sbom = writers['cyclonedx-json'].write(await analyzeImage(memoryImage(image), {}));
  const up = await api('POST', `/v1/imports/images/${op}/packages`, { ...admin, body: sbom, headers: { 'content-type': 'application/vnd.cyclonedx+json' } });
  assert.equal(up.status, 200, JSON.stringify(up.body));
  const added = await api('POST', '/v1/images', { ...admin, body: { source: { import: {
    digest: image.manifestDigest, tags: [tag], operation_uuid: op, contents: { packages: `sha256:${up.body.digest}` },
  } } } });
  assert.equal(added.status, 200, JSON.stringify(added.body));
}

/** An image's counts recomputed from its vuln/all report. */
async function recomputed(api: ApiClient, digest: string): Promise<Counts> {
  const r = await api('GET', `/v1/images/${digest}/vuln/all`, admin);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const c: Counts = { Critical: 0, High: 0, Medium: 0, Low: 0, Negligible: 0, Unknown: 0, total: 0, fixable: 0 };
  for (const v of r.body.vulnerabilities as { severity: (typeof SEVERITIES)[number]; fix: string }[]) {
    c[v.severity]++;
    c.total++;
    if (v.fix !== 'None') c.fixable++;
  }
  return c;
}

const shown = (v: Counts & Record<string, number>): Counts => ({
  Critical: v.Critical, High: v.High, Medium: v.Medium, Low: v.Low, Negligible: v.Negligible, Unknown: v.Unknown, total: v.total, fixable: v.fixable,
});

/** What the list, each summary and the dashboard show, beside what vuln/all says. */
async function views(api: ApiClient): Promise<{ shown: unknown; expected: unknown }> {
  const want = await Promise.all(IMAGES.map((i) => recomputed(api, i.manifestDigest)));
  const list = (await api('GET', '/v1/summaries/images?limit=100', admin)).body.items as { imageDigest: string; vulnerabilities: Counts & Record<string, number> }[];
  const listed = IMAGES.map((i) => shown(list.find((x) => x.imageDigest === i.manifestDigest)!.vulnerabilities));
  const single = await Promise.all(IMAGES.map(async (i) => shown((await api('GET', `/v1/summaries/images/${i.manifestDigest}`, admin)).body.summary.vulnerabilities)));
  const dash = (await api('GET', '/v1/summaries/dashboard', admin)).body.vulnerabilities;
  const sum = (k: keyof Counts) => want.reduce((n, c) => n + c[k], 0);
  return {
    shown: { listed, single, dashboard: { ...dash.by_severity, total: dash.total, fixable: dash.fixable } },
    expected: { listed: want, single: want, dashboard: { ...Object.fromEntries(SEVERITIES.map((s) => [s, sum(s)])), total: sum('total'), fixable: sum('fixable') } },
  };
}

describeService('counts current after a data change by another process', {
  seed: seedOpensslAdvisory,
  config: { cycle_timers: { vulnerability_scan: 86400 } },
  start: { cyclePollMs: 100 },
}, (h) => {
  test('the dashboard, the list and every summary equal a recomputation within seconds', async (t) => {
    const { api, dbUrl, dir } = h();
    for (const [i, image] of IMAGES.entries()) await importImage(api, image, `reg.example/fresh/app:${i}`);
    const before = await views(api);
    assert.deepEqual(before.shown, before.expected);
    assert.equal((before.expected as { dashboard: Counts }).dashboard.total, 2);

    // Another process imports a changed Debian tracker file: a severity lowered, a new finding for zlib.
    const printed = await importInAnotherProcess(dbUrl, dir);
    assert.match(printed, /debian/, printed);
    const imported = Date.now();

    const deadline = Date.now() + 60_000;
    let now = await views(api);
    while (JSON.stringify(now.shown) !== JSON.stringify(now.expected) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      now = await views(api);
    }
    assert.deepEqual(now.shown, now.expected);
    t.diagnostic(`every count current ${Date.now() - imported} ms after the import process exited`);
    const dash = (now.expected as { dashboard: Counts }).dashboard;
    assert.deepEqual([dash.High, dash.Medium, dash.total], [0, 4, 4], 'the change reached the recomputation too');
  });
});
