/** A JSON object (not null, not an array): the guard every parser of untyped input uses. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
