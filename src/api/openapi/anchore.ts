/**
 * Anchore Engine's external API description (Swagger 2.0, info.version 0.1.20), from
 * anchore-engine's `anchore_engine/services/apiext/swagger/swagger.yaml` (Apache-2.0, Copyright
 * Anchore Inc.), kept as JSON in ./anchore-swagger.json (regenerate with
 * scripts/anchore-swagger.mjs). Lading's /swagger.json takes every operation it serves, with its
 * operationId, parameters and response schemas, and every definition from here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { LadingError } from '../../errors.js';
// Type-only: makes tsc copy the file to dist/api/openapi/, where it is read at run time (lazily).
import type {} from './anchore-swagger.json';

export type Schema = Record<string, unknown>;

export interface SwaggerResponse {
  description: string;
  schema?: Schema;
}

export interface SwaggerOperation {
  operationId: string;
  summary?: string;
  description?: string;
  tags?: string[];
  produces?: string[];
  security?: Record<string, string[]>[];
  parameters?: Schema[];
  responses: Record<string, SwaggerResponse>;
  [extension: `x-${string}`]: unknown;
}

export interface SwaggerDocument {
  'x-source': Record<string, string>;
  swagger: '2.0';
  info: Record<string, unknown>;
  tags: { name: string; description?: string }[];
  basePath: string;
  schemes: string[];
  consumes: string[];
  produces: string[];
  parameters: Record<string, Schema>;
  paths: Record<string, Record<string, SwaggerOperation>>;
  definitions: Record<string, Schema>;
}

const FILE = 'anchore-swagger.json';
let cached: SwaggerDocument | undefined;

/** The document (read once; callers must not modify it). */
export function anchoreSwagger(): SwaggerDocument {
  if (cached) return cached;
  // Beside this module (src/api/openapi/, dist/api/openapi/), or seen from the bundled command in dist/bin/.
  const urls = [new URL(`./${FILE}`, import.meta.url), new URL(`../api/openapi/${FILE}`, import.meta.url)];
  const url = urls.find((u) => existsSync(u)) ?? urls[0]!;
  try {
    cached = JSON.parse(readFileSync(url, 'utf8')) as SwaggerDocument;
  } catch (e) {
    throw new LadingError('INTERNAL', `cannot load Anchore's API description from ${url.pathname}: ${(e as Error).message}`, { cause: e });
  }
  return cached;
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** Every Anchore operation: method, path and the operation. */
export function anchoreOperations(): { method: string; path: string; op: SwaggerOperation }[] {
  const out: { method: string; path: string; op: SwaggerOperation }[] = [];
  for (const [path, item] of Object.entries(anchoreSwagger().paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (op) out.push({ method, path, op });
    }
  }
  return out;
}
