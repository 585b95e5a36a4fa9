/**
 * The API description served at `/swagger.json` and `/v1/swagger.json`: Swagger 2.0 like Anchore
 * Engine's, built from the routes the app really registered (so it never lists a path that is not
 * served). Every Anchore operation Lading serves appears with Anchore's path, operationId,
 * parameters and response schema (openapi/anchore.ts); Lading's own routes, parameters, fields and
 * definitions are marked `x-lading-extension: true` (openapi/lading-*.ts). anchore-cli reads
 * `info.version` (it needs >= 0.1.6) before tag lookups; Lading reports Anchore's last, 0.1.20.
 */
import type { RouteOptions } from 'fastify';
import { VERSION } from '../version.js';
import { anchoreOperations, anchoreSwagger, type Schema, type SwaggerOperation, type SwaggerResponse } from './openapi/anchore.js';
import { ANCHORE_UNDECLARED_FIELDS, CORRECTED_FIELDS, DEFINITION_FIELDS } from './openapi/lading-fields.js';
import { CORRECTED_DEFINITIONS, LADING_DEFINITIONS } from './openapi/lading-definitions.js';
import { CORRECTED_RESPONSES, EXTRA_PARAMETERS, EXTRA_RESPONSES, LADING_OPERATIONS } from './openapi/lading-operations.js';
import { ref } from './openapi/schema.js';

export const API_INFO_VERSION = '0.1.20';

/** A route as the document names it: lower-case method, path relative to /v1 with {params}. */
export interface CatalogRoute {
  method: string;
  path: string;
  public: boolean;
}

const segments = (path: string) => path.split('/').filter(Boolean);
const isParam = (segment: string) => segment.startsWith('{');

/** Whether a route (its path with {params}) answers for a document path: literals equal, a route parameter takes anything. */
export function routeServes(routePath: string, docPath: string): boolean {
  const r = segments(routePath);
  const d = segments(docPath);
  return r.length === d.length && r.every((s, i) => isParam(s) || (!isParam(d[i]!) && s === d[i]));
}

/** The same path shape (parameter names aside). */
function sameShape(a: string, b: string): boolean {
  const x = segments(a);
  const y = segments(b);
  return x.length === y.length && x.every((s, i) => (isParam(s) && isParam(y[i]!)) || s === y[i]);
}

/** Collects routes as fastify registers them (use with the onRoute hook). */
export class RouteCatalog {
  private readonly list: CatalogRoute[] = [];
  private built: Record<string, unknown> | undefined;

  add(route: RouteOptions): void {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!route.url.startsWith('/v1')) return; // the unversioned twins describe the same API
    // A wildcard route is the twin of a parameter route (/registries/* beside /registries/:registry, for names with slashes).
    if (route.url.includes('*')) return;
    const path = (route.url.replace(/^\/v1/, '') || '/').replace(/:(\w+)/g, '{$1}');
    for (const m of methods) {
      if (m === 'HEAD') continue;
      this.list.push({ method: m.toLowerCase(), path, public: !!(route.config as { public?: boolean } | undefined)?.public });
    }
    this.built = undefined;
  }

  routes(): readonly CatalogRoute[] {
    return this.list;
  }

  document(): Record<string, unknown> {
    this.built ??= buildDocument(this.list);
    return this.built;
  }
}

const ERROR_RESPONSE = { description: "An error, in Anchore's error body", schema: ref('ApiErrorResponse') };

/** Anchore's operation as Lading serves it: Lading's added parameters and response bodies, the error body, public or not. */
function anchoreOperation(op: SwaggerOperation, isPublic: boolean): SwaggerOperation {
  const extraParams = EXTRA_PARAMETERS[op.operationId] ?? [];
  const responses = { ...op.responses };
  for (const [status, schema] of Object.entries(EXTRA_RESPONSES[op.operationId] ?? {})) {
    responses[status] = { description: responses[status]?.description ?? 'Lading answers with a body', schema: { ...schema, 'x-lading-extension': true } };
  }
  for (const [status, { schema, declared }] of Object.entries(CORRECTED_RESPONSES[op.operationId] ?? {})) {
    responses[status] = { ...responses[status]!, schema, 'x-anchore-declared-schema': declared, 'x-lading-note': "Anchore Engine's document declares another schema, but its server answered with this one" } as SwaggerResponse;
  }
  return {
    ...op,
    ...(extraParams.length ? { parameters: [...(op.parameters ?? []), ...extraParams] } : {}),
    ...(isPublic ? { security: [] } : {}),
    responses: { ...responses, default: ERROR_RESPONSE },
  };
}

/** A Lading route: its entry in LADING_OPERATIONS, or a bare one (the tests require an entry for every route). */
function ladingOperation(route: CatalogRoute): SwaggerOperation {
  const known = LADING_OPERATIONS[route.path]?.[route.method];
  const op: SwaggerOperation = known ? { ...known } : {
    operationId: `${route.method}_${route.path.replace(/[{}]/g, '').replace(/[^a-zA-Z0-9]+/g, '_').replace(/^_|_$/g, '') || 'root'}`,
    responses: { 200: { description: 'Success' } },
  };
  const params = [...route.path.matchAll(/\{(\w+)\}/g)]
    .filter((m) => !op.parameters?.some((p) => p.in === 'path' && p.name === m[1]))
    .map((m): Schema => ({ name: m[1], in: 'path', required: true, type: 'string' }));
  return {
    ...op,
    tags: ['Lading'],
    ...(params.length || op.parameters ? { parameters: [...(op.parameters ?? []), ...params] } : {}),
    ...(route.public ? { security: [] } : {}),
    responses: { ...op.responses, default: ERROR_RESPONSE },
    'x-lading-extension': true,
  };
}

/** `fields` added to the object schema `target` names: a definition, or `Definition.property[]` for the items of an array property. */
function addFields(defs: Record<string, Schema>, target: string, fields: Record<string, Schema>): void {
  const [name, property] = target.replace(/\[\]$/, '').split('.') as [string, string | undefined];
  const withFields = (s: Schema): Schema => ({ ...s, properties: { ...(s.properties as Record<string, Schema> | undefined), ...fields } });
  const def = defs[name]!;
  if (!property) {
    defs[name] = withFields(def);
    return;
  }
  const props = def.properties as Record<string, Schema>;
  defs[name] = { ...def, properties: { ...props, [property]: { ...props[property], items: withFields(props[property]!.items as Schema) } } };
}

const note = (fields: Record<string, Schema>, extra: Schema) => Object.fromEntries(Object.entries(fields).map(([k, s]) => [k, { ...s, ...extra }]));

/** Anchore's definitions with Lading's fields (marked), the fields Anchore answered undeclared, the corrections; then Lading's own definitions. */
function definitions(): Record<string, Schema> {
  const out: Record<string, Schema> = { ...anchoreSwagger().definitions };
  const undeclared = { 'x-lading-note': "Answered by Anchore Engine's server; missing from its document" };
  for (const [target, fields] of Object.entries(ANCHORE_UNDECLARED_FIELDS)) addFields(out, target, note(fields, undeclared));
  for (const [target, fields] of Object.entries(DEFINITION_FIELDS)) addFields(out, target, note(fields, { 'x-lading-extension': true }));
  for (const [target, fields] of Object.entries(CORRECTED_FIELDS)) addFields(out, target, fields);
  return { ...out, ...CORRECTED_DEFINITIONS, ...LADING_DEFINITIONS };
}

function buildDocument(routes: readonly CatalogRoute[]): Record<string, unknown> {
  const anchore = anchoreSwagger();
  const paths: Record<string, Record<string, SwaggerOperation>> = {};
  const put = (path: string, method: string, op: SwaggerOperation) => ((paths[path] ??= {})[method] = op);
  for (const { method, path, op } of anchoreOperations()) {
    const serving = routes.filter((r) => r.method === method && routeServes(r.path, path));
    if (serving.length) put(path, method, anchoreOperation(op, serving.every((r) => r.public)));
  }
  for (const route of routes) {
    const isAnchore = anchoreOperations().some((a) => a.method === route.method && sameShape(a.path, route.path));
    if (!isAnchore) put(route.path, route.method, ladingOperation(route));
  }
  const sorted = Object.fromEntries(Object.keys(paths).sort().map((p) => [p, paths[p]!]));
  return {
    swagger: '2.0',
    info: {
      ...anchore.info,
      title: 'Lading API (Anchore Engine v1 compatible)',
      description: "Anchore Engine's v1 API as Lading serves it. Operations, parameters, fields and definitions that Anchore did not have are marked x-lading-extension.",
      version: API_INFO_VERSION,
      'x-lading-version': VERSION,
    },
    'x-anchore-source': anchore['x-source'],
    basePath: '/v1',
    schemes: anchore.schemes,
    consumes: anchore.consumes,
    produces: anchore.produces,
    securityDefinitions: {
      basic: { type: 'basic' },
      token: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'Bearer <token from POST /oauth/token>' },
    },
    security: [{ basic: [] }, { token: [] }],
    tags: [...anchore.tags, { name: 'Lading', description: "Lading's additions to Anchore's API", 'x-lading-extension': true }],
    parameters: anchore.parameters,
    paths: sorted,
    definitions: definitions(),
  };
}
