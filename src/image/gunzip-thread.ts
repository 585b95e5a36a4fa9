/**
 * gzip layers inflated, and their uncompressed bytes hashed (the diff_id), on a worker thread, so
 * the main thread only parses the tar and analyzes while the next bytes are being inflated: a
 * two-core pipeline. Both directions are bounded (raw bytes not yet taken by zlib, inflated chunks
 * not yet taken by the consumer), so memory stays flat whatever the layer's size. Errors of the
 * input reach the consumer as they are; zlib's errors keep their message and code. When no worker
 * thread can be started, `gunzipThreadAvailable()` says so and the caller inflates in-thread.
 */
import { Worker } from 'node:worker_threads';

/**
 * The worker's code, self-contained so that it runs the same from source, from dist/ and from the
 * bundle; an ES module from a data: URL, so it loads the same whatever the parent's flags
 * (`--input-type=module` would turn an eval'd CommonJS source into a module without `require`).
 */
const WORKER_SOURCE = `
import { parentPort } from 'node:worker_threads';
import { createGunzip } from 'node:zlib';
import { createHash } from 'node:crypto';
const jobs = new Map();
const MAX_OUT = ${4};
function post(m, transfer) { parentPort.postMessage(m, transfer); }
parentPort.on('message', (m) => {
  if (m.t === 'open') {
    const z = createGunzip({ chunkSize: ${1024 * 1024} });
    const job = { z, hash: createHash(m.alg), out: 0, dead: false };
    jobs.set(m.id, job);
    z.on('data', (c) => {
      job.hash.update(c);
      // A chunk that fills zlib's output buffer is all of it (zlib takes a new one then): hand it over
      // as it is. Smaller chunks share their buffer with the next ones: copy them out.
      const own = c.byteOffset === 0 && c.length === c.buffer.byteLength ? c.buffer : c.buffer.slice(c.byteOffset, c.byteOffset + c.length);
      post({ t: 'out', id: m.id, buf: own }, [own]);
      if (++job.out >= MAX_OUT) z.pause();
    });
    z.once('end', () => { jobs.delete(m.id); post({ t: 'done', id: m.id, digest: job.hash.digest('hex') }); });
    z.once('error', (e) => {
      jobs.delete(m.id);
      if (!job.dead) post({ t: 'error', id: m.id, message: e.message, code: e.code, errno: e.errno });
    });
    return;
  }
  const job = jobs.get(m.id);
  if (!job) return;
  if (m.t === 'data') {
    const n = m.buf.byteLength;
    job.z.write(Buffer.from(m.buf), () => post({ t: 'taken', id: m.id, n }));
  } else if (m.t === 'end') job.z.end();
  else if (m.t === 'ack') {
    job.out -= m.n;
    if (job.out < MAX_OUT && job.z.isPaused()) job.z.resume();
  } else if (m.t === 'close') {
    job.dead = true;
    jobs.delete(m.id);
    job.z.destroy();
  }
});
`;

type FromWorker =
  | { t: 'out'; id: number; buf: ArrayBuffer }
  | { t: 'taken'; id: number; n: number }
  | { t: 'done'; id: number; digest: string }
  | { t: 'error'; id: number; message: string; code?: string; errno?: number };

/** Raw bytes handed to the worker and not yet taken by zlib. */
const RAW_AHEAD = 1024 * 1024;
/** Raw bytes are handed over in batches of this size (each message costs more than the copy). */
const RAW_BATCH = 256 * 1024;

let shared: { worker: Worker; handlers: Map<number, (m: FromWorker) => void>; next: number } | null | undefined;

function worker(): NonNullable<typeof shared> | null {
  if (shared !== undefined) return shared;
  try {
    const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(WORKER_SOURCE)}`));
    const handlers = new Map<number, (m: FromWorker) => void>();
    w.unref();
    w.on('message', (m: FromWorker) => handlers.get(m.id)?.(m));
    const fail = (e: unknown): void => {
      shared = null;
      const why = new Error(`the gunzip worker thread stopped: ${e instanceof Error ? e.message : String(e)}`);
      for (const h of handlers.values()) h({ t: 'error', id: -1, message: why.message });
      handlers.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => {
      if (shared !== null) fail(new Error(`exit code ${code}`));
    });
    shared = { worker: w, handlers, next: 0 };
  } catch {
    shared = null;
  }
  return shared;
}

/** Whether layers can be inflated on a worker thread here. */
export function gunzipThreadAvailable(): boolean {
  return worker() !== null;
}

/** One gzip stream inflated on the worker thread; `digest` (hex, of the inflated bytes) is set once `chunks()` has ended. */
export class ThreadedGunzip {
  digest: string | null = null;

  constructor(private readonly input: AsyncIterable<Buffer>, private readonly alg: string) {}

  async *chunks(): AsyncGenerator<Buffer> {
    const w = worker();
    if (w === null) throw new Error('no gunzip worker thread');
    const id = ++w.next;
    const queue: Buffer[] = [];
    let done = false;
    let closed = false;
    let failure: unknown = null;
    let inflight = 0;
    // The pump and the consumer may both be waiting: any message wakes both to look again.
    const waiting = new Set<() => void>();
    const poke = (): void => {
      for (const f of waiting) f();
      waiting.clear();
    };
    const sleep = (): Promise<void> => new Promise<void>((resolve) => {
      waiting.add(resolve);
    });
    w.handlers.set(id, (m) => {
      if (m.t === 'out') queue.push(Buffer.from(m.buf));
      else if (m.t === 'taken') inflight -= m.n;
      else if (m.t === 'done') {
        this.digest = m.digest;
        done = true;
      } else if (m.t === 'error') failure ??= Object.assign(new Error(m.message), m.code !== undefined ? { code: m.code, errno: m.errno } : {});
      poke();
    });
    if (w.handlers.size === 1) w.worker.ref();
    w.worker.postMessage({ t: 'open', id, alg: this.alg });
    let batch = new Uint8Array(RAW_BATCH);
    let filled = 0;
    const send = (): void => {
      const own = filled === batch.length ? batch.buffer : batch.buffer.slice(0, filled);
      inflight += filled;
      w.worker.postMessage({ t: 'data', id, buf: own }, [own]);
      batch = new Uint8Array(RAW_BATCH);
      filled = 0;
    };
    const pump = async (): Promise<void> => {
      for await (const c of this.input) {
        if (closed || failure !== null) return;
        for (let at = 0; at < c.length;) {
          const n = Math.min(c.length - at, RAW_BATCH - filled);
          batch.set(c.subarray(at, at + n), filled);
          filled += n;
          at += n;
          if (filled === RAW_BATCH) send();
        }
        while (inflight > RAW_AHEAD && !closed && failure === null) await sleep();
      }
      if (filled > 0) send();
      if (!closed && failure === null) w.worker.postMessage({ t: 'end', id });
    };
    pump().catch((e: unknown) => {
      failure ??= e;
      poke();
    });
    try {
      for (;;) {
        const c = queue.shift();
        if (c !== undefined) {
          w.worker.postMessage({ t: 'ack', id, n: 1 });
          yield c;
          continue;
        }
        if (failure !== null) throw failure;
        if (done) return;
        await sleep();
      }
    } finally {
      closed = true;
      poke();
      if (!done) w.worker.postMessage({ t: 'close', id });
      w.handlers.delete(id);
      if (w.handlers.size === 0) w.worker.unref();
    }
  }
}
