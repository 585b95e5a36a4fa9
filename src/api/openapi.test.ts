/**
 * /swagger.json covers the API: every route fastify registered (read from its route tree, not from
 * the document's own catalogue) has an operation, Anchore's operations keep Anchore's operationId,
 * path and response schema, Lading's own are marked as extensions and documented (never the bare
 * fallback), and every Anchore operation is present (but those another branch is adding).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN as admin, describeService } from '../testkit/service.js';
import { anchoreOperations } from './openapi/anchore.js';
import { LADING_OPERATIONS } from './openapi/lading-operations.js';
import { PENDING_ANCHORE_OPERATIONS } from './openapi/testing-pending.js';
import { routeServes } from './openapi.js';

/** method + path of every route in fastify's printed route tree (full paths, :params as {params}). */
function routesOf(tree: string): { method: string; path: string }[] {
  const stack: string[] = [];
  const out: { method: string; path: string }[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│├└─\s]*)(\S.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    for (const method of m[3]?.split(', ') ?? []) out.push({ method: method.toLowerCase(), path: stack.join('').replace(/:(\w+)/g, '{$1}') });
  }
  return out;
}

/** Routes that are not the JSON API: probes, Prometheus text, the web UI. */
const NOT_API = ['/health', '/ready', '/metrics', '/ui'];

describeService('/swagger.json', { dialects: ['sqlite'] }, (h) => {
  test('every registered route has an operation; Anchore operations as Anchore had them; extensions marked', async () => {
    const { api, svc } = h();
    const doc = (await api('GET', '/v1/swagger.json')).body;
    assert.equal(doc.swagger, '2.0');
    assert.equal(doc.info.version, '0.1.20');
    assert.deepEqual((await api('GET', '/swagger.json')).body.paths, doc.paths);
    const routes = routesOf(svc.app!.printRoutes({ commonPrefix: false })).filter((r) => r.method !== 'head');
    const api1 = routes.filter((r) => r.path.startsWith('/v1/') || r.path === '/v1');
    const outside = routes.filter((r) => !r.path.startsWith('/v1')).map((r) => r.path);
    assert.ok(api1.length > 100, `${api1.length} routes under /v1`);
    for (const r of api1) {
      const path = r.path.replace(/^\/v1/, '') || '/';
      if (path.includes('*')) continue; // the wildcard twin of a {param} route
      const ops = Object.entries(doc.paths as Record<string, Record<string, { operationId: string }>>)
        .filter(([p, item]) => item[r.method] && routeServes(path, p));
      assert.ok(ops.length, `${r.method.toUpperCase()} ${path} has no operation in /swagger.json`);
      assert.ok(outside.includes(path) || NOT_API.includes(path) || r.path.startsWith('/v1'), path);
    }
    // The unversioned twins: the same routes; anything else outside /v1 is a known non-API route.
    for (const p of outside) {
      const twin = routes.some((r) => r.path === `/v1${p === '/' ? '' : p}`);
      assert.ok(twin || NOT_API.some((n) => p === n || p.startsWith(`${n}/`)), `${p} is neither under /v1 nor a known non-API route`);
    }

    const ops = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));
    const ids = ops.map((o) => o.op.operationId);
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    for (const a of anchoreOperations()) {
      const served = ops.find((o) => o.path === a.path && o.method === a.method);
      if (!served) {
        assert.ok(PENDING_ANCHORE_OPERATIONS.includes(a.op.operationId), `Anchore's ${a.op.operationId} (${a.method.toUpperCase()} ${a.path}) is missing`);
        continue;
      }
      assert.equal(served.op.operationId, a.op.operationId);
      assert.equal(served.op['x-lading-extension'], undefined, a.op.operationId);
      for (const [status, r] of Object.entries(a.op.responses)) {
        const mine: any = served.op.responses[status];
        if (mine['x-anchore-declared-schema']) assert.deepEqual(mine['x-anchore-declared-schema'], r.schema, `${a.op.operationId} ${status}`);
        else if (!r.schema && mine.schema) assert.equal(mine.schema['x-lading-extension'], true, `${a.op.operationId} ${status}: a body Anchore did not declare is marked`);
        else assert.deepEqual(mine.schema, r.schema, `${a.op.operationId} ${status}`);
      }
    }
    for (const o of ops.filter((x) => !anchoreOperations().some((a) => a.path === x.path && a.method === x.method))) {
      assert.equal(o.op['x-lading-extension'], true, `${o.method} ${o.path} is Lading's: marked`);
      assert.ok(LADING_OPERATIONS[o.path]?.[o.method], `${o.method.toUpperCase()} ${o.path} is documented in openapi/lading-operations.ts`);
    }
    for (const o of ops) assert.ok(Object.keys(o.op.responses).some((s) => s.startsWith('2')), `${o.op.operationId} declares its success`);
    // Every $ref resolves.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/definitions\/([^"]+)"/g)].map((m) => m[1]!);
    assert.deepEqual(refs.filter((r) => !doc.definitions[r]), []);
    assert.equal(doc.paths['/health'].get.security.length, 0, 'public routes need no credentials');
    assert.equal((await api('GET', '/v1/swagger.json', admin)).status, 200);
  });
});
