/**
 * The outbox figures of the findings bench (bench/findings.ts): after the 1% change, how long
 * until the `vuln_update` notifications are queued and the policy verdicts are current, through
 * the service's own path (services/freshness.ts rematchFindings: the re-match writing its outbox,
 * then services/finding-changes.ts delivering it). Every image has its SBOM stored and a stored
 * evaluation as its tag (so each is re-evaluated when its findings change), every 10th tag an
 * active vuln_update subscription; webhooks point at a closed port (notifications are only queued).
 */
import { gzipSync } from 'node:zlib';
import { sql, type Kysely } from 'kysely';
import { loadConfig } from '../config/load.js';
import type { DatabaseHandle } from '../store/db.js';
import type { Database } from '../store/schema.js';
import { rematchFindings } from '../services/freshness.js';
import { composeRoot } from '../services/root.js';
import { ACCOUNT, applyFeed, digestSql, storeSboms } from './findings-data.js';

const TAG = sql.raw(`'registry.example.com/team' || (i % 50) || '/app' || (i % 500) || ':v' || i`);
export const SUBSCRIBED_EVERY = 10;

/** SBOMs, one stored evaluation per image (as its tag, under the active default bundle), vuln_update subscriptions on every 10th tag. */
async function prepare(db: Kysely<Database>, n: number, policyId: string): Promise<void> {
  await storeSboms(db);
  const doc = gzipSync(Buffer.from('{}'));
  await sql`insert into policy_evals (account, eval_id, image_digest, tag, policy_id, final_action, status, doc_gz, created_at)
    select ${ACCOUNT}, 'bench-' || i, ${digestSql('i')}, ${TAG}, ${policyId}, case when i % 3 = 0 then 'stop' else 'warn' end,
      case when i % 3 = 0 then 'fail' else 'pass' end, ${doc}, '2024-01-01T00:00:00.000Z' from generate_series(1, ${n}) i`.execute(db);
  await sql`insert into subscriptions (account, subscription_id, subscription_type, subscription_key, subscription_value, active, created_at, last_updated)
    select ${ACCOUNT}, 'bench-' || i, 'vuln_update', ${TAG}, null, 1, '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z'
    from generate_series(1, ${n}) i where i % ${SUBSCRIBED_EVERY} = 0`.execute(db);
  await sql`analyze`.execute(db);
}

const count = async (db: Kysely<Database>, q: string) => Number((await sql.raw<{ n: string }>(q).execute(db)).rows[0]!.n);

/** The 1% change once more, through rematchFindings: re-match with its outbox, then delivery; lines to print. */
export async function outboxFigures(handle: DatabaseHandle, n: number, peak: { reset(): void; read(): number }): Promise<string[]> {
  const db = handle.kysely;
  const config = loadConfig({ yaml: '', env: {}, overrides: { webhooks: { url: 'http://127.0.0.1:9/hook' } } });
  const root = composeRoot(handle, { config, role: 'bench', hostId: 'bench' });
  await root.policies.ensureDefaultBundle(ACCOUNT);
  const policyId = (await root.policies.getBundle(ACCOUNT))!.policyId;
  await prepare(db, n, policyId);
  const evals0 = await count(db, 'select count(*) as n from policy_evals');
  await applyFeed(root.vulndb, true);
  peak.reset();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let committed = 0;
  const marks: Record<string, number> = {};
  const r = await rematchFindings(root, {
    afterCommit: async () => { committed = performance.now() - t0; },
    onProgress: (phase) => { marks[phase] = performance.now() - t0; },
  });
  const total = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const notifications = await count(db, "select count(*) as n from notifications where type = 'vuln_update'");
  const events = await count(db, "select count(*) as n from events where type = 'user.checks.tag.vulnerabilities.update'");
  const evals = (await count(db, 'select count(*) as n from policy_evals')) - evals0;
  const s = (ms: number | undefined) => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);
  return [
    `  outbox path (services/freshness.ts rematchFindings), the 1% change again: re-match with its outbox committed ${s(committed)}; `
      + `notifications queued ${s(marks.announced ?? total)}; verdicts current ${s(marks.evaluated ?? total)}; all done ${s(total)}; `
      + `bench process CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms; peak RSS ${Math.round(peak.read() / 2 ** 20)} MB`,
    `    ${r.images} images' counts moved, ${r.delivered} outbox rows delivered, ${notifications} vuln_update notifications (every ${SUBSCRIBED_EVERY}th tag subscribed), `
      + `${events} vuln_update events, ${evals} evaluations stored (${r.evaluations} re-done, ${r.flipped} flipped${'skipped' in r ? `, ${String(r.skipped)} skipped` : ''})`,
  ];
}
