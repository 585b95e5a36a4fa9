/**
 * Vulnerability-data figures for `npm run bench`: import time and records/s per sample source
 * (from ../shared/vulndata when it is there), database size on disk, and lookup-and-match time for
 * a 500-package SBOM with the database warm. Run: node build/bench/vulns.js [VULNDATA_DIR]
 */
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase, openVulnDb } from '../store/db.js';
import { importPaths } from '../feeds/import.js';
import { DRIVERS } from '../feeds/drivers/index.js';
import { matchSbom } from '../vulns/match.js';
import { scanSbom } from '../vulns/scan.js';
import type { VulnLookup } from '../vulns/lookup.js';
import type { Package, Sbom } from '../sbom/model.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const SAMPLES: [source: string, path: string][] = [
  ['osv', 'osv/go/all.zip'],
  ['osv', 'osv/pypi/all-yaml.zip'],
  ['osv', 'osv/almalinux'],
  ['alpine', 'alpine/secdb-yaml-2020'],
  ['debian', 'debian/vunnel-fixture/debian.json'],
  ['ghsa', 'osv/ghsa/github-advisory-database'],
  ['redhat', 'redhat/claircore-vex'],
  ['nvd', 'nvd/vunnel-fixture/full-page.json'],
  ['kev', 'kev/known_exploited_vulnerabilities.json'],
  ['epss', 'epss/claircore/epss/testdata/data.csv'],
];

function fileSize(path: string): number {
  return ['', '-wal', '-shm'].reduce((s, ext) => s + (existsSync(path + ext) ? statSync(path + ext).size : 0), 0);
}

/** 500 packages whose names the imported data knows: Go modules and PyPI projects, at old versions. */
export async function benchSbomFor(file: string): Promise<Sbom> {
  const handle = await openDatabase<{ affected: { namespace: string; name: string } }>(file);
  const names = (ns: string) => handle.kysely.selectFrom('affected').select(['namespace', 'name']).where('namespace', '=', ns).distinct().limit(250).execute();
  const rows = [...(await names('go')), ...(await names('pypi'))];
  await handle.close();
  const packages: Package[] = rows.map((r) => ({
    name: r.name,
    version: r.namespace === 'go' ? 'v0.0.1' : '0.1',
    type: r.namespace === 'go' ? 'go-module' : 'python',
    purl: r.namespace === 'go' ? `pkg:golang/${r.name}@v0.0.1` : `pkg:pypi/${r.name}@0.1`,
    cpes: [], licenses: [], locations: [{ path: '/bench', layer: 0 }], foundBy: 'bench',
  }));
  return {
    schema: 'lading-sbom/1', createdAt: new Date().toISOString(), tool: { name: 'lading', version: 'bench' },
    source: { imageId: 'sha256:bench', mediaType: '', tags: [], platform: { os: 'linux', architecture: 'amd64' },
      config: { env: [], entrypoint: null, cmd: null, user: '', workingDir: '', exposedPorts: [], volumes: [], labels: {} },
      layers: [], history: [], dockerfile: { mode: 'guessed', text: '' } },
    packages, files: [], secrets: [], contentMatches: [], retrievedFiles: [], warnings: [],
  };
}

interface Timing<T> {
  /** The first call (VulnDb's record cache still empty), wall and CPU ms. */
  firstWall: number;
  firstCpu: number;
  /** Median and best of the `runs` calls after it, wall and CPU ms. */
  wall: number;
  bestWall: number;
  cpu: number;
  bestCpu: number;
  last: T;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Wall and CPU ms of one call, then the median and best of `runs` calls after it, and the last call's answer. */
async function timed<T>(runs: number, f: () => Promise<T>): Promise<Timing<T>> {
  const walls: number[] = [];
  const cpus: number[] = [];
  let last!: T;
  for (let i = 0; i <= runs; i++) {
    const t = process.hrtime.bigint();
    const c = process.cpuUsage();
    last = await f();
    const used = process.cpuUsage(c);
    walls.push(Number(process.hrtime.bigint() - t) / 1e6);
    cpus.push((used.user + used.system) / 1000);
  }
  const [firstWall, ...restWall] = walls;
  const [firstCpu, ...restCpu] = cpus;
  return { firstWall: firstWall!, firstCpu: firstCpu!, wall: median(restWall), bestWall: Math.min(...restWall), cpu: median(restCpu), bestCpu: Math.min(...restCpu), last };
}

const describeTiming = (t: Timing<unknown>, runs: number) =>
  `${t.wall.toFixed(0)} ms (median of ${runs}, best ${t.bestWall.toFixed(0)}; CPU median ${t.cpu.toFixed(0)} ms, best ${t.bestCpu.toFixed(0)}; the first call ${t.firstWall.toFixed(0)} ms, CPU ${t.firstCpu.toFixed(0)})`;

/**
 * Matching (matchSbom: lookups, judgement, grouping, enrichment) and a whole scan (scanSbom: the
 * match, then VEX, ignore rules, sorting and the database's sources) of the bench SBOM, database
 * warm. The first match is the figure of a process's first scan (VulnDb's parsed-record cache
 * empty); the median is that of repeated matches (the service re-matching stored images). CPU
 * time beside wall time: on a shared machine the wall figure mostly measures the neighbours.
 */
async function matchFigures(sbom: Sbom, db: VulnLookup): Promise<string[]> {
  const n = sbom.packages.length;
  const match = await timed(20, () => matchSbom(sbom, db));
  const scan = await timed(10, () => scanSbom(sbom, db, { input: 'bench' }));
  return [
    `Match, ${n}-package SBOM, database warm: ${describeTiming(match, 20)}, ${match.last.matches.length} matches`,
    `Lookup and match (whole scan), ${n}-package SBOM, database warm: ${describeTiming(scan, 10)}, ${scan.last.matches.length} matches`,
  ];
}

export async function vulnFigures(dataDir = join(root, '..', 'shared', 'vulndata')): Promise<string[]> {
  if (!existsSync(dataDir)) return [`(vulnerability samples not found at ${dataDir}: import figures skipped)`];
  const work = await mkdtemp(join(tmpdir(), 'lading-bench-db-'));
  const out: string[] = [];
  try {
    const file = join(work, 'vulns.db');
    const db = await openVulnDb(file);
    try {
      out.push('Import of the real feed samples into SQLite (one transaction each):');
      for (const [source, rel] of SAMPLES) {
        const path = join(dataDir, rel);
        if (!existsSync(path)) continue;
        const t = process.hrtime.bigint();
        const [r] = await importPaths(db, [path], DRIVERS, { source });
        const ms = Number(process.hrtime.bigint() - t) / 1e6;
        const records = r?.applied?.records ?? 0;
        out.push(`  ${`${source} ${rel}`.padEnd(58)}${String(records).padStart(8)} records ${String(Math.round(ms)).padStart(7)} ms ${String(Math.round(records / (ms / 1000))).padStart(8)} records/s${r?.ok ? '' : `  FAILED: ${r?.error}`}`);
      }
      out.push(`Database size on disk: ${(fileSize(file) / 1e6).toFixed(1)} MB`);
      const sbom = await benchSbomFor(file);
      out.push(...(await matchFigures(sbom, db)));
    } finally {
      await db.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  vulnFigures(process.argv[2]).then((lines) => console.log(lines.join('\n')), (e) => {
    console.error(e);
    process.exit(1);
  });
}
