/**
 * The automatic evaluation as a durable job (composeRoot's evaluateBy 'queue'): storing an
 * analysis enqueues one `evaluate` job in the storing transaction and evaluates nothing itself;
 * the job's handler stores the evaluation and the summary row's verdict; on both databases.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { JobQueue, type Job } from '../queue/queue.js';
import { PermanentJobError, type HandlerContext } from '../queue/worker.js';
import { describeOnDatabases } from '../testkit/databases.js';
import { affected, deb, sbomOf, vuln } from '../vulns/testing.js';
import { EVALUATE_JOB, evaluateHandler } from './auto-evaluate.js';
import { composeImageStores, type ImageStores } from './root.js';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const tag = (t: string) => ({ registry: 'reg.test', repo: 'team/app', tag: t });
const packages = () => [deb('libssl3', '3.0.11-1~deb12u1', 'openssl')];
const context: HandlerContext = { signal: new AbortController().signal, heartbeat: async () => true, workerId: 'test' };

describeOnDatabases('automatic evaluation through the evaluate job', ({ db }) => {
  let s: ImageStores;
  let queue: JobQueue;
  const evals = async (d: string) => (await db().kysely.selectFrom('policy_evals').select('final_action').where('image_digest', '=', d).execute()).map((r) => r.final_action);
  const verdict = async (d: string) => (await db().kysely.selectFrom('image_summaries').select('verdict').where('image_digest', '=', d).executeTakeFirst())?.verdict;
  const jobsOf = async (d: string) => (await queue.list({ kind: EVALUATE_JOB })).filter((j) => (j.payload as { imageDigest: string }).imageDigest === d);

  before(async () => {
    s = composeImageStores(db(), { evaluateBy: 'queue' });
    queue = new JobQueue(db());
    await s.vulndb.apply('debian', {
      full: true,
      batches: [{
        vulnerabilities: [vuln({ id: 'CVE-2024-1', source: 'debian', severity: 'High' })],
        affected: [affected({ vulnId: 'CVE-2024-1', name: 'openssl', fixedVersions: ['3.0.15-1~deb12u1'], severity: 'High' })],
      }],
    }, { kind: 'sync' });
  });

  test('storing an analysis queues one job; the worker\'s handler evaluates and sets the verdict', async () => {
    const d = digest('1');
    await s.catalog.addImage('a', { imageDigest: d, tag: tag('v1') });
    await s.catalog.saveAnalysis('a', d, sbomOf(packages(), undefined, d));
    assert.deepEqual(await evals(d), [], 'nothing evaluated in the storing call');
    assert.equal(await verdict(d), null);
    await s.catalog.saveAnalysis('a', d, sbomOf(packages(), undefined, d));
    const queued = await jobsOf(d);
    assert.deepEqual(queued.map((j) => [j.state, j.key]), [['queued', `a/${d}`]], 'one unfinished job per image');

    const job = await queue.claim('test-worker', [EVALUATE_JOB], 60_000);
    assert.ok(job);
    assert.deepEqual(await evaluateHandler(s.evaluation)(job, context), { evaluations: 1 });
    assert.deepEqual(await evals(d), ['stop'], 'the default bundle stops a High finding with a fix');
    assert.equal(await verdict(d), 'fail');
  });

  test('the job is part of the storing transaction: a failed store queues nothing', async () => {
    const d = digest('2');
    const failing = composeImageStores(db(), { evaluateBy: 'queue' });
    failing.lifecycle.inTransaction('analysisStored', async () => {
      throw new Error('refused');
    });
    await failing.catalog.addImage('a', { imageDigest: d, tag: tag('v2') });
    await assert.rejects(failing.catalog.saveAnalysis('a', d, sbomOf(packages(), undefined, d)), /refused/);
    assert.deepEqual(await jobsOf(d), []);
  });

  test('a job whose payload is not an image fails for good, with the reason', async () => {
    const job = { id: 7, kind: EVALUATE_JOB, payload: { account: 'a' } } as Job;
    await assert.rejects(evaluateHandler(s.evaluation)(job, context), (e: unknown) => e instanceof PermanentJobError && /payload is not \{account, imageDigest\}/.test(e.message));
  });

  test('auto_evaluate false queues nothing', async () => {
    const d = digest('3');
    const off = composeImageStores(db(), { evaluateBy: 'queue', autoEvaluate: false });
    await off.catalog.addImage('a', { imageDigest: d, tag: tag('v3') });
    await off.catalog.saveAnalysis('a', d, sbomOf(packages(), undefined, d));
    assert.deepEqual(await jobsOf(d), []);
  });
});
