/**
 * Image list figures (figures, not pass/fail): 10,000 images with their summary rows inserted
 * directly into a fresh SQLite database (and into PostgreSQL when LADING_BENCH_PG holds a
 * database URL; the admin account's images there are replaced), an API process on loopback, then
 * GET /v1/summaries/images timed sequentially for the default page, a `q` search, a severity
 * filter sorted by risk, and page 150; p50 and p95 per query.
 *   node build/bench/summaries.js [images=10000] [requests=50]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { ADMIN, startTestService } from '../testkit/service.js';
import type { Database } from '../store/schema.js';

const AUTH = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.pass}`).toString('base64')}`;
const ACCOUNT = 'admin';
const BATCH = 200;

const QUERIES: [string, string][] = [
  ['default page', ''],
  ['q search', '?q=app42'],
  ['severity + risk sort', '?severity=High&sort=risk'],
  ['page 150', '?page=150'],
];

/** Deterministic pseudo-random numbers. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

async function insertImages(db: Kysely<Database>, n: number): Promise<void> {
  for (const t of ['image_summaries', 'image_summary_findings', 'catalog_image_tags', 'catalog_images'] as const) await db.deleteFrom(t).where('account', '=', ACCOUNT).execute();
  const rand = rng(42);
  const base = Date.parse('2024-01-01T00:00:00Z');
  for (let start = 0; start < n; start += BATCH) {
    const images = [];
    const tags = [];
    const summaries = [];
    for (let i = start; i < Math.min(n, start + BATCH); i++) {
      const digest = `sha256:${i.toString(16).padStart(64, '0')}`;
      const created = new Date(base + i * 60_000).toISOString();
      const analyzed = i % 10 !== 0;
      const analyzedAt = analyzed ? new Date(base + i * 60_000 + 30_000).toISOString() : null;
      const registry = 'registry.example.com';
      const repo = `team${i % 50}/app${i % 500}`;
      const fulltag = `${registry}/${repo}:v${i}`;
      const c = analyzed ? [0, 0, 0, 0, 0, 0].map((_, k) => Math.floor(rand() * rand() * (k < 2 ? 4 : 30))) : [0, 0, 0, 0, 0, 0];
      const total = c.reduce((a, b) => a + b, 0);
      images.push({
        account: ACCOUNT, image_digest: digest, image_id: digest.slice(7), manifest_digest: digest, parent_digest: null,
        analysis_status: analyzed ? 'analyzed' : 'analysis_failed', analysis_error: null, image_status: 'active', annotations: '{}', dockerfile: null,
        metadata: null, created_at: created, last_updated: analyzedAt ?? created, analyzed_at: analyzedAt,
      });
      tags.push({ account: ACCOUNT, fulltag, image_digest: digest, registry, repo, tag: `v${i}`, created_at: created, last_updated: created });
      summaries.push({
        account: ACCOUNT, image_digest: digest, tags: JSON.stringify([fulltag]), search: `${fulltag}\n${digest}`, registry, repository: repo, tag_sort: fulltag,
        distro: analyzed ? 'debian 12' : null, platform: analyzed ? 'linux/amd64' : null, image_size: analyzed ? Math.floor(rand() * 5e8) : null,
        layer_count: analyzed ? 1 + (i % 12) : null, package_count: analyzed ? Math.floor(rand() * 800) : null,
        critical: c[0]!, high: c[1]!, medium: c[2]!, low: c[3]!, negligible: c[4]!, unknown: c[5]!, total, fixable: Math.floor(total / 2), kev: c[0] ? 1 : 0,
        verdict: analyzed ? (c[0] || c[1] ? 'fail' : i % 7 ? 'pass' : null) : null, evaluated_at: analyzedAt,
        created_at: created, analyzed_at: analyzedAt, sbom_at: analyzedAt, refreshed_at: analyzedAt ?? created,
      });
    }
    await db.insertInto('catalog_images').values(images).execute();
    await db.insertInto('catalog_image_tags').values(tags).execute();
    await db.insertInto('image_summaries').values(summaries).execute();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function figures(label: string, dbUrl: string, dir: string, n: number, requests: number): Promise<void> {
  const { svc } = await startTestService(dbUrl, dir, { start: { roles: ['api'] } });
  try {
    const t0 = Date.now();
    await insertImages(svc.db.kysely, n);
    // Fresh statistics, as a running PostgreSQL has them (autovacuum) after a bulk load.
    if (svc.db.dialect === 'postgres') await sql`analyze`.execute(svc.db.kysely);
    console.log(`${label}: ${n} images and summary rows inserted in ${Date.now() - t0} ms`);
    const get = async (query: string) => {
      const r = await fetch(`${svc.url}/v1/summaries/images${query}`, { headers: { authorization: AUTH } });
      const body = (await r.json()) as { total: number; items: unknown[] };
      if (r.status !== 200) throw new Error(`GET ${query}: ${r.status} ${JSON.stringify(body)}`);
      return body;
    };
    for (const [name, query] of QUERIES) {
      const first = await get(query); // warm-up, and the answer's size
      const ms: number[] = [];
      for (let i = 0; i < requests; i++) {
        const s = process.hrtime.bigint();
        await get(query);
        ms.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
      ms.sort((a, b) => a - b);
      console.log(`${label}: ${name.padEnd(22)} total ${String(first.total).padStart(5)}  items ${String(first.items.length).padStart(2)}  p50 ${percentile(ms, 50).toFixed(1).padStart(6)} ms  p95 ${percentile(ms, 95).toFixed(1).padStart(6)} ms`);
    }
  } finally {
    await svc.close();
  }
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 10_000);
  const requests = Number(process.argv[3] ?? 50);
  const dir = await mkdtemp(join(tmpdir(), 'lading-bench-summaries-'));
  try {
    await figures('SQLite', join(dir, 'lading.db'), dir, n, requests);
    const pg = process.env.LADING_BENCH_PG;
    if (pg) await figures('PostgreSQL', pg, dir, n, requests);
    else console.log('PostgreSQL: skipped (set LADING_BENCH_PG to a database URL)');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
