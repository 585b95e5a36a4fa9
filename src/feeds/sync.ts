/**
 * Online sync of one feed: build the driver's SyncContext (conditional GETs from the validators
 * stored for each URL, retries with backoff on 429 / 5xx / connection errors honouring
 * Retry-After, timeouts, redirects, a response size cap), run the driver, and apply everything it
 * yields in one transaction together with its new cursor and validators. A failure is recorded in
 * sync_state (status failed, the error) and the previous data, cursor and validators stay.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { describeError, LadingError } from '../errors.js';
import { DEFAULT_HTTP_OPTIONS, HttpClient, discard, header, readBody, type HttpOptions } from '../image/registry/http.js';
import type { FeedDriver, HttpResult, SyncContext } from './driver.js';
import type { FeedBatch } from './model.js';
import type { ApplyResult, Validator, VulnDb } from './vulndb.js';

export interface SyncOptions {
  /** Base URL override (a mirror, or a test server) handed to the driver. */
  baseUrl?: string;
  signal?: AbortSignal;
  /** An HTTP client to use (kept open), or options for one made and closed here. */
  http?: HttpClient | Partial<HttpOptions>;
  /** Largest response body accepted, unless the driver asks for another cap. Default 1 GiB. */
  maxBytes?: number;
  /** Told about every warning (bad records, driver notes) as it happens. */
  warn?: (message: string) => void;
  /** Where apply spools records; default the OS temp dir. */
  tmpDir?: string;
}

export interface SyncResult {
  source: string;
  ok: boolean;
  /** Every request answered 304 Not Modified (and there was at least one). */
  notModified: boolean;
  /** What was written (undefined when the sync failed). */
  applied?: ApplyResult;
  /** The first warnings (up to 1,000); `warningCount` counts them all. */
  warnings: string[];
  warningCount: number;
  requests: number;
  error?: string;
  durationMs: number;
}

const DEFAULT_MAX_BYTES = 1 << 30;
const MAX_KEPT_WARNINGS = 1000;

function flatHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

/** A request's headers, made conditional on the validators stored for its URL, when there are some. */
function requestHeaders(given: Record<string, string> | undefined, known: Validator | undefined): Record<string, string> {
  const headers: Record<string, string> = { ...(given ?? {}) };
  if (known) {
    if (known.etag) headers['if-none-match'] = known.etag;
    if (known.lastModified) headers['if-modified-since'] = known.lastModified;
  }
  return headers;
}

/** The error for an answer that is not 2xx, with the start of its body. */
async function statusError(res: Awaited<ReturnType<HttpClient['request']>>, what: string): Promise<LadingError> {
  let excerpt = '';
  try {
    excerpt = (await readBody(res, 4096, what)).toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200);
  } catch {
    // the status says enough
  }
  return new LadingError(res.status === 404 ? 'NOT_FOUND' : 'NETWORK', `${what}: HTTP ${res.status}${excerpt ? ` (${excerpt})` : ''}`);
}

/** The batches without the affected records of these namespaces (counted in `dropped`). */
async function* withoutNamespaces(batches: AsyncIterable<FeedBatch>, namespaces: Set<string>, dropped: { affected: number }): AsyncIterable<FeedBatch> {
  for await (const batch of batches) {
    if (!Array.isArray(batch?.affected)) {
      yield batch;
      continue;
    }
    const affected = batch.affected.filter((a) => !namespaces.has(a?.namespace));
    dropped.affected += batch.affected.length - affected.length;
    yield { ...batch, affected };
  }
}

/** Sync one source; never throws for a failed sync (see `ok` / `error`), only for a closed database. */
export async function syncSource(db: VulnDb, driver: FeedDriver, options: SyncOptions = {}): Promise<SyncResult> {
  const started = new Date();
  const source = driver.id;
  const ownClient = !(options.http instanceof HttpClient);
  const client = options.http instanceof HttpClient ? options.http : new HttpClient({ ...DEFAULT_HTTP_OPTIONS, ...(options.http ?? {}) });
  const warnings: string[] = [];
  let warningCount = 0;
  const warn = (message: string) => {
    warningCount++;
    if (warnings.length < MAX_KEPT_WARNINGS) warnings.push(message);
    options.warn?.(message);
  };
  let requests = 0;
  let notModifiedCount = 0;
  const result = (extra: Partial<SyncResult>): SyncResult => ({
    source, ok: false, notModified: requests > 0 && notModifiedCount === requests, warnings, warningCount, requests,
    durationMs: Date.now() - started.getTime(), ...extra,
  });

  try {
    const previous = await db.syncState(source);
    const oldValidators = previous?.validators ?? {};
    const newValidators: Record<string, Validator> = {};
    const cursor: Record<string, string> = { ...(previous?.cursor ?? {}) };

    const ctx: SyncContext = {
      state: { ...(previous?.cursor ?? {}) },
      setState(key: string, value: string) {
        cursor[key] = String(value);
      },
      warn: (m: string) => warn(`${source}: ${m}`),
      ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      async get(url: string, opts = {}): Promise<HttpResult> {
        options.signal?.throwIfAborted();
        const known = oldValidators[url];
        const headers = requestHeaders(opts.headers, opts.conditional !== false ? known : undefined);
        requests++;
        const what = `${source}: GET ${url}`;
        const res = await client.request({ url, headers, what, ...(options.signal ? { signal: options.signal } : {}) });
        if (res.status === 304) {
          await discard(res);
          notModifiedCount++;
          if (known) newValidators[url] = known;
          return { status: 304, notModified: true, headers: flatHeaders(res.headers), body: Buffer.alloc(0) };
        }
        if (res.status < 200 || res.status >= 300) throw await statusError(res, what);
        const body = await readBody(res, opts.maxBytes ?? options.maxBytes ?? DEFAULT_MAX_BYTES, what);
        const etag = header(res, 'etag');
        const lastModified = header(res, 'last-modified');
        if (etag || lastModified) newValidators[url] = { ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
        else delete newValidators[url];
        return { status: res.status, notModified: false, headers: flatHeaders(res.headers), body };
      },
    };

    // Disabled groups (vulndb/settings.ts) are left out; their stored rows stay (a namespace-scoped apply).
    const off = new Set((await db.feedSettings()).disabledGroups);
    const synced = await driver.sync(ctx);
    const dropped = { affected: 0 };
    const feed = off.size ? { full: synced.full, batches: withoutNamespaces(synced.batches, off, dropped) } : synced;
    const applied = await db.apply(source, feed, {
      kind: 'sync', at: started,
      // Read when the apply commits: a sync that left out a disabled group's records keeps the
      // previous cursor and validators, so the group's records come again once it is enabled.
      get cursor() {
        return dropped.affected ? previous?.cursor ?? {} : cursor;
      },
      // Only the URLs this sync asked for: cursors in URLs (NVD dates) must not pile up.
      get validators() {
        return dropped.affected ? oldValidators : newValidators;
      },
    }, { warn, unchanged: () => dropped.affected > 0 || (requests > 0 && notModifiedCount === requests), ...(off.size ? { scope: 'namespace' as const } : {}), ...(options.signal ? { signal: options.signal } : {}), ...(options.tmpDir ? { tmpDir: options.tmpDir } : {}) });
    return result({ ok: true, applied });
  } catch (e) {
    const error = options.signal?.aborted ? `aborted (${describeError(options.signal.reason)})` : describeError(e);
    try {
      await db.recordFailure(source, 'sync', error, started);
    } catch (e2) {
      return result({ error: `${error}; and the failure could not be recorded: ${describeError(e2)}` });
    }
    return result({ error });
  } finally {
    if (ownClient) await client.close();
  }
}
