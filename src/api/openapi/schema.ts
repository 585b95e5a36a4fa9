/**
 * A few constructors for Swagger 2.0 schemas, so that Lading's own definitions read as short
 * tables (openapi/lading-definitions.ts). `x-nullable` is the Swagger 2.0 vendor extension
 * Anchore's document and its generated clients use for fields that may be null.
 */
import type { Schema } from './anchore.js';

export const str: Schema = { type: 'string' };
export const int: Schema = { type: 'integer' };
export const num: Schema = { type: 'number' };
export const bool: Schema = { type: 'boolean' };
export const dateTime: Schema = { type: 'string', format: 'date-time' };
export const anyObject: Schema = { type: 'object' };

export function nullable(s: Schema): Schema {
  return { ...s, 'x-nullable': true };
}

export function arr(items: Schema): Schema {
  return { type: 'array', items };
}

export function ref(definition: string): Schema {
  return { $ref: `#/definitions/${definition}` };
}

/** An object whose listed properties are all required unless named in `optional`. */
export function obj(properties: Record<string, Schema>, optional: string[] = []): Schema {
  const required = Object.keys(properties).filter((k) => !optional.includes(k));
  return { type: 'object', ...(required.length ? { required } : {}), properties };
}

/** An object of counts keyed by a free set of names. */
export function countsBy(description: string): Schema {
  return { type: 'object', description, additionalProperties: int };
}

/** Marks a schema or operation as Lading's addition to Anchore's API. */
export function extension<T extends Schema>(s: T, description?: string): T {
  return { ...s, ...(description ? { description } : {}), 'x-lading-extension': true };
}
