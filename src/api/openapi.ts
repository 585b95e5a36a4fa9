/**
 * The OpenAPI document served at `/swagger.json` and `/v1/swagger.json`, built from the routes the
 * app really registered (so it never lists a path that is not served). anchore-cli reads
 * `info.version` (it needs >= 0.1.6) before tag lookups; Lading reports Anchore's last, 0.1.20.
 */
import type { RouteOptions } from 'fastify';
import { VERSION } from '../version.js';

export const API_INFO_VERSION = '0.1.20';

interface Operation {
  method: string;
  path: string;
  public: boolean;
}

/** Collects routes as fastify registers them (use with the onRoute hook). */
export class RouteCatalog {
  private readonly ops: Operation[] = [];

  add(route: RouteOptions): void {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!route.url.startsWith('/v1')) return; // the unversioned twins describe the same API
    for (const m of methods) {
      if (m === 'HEAD') continue;
      this.ops.push({ method: m.toLowerCase(), path: route.url.replace(/^\/v1/, '') || '/', public: !!(route.config as { public?: boolean } | undefined)?.public });
    }
  }

  document(): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const op of [...this.ops].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method))) {
      const path = op.path.replace(/:(\w+)/g, '{$1}');
      const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
      (paths[path] ??= {})[op.method] = {
        operationId: `${op.method}_${path.replace(/[{}]/g, '').replace(/[^a-zA-Z0-9]+/g, '_').replace(/^_|_$/g, '') || 'root'}`,
        ...(params.length ? { parameters: params } : {}),
        ...(op.public ? { security: [] } : {}),
        responses: { default: { description: 'Anchore v1 response; errors use {message, httpcode, detail}' } },
      };
    }
    return {
      openapi: '3.0.3',
      info: { title: 'Lading API (Anchore Engine v1 compatible)', version: API_INFO_VERSION, 'x-lading-version': VERSION },
      servers: [{ url: '/v1' }],
      components: { securitySchemes: { basic: { type: 'http', scheme: 'basic' }, token: { type: 'http', scheme: 'bearer' } } },
      security: [{ basic: [] }, { token: [] }],
      paths,
    };
  }
}
