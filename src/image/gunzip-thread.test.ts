import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { decompressChunks } from './decompress.js';
import { gunzipThreadAvailable, ThreadedGunzip } from './gunzip-thread.js';

/** `data` in pieces of `size` bytes, counting what has been pulled. */
function source(data: Buffer, size: number, pulled = { bytes: 0 }, failAt = -1, failure?: Error): AsyncIterable<Buffer> {
  return (async function* () {
    for (let at = 0; at < data.length; at += size) {
      if (failAt >= 0 && at >= failAt) throw failure!;
      const c = data.subarray(at, at + size);
      pulled.bytes += c.length;
      yield c;
    }
  })();
}

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of it) out.push(c);
  return Buffer.concat(out);
}

test('a worker thread is available here', () => {
  assert.equal(gunzipThreadAvailable(), true);
});

test('inflates exactly, and hashes the inflated bytes, with several streams at once', async () => {
  const plain = [Buffer.from('hello '.repeat(400_000)), randomBytes(3 * 1024 * 1024), Buffer.alloc(0)];
  const jobs = plain.map((p) => new ThreadedGunzip(source(gzipSync(p), 7000), 'sha256'));
  const got = await Promise.all(jobs.map((j) => collect(j.chunks())));
  for (const [i, p] of plain.entries()) {
    assert.ok(got[i]!.equals(p), `stream ${i}`);
    assert.equal(jobs[i]!.digest, createHash('sha256').update(p).digest('hex'));
  }
});

test('a slow consumer holds the producer back: raw bytes are not read far ahead', async () => {
  const blob = gzipSync(randomBytes(32 * 1024 * 1024), { level: 1 });
  const pulled = { bytes: 0 };
  const it = new ThreadedGunzip(source(blob, 64 * 1024, pulled), 'sha256').chunks();
  try {
    const first = await it.next();
    assert.equal(first.done, false);
    // Give the worker every chance to run ahead; the bound holds however long we wait.
    for (let i = 0; i < 50; i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(pulled.bytes < 8 * 1024 * 1024, `read ${pulled.bytes} of ${blob.length} bytes ahead of a consumer that took one chunk`);
  } finally {
    await it.return(undefined);
  }
});

test('corrupt data fails with the message and code zlib gives in-thread', async () => {
  const blob = gzipSync(Buffer.from('some text '.repeat(10_000)));
  const mid = blob.length >> 1;
  blob.writeUInt16LE(blob.readUInt16LE(mid) ^ 0xffff, mid);
  const inThread = await collect(decompressChunks('gzip', source(blob, 1000))).then(() => null, (e: unknown) => e as Error & { code?: string });
  const threaded = await collect(new ThreadedGunzip(source(blob, 1000), 'sha256').chunks()).then(() => null, (e: unknown) => e as Error & { code?: string });
  assert.ok(inThread !== null && threaded !== null, 'both fail');
  assert.equal(threaded.message, inThread.message);
  assert.equal(threaded.code, inThread.code);
});

test('a failure of the input reaches the consumer as the same error', async () => {
  const failure = new Error('the registry went away');
  const blob = gzipSync(randomBytes(1024 * 1024));
  await assert.rejects(collect(new ThreadedGunzip(source(blob, 50_000, { bytes: 0 }, 500_000, failure), 'sha256').chunks()), (e) => e === failure);
});

test('a consumer that stops early leaves the worker ready for the next stream', async () => {
  const blob = gzipSync(randomBytes(4 * 1024 * 1024));
  for await (const _ of new ThreadedGunzip(source(blob, 10_000), 'sha256').chunks()) break;
  const plain = Buffer.from('after '.repeat(1000));
  const job = new ThreadedGunzip(source(gzipSync(plain), 100), 'sha256');
  assert.ok((await collect(job.chunks())).equals(plain));
});

test('the worker starts whatever the parent was started with (--input-type=module)', async () => {
  const { spawnSync } = await import('node:child_process');
  const url = new URL('./gunzip-thread.ts', import.meta.url).href;
  const script = `const { ThreadedGunzip } = await import(${JSON.stringify(url)});
    const { gzipSync } = await import('node:zlib');
    const j = new ThreadedGunzip((async function* () { yield gzipSync(Buffer.from('abc'.repeat(1000))); })(), 'sha256');
    let n = 0; for await (const c of j.chunks()) n += c.length; console.log(n, j.digest);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.stderr.includes('Error'), false, r.stderr);
  assert.equal(r.stdout.trim(), `3000 ${createHash('sha256').update('abc'.repeat(1000)).digest('hex')}`);
});
