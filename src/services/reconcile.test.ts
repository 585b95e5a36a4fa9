/**
 * The analysis reconciler on SQLite and on a real PostgreSQL: one pass against planted states
 * (a lost job, a live lease, an expired lease, no job, a finished job, a job failed for good,
 * finished images, an account being deleted), two passes at once from two connections, and the
 * periodic task inside a running service recovering a lost job and a stuck image end to end.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { DatabaseHandle } from '../store/db.js';
import { describeOnDatabases } from '../testkit/databases.js';
import { AccountStore } from '../store/accounts.js';
import { JobQueue, type Job } from '../queue/queue.js';
import { buildImage } from '../testkit/images.js';
import { pushImage } from '../testkit/registry.js';
import { ADMIN, FAST_HASH, describeService, waitAnalyzed } from '../testkit/service.js';
import { ANALYZE_JOB, analysisJobKey, enqueueAnalysis } from './analyzer.js';
import { CatalogStore } from '../store/catalog.js';
import { reconcileAnalyses } from './reconcile.js';

const ACCOUNT = 'acme';
const TAG = { registry: 'registry.example:5000', repo: 'team/app', tag: 'v1' };
const FULLTAG = 'registry.example:5000/team/app:v1';

let digestCounter = 0;
const nextDigest = () => `sha256:${(++digestCounter).toString(16).padStart(64, '0')}`;

describeOnDatabases('reconcile', ({ db, openAnother }) => {
  let handle: DatabaseHandle;
  let catalog: CatalogStore;
  let queue: JobQueue;
  let accounts: AccountStore;
  let now = Date.parse('2030-01-01T00:00:00.000Z');

  before(async () => {
    handle = db();
    catalog = new CatalogStore(handle.kysely);
    queue = new JobQueue(handle, { clock: () => now, reapIntervalMs: 0 });
    accounts = new AccountStore(handle.kysely, FAST_HASH);
    await accounts.createAccount({ name: ACCOUNT });
  });

  const addImage = async (account = ACCOUNT): Promise<string> => {
    const imageDigest = nextDigest();
    await catalog.addImage(account, { imageDigest, tag: TAG });
    return imageDigest;
  };
  const status = async (digest: string, account = ACCOUNT) => (await catalog.getImage(account, digest))!;
  const jobsOf = async (digest: string, account = ACCOUNT): Promise<Job[]> =>
    (await queue.list({ kind: ANALYZE_JOB, limit: 10_000 })).filter((j) => j.key === analysisJobKey(account, digest));
  const unfinished = async (digest: string, account = ACCOUNT) => (await jobsOf(digest, account)).filter((j) => j.state === 'queued' || j.state === 'running');
  /** Claim this job as `worker`, finishing any older ones queued by earlier tests. */
  const claimJob = async (id: number, worker: string, leaseMs: number): Promise<Job> => {
    for (;;) {
      const job = await queue.claim(worker, [ANALYZE_JOB], leaseMs);
      assert.ok(job, `job ${id} is claimable`);
      if (job.id === id) return job;
      await queue.complete(job);
    }
  };
  /** Enqueued, claimed by w1 and marked analyzing, as the analyzer does. */
  const analyzing = async (leaseMs: number, maxAttempts?: number): Promise<{ digest: string; job: Job }> => {
    const digest = await addImage();
    const queued = await enqueueAnalysis(queue, { account: ACCOUNT, imageDigest: digest, fulltag: FULLTAG }, maxAttempts);
    const job = await claimJob(queued.id, 'w1', leaseMs);
    await catalog.setStatus(ACCOUNT, digest, 'analyzing');
    return { digest, job };
  };
  const pass = async () => {
    const r = await reconcileAnalyses({ catalog, accounts }, queue, { maxAttempts: 3 });
    return { enqueued: new Set(r.enqueued), reset: new Set(r.reset), failed: new Set(r.failed) };
  };

  test('a not_analyzed image without a job gets one, once', async () => {
    const digest = await addImage();
    const key = analysisJobKey(ACCOUNT, digest);
    const r = await pass();
    assert.ok(r.enqueued.has(key));
    const jobs = await jobsOf(digest);
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]!.state, 'queued');
    assert.equal(jobs[0]!.maxAttempts, 3);
    assert.deepEqual(jobs[0]!.payload, { account: ACCOUNT, imageDigest: digest, fulltag: FULLTAG });
    assert.ok(!(await pass()).enqueued.has(key), 'a second pass leaves the queued job alone');
    assert.equal((await jobsOf(digest)).length, 1);
    assert.equal((await status(digest)).analysisStatus, 'not_analyzed');
  });

  test('two passes at once, from two connections, queue one job per image', async () => {
    const digests = [await addImage(), await addImage(), await addImage(), await addImage()];
    const other = await openAnother();
    try {
      const q2 = new JobQueue(other, { clock: () => now });
      const others = { catalog: new CatalogStore(other.kysely), accounts: new AccountStore(other.kysely, FAST_HASH) };
      await Promise.all([reconcileAnalyses({ catalog, accounts }, queue), reconcileAnalyses(others, q2), reconcileAnalyses({ catalog, accounts }, queue)]);
    } finally {
      await other.close();
    }
    for (const d of digests) assert.equal((await jobsOf(d)).length, 1, `one job for ${d}`);
  });

  test('an analyzing image whose worker holds the lease is left alone', async () => {
    const { digest, job } = await analyzing(60_000);
    now += 30_000;
    const r = await pass();
    assert.ok(!r.reset.has(analysisJobKey(ACCOUNT, digest)));
    assert.equal((await status(digest)).analysisStatus, 'analyzing');
    assert.deepEqual((await unfinished(digest)).map((j) => [j.id, j.state]), [[job.id, 'running']]);
    now += 31_000; // let later tests see it expired, not held
  });

  test('lease expired: reset to not_analyzed; the same job is taken again by another worker', async () => {
    const { digest, job } = await analyzing(10_000);
    now += 10_001;
    const r = await pass();
    assert.ok(r.reset.has(analysisJobKey(ACCOUNT, digest)));
    assert.equal((await status(digest)).analysisStatus, 'not_analyzed');
    assert.deepEqual((await jobsOf(digest)).map((j) => j.id), [job.id], 'no second job: the queue gives the same one back');
    const again = await claimJob(job.id, 'w2', 10_000);
    assert.equal(again.attempts, 2);
    assert.equal(again.leaseOwner, 'w2');
    assert.match(again.lastError ?? '', /lease of w1 expired/);
    await queue.complete(again);
  });

  test('analyzing with no job at all: reset and queued', async () => {
    const digest = await addImage();
    await catalog.setStatus(ACCOUNT, digest, 'analyzing');
    const r = await pass();
    assert.ok(r.reset.has(analysisJobKey(ACCOUNT, digest)));
    assert.equal((await status(digest)).analysisStatus, 'not_analyzed');
    const jobs = await unfinished(digest);
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]!.state, 'queued');
    assert.equal((jobs[0]!.payload as { fulltag: string }).fulltag, FULLTAG);
  });

  test('analyzing after its job finished without marking the image: reset and a new job', async () => {
    const { digest, job } = await analyzing(10_000);
    assert.ok(await queue.complete(job, { status: 'lost-track' }));
    const r = await pass();
    assert.ok(r.reset.has(analysisJobKey(ACCOUNT, digest)));
    const jobs = await jobsOf(digest);
    assert.deepEqual(jobs.map((j) => j.state).sort(), ['done', 'queued']);
    assert.notEqual(jobs.find((j) => j.state === 'queued')!.id, job.id);
  });

  test('analyzing after its last attempt died: analysis_failed with the reason, not retried', async () => {
    const { digest } = await analyzing(5_000, 1);
    now += 5_001;
    assert.ok((await queue.reapExpired()) >= 1);
    assert.equal((await jobsOf(digest))[0]!.state, 'failed');
    const r = await pass();
    assert.ok(r.failed.has(analysisJobKey(ACCOUNT, digest)));
    const img = await status(digest);
    assert.equal(img.analysisStatus, 'analysis_failed');
    assert.match(img.analysisError ?? '', /^analysis job \d+ failed after 1 attempt\(s\): lease of w1 expired at /);
    const again = await pass();
    assert.ok(!again.failed.has(analysisJobKey(ACCOUNT, digest)) && !again.enqueued.has(analysisJobKey(ACCOUNT, digest)));
    assert.equal((await unfinished(digest)).length, 0);
  });

  test('analyzed and analysis_failed images, and images of an account being deleted, are left alone', async () => {
    const done = await addImage();
    await catalog.setStatus(ACCOUNT, done, 'analyzed');
    const bad = await addImage();
    await catalog.setStatus(ACCOUNT, bad, 'analysis_failed', 'manifest unknown');
    await accounts.createAccount({ name: 'leaving' });
    const leaving = await addImage('leaving');
    const stuck = await addImage('leaving');
    await catalog.setStatus('leaving', stuck, 'analyzing');
    await accounts.deleteAccount('leaving');
    const r = await pass();
    for (const [account, d] of [[ACCOUNT, done], [ACCOUNT, bad], ['leaving', leaving], ['leaving', stuck]] as const) {
      const key = analysisJobKey(account, d);
      assert.ok(!r.enqueued.has(key) && !r.reset.has(key) && !r.failed.has(key), key);
      assert.equal((await jobsOf(d, account)).length, 0, key);
    }
    assert.equal((await status(bad)).analysisError, 'manifest unknown');
    assert.equal((await status(stuck, 'leaving')).analysisStatus, 'analyzing');
  });
});

const image = buildImage({
  layers: [{ entries: [
    { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
    { type: 'file', path: 'var/lib/dpkg/status', content: 'Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:1.2.13.dfsg-1\n' },
  ] }],
});

describeService('reconciler in the service', { registry: true, start: { reconcileMs: 200 } }, (h) => {
  before(async () => pushImage(h().registry!.host, 'team/lost', 'v1', image));

  test('an image whose job was lost is analyzed; one left analyzing with no worker is analyzed again', async () => {
    const { svc, api, registry } = h();
    // recorded as the API does, but its job never queued
    await svc.catalog.addImage('admin', { imageDigest: image.manifestDigest, tag: { registry: registry!.host, repo: 'team/lost', tag: 'v1' } });
    const img = await waitAnalyzed(api, image.manifestDigest, ADMIN, 20_000);
    assert.equal(img.image_content.metadata.distro, 'debian');
    const key = analysisJobKey('admin', image.manifestDigest);
    const jobsOf = async () => (await svc.queue.list({ kind: ANALYZE_JOB })).filter((j) => j.key === key);
    // The image reads analyzed once the analysis commits; the worker records its job done just after.
    const settle = Date.now() + 20_000;
    while ((await jobsOf()).some((j) => j.state === 'running') && Date.now() < settle) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual((await jobsOf()).map((j) => [j.state, j.attempts]), [['done', 1]]);

    // a worker that died after its job was purged: the image says analyzing, nothing runs it
    await svc.catalog.setStatus('admin', image.manifestDigest, 'analyzing');
    const deadline = Date.now() + 20_000;
    while ((await jobsOf()).length < 2) {
      assert.ok(Date.now() < deadline, 'the stuck image was queued again');
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitAnalyzed(api, image.manifestDigest, ADMIN, 20_000);
    while ((await jobsOf()).some((j) => j.state !== 'done')) {
      assert.ok(Date.now() < deadline, `both jobs done: ${JSON.stringify((await jobsOf()).map((j) => j.state))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await jobsOf()).length, 2, 'one new job, however many cycles ran');
  });
});
