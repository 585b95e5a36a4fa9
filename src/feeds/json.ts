/** Narrowing helpers for untyped feed JSON: an object, a list, a non-empty string, or undefined. */
import { isPlainObject } from '../util/objects.js';

export function obj(v: unknown): Record<string, unknown> | undefined {
  return isPlainObject(v) ? v : undefined;
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
