/**
 * What keeps a browser from being used against the API from another site (cross-site request
 * forgery), and what bodies the API reads:
 *
 * - Bodies: JSON only (`application/json`, any `+json`), 415 otherwise; the OAuth token endpoint
 *   also takes the form encoding RFC 6749 asks for (accounts.ts), and the import upload routes take
 *   raw bytes (imports.ts). A JSON body nested deeper than MAX_JSON_DEPTH is a 400 naming the
 *   limit, before anything walks it.
 * - Origins: a POST, PUT, PATCH or DELETE that carries an `Origin` header (every browser sends one
 *   on a cross-origin request) must come from the API's own origin (its Host) or one of
 *   `listen.allowed_origins`; without `Origin`, `Sec-Fetch-Site: cross-site` is refused too. Clients
 *   that are not browsers send neither and are not affected.
 * - The 401 challenge: `WWW-Authenticate: Basic` makes a browser prompt and then attach the cached
 *   password to every later request to this host, a cross-site one included. Requests that look
 *   like a browser's (a `Mozilla/` User-Agent, as every browser sends, `Origin`, `Sec-Fetch-Dest`,
 *   or an `Accept` naming text/html) get a `Bearer`
 *   challenge instead, which no browser prompts for; others (curl, anchore-cli, SDKs whose basic
 *   auth waits for a challenge) still get `Basic`. anchore-cli sends its credentials up front.
 */
import type { FastifyBodyParser, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, sendError } from './errors.js';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** The deepest JSON body accepted. */
export const MAX_JSON_DEPTH = 64;

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Whether a request comes from a browser (navigations and scripts alike). */
export function fromBrowser(request: FastifyRequest): boolean {
  const h = request.headers;
  return h.origin !== undefined || /^Mozilla\//.test(first(h['user-agent']) ?? '') || /\btext\/html\b/.test(first(h.accept) ?? '') || first(h['sec-fetch-dest']) !== undefined;
}

/** The WWW-Authenticate header of a 401 (see the module comment). */
export function challengeFor(request: FastifyRequest): string {
  return fromBrowser(request) ? 'Bearer realm="lading"' : 'basic realm="Authentication required"';
}

/** The 415 message: what was sent and what the API takes. */
export function unsupportedMediaType(request: FastifyRequest): string {
  const sent = first(request.headers['content-type']) ?? '';
  return `request body: content type ${JSON.stringify(sent.slice(0, 100))} is not accepted: send JSON (content-type: application/json)${/form-urlencoded/i.test(sent) ? '; only POST /oauth/token takes a form' : ''}`;
}

/** Why a state-changing request is refused as cross-origin, or undefined when it may go on. */
export function crossOriginRefusal(request: FastifyRequest, allowed: readonly string[]): string | undefined {
  if (!STATE_CHANGING.has(request.method)) return undefined;
  const origin = first(request.headers.origin);
  if (origin === undefined) {
    return first(request.headers['sec-fetch-site']) === 'cross-site' ? 'a cross-site request (Sec-Fetch-Site: cross-site) may not change anything' : undefined;
  }
  let host: string | undefined;
  try {
    host = new URL(origin).host;
  } catch {
    host = undefined;
  }
  if (host !== undefined && host === request.headers.host) return undefined;
  if (allowed.some((a) => a.replace(/\/$/, '') === origin)) return undefined;
  return `cross-origin request refused: Origin ${JSON.stringify(origin.slice(0, 200))} is not this service's origin (list it in listen.allowed_origins to allow it)`;
}

/** The deepest nesting of arrays and objects in a JSON text (strings skipped); stops counting past `limit`. */
export function jsonDepth(text: string, limit = Number.MAX_SAFE_INTEGER): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
      if (max > limit) return max;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/**
 * JSON only, with a depth limit: the form and plain-text parsers go (the OAuth token route adds its
 * own in its scope); the default JSON parser runs after the depth check. Also the Origin check.
 */
export function browserSafety(app: FastifyInstance, allowedOrigins: readonly string[]): void {
  app.removeContentTypeParser('text/plain');
  const parse = app.getDefaultJsonParser('error', 'ignore');
  app.removeContentTypeParser('application/json');
  const parser: FastifyBodyParser<string> = (req, body, done) => {
    const text = body.toString();
    if (jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
      done(new ApiError(400, `invalid request body: JSON nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
      return;
    }
    parse(req, text, done);
  };
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parser);
  app.addContentTypeParser(/^application\/[\w.+-]+\+json\s*(?:;.*)?$/i, { parseAs: 'string' }, parser);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const refusal = crossOriginRefusal(request, allowedOrigins);
    if (refusal) return sendError(reply, new ApiError(403, refusal), request);
  });
}
