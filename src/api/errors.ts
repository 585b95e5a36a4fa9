/**
 * Anchore's error body (`ApiErrorResponse`): `{message, httpcode, detail: {error_codes: []}}`, and
 * the status for each of Lading's error codes.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { LadingError, describeError, type ErrorCode } from '../errors.js';

export interface ApiErrorBody {
  message: string;
  httpcode: number;
  detail: Record<string, unknown> & { error_codes: string[] };
}

/** An error with the status it answers with. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly detail: Record<string, unknown> = {}) {
    super(message);
    this.name = 'ApiError';
  }
}

export const STATUS_FOR_CODE: Record<ErrorCode, number> = {
  BAD_REFERENCE: 400,
  BAD_INPUT: 400,
  NOT_FOUND: 404,
  UNAUTHORIZED: 403,
  UNSUPPORTED: 400,
  DIGEST_MISMATCH: 400,
  LIMIT_EXCEEDED: 400,
  NETWORK: 400,
  TLS: 400,
  REGISTRY: 400,
  PLATFORM_NOT_FOUND: 400,
  DESTINATION_DENIED: 403,
  INTERNAL: 500,
};

export function errorBody(status: number, message: string, detail: Record<string, unknown> = {}): ApiErrorBody {
  return { message, httpcode: status, detail: { ...detail, error_codes: Array.isArray(detail.error_codes) ? (detail.error_codes as string[]) : [] } };
}

/** Status and body for anything thrown by a handler. */
export function toErrorResponse(e: unknown): { status: number; body: ApiErrorBody } {
  if (e instanceof ApiError) return { status: e.status, body: errorBody(e.status, e.message, e.detail) };
  if (e instanceof LadingError) {
    const status = STATUS_FOR_CODE[e.code] ?? 500;
    return { status, body: errorBody(status, e.message, { error_code: e.code }) };
  }
  const fe = e as Partial<FastifyError>;
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, body: errorBody(fe.statusCode, describeError(e)) };
  }
  // Anything else is a fault of the service: its message stays in the log, never in the answer.
  return { status: 500, body: errorBody(500, 'internal error') };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Where a 5xx is reported (with its request id); buildApp sets it. */
    reportServerError?: (requestId: string, request: string, error: unknown) => void;
  }
}

/**
 * Answer with Anchore's error body. A 5xx is logged with the request's id, which the answer carries
 * (the `x-request-id` header, `detail.request_id` and the message), and says nothing of its cause.
 */
export function sendError(reply: FastifyReply, e: unknown, request?: FastifyRequest): FastifyReply {
  const { status, body } = toErrorResponse(e);
  if (status >= 500 && request) {
    request.log.error({ err: e, reqId: request.id }, 'request failed');
    request.server.reportServerError?.(request.id, `${request.method} ${request.url.split('?')[0]}`, e);
    body.detail.request_id = request.id;
    if (status === 500 && body.message === 'internal error') body.message = `internal error (request id ${request.id})`;
  }
  if (status === 429 && typeof body.detail.retry_after === 'number') reply.header('retry-after', String(body.detail.retry_after));
  return reply.code(status).type('application/json').send(body);
}
