/**
 * One error type for everything Lading reports to a person: a stable code and a message that
 * names the problem (the blob, the path, the key). Faces print `message`; nothing else leaks.
 */
export type ErrorCode =
  | 'BAD_REFERENCE'
  | 'BAD_INPUT'
  | 'NOT_FOUND'
  | 'UNAUTHORIZED'
  | 'UNSUPPORTED'
  | 'DIGEST_MISMATCH'
  | 'LIMIT_EXCEEDED'
  | 'NETWORK'
  /** A TLS certificate that could not be verified (unknown authority, expired, wrong host). */
  | 'TLS'
  | 'REGISTRY'
  | 'PLATFORM_NOT_FOUND'
  /** An outbound connection refused by the service's destination guard (image/registry/guard.ts). */
  | 'DESTINATION_DENIED'
  | 'INTERNAL';

export class LadingError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'LadingError';
  }
}

export function isLadingError(e: unknown): e is LadingError {
  return e instanceof LadingError;
}

/** A one-line description of any thrown value, for logs and the CLI. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * The handler for a file the user named that cannot be read: NOT_FOUND when it does not exist,
 * else BAD_INPUT, both saying `cannot read WHAT: why` (`readFile(p).catch(unreadable(\`the SBOM ${p}\`))`).
 */
export function unreadable(what: string): (e: NodeJS.ErrnoException) => never {
  return (e) => {
    throw new LadingError(e.code === 'ENOENT' ? 'NOT_FOUND' : 'BAD_INPUT', `cannot read ${what}: ${e.message}`);
  };
}
