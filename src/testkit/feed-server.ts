/**
 * Feed-driver tests: a small HTTP server on 127.0.0.1 that serves feed files with ETags (and
 * answers `If-None-Match` with 304), and a SyncContext whose get() fetches from it the way the
 * real sync runner does: validators remembered per URL, state committed only when asked.
 */
import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LadingError } from '../errors.js';
import type { HttpResult, SyncContext } from '../feeds/driver.js';
import type { FeedBatch } from '../feeds/model.js';

export interface FeedResponse {
  status?: number;
  body: Buffer | string;
  headers?: Record<string, string>;
  /** Leave out the ETag header (the resource cannot be fetched conditionally). */
  noEtag?: boolean;
}

/** Answers one request; undefined means 404. */
export type FeedRoute = (url: URL, req: IncomingMessage) => FeedResponse | undefined;

export interface FeedRequest {
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  status: number;
}

export interface FeedServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  requests: FeedRequest[];
  /** Serve these files (path → body) in addition to the route. */
  files: Map<string, FeedResponse>;
  close(): Promise<void>;
}

export function etagOf(body: Buffer | string): string {
  return `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`;
}

export async function startFeedServer(route?: FeedRoute): Promise<FeedServer> {
  const requests: FeedRequest[] = [];
  const files = new Map<string, FeedResponse>();
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const answer = files.get(url.pathname) ?? route?.(url, req);
    const log = (status: number): void => {
      requests.push({ path: url.pathname, query: url.searchParams, headers: req.headers, status });
    };
    if (!answer) {
      log(404);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const status = answer.status ?? 200;
    const headers: Record<string, string> = { ...answer.headers };
    if (status === 200 && !answer.noEtag) {
      const tag = etagOf(answer.body);
      headers.etag = tag;
      if (req.headers['if-none-match'] === tag) {
        log(304);
        res.writeHead(304, headers).end();
        return;
      }
    }
    log(status);
    res.writeHead(status, headers).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    files,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface FakeSyncContext extends SyncContext {
  warnings: string[];
  /** State set during the sync, not yet committed. */
  pending: Record<string, string>;
  /** Apply pending state and validators, as the runner does when a sync commits. */
  commit(): void;
}

/**
 * A SyncContext over real HTTP that behaves like the runner's: a status other than 2xx or 304
 * throws (NOT_FOUND for 404, NETWORK otherwise). `validators` (URL → ETag) and `state` persist across syncs when
 * the same objects are passed again; both change only on commit().
 */
export function fakeSyncContext(options: {
  baseUrl?: string;
  state?: Record<string, string>;
  validators?: Map<string, string>;
}): FakeSyncContext {
  const state = options.state ?? {};
  const validators = options.validators ?? new Map<string, string>();
  const newValidators = new Map<string, string>();
  const ctx: FakeSyncContext = {
    state,
    baseUrl: options.baseUrl,
    warnings: [],
    pending: {},
    setState(key, value) {
      ctx.pending[key] = value;
    },
    warn(message) {
      ctx.warnings.push(message);
    },
    async get(url, opts = {}): Promise<HttpResult> {
      const headers: Record<string, string> = { ...opts.headers };
      const known = validators.get(url);
      if (opts.conditional !== false && known) headers['if-none-match'] = known;
      const res = await fetch(url, { headers });
      const body = Buffer.from(await res.arrayBuffer());
      // like the real context (src/feeds/sync.ts): any status but 2xx and 304 is an error
      if (res.status !== 304 && (res.status < 200 || res.status >= 300)) {
        const excerpt = body.toString('utf8', 0, 200).replace(/\s+/g, ' ').trim();
        throw new LadingError(res.status === 404 ? 'NOT_FOUND' : 'NETWORK', `GET ${url}: HTTP ${res.status}${excerpt ? ` (${excerpt})` : ''}`);
      }
      if (opts.maxBytes !== undefined && body.length > opts.maxBytes) {
        throw new Error(`${url}: the response is larger than ${opts.maxBytes} bytes`);
      }
      const out: Record<string, string> = {};
      res.headers.forEach((v, k) => {
        out[k] = v;
      });
      const etag = res.headers.get('etag');
      if (res.status === 200 && etag) newValidators.set(url, etag);
      return { status: res.status, notModified: res.status === 304, headers: out, body };
    },
    commit() {
      Object.assign(state, ctx.pending);
      ctx.pending = {};
      for (const [k, v] of newValidators) validators.set(k, v);
      newValidators.clear();
    },
  };
  return ctx;
}

/** Everything a sync or import yields, flattened. */
export async function collect(batches: AsyncIterable<FeedBatch>): Promise<Required<FeedBatch> & { batches: number }> {
  const out: Required<FeedBatch> & { batches: number } = { vulnerabilities: [], affected: [], kev: [], epss: [], batches: 0 };
  for await (const b of batches) {
    out.batches++;
    out.vulnerabilities.push(...(b.vulnerabilities ?? []));
    out.affected.push(...(b.affected ?? []));
    out.kev.push(...(b.kev ?? []));
    out.epss.push(...(b.epss ?? []));
  }
  return out;
}

/** An ImportContext that keeps its warnings. */
export function importContext(): { warnings: string[]; warn(message: string): void } {
  const warnings: string[] = [];
  return { warnings, warn: (message) => { warnings.push(message); } };
}

/** Serve `body` at `path` (with a status, for error cases). */
export function serve(server: FeedServer, path: string, body: Buffer | string, status?: number): void {
  server.files.set(path, status === undefined ? { body } : { body, status });
}

/** The same context after the sync commits (state and validators kept), as the runner does. */
export const committed = <T extends { commit(): void }>(ctx: T): T => {
  ctx.commit();
  return ctx;
};
