/** Request validation: a body, query or params parsed with a zod schema; a failure is a 400 naming the field. */
import type { z } from 'zod';
import { ApiError } from './errors.js';

export function parseInput<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ApiError(400, `invalid ${what}: ${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}`);
  }
  return r.data;
}
