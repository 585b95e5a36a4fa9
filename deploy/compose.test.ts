/**
 * deploy/compose.yaml's structure, read as Compose reads it (YAML merge keys, `${VAR}` interpolation
 * from deploy/.env.example): PostgreSQL with a named volume and a healthcheck; the API, two workers
 * and one periodic process; every LADING_* variable one Lading's configuration knows; and each
 * Lading service's environment loads, through Lading's own loadConfig, into the roles it is meant to
 * run against the compose file's own database.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { CONFIG_FILE_ENV, ENV_VARS, loadConfig } from '../src/config/load.js';
import { ROLES, kindAt } from '../src/config/schema.js';

const DEPLOY = dirname(fileURLToPath(import.meta.url));
const text = readFileSync(join(DEPLOY, 'compose.yaml'), 'utf8');
const compose = parse(text, { merge: true }) as { services: Record<string, any>; volumes?: Record<string, unknown> };
const LADING_SERVICES = ['lading-api', 'lading-worker', 'lading-periodic'];

/** deploy/.env.example as KEY=VALUE pairs (what a user copies to deploy/.env). */
function envExample(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(DEPLOY, '.env.example'), 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g;

/** Compose's interpolation of one string: ${V}, ${V:-default}, ${V-default}, ${V:?message}, ${V?message}. */
function interpolate(s: string, env: Record<string, string>): string {
  return s.replace(REF, (_all, name: string, op: string | undefined, arg: string | undefined) => {
    const v = env[name];
    const unsetOrEmpty = v === undefined || (op?.startsWith(':') && v === '');
    if (op?.endsWith('-')) return unsetOrEmpty ? arg ?? '' : v!;
    if (op?.endsWith('?')) {
      if (unsetOrEmpty) throw new Error(`required variable ${name} is missing a value: ${arg}`);
      return v!;
    }
    return v ?? '';
  });
}

function interpolateAll(value: unknown, env: Record<string, string>): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateAll(v, env));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateAll(v, env)]));
  return value;
}

/** A service's environment as a name → string mapping (Compose allows a list of NAME=VALUE too). */
function environmentOf(service: any): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((e: string) => [e.split('=')[0], e.slice(e.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

describe('deploy/compose.yaml', () => {
  test('has PostgreSQL with a named volume and a healthcheck, and the three Lading services', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['lading-api', 'lading-periodic', 'lading-worker', 'postgres']);
    const pg = compose.services.postgres;
    assert.match(pg.image, /^docker\.io\/library\/postgres:1[56](-|$)/);
    const volume = (pg.volumes as string[]).find((v) => v.endsWith(':/var/lib/postgresql/data'));
    assert.ok(volume, 'postgres keeps no data volume');
    const name = volume.split(':')[0]!;
    assert.ok(compose.volumes && name in compose.volumes, `volume ${name} is not declared under volumes:`);
    assert.match(pg.healthcheck.test.join(' '), /pg_isready/);
  });

  test('every Lading service builds deploy/Dockerfile and runs its roles; together they run every role', () => {
    const expected: Record<string, string[]> = { 'lading-api': ['api'], 'lading-worker': ['worker'], 'lading-periodic': ['watcher', 'feeds', 'notifier'] };
    const all = new Set<string>();
    for (const name of LADING_SERVICES) {
      const s = compose.services[name];
      assert.equal(s.build.dockerfile, 'deploy/Dockerfile', name);
      assert.equal(resolve(DEPLOY, s.build.context), resolve(DEPLOY, '..'), name);
      const roles = environmentOf(s).LADING_ROLES!.split(',');
      for (const r of roles) assert.ok((ROLES as readonly string[]).includes(r), `${name}: unknown role ${r}`);
      assert.deepEqual(roles, expected[name]);
      roles.forEach((r) => all.add(r));
      assert.ok(s.healthcheck?.test, `${name} has no healthcheck`);
    }
    assert.deepEqual([...all].sort(), [...ROLES].sort());
  });

  test('two worker replicas; the API published on its port; start order API after PostgreSQL, the rest after the API', () => {
    assert.equal(compose.services['lading-worker'].deploy.replicas, 2);
    assert.equal(compose.services['lading-periodic'].deploy?.replicas ?? 1, 1);
    const api = compose.services['lading-api'];
    assert.deepEqual(api.ports, ['${LADING_API_PORT:-8228}:8228']);
    assert.equal(environmentOf(api).LADING_PORT, '8228');
    assert.deepEqual(api.depends_on, { postgres: { condition: 'service_healthy' } });
    for (const name of ['lading-worker', 'lading-periodic']) assert.deepEqual(compose.services[name].depends_on, { 'lading-api': { condition: 'service_healthy' } });
  });

  test('every LADING_* variable is one Lading reads', () => {
    for (const name of LADING_SERVICES) {
      for (const key of Object.keys(environmentOf(compose.services[name]))) {
        assert.match(key, /^LADING_/, `${name}: ${key}`);
        const generic = /^LADING_(.+__.+)$/.exec(key);
        const known = key in ENV_VARS || key === CONFIG_FILE_ENV || (generic !== null && kindAt(generic[1]!.toLowerCase().split('__')) !== undefined);
        assert.ok(known, `${name}: ${key} is not a variable of src/config/load.ts`);
      }
    }
  });

  test('no secret is committed: passwords and the key are required variables, all listed in .env.example', () => {
    const example = envExample();
    const required = [...text.matchAll(REF)].filter((m) => m[2]?.endsWith('?')).map((m) => m[1]!);
    assert.deepEqual([...new Set(required)].sort(), ['LADING_ADMIN_PASSWORD', 'LADING_ENCRYPTION_KEY', 'POSTGRES_PASSWORD']);
    for (const r of required) assert.ok(r in example, `.env.example lacks ${r}`);
    for (const name of LADING_SERVICES) {
      const env = environmentOf(compose.services[name]);
      assert.match(env.LADING_ADMIN_PASSWORD!, /^\$\{LADING_ADMIN_PASSWORD:\?/);
      assert.match(env.LADING_ENCRYPTION_KEY!, /^\$\{LADING_ENCRYPTION_KEY:\?/);
      assert.match(env.LADING_DB_URL!, /^postgres:\/\/lading:\$\{POSTGRES_PASSWORD:\?[^}]*\}@/);
    }
    assert.match(readFileSync(join(DEPLOY, '.gitignore'), 'utf8'), /^\.env$/m);
    // Without them, Compose refuses to start, naming the variable.
    assert.throws(() => interpolateAll(compose.services['lading-api'], {}), /required variable (LADING_ADMIN_PASSWORD|LADING_ENCRYPTION_KEY|POSTGRES_PASSWORD)/);
  });

  test('each Lading service\'s environment loads into its roles, in production mode, on the compose PostgreSQL', () => {
    const env = envExample();
    const services = interpolateAll(compose.services, env) as Record<string, any>;
    const pg = environmentOf(services.postgres);
    for (const name of LADING_SERVICES) {
      const config = loadConfig({ yaml: '', env: environmentOf(services[name]) });
      assert.deepEqual(config.roles, environmentOf(services[name]).LADING_ROLES!.split(','), name);
      assert.equal(config.production_mode, true, name);
      assert.equal(config.admin.password, env.LADING_ADMIN_PASSWORD);
      assert.equal(config.encryption_key, env.LADING_ENCRYPTION_KEY);
      const db = new URL(config.db_url);
      assert.equal(db.protocol, 'postgres:');
      assert.equal(db.hostname, 'postgres', `${name}: the database host is not the postgres service`);
      assert.equal(decodeURIComponent(db.username), pg.POSTGRES_USER);
      assert.equal(decodeURIComponent(db.password), pg.POSTGRES_PASSWORD);
      assert.equal(db.pathname, `/${pg.POSTGRES_DB}`);
      if (!config.roles.includes('api')) assert.ok(config.metrics.port, `${name}: no metrics.port: its healthcheck has nothing to probe`);
    }
  });
});
