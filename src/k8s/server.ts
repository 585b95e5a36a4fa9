/**
 * The admission webhook's HTTPS listener (docs/admission.md): `POST /validate` takes an
 * `admission.k8s.io/v1` AdmissionReview and answers one; `GET /healthz` answers `{"status":"ok"}`.
 * A body that is not an AdmissionReview gets 400 with a message naming the problem. The
 * certificate and key are read from the configured files, and read again when they change
 * (cert-manager and similar tools replace them in place).
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LadingConfig } from '../config/schema.js';
import type { VulnDb } from '../feeds/vulndb.js';
import { LadingError, describeError } from '../errors.js';
import type { SourceOptions } from '../image/sources/index.js';
import type { JobQueue } from '../queue/queue.js';
import type { CatalogStore } from '../store/catalog.js';
import type { EventStore } from '../store/events.js';
import type { PolicyStore } from '../store/policies.js';
import type { RegistryStore } from '../services/registries.js';
import type { VulnReports } from '../services/reports.js';
import type { SubscriptionStore } from '../store/subscriptions.js';
import { AdmissionDecider } from './decide.js';
import { AnalysisRequester } from './request-analysis.js';
import { ReviewError, parseReview, reviewResponse } from './review.js';
import { readTls, reloadTls } from '../util/tls.js';

export const VALIDATE_PATH = '/validate';
/** Kubernetes objects are at most about 1.5 MiB; a review carries the object (and the old one). */
const MAX_BODY = 8 * 1024 * 1024;
const CERT_CHECK_MS = 60_000;

export interface AdmissionServerDeps {
  config: LadingConfig;
  catalog: CatalogStore;
  policies: PolicyStore;
  registries: RegistryStore;
  subscriptions: SubscriptionStore;
  events: EventStore;
  queue: JobQueue;
  vulndb: VulnDb;
  reports: VulnReports;
  sourceOptions: SourceOptions;
  log: (message: string) => void;
}

export interface AdmissionServer {
  /** https://host:port */
  url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `request body larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) throw new HttpError(400, 'expected an AdmissionReview JSON body, got an empty body');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `expected an AdmissionReview JSON body: ${describeError(e)}`);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Start the webhook listener on admission.listen; the caller stops it with close(). */
export async function startAdmissionServer(deps: AdmissionServerDeps): Promise<AdmissionServer> {
  const a = deps.config.admission;
  if (!a.tls_cert_file || !a.tls_key_file) throw new LadingError('BAD_INPUT', 'admission: tls_cert_file and tls_key_file are required');
  const certFile = a.tls_cert_file;
  const keyFile = a.tls_key_file;
  // Images it adds and evaluations it stores reach the image summaries through the stores' lifecycle.
  const requester = new AnalysisRequester({
    catalog: deps.catalog, registries: deps.registries, subscriptions: deps.subscriptions, events: deps.events, queue: deps.queue, sourceOptions: deps.sourceOptions,
    analysisMaxAttempts: deps.config.analysis.max_attempts, log: deps.log,
  });
  const decider = new AdmissionDecider({
    admission: a, catalog: deps.catalog, policies: deps.policies, vulndb: deps.vulndb, reports: deps.reports, requester, log: deps.log,
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) return send(res, 200, { status: 'ok' });
    if (path !== VALIDATE_PATH) throw new HttpError(404, `no route ${req.method} ${path}: the webhook answers POST ${VALIDATE_PATH} and GET /healthz`);
    if (req.method !== 'POST') throw new HttpError(405, `${VALIDATE_PATH} takes POST with an AdmissionReview`);
    let review;
    try {
      review = parseReview(await readBody(req));
    } catch (e) {
      if (e instanceof ReviewError) throw new HttpError(400, e.message);
      throw e;
    }
    send(res, 200, reviewResponse(await decider.review(review)));
  };

  const files = { certFile, keyFile, certKey: 'admission.tls_cert_file', keyKey: 'admission.tls_key_file' };
  const tls = readTls(files, 'admission');
  let server: Server;
  try {
    server = createServer(tls, (req, res) => {
      handle(req, res).catch((e: unknown) => {
        const status = e instanceof HttpError ? e.status : 500;
        if (status === 500) deps.log(`admission: ${req.method} ${req.url}: ${describeError(e)}`);
        if (!res.headersSent) send(res, status, { message: e instanceof HttpError ? e.message : `internal error: ${describeError(e)}`, httpcode: status });
        else res.destroy();
      });
    });
  } catch (e) {
    throw new LadingError('BAD_INPUT', `admission: the TLS certificate ${certFile} or key ${keyFile} cannot be used: ${describeError(e)}`, { cause: e });
  }
  const reload = reloadTls(server, files, 'admission', { log: deps.log, intervalMs: CERT_CHECK_MS });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => {
      reload.stop();
      reject(new LadingError('BAD_INPUT', `admission: cannot listen on ${a.listen.host}:${a.listen.port}: ${describeError(e)}`, { cause: e }));
    });
    server.listen(a.listen.port, a.listen.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : a.listen.port;
  const host = a.listen.host.includes(':') ? `[${a.listen.host}]` : a.listen.host;
  return {
    url: `https://${host}:${port}`,
    async close() {
      reload.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await decider.settle();
      await requester.settle();
    },
  };
}
