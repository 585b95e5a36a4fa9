/**
 * The web UI's static files (built by Vite from ui/ into dist/ui), served at `/ui/` without
 * authentication (the UI signs in through the API): index.html at /ui and /ui/, hashed assets under
 * /ui/assets/ with long cache lifetimes. Paths never leave dist/ui; a missing file is a 404, and
 * so is every /ui path when the UI was not built (the message says how to build it).
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ApiDeps } from './app.js';
import { errorBody } from './errors.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** What the page may load: only this origin (no CDNs, fonts or trackers); data: for the inline icon. */
const CSP = "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; connect-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/**
 * dist/ui beside the compiled code (dist/api/ui.js → dist/ui), or, when running from the sources
 * (src/api/ui.ts under tsx), the package's dist/ui; undefined while neither holds a built UI.
 */
export function uiRoot(): string | undefined {
  const here = fileURLToPath(new URL('.', import.meta.url));
  return [resolve(here, '../ui'), resolve(here, '../../dist/ui')].find((d) => existsSync(resolve(d, 'index.html')));
}

/** The file a /ui/ path names inside root, or undefined when it would leave root or is malformed. */
export function uiFile(root: string, requested: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(requested);
  } catch {
    return undefined;
  }
  if (path.includes('\0') || path.includes('\\')) return undefined;
  if (path.split('/').some((part) => part === '..')) return undefined;
  const file = resolve(root, `.${sep}${path || 'index.html'}`);
  return file === root || file.startsWith(root + sep) ? file : undefined;
}

export async function uiRoutes(app: FastifyInstance, _deps: ApiDeps): Promise<void> {
  let built: string | undefined;
  const notFound = (reply: FastifyReply, url: string) => reply.code(404).send(errorBody(404, `no such file: ${url.split('?')[0]}`));

  const serve = async (requested: string, url: string, reply: FastifyReply) => {
    // Looked up until found, so a UI built after the service started is served.
    const root = built ??= uiRoot();
    if (!root) return reply.code(404).send(errorBody(404, 'the web UI is not built (no dist/ui/index.html in the Lading package): run `npm run build`'));
    const file = uiFile(root, requested);
    if (!file) return notFound(reply, url);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return notFound(reply, url);
    const body = await readFile(file);
    const isIndex = file === resolve(root, 'index.html');
    reply
      .type(CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream')
      .header('x-content-type-options', 'nosniff')
      // Vite names assets by content hash: they never change. index.html must be revalidated.
      .header('cache-control', file.startsWith(resolve(root, 'assets') + sep) ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (isIndex) reply.header('content-security-policy', CSP).header('referrer-policy', 'no-referrer');
    return reply.send(body);
  };

  const pub = { config: { public: true } };
  app.get('/ui', pub, async (req, reply) => serve('', req.url, reply));
  app.get('/ui/', pub, async (req, reply) => serve('', req.url, reply));
  app.get('/ui/*', pub, async (req, reply) => serve((req.params as { '*': string })['*'], req.url, reply));
}
