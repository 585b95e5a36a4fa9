/**
 * Synthetic data for the findings bench (bench/findings.ts), bulk-inserted on PostgreSQL:
 * Debian 12 images of 150 packages each (90 base packages every image has, 60 from a sliding
 * window over the other 2,910 of a 3,000 source-package pool; each at one of three versions,
 * mostly the newest), the engine's tuples and their findings, catalog rows and summary rows;
 * and a Debian feed of 20,000 records whose `changed` variant rewrites the records of 1% of the
 * source packages (every 100th, one of them a base package).
 */
import { gzipSync } from 'node:zlib';
import { sql, type Kysely } from 'kysely';
import type { Affected, FeedBatch, Vulnerability } from '../feeds/model.js';
import type { Package, Sbom } from '../sbom/model.js';
import type { VulnDb } from '../feeds/vulndb.js';
import { applyDeltas, COUNTS } from '../store/finding-sql.js';
import type { Database } from '../store/schema.js';
import { matchTuples, tupleKeys, tupleText, type TuplePackage } from '../store/finding-tuples.js';
import { countsOf } from '../store/findings.js';

export const POOL = 3000;
export const BASE = 90;
export const PER_IMAGE = 150;
export const VERSIONS = ['1.0-1', '1.0-2', '1.1-1'];
const FIXES = ['1.0-2', '1.1-1', '1.2-1'];
const SEVERITIES = ['Critical', 'High', 'Medium', 'Low', 'Negligible'] as const;
const RECORDS = 20_000;
export const ACCOUNT = 'admin';

export const tupleId = (p: number, v: number) => p * VERSIONS.length + v + 1;
export const digestSql = (col: string) => sql.raw(`'sha256:' || lpad(to_hex(${col}), 64, '0')`);

export function tuple(p: number, v: number): TuplePackage {
  return { distro: { id: 'debian', versionId: '12' }, name: `lib${p}`, version: VERSIONS[v]!, type: 'deb', sourceName: `src${p}`, sourceVersion: VERSIONS[v]! };
}

export function feed(changed: boolean): FeedBatch {
  const vulnerabilities: Vulnerability[] = [];
  const affected: Affected[] = [];
  for (let r = 0; r < RECORDS; r++) {
    const p = r % POOL;
    const touched = changed && p % 100 === 0;
    const id = `CVE-2099-${String(r).padStart(5, '0')}`;
    const severity = touched ? 'High' : SEVERITIES[r % SEVERITIES.length]!;
    const state = r % 13 === 0 ? 'wont-fix' : r % 10 === 0 ? 'not-fixed' : 'fixed';
    const fixed = touched ? '1.3-1' : FIXES[r % 3]!;
    vulnerabilities.push({ id, source: 'debian', aliases: [], cvss: [], references: [], severity, modified: `${touched ? 'b' : 'a'}` });
    affected.push({
      vulnId: id, source: 'debian', namespace: 'debian:12', name: `src${p}`, nameKind: 'source', scheme: 'dpkg', severity,
      ranges: state === 'fixed' ? [{ introduced: '0', fixed }] : [], versions: [], state, fixedVersions: state === 'fixed' ? [fixed] : [],
    });
  }
  return { vulnerabilities, affected };
}

export async function applyFeed(vulndb: VulnDb, changed: boolean): Promise<void> {
  await vulndb.apply('debian', { full: true, batches: [feed(changed)] }, { kind: 'sync' });
}

/** Every tuple of the pool, its keys and its findings (matched once with the engine's matcher). */
export async function insertTuples(db: Kysely<Database>, vulndb: VulnDb): Promise<void> {
  const all = new Map<number, TuplePackage>();
  for (let p = 0; p < POOL; p++) for (let v = 0; v < VERSIONS.length; v++) all.set(tupleId(p, v), tuple(p, v));
  const found = await matchTuples(all, vulndb);
  const rows = [...all].map(([id, t]) => ({ id, tuple: tupleText(t), name: t.name, version: t.version, type: t.type, package: JSON.stringify(t) }));
  for (let i = 0; i < rows.length; i += 1000) await db.insertInto('finding_tuples').values(rows.slice(i, i + 1000)).execute();
  await sql`select setval(pg_get_serial_sequence('finding_tuples', 'id'), ${rows.length})`.execute(db);
  const keys = [...all].flatMap(([id, t]) => tupleKeys(t).map((k) => ({ ...k, tuple_id: id })));
  for (let i = 0; i < keys.length; i += 1000) await db.insertInto('finding_tuple_keys').values(keys.slice(i, i + 1000)).execute();
  const findings = [...found].flatMap(([id, fs]) => fs.map((f) => ({ tuple_id: id, ...f })));
  for (let i = 0; i < findings.length; i += 1000) await db.insertInto('tuple_findings').values(findings.slice(i, i + 1000)).execute();
}

/** The tuple of slot j (0-149) of image i, in SQL. */
const PACKAGE_SQL = sql.raw(`case when j < ${BASE} then j else ${BASE} + ((i * 131 + (j - ${BASE})) % ${POOL - BASE}) end`);
const VERSION_SQL = sql.raw(`(case when h < 6 then 2 when h < 9 then 1 else 0 end)`);

/** n images: engine rows, catalog rows and summary rows, with their counts set by one aggregate. */
export async function insertImages(db: Kysely<Database>, n: number): Promise<void> {
  await sql`insert into finding_images (id, account, image_digest) overriding system value
    select i, ${ACCOUNT}, ${digestSql('i')} from generate_series(1, ${n}) i`.execute(db);
  await sql`drop index finding_image_packages_tuple`.execute(db);
  await sql`drop index finding_image_packages_image`.execute(db);
  await sql`insert into finding_image_packages (image_id, tuple_id, path)
    select i, p * ${VERSIONS.length} + ${VERSION_SQL} + 1, '/var/lib/dpkg/status'
    from (select i, p, ((i::bigint * 2654435761 + p * 40503) % 1000003) % 10 as h
      from (select i, ${PACKAGE_SQL} as p from generate_series(1, ${n}) i cross join generate_series(0, ${PER_IMAGE - 1}) j) a) b`.execute(db);
  await sql`create index finding_image_packages_tuple on finding_image_packages (tuple_id, image_id)`.execute(db);
  await sql`create index finding_image_packages_image on finding_image_packages (image_id)`.execute(db);
  const at = (col: string) => sql.raw(`to_char(timestamp '2024-01-01' + (${col} || ' minutes')::interval, 'YYYY-MM-DD"T"HH24:MI:SS".000Z"')`);
  await sql`insert into catalog_images (account, image_digest, image_id, manifest_digest, analysis_status, image_status, annotations, created_at, last_updated, analyzed_at)
    select ${ACCOUNT}, ${digestSql('i')}, to_hex(i), ${digestSql('i')}, 'analyzed', 'active', '{}', ${at('i')}, ${at('i')}, ${at('i')} from generate_series(1, ${n}) i`.execute(db);
  const tag = sql.raw(`'registry.example.com/team' || (i % 50) || '/app' || (i % 500) || ':v' || i`);
  await sql`insert into catalog_image_tags (account, fulltag, image_digest, registry, repo, tag, created_at, last_updated)
    select ${ACCOUNT}, ${tag}, ${digestSql('i')}, 'registry.example.com', 'team' || (i % 50) || '/app' || (i % 500), 'v' || i, ${at('i')}, ${at('i')} from generate_series(1, ${n}) i`.execute(db);
  await sql`insert into image_summaries (account, image_digest, tags, search, registry, repository, tag_sort, distro, platform, image_size, layer_count, package_count,
      verdict, evaluated_at, created_at, analyzed_at, sbom_at, refreshed_at)
    select ${ACCOUNT}, ${digestSql('i')}, '["' || ${tag} || '"]', ${tag} || chr(10) || ${digestSql('i')}, 'registry.example.com', 'team' || (i % 50) || '/app' || (i % 500), ${tag},
      'debian 12', 'linux/amd64', 100000000 + i, 1 + i % 12, ${PER_IMAGE}, case when i % 3 = 0 then 'fail' when i % 7 = 0 then null else 'pass' end, ${at('i')},
      ${at('i')}, ${at('i')}, ${at('i')}, ${at('i')} from generate_series(1, ${n}) i`.execute(db);
  await setCounts(db);
  await sql`analyze`.execute(db);
}

/** Every image's counts from zero: each tuple's full counts as its delta, applied set-wise. */
async function setCounts(db: Kysely<Database>): Promise<void> {
  const rows = await db.selectFrom('tuple_findings').selectAll().execute();
  const byTuple = new Map<number, typeof rows>();
  for (const r of rows) byTuple.set(Number(r.tuple_id), [...(byTuple.get(Number(r.tuple_id)) ?? []), r]);
  const deltas = [...byTuple].map(([tuple_id, fs]) => ({ tuple_id, ...countsOf(fs) })).filter((d) => COUNTS.some((c) => d[c] !== 0));
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < deltas.length; i += 500) await trx.insertInto('finding_tuple_delta').values(deltas.slice(i, i + 500)).execute();
    await applyDeltas(trx, true);
    await trx.deleteFrom('finding_tuple_delta').execute();
  });
}

const digestOf = (i: number) => `sha256:${i.toString(16).padStart(64, '0')}`;

function sbomOf(i: number, packages: Package[]): Sbom {
  return {
    schema: 'lading-sbom/1', createdAt: '2024-01-01T00:00:00.000Z', tool: { name: 'lading', version: 'bench' },
    source: {
      imageId: digestOf(i), manifestDigest: digestOf(i), mediaType: 'application/vnd.oci.image.manifest.v1+json', tags: [], registry: 'registry.example.com',
      repository: 'app', platform: { os: 'linux', architecture: 'amd64' },
      config: { env: [], entrypoint: null, cmd: null, user: '', workingDir: '', exposedPorts: [], volumes: [], labels: {} },
      layers: [], history: [], dockerfile: { mode: 'guessed', text: '' },
    },
    distro: { id: 'debian', versionId: '12', idLike: [], source: 'bench' },
    packages, files: [], secrets: [], contentMatches: [], retrievedFiles: [], warnings: [],
  } as unknown as Sbom;
}

/** Each image's SBOM, built from its package rows, stored as the catalog stores analyses (1,000 images at a time). */
export async function storeSboms(db: Kysely<Database>): Promise<void> {
  const range = await db.selectFrom('finding_images').select((eb) => [eb.fn.min('id').as('lo'), eb.fn.max('id').as('hi')]).executeTakeFirst();
  for (let lo = Number(range?.lo ?? 0); lo <= Number(range?.hi ?? -1); lo += 1000) {
    const rows = await db.selectFrom('finding_image_packages as p').innerJoin('finding_tuples as t', 't.id', 'p.tuple_id')
      .select(['p.image_id', 't.package']).where('p.image_id', '>=', lo).where('p.image_id', '<', lo + 1000).orderBy('p.image_id').execute();
    const byImage = new Map<number, Package[]>();
    for (const r of rows) {
      const t = JSON.parse(r.package) as TuplePackage;
      const p: Package = {
        name: t.name, version: t.version, type: t.type, purl: `pkg:deb/debian/${t.name}@${t.version}?distro=debian-12`, cpes: [], licenses: [],
        locations: [{ path: '/var/lib/dpkg/status', layer: 0 }], foundBy: 'dpkg', ...(t.sourceName ? { sourceName: t.sourceName } : {}),
        ...(t.sourceVersion ? { sourceVersion: t.sourceVersion } : {}),
      } as Package;
      const list = byImage.get(Number(r.image_id));
      if (list) list.push(p);
      else byImage.set(Number(r.image_id), [p]);
    }
    const values = [...byImage].map(([i, packages]) => ({
      account: ACCOUNT, image_digest: digestOf(i), sbom_gz: gzipSync(Buffer.from(JSON.stringify(sbomOf(i, packages)))), manifest: null, created_at: '2024-01-01T00:00:00.000Z',
    }));
    for (let k = 0; k < values.length; k += 200) await db.insertInto('catalog_analyses').values(values.slice(k, k + 200)).execute();
  }
}
