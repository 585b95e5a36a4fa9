/**
 * Regenerates src/api/openapi/anchore-swagger.json, the data Lading's /swagger.json is built from,
 * from Anchore Engine's external API description (Apache-2.0, like Lading):
 *
 *   git -C <anchore-engine clone> show HEAD:anchore_engine/services/apiext/swagger/swagger.yaml > anchore.yaml
 *   node scripts/anchore-swagger.mjs anchore.yaml <commit>
 *
 * Kept: every path's operations (operationId, parameters, responses, descriptions), the shared
 * parameters and every definition. Dropped: the Python routing (x-swagger-router-controller) and
 * authorization-action annotations, which name anchore-engine internals.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';

const [input, commit = 'unknown'] = process.argv.slice(2);
if (!input) {
  console.error('usage: node scripts/anchore-swagger.mjs ANCHORE_SWAGGER_YAML [COMMIT]');
  process.exit(2);
}
const doc = parse(readFileSync(input, 'utf8'));
const DROP = new Set(['x-swagger-router-controller', 'x-anchore-authz-action']);

function clean(value) {
  if (Array.isArray(value)) return value.map(clean);
  if (!value || typeof value !== 'object') return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    if (!DROP.has(k)) out[String(k)] = clean(v);
  }
  return out;
}

const out = {
  'x-source': {
    repository: 'https://github.com/anchore/anchore-engine',
    path: 'anchore_engine/services/apiext/swagger/swagger.yaml',
    commit,
    license: 'Apache-2.0, Copyright Anchore Inc.',
  },
  ...clean(doc),
};
writeFileSync(new URL('../src/api/openapi/anchore-swagger.json', import.meta.url), `${JSON.stringify(out, null, 1)}\n`);
console.log(`wrote ${Object.keys(out.paths).length} paths, ${Object.keys(out.definitions).length} definitions`);
