import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { openVulnDb } from '../store/db.js';
import { startHttpServer, type RunningServer } from '../testkit/registry.js';
import type { FeedDriver, SyncContext } from './driver.js';
import type { Affected, FeedBatch, Vulnerability } from './model.js';
import { syncSource } from './sync.js';
import type { VulnDb } from './vulndb.js';

const vuln = (id: string, extra: Partial<Vulnerability> = {}): Vulnerability => ({ id, source: 'osv', aliases: [], cvss: [], references: [], ...extra });

/** Batches as the driver contract wants them: an async iterable. */
async function* from<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}
const aff = (vulnId: string, name: string): Affected => ({
  vulnId, source: 'osv', namespace: 'npm', name, nameKind: 'binary', scheme: 'semver', ranges: [{ introduced: '0', fixed: '1.0.0' }], versions: [], state: 'fixed', fixedVersions: ['1.0.0'],
});

/** What the test server serves at each path, and every request it saw. */
interface Served { body: string; etag?: boolean; lastModified?: string; status?: number; headers?: Record<string, string> }
let files: Record<string, Served> = {};
let failures: Record<string, { status: number; headers?: Record<string, string> }[]> = {};
let seen: { path: string; headers: IncomingMessage['headers'] }[] = [];
let server: RunningServer;
let base: string;
let dir: string;
let db: VulnDb;
const fast = { retryBaseMs: 5, retryMaxDelayMs: 3000 };

function handler(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0]!;
  seen.push({ path, headers: req.headers });
  const fail = failures[path]?.shift();
  if (fail) {
    res.writeHead(fail.status, fail.headers ?? {});
    return void res.end('failing on purpose');
  }
  if (path === '/moved') {
    res.writeHead(302, { location: '/feed.json' });
    return void res.end();
  }
  const f = files[path];
  if (!f) {
    res.writeHead(404);
    return void res.end('no such file');
  }
  const etag = f.etag ? `"${createHash('sha256').update(f.body).digest('hex').slice(0, 16)}"` : undefined;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(f.headers ?? {}) };
  if (etag) headers.etag = etag;
  if (f.lastModified) headers['last-modified'] = f.lastModified;
  if ((etag && req.headers['if-none-match'] === etag) || (f.lastModified && req.headers['if-modified-since'] === f.lastModified)) {
    res.writeHead(304, headers);
    return void res.end();
  }
  res.writeHead(f.status ?? 200, headers);
  res.end(f.body);
}

interface FeedDoc { version: string; vulnerabilities: Vulnerability[]; affected: Affected[] }
const doc = (version: string, vulnerabilities: Vulnerability[], affected: Affected[]) => JSON.stringify({ version, vulnerabilities, affected });

/**
 * A small driver over one JSON document at `${baseUrl}${path}`: full on 200, nothing on 304.
 * `explodeAfter` makes its batch stream throw after that many batches.
 */
function jsonDriver(opts: { path?: string; explodeAfter?: number; emptyFullOn304?: boolean; maxBytes?: number; onCtx?: (ctx: SyncContext) => void } = {}): FeedDriver {
  return {
    id: 'osv',
    description: 'test feed',
    async sync(ctx) {
      opts.onCtx?.(ctx);
      const res = await ctx.get(`${ctx.baseUrl}${opts.path ?? '/feed.json'}`, opts.maxBytes ? { maxBytes: opts.maxBytes } : {});
      if (res.notModified) return { full: opts.emptyFullOn304 === true, batches: from<FeedBatch>([]) };
      const d = JSON.parse(res.body.toString('utf8')) as FeedDoc;
      ctx.setState('version', d.version);
      async function* batches(): AsyncGenerator<FeedBatch> {
        const list: FeedBatch[] = [{ vulnerabilities: d.vulnerabilities }, { affected: d.affected }];
        for (let i = 0; i < list.length; i++) {
          if (opts.explodeAfter === i) throw new Error('parser blew up on page 2');
          yield list[i]!;
        }
      }
      return { full: true, batches: batches() };
    },
    detect: () => false,
    importPath: async () => { throw new Error('not used'); },
  };
}

before(async () => {
  server = await startHttpServer(handler);
  base = `http://${server.host}`;
  dir = await mkdtemp(join(tmpdir(), 'lading-sync-'));
});
after(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});
let n = 0;
beforeEach(async () => {
  files = {};
  failures = {};
  seen = [];
  await db?.close();
  db = await openVulnDb(join(dir, `s${++n}.db`));
});
after(async () => db?.close());

test('conditional GET: the second sync sends If-None-Match, gets 304 and keeps the data; a change is fetched again', async () => {
  files['/feed.json'] = { body: doc('v1', [vuln('A')], [aff('A', 'left-pad')]), etag: true };
  const r1 = await syncSource(db, jsonDriver(), { baseUrl: base, http: fast });
  assert.equal(r1.ok, true, r1.error);
  assert.equal(r1.notModified, false);
  assert.deepEqual([r1.applied?.vulnerabilities, r1.applied?.affected, r1.requests], [1, 1, 1]);
  assert.equal(seen[0]!.headers['if-none-match'], undefined);
  const st1 = (await db.syncState('osv'))!;
  assert.deepEqual(st1.cursor, { version: 'v1' });
  assert.match(st1.validators[`${base}/feed.json`]!.etag!, /^"[0-9a-f]{16}"$/);

  const r2 = await syncSource(db, jsonDriver(), { baseUrl: base, http: fast });
  assert.equal(r2.ok, true, r2.error);
  assert.equal(r2.notModified, true);
  assert.equal(seen[1]!.headers['if-none-match'], st1.validators[`${base}/feed.json`]!.etag);
  assert.equal((await db.affected('npm', 'left-pad')).length, 1);
  const st2 = (await db.syncState('osv'))!;
  assert.deepEqual(st2.validators, st1.validators, 'a 304 keeps the validators');
  assert.deepEqual(st2.cursor, { version: 'v1' });

  // a driver that answers a 304 with an empty "full" update is a no-op, not a wipe
  const r3 = await syncSource(db, jsonDriver({ emptyFullOn304: true }), { baseUrl: base, http: fast });
  assert.equal(r3.ok, true, r3.error);
  assert.equal((await db.affected('npm', 'left-pad')).length, 1);

  files['/feed.json'] = { body: doc('v2', [vuln('B')], [aff('B', 'right-pad')]), etag: true };
  const r4 = await syncSource(db, jsonDriver(), { baseUrl: base, http: fast });
  assert.equal(r4.ok, true, r4.error);
  assert.equal(r4.notModified, false);
  assert.deepEqual(await db.affected('npm', 'left-pad'), []);
  assert.equal((await db.affected('npm', 'right-pad')).length, 1);
  assert.deepEqual((await db.syncState('osv'))!.cursor, { version: 'v2' });
});

test('Last-Modified becomes If-Modified-Since; conditional:false and a followed redirect', async () => {
  const lm = 'Wed, 21 Oct 2015 07:28:00 GMT';
  files['/feed.json'] = { body: doc('v1', [vuln('A')], []), lastModified: lm };
  assert.equal((await syncSource(db, jsonDriver({ path: '/moved' }), { baseUrl: base, http: fast })).ok, true);
  assert.deepEqual(seen.map((s) => s.path), ['/moved', '/feed.json']);
  assert.deepEqual((await db.syncState('osv'))!.validators, { [`${base}/moved`]: { lastModified: lm } }, 'validators are kept under the URL the driver asked for');
  const r = await syncSource(db, jsonDriver({ path: '/moved' }), { baseUrl: base, http: fast });
  assert.equal(r.notModified, true);
  assert.equal(seen[2]!.headers['if-modified-since'], lm);
  // a driver may ask for an unconditional GET
  const unconditional: FeedDriver = {
    ...jsonDriver(),
    async sync(ctx) {
      const res = await ctx.get(`${ctx.baseUrl}/moved`, { conditional: false, headers: { accept: 'application/json' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers['content-type'], 'application/json');
      return { full: false, batches: from<FeedBatch>([]) };
    },
  };
  assert.equal((await syncSource(db, unconditional, { baseUrl: base, http: fast })).ok, true);
  assert.equal(seen[4]!.headers['if-modified-since'], undefined);
  assert.equal(seen[4]!.headers.accept, 'application/json');
});

test('503 and 429 are retried with backoff, honouring Retry-After', async () => {
  files['/feed.json'] = { body: doc('v1', [vuln('A')], []) };
  failures['/feed.json'] = [{ status: 503 }, { status: 503 }];
  const r = await syncSource(db, jsonDriver(), { baseUrl: base, http: fast });
  assert.equal(r.ok, true, r.error);
  assert.equal(seen.length, 3);

  seen = [];
  failures['/feed.json'] = [{ status: 429, headers: { 'retry-after': '1' } }];
  const t0 = Date.now();
  const r2 = await syncSource(db, jsonDriver(), { baseUrl: base, http: fast });
  assert.equal(r2.ok, true, r2.error);
  assert.equal(seen.length, 2);
  assert.ok(Date.now() - t0 >= 900, `waited ${Date.now() - t0} ms`);

  // still failing after every attempt: a failed sync, data kept
  seen = [];
  failures['/feed.json'] = Array.from({ length: 10 }, () => ({ status: 500 }));
  const r3 = await syncSource(db, jsonDriver(), { baseUrl: base, http: { ...fast, maxAttempts: 3 } });
  assert.equal(r3.ok, false);
  assert.match(r3.error!, /osv: GET http:\/\/127\.0\.0\.1:\d+\/feed\.json: HTTP 500 \(failing on purpose\)/);
  assert.equal(seen.length, 3);
  assert.equal((await db.vulnerabilities(['A'])).length, 1);
});

test('a bad record is skipped with a warning; the rest is applied', async () => {
  const bad = { ...vuln('BAD'), cvss: [{ source: 'x', version: '3.1', vector: 'v', baseScore: 'high' }] } as unknown as Vulnerability;
  files['/feed.json'] = { body: doc('v1', [vuln('A'), bad], [aff('A', 'x'), { ...aff('A', 'y'), nameKind: 'both' } as unknown as Affected]) };
  const told: string[] = [];
  let ctxWarned = false;
  const r = await syncSource(db, jsonDriver({ onCtx: (ctx) => { ctx.warn('note from the driver'); ctxWarned = true; } }), { baseUrl: base, http: fast, warn: (m) => told.push(m) });
  assert.equal(r.ok, true, r.error);
  assert.ok(ctxWarned);
  assert.equal(r.applied!.skipped, 2);
  assert.equal(r.warningCount, 3);
  assert.deepEqual(r.warnings, told);
  assert.equal(told[0], 'osv: note from the driver');
  assert.match(told[1]!, /^osv: skipped vulnerability "BAD": each cvss entry needs/);
  assert.match(told[2]!, /^osv: skipped affected record of "A" for "npm"\/"y": nameKind/);
  assert.deepEqual((await db.vulnerabilities(['A', 'BAD'])).map((v) => v.id), ['A']);
  assert.equal((await db.affected('npm', 'x')).length, 1);
  const st = (await db.status())[0]!;
  assert.deepEqual([st.status, st.warnings, st.records], ['ok', 2, 2]);
});

test('a driver throwing mid-sync: status failed with the error; data, cursor and validators as before', async () => {
  files['/feed.json'] = { body: doc('v1', [vuln('A')], [aff('A', 'x')]), etag: true };
  assert.equal((await syncSource(db, jsonDriver(), { baseUrl: base, http: fast })).ok, true);
  const before = (await db.syncState('osv'))!;
  files['/feed.json'] = { body: doc('v2', [vuln('B')], [aff('B', 'x')]), etag: true };
  const r = await syncSource(db, jsonDriver({ explodeAfter: 1 }), { baseUrl: base, http: fast });
  assert.equal(r.ok, false);
  assert.equal(r.error, 'parser blew up on page 2');
  assert.equal(r.applied, undefined);
  const after = (await db.syncState('osv'))!;
  assert.deepEqual([after.status, after.error], ['failed', 'parser blew up on page 2']);
  assert.deepEqual([after.lastSuccess, after.cursor, after.validators, after.records], [before.lastSuccess, { version: 'v1' }, before.validators, before.records]);
  assert.notEqual(after.lastSync, before.lastSync);
  assert.deepEqual((await db.affected('npm', 'x')).map((a) => a.vulnId), ['A']);
  // sync throwing before yielding anything, too
  const early: FeedDriver = { ...jsonDriver(), sync: async () => { throw new Error('no index page'); } };
  const r2 = await syncSource(db, early, { baseUrl: base, http: fast });
  assert.deepEqual([r2.ok, r2.error], [false, 'no index page']);
  const s = (await db.status())[0]!;
  assert.deepEqual([s.status, s.error, s.records], ['failed', 'no index page', 2]);
  // the next good sync clears the failure (and sees the stored validators were not advanced)
  const r3 = await syncSource(db, jsonDriver(), { baseUrl: base, http: fast });
  assert.equal(r3.ok, true, r3.error);
  assert.equal(r3.notModified, false);
  assert.deepEqual((await db.affected('npm', 'x')).map((a) => a.vulnId), ['B']);
  assert.deepEqual([(await db.status())[0]!.status, (await db.status())[0]!.error], ['ok', undefined]);
});

test('404, an oversized response and an abort fail the sync cleanly', async () => {
  const r = await syncSource(db, jsonDriver({ path: '/missing.json' }), { baseUrl: base, http: fast });
  assert.equal(r.ok, false);
  assert.match(r.error!, /missing\.json: HTTP 404 \(no such file\)/);
  files['/feed.json'] = { body: doc('v1', [vuln('A', { description: 'x'.repeat(5000) })], []) };
  const r2 = await syncSource(db, jsonDriver({ maxBytes: 1000 }), { baseUrl: base, http: fast });
  assert.equal(r2.ok, false);
  assert.match(r2.error!, /over the limit of 1000/);
  const r3 = await syncSource(db, jsonDriver(), { baseUrl: base, http: fast, maxBytes: 1000 });
  assert.match(r3.error!, /over the limit of 1000/);
  const ac = new AbortController();
  ac.abort(new Error('user pressed ^C'));
  const r4 = await syncSource(db, jsonDriver(), { baseUrl: base, http: fast, signal: ac.signal });
  assert.equal(r4.ok, false);
  assert.match(r4.error!, /aborted \(user pressed \^C\)/);
  assert.equal((await db.syncState('osv'))!.status, 'failed');
  assert.deepEqual(await db.vulnerabilities(['A']), []);
});

test('the driver sees the previous cursor; setState is saved only when the sync commits', async () => {
  files['/feed.json'] = { body: doc('v1', [vuln('A')], []) };
  let state: Record<string, string> | undefined;
  const d = jsonDriver({ onCtx: (ctx) => { state = { ...ctx.state }; ctx.setState('extra', String(ctx.state.version ?? 'none')); } });
  await syncSource(db, d, { baseUrl: base, http: fast });
  assert.deepEqual(state, {});
  assert.deepEqual((await db.syncState('osv'))!.cursor, { extra: 'none', version: 'v1' });
  files['/feed.json'] = { body: doc('v2', [vuln('A')], []) };
  await syncSource(db, jsonDriver({ explodeAfter: 0, onCtx: (ctx) => ctx.setState('extra', 'lost') }), { baseUrl: base, http: fast });
  assert.deepEqual((await db.syncState('osv'))!.cursor, { extra: 'none', version: 'v1' });
  await syncSource(db, d, { baseUrl: base, http: fast });
  assert.deepEqual(state, { extra: 'none', version: 'v1' });
  assert.deepEqual((await db.syncState('osv'))!.cursor, { extra: 'v1', version: 'v2' });
});
