import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isLadingError } from '../../errors.js';
import type { FeedDriver } from '../../feeds/driver.js';
import type { Vulnerability } from '../../feeds/model.js';
import { startHttpServer, type RunningServer } from '../../testkit/registry.js';
import { alpineDriver } from '../../feeds/drivers/alpine.js';
import { dbCommand, humanAge, resolveDbLocation } from './db.js';

const SECDB = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'feeds', 'drivers', 'testdata', 'alpine-secdb-2020');

const vuln = (id: string, source: string): Vulnerability => ({ id, source, aliases: [], cvss: [], references: [] });

/** Batches as the driver contract wants them: an async iterable. */
async function* from<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

/** A test-only driver: GET `${baseUrl}/<id>.txt`, one vulnerability id per line; `#<id>` files import offline. */
function lineDriver(id: 'osv' | 'nvd'): FeedDriver {
  const parse = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  return {
    id,
    description: `test ${id}`,
    async sync(ctx) {
      const res = await ctx.get(`${ctx.baseUrl ?? 'http://127.0.0.1:9'}/${id}.txt`);
      if (res.notModified) return { full: false, batches: from([]) };
      return { full: true, batches: from([{ vulnerabilities: parse(res.body.toString()).map((v) => vuln(v, id)) }]) };
    },
    detect: (_p, head) => head.toString().startsWith(`#${id}`),
    async importPath(path) {
      return { full: true, batches: from([{ vulnerabilities: parse(await readFile(path, 'utf8')).map((v) => vuln(v, id)) }]) };
    },
  };
}

const DRIVERS = { osv: lineDriver('osv'), nvd: lineDriver('nvd') };
let served: Record<string, string> = {};
let server: RunningServer;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-cli-db-'));
  server = await startHttpServer((req, res) => {
    const body = served[req.url ?? ''];
    if (body === undefined) {
      res.writeHead(404);
      return void res.end('gone');
    }
    const etag = `"${body.length}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag });
      return void res.end();
    }
    res.writeHead(200, { etag });
    res.end(body);
  });
});
after(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[], env: Record<string, string | undefined> = {}, drivers: Record<string, FeedDriver> = DRIVERS): Promise<{ out: string; err: string; error?: unknown }> {
  let out = '';
  let err = '';
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const cmd = dbCommand(async () => drivers, { out: (t) => void (out += t), err: (t) => void (err += t) });
  cmd.exitOverride();
  for (const sub of cmd.commands) sub.exitOverride().configureOutput({ writeOut: (t) => void (out += t), writeErr: (t) => void (err += t) });
  try {
    await cmd.parseAsync(args, { from: 'user' });
    return { out, err };
  } catch (error) {
    return { out, err, error };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

test('db path: --db, then LADING_DB_URL (password hidden), then LADING_DATA_DIR', async () => {
  assert.equal((await run(['path', '--db', join(dir, 'x.db')])).out, `${join(dir, 'x.db')}\n`);
  assert.equal((await run(['--db', join(dir, 'y.db'), 'path'])).out, `${join(dir, 'y.db')}\n`);
  assert.equal((await run(['path'], { LADING_DB_URL: 'postgres://u:secret@db:5432/lading', LADING_DATA_DIR: dir })).out, 'postgres://u:***@db:5432/lading\n');
  assert.equal((await run(['path'], { LADING_DB_URL: undefined, LADING_DATA_DIR: join(dir, 'data') })).out, `${join(dir, 'data', 'lading.db')}\n`);
  assert.equal(resolveDbLocation(undefined, { XDG_DATA_HOME: '/xdg' }), '/xdg/lading/lading.db');
  assert.deepEqual([humanAge(5), humanAge(125), humanAge(7300), humanAge(200000), humanAge(undefined)], ['5s', '2m 5s', '2h 1m', '2d 7h', '-']);
});

test('db status before any data: says so, creates nothing', async () => {
  const file = join(dir, 'none', 'lading.db');
  const r = await run(['status', '--db', file]);
  assert.equal(r.error, undefined);
  assert.match(r.out, /No vulnerability data yet: run `lading db update` or `lading db import`/);
  assert.ok(!existsSync(file));
  const j = await run(['status', '--db', file, '-o', 'json']);
  assert.deepEqual(JSON.parse(j.out), { database: file, sources: [] });
  const bad = await run(['status', '--db', file, '-o', 'yaml']);
  assert.ok(bad.error);
});

test('db update syncs every source, reports each, and exits 2 (throws) after the others when one fails', async () => {
  const file = join(dir, 'u.db');
  served = { '/osv.txt': 'GHSA-1\nGHSA-2\n' };
  const base = `http://${server.host}`;
  const r = await run(['update', '--db', file, '--base-url', `osv=${base}`, '--base-url', `nvd=${base}`]);
  assert.ok(isLadingError(r.error), String(r.error));
  assert.match((r.error as Error).message, /1 of 2 sources failed: nvd \(their previous data is kept\)/);
  assert.match(r.out, /^osv: replaced, 2 vulnerabilities, 0 affected \(\d+\.\ds\)$/m);
  assert.match(r.out, /^nvd: FAILED after \d+\.\ds: nvd: GET http:\/\/127\.0\.0\.1:\d+\/nvd\.txt: HTTP 404 \(gone\)$/m);

  served['/nvd.txt'] = 'CVE-1\n';
  const r2 = await run(['update', '--db', file, '--source', 'nvd,osv', '--base-url', `osv=${base}`, '--base-url', `nvd=${base}`]);
  assert.equal(r2.error, undefined, String(r2.error));
  assert.match(r2.out, /^osv: not modified/m);
  assert.match(r2.out, /^nvd: replaced, 1 vulnerabilities/m);

  const s = await run(['status', '--db', file]);
  assert.match(s.out, /^Database: +.*u\.db$/m);
  assert.match(s.out, /^Schema: +1$/m);
  assert.match(s.out, /^SOURCE +KIND +RECORDS +VULNERABILITIES +AFFECTED +LAST SYNC +LAST SUCCESS +AGE +STATUS$/m);
  assert.match(s.out, /^nvd +sync +1 +1 +0 +\S+ +\S+ +\d+s +ok$/m);
  assert.match(s.out, /^osv +sync +2 +2 +0 +\S+ +\S+ +\d+s +ok$/m);
  const j = JSON.parse((await run(['status', '--db', file, '-o', 'json'])).out);
  assert.equal(j.schema, 1);
  assert.deepEqual(j.sources.map((x: { source: string; records: number; status: string }) => [x.source, x.records, x.status]), [['nvd', 1, 'ok'], ['osv', 2, 'ok']]);

  // a failure shows in status with its error; unknown sources and bad --base-url are usage errors
  delete served['/osv.txt'];
  await run(['update', '--db', file, '--source', 'osv', '--base-url', `osv=${base}`]);
  const s2 = await run(['status', '--db', file]);
  assert.match(s2.out, /^osv +sync +2 .* failed$/m);
  assert.match(s2.out, /^osv: last sync failed: .*HTTP 404/m);
  for (const [args, want] of [
    [['update', '--db', file, '--source', 'nope'], /unknown source "nope" \(known: nvd, osv\)/],
    [['update', '--db', file, '--base-url', 'osv'], /--base-url wants SOURCE=URL/],
    [['update', '--db', file, '--base-url', 'zzz=http://x'], /unknown source "zzz"/],
    [['update', '--db', file, '--base-url', 'osv=not a url'], /is not a URL/],
  ] as const) {
    const e = (await run([...args])).error;
    assert.ok(isLadingError(e), String(e));
    assert.match(e.message, want);
  }
});

test('db import (feed files), db export, and db import of the bundle into another database', async () => {
  const a = join(dir, 'a.db');
  const b = join(dir, 'b.db');
  await writeFile(join(dir, 'osv.txt'), '#osv\nGHSA-7\nGHSA-8\n');
  await writeFile(join(dir, 'nvd.txt'), 'CVE-9\n');
  const r = await run(['import', '--db', a, join(dir, 'osv.txt')]);
  assert.equal(r.error, undefined, String(r.error));
  assert.match(r.out, /osv\.txt: osv: replaced; 2 vulnerabilities, 0 affected\n/);
  const r2 = await run(['import', '--db', a, '--source', 'nvd', join(dir, 'nvd.txt')]);
  assert.equal(r2.error, undefined, String(r2.error));
  const r3 = await run(['import', '--db', a, join(dir, 'nvd.txt'), join(dir, 'osv.txt')]);
  assert.ok(isLadingError(r3.error));
  assert.match((r3.error as Error).message, /1 of 2 paths could not be imported/);
  assert.match(r3.out, /nvd\.txt: FAILED: cannot tell which feed/);

  const bundle = join(dir, 'export.lading.gz');
  const e = await run(['export', '--db', a, bundle]);
  assert.equal(e.error, undefined, String(e.error));
  assert.match(e.out, /^wrote .*export\.lading\.gz \(3 vulnerabilities, 0 affected, 0 KEV, 0 EPSS; [\d.]+ [kM]?B\)$/m);
  const i = await run(['import', '--db', b, bundle]);
  assert.equal(i.error, undefined, String(i.error));
  assert.match(i.out, /database replaced from the bundle \(3 vulnerabilities/);
  const sa = JSON.parse((await run(['status', '--db', a, '-o', 'json'])).out);
  const sb = JSON.parse((await run(['status', '--db', b, '-o', 'json'])).out);
  const noAge = (list: { ageSeconds?: number }[]) => list.map(({ ageSeconds: _a, ...rest }) => rest);
  assert.equal(sa.sources.length, 2);
  assert.deepEqual(noAge(sb.sources), noAge(sa.sources));
  const missing = await run(['export', '--db', join(dir, 'nothing.db'), join(dir, 'x.gz')]);
  assert.ok(isLadingError(missing.error) && missing.error.code === 'NOT_FOUND');
});

test('db import of a second Alpine release says it merged it and kept the first; --replace replaces', async () => {
  const file = join(dir, 'alpine.db');
  const drivers = { alpine: alpineDriver };
  const a = await run(['import', '--db', file, join(SECDB, 'v3.8')], {}, drivers);
  assert.equal(a.error, undefined, String(a.error));
  assert.match(a.out, /v3\.8: alpine: replaced 3\.8 \([\d,]+ records\); [\d,]+ vulnerabilities, [\d,]+ affected\n$/);
  const b = await run(['import', '--db', file, join(SECDB, 'v3.9')], {}, drivers);
  assert.equal(b.error, undefined, String(b.error));
  assert.match(b.out, /v3\.9: alpine: merged 3\.9 \([\d,]+ records\); kept 3\.8; [\d,]+ vulnerabilities, [\d,]+ affected\n$/);
  const st = JSON.parse((await run(['status', '--db', file, '-o', 'json'], {}, drivers)).out);
  const want = [a, b].map((r) => Number(/([\d,]+) affected/.exec(r.out)![1]!.replace(/,/g, ''))).reduce((x, y) => x + y);
  assert.equal(st.sources[0].counts.affected, want, 'both releases are in the database');
  const c = await run(['import', '--db', file, '--replace', join(SECDB, 'v3.9')], {}, drivers);
  assert.match(c.out, /v3\.9: alpine: replaced 3\.9 \([\d,]+ records\); /);
  assert.doesNotMatch(c.out, /kept/);
});
