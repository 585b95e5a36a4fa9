/**
 * Re-match figures for `npm run bench`: 1,000 stored images (Debian 12, 150 packages each drawn
 * from a pool of 3,000 source packages) over a Debian feed of 20,000 records, then
 * - the baseline index of every image (what analysis adds per image),
 * - an unchanged full re-sync (change detection only: no image is touched),
 * - an incremental update of 25 records (only the images holding those packages are re-matched),
 * - a full re-sync where 1% of the packages' records changed.
 * Run: node build/bench/rematch.js [IMAGES]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../store/db.js';
import { migrateToLatest } from '../store/migrate.js';
import { VulnDb } from '../feeds/vulndb.js';
import type { Affected, FeedBatch, Vulnerability } from '../feeds/model.js';
import type { Package, Sbom } from '../sbom/model.js';
import { CatalogStore } from '../store/catalog.js';
import { Rematcher } from '../services/rematch.js';

const POOL = 3000;
const PACKAGES_PER_IMAGE = 150;
const RECORDS = 20_000;

/** A deterministic PRNG (mulberry32), so every run measures the same data. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pkgName = (i: number) => `srcpkg${i}`;

function sbomOf(digest: string, picks: number[]): Sbom {
  const packages: Package[] = picks.map((i) => ({
    name: `lib${pkgName(i)}`, version: '1.0-1', type: 'deb', purl: `pkg:deb/debian/lib${pkgName(i)}@1.0-1?distro=debian-12`, cpes: [], licenses: [],
    locations: [{ path: '/var/lib/dpkg/status', layer: 0 }], sourceName: pkgName(i), sourceVersion: '1.0-1', arch: 'amd64', foundBy: 'dpkg',
  }));
  return {
    schema: 'lading-sbom/1', createdAt: new Date().toISOString(), tool: { name: 'lading', version: 'bench' },
    source: {
      imageId: digest, manifestDigest: digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', tags: [], registry: 'bench.local', repository: 'app',
      platform: { os: 'linux', architecture: 'amd64' },
      config: { env: [], entrypoint: null, cmd: null, user: '', workingDir: '', exposedPorts: [], volumes: [], labels: {} },
      layers: [], history: [], dockerfile: { mode: 'guessed', text: '' },
    },
    distro: { id: 'debian', versionId: '12', versionCodename: 'bookworm', idLike: [], source: '/etc/os-release' },
    packages, files: [], secrets: [], contentMatches: [], retrievedFiles: [], warnings: [],
  };
}

function feed(fixFor: (record: number) => string): FeedBatch {
  const vulnerabilities: Vulnerability[] = [];
  const affected: Affected[] = [];
  for (let r = 0; r < RECORDS; r++) {
    const id = `CVE-2099-${String(r).padStart(5, '0')}`;
    vulnerabilities.push({ id, source: 'debian', aliases: [], cvss: [], references: [], severity: 'Medium' });
    const fixed = fixFor(r);
    affected.push({
      vulnId: id, source: 'debian', namespace: 'debian:12', name: pkgName(r % POOL), nameKind: 'source', scheme: 'dpkg',
      ranges: [{ introduced: '0', fixed }], versions: [], state: 'fixed', fixedVersions: [fixed], severity: 'Medium',
    });
  }
  return { vulnerabilities, affected };
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, performance.now() - t0];
}

export async function rematchFigures(images = 1000): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'lading-bench-rematch-'));
  const handle = await openDatabase(join(dir, 'lading.db'));
  try {
    await migrateToLatest(handle.kysely);
    const vulndb = new VulnDb(handle);
    const catalog = new CatalogStore(handle.kysely);
    let diffs = 0;
    const rematcher = new Rematcher(handle.kysely, vulndb, { onDiff: async () => { diffs++; } });
    const apply = (full: boolean, batch: FeedBatch) => vulndb.apply('debian', { full, batches: [batch] }, { kind: 'sync' });
    await apply(true, feed(() => '1.0-2'));
    const rand = prng(42);
    const [, indexMs] = await timed(async () => {
      for (let i = 0; i < images; i++) {
        const digest = `sha256:${i.toString(16).padStart(64, '0')}`;
        const picks = new Set<number>();
        while (picks.size < PACKAGES_PER_IMAGE) picks.add(Math.floor(rand() * POOL));
        const sbom = sbomOf(digest, [...picks]);
        await catalog.addImage('bench', { imageDigest: digest, tag: { registry: 'bench.local', repo: 'app', tag: String(i) } });
        await catalog.saveAnalysis('bench', digest, sbom);
        await rematcher.indexImage('bench', digest, sbom);
      }
    });
    await rematcher.rematch(); // consume the first import's log

    const out = [`Re-match of ${images} stored images (${PACKAGES_PER_IMAGE} packages each, ${POOL} source packages, ${RECORDS} Debian records; SQLite)`];
    out.push(`  baseline index (scan + key index per image)   ${(indexMs / images).toFixed(1)} ms/image`);

    const [same, sameMs] = await timed(() => apply(true, feed(() => '1.0-2')));
    const [r0, r0Ms] = await timed(() => rematcher.rematch());
    out.push(`  unchanged full re-sync: apply ${sameMs.toFixed(0)} ms (${same.changedKeys} keys changed), re-match ${r0Ms.toFixed(0)} ms, ${r0.images} images`);

    const incremental: FeedBatch = { vulnerabilities: [], affected: [] };
    for (let k = 0; k < 25; k++) {
      const id = `CVE-2100-${k}`;
      incremental.vulnerabilities!.push({ id, source: 'debian', aliases: [], cvss: [], references: [], severity: 'High' });
      incremental.affected!.push({ vulnId: id, source: 'debian', namespace: 'debian:12', name: pkgName(k * 7), nameKind: 'source', scheme: 'dpkg', ranges: [{ introduced: '0', fixed: '1.0-3' }], versions: [], state: 'fixed', fixedVersions: ['1.0-3'], severity: 'High' });
    }
    diffs = 0;
    const [inc, incMs] = await timed(() => apply(false, incremental));
    const [r1, r1Ms] = await timed(() => rematcher.rematch());
    out.push(`  incremental update of 25 records: apply ${incMs.toFixed(0)} ms (${inc.changedKeys} keys), re-match ${r1Ms.toFixed(0)} ms: ${r1.images} images re-matched, ${diffs} with new findings`);

    diffs = 0;
    const [one, oneMs] = await timed(() => apply(true, feed((r) => (r % POOL < POOL / 100 ? '1.0-4' : '1.0-2'))));
    const [r2, r2Ms] = await timed(() => rematcher.rematch());
    out.push(`  full re-sync, 1% of packages changed: apply ${oneMs.toFixed(0)} ms (${one.changedKeys} keys), re-match ${r2Ms.toFixed(0)} ms: ${r2.images} images re-matched, ${diffs} with changed findings (${(r2Ms / Math.max(1, r2.images)).toFixed(1)} ms/image)`);
    return out;
  } finally {
    await handle.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  rematchFigures(process.argv[2] ? Number(process.argv[2]) : undefined).then((lines) => console.log(lines.join('\n')), (e) => {
    console.error(e);
    process.exit(1);
  });
}
