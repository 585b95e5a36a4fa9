import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLadingError } from '../errors.js';
import { DRIVERS } from '../feeds/drivers/index.js';
import { DEFAULT_LIMITS } from '../image/limits.js';
import { loadConfig, redactConfig, ENV_VARS, type LoadConfigOptions } from './load.js';
import { FEED_SOURCES, ROLES, allKeyPaths, formatDuration, parseDuration, parseSize, type LadingConfig } from './schema.js';

const ENV = { HOME: '/home/u' };

function load(o: LoadConfigOptions = {}): LadingConfig {
  return loadConfig({ env: ENV, cwd: '/work', ...o });
}

function error(o: LoadConfigOptions): string {
  try {
    load(o);
  } catch (e) {
    assert.ok(isLadingError(e), `not a LadingError: ${e}`);
    assert.equal(e.code, 'BAD_INPUT');
    return e.message;
  }
  assert.fail('configuration was accepted');
}

test('defaults: 127.0.0.1:8228, every role, SQLite in the data directory, no admin password', () => {
  const c = load();
  assert.deepEqual(c.listen, { host: '127.0.0.1', port: 8228, allowed_origins: [] });
  assert.deepEqual(c.roles, [...ROLES]);
  assert.equal(c.data_dir, '/home/u/.local/share/lading');
  assert.equal(c.db_url, '/home/u/.local/share/lading/lading.db');
  assert.equal(c.log_level, 'info');
  assert.equal(c.production_mode, false);
  assert.deepEqual(c.admin, {});
  assert.equal(c.encryption_key, undefined);
  assert.equal(c.analysis.file_digests, true);
  assert.equal(c.analysis.limits.max_layers, DEFAULT_LIMITS.maxLayers);
  assert.equal(c.analysis.limits.max_uncompressed_bytes, DEFAULT_LIMITS.maxUncompressedBytes);
  assert.equal(c.feeds.sync_interval_seconds, 21600);
  assert.deepEqual(c.feeds.sources, [...FEED_SOURCES]);
  assert.equal(c.webhooks.verify_tls, true);
  assert.equal(c.config_file, undefined);
  assert.equal(load({ env: { XDG_DATA_HOME: '/xdg' } }).data_dir, '/xdg/lading');
});

test('the feed source list matches the driver registry', () => {
  assert.deepEqual([...FEED_SOURCES].sort(), Object.keys(DRIVERS).sort());
});

test('durations and sizes', () => {
  const cases: [unknown, number | undefined][] = [[30, 30], ['30', 30], ['30s', 30], ['10m', 600], ['6h', 21600], ['1d', 86400], ['500ms', 0.5], ['1.5h', 5400], ['x', undefined], [-1, undefined], ['1w', undefined], [true, undefined]];
  for (const [v, want] of cases) assert.equal(parseDuration(v), want, String(v));
  const sizes: [unknown, number | undefined][] = [[1024, 1024], ['4MiB', 4 << 20], ['4mib', 4 << 20], ['10MB', 10_000_000], ['32GiB', 32 * 1024 ** 3], ['1.5KiB', 1536], ['12', 12], ['-1', undefined], ['4 parsecs', undefined], [1.5, undefined]];
  for (const [v, want] of sizes) assert.equal(parseSize(v), want, String(v));
  assert.equal(formatDuration(3600), '1h');
  assert.equal(formatDuration(90), '90s');
  assert.equal(formatDuration(0.1), '100ms');
});

const GOOD: { name: string; yaml?: string; env?: Record<string, string>; overrides?: Record<string, unknown>; check: (c: LadingConfig) => void }[] = [
  {
    name: 'a full file',
    yaml: `
data_dir: /srv/lading
db_url: postgres://lading:pw@db:5432/lading
listen: { host: 0.0.0.0, port: 9000 }
roles: [api, worker]
log_level: DEBUG
production_mode: true
admin: { password: s3cret-enough, email: ops@example.com }
encryption_key: 0123456789abcdef0123
previous_encryption_keys: [old-key-0123456789]
analysis:
  workers: 4
  lease_seconds: 10m
  max_attempts: 5
  file_digests: false
  retrieve_files: [/etc/passwd]
  content_rules: ['TODO=(?i)todo:.*']
  scratch_dir: /scratch
  limits: { max_layers: 200, max_uncompressed_bytes: 8GiB }
feeds:
  enabled: false
  sync_interval_seconds: 1h
  sources: [debian, alpine]
  base_urls: { debian: 'http://mirror.local/debian' }
watchers: { tag_interval: 5m, repo_interval: 120 }
webhooks:
  url: https://hooks.example.com/<account>/<notification_type>
  username: hook
  password: hookpw
  verify_tls: false
  timeout: 2s
  retry_deadline: 1d
  types:
    policy_eval: { url: 'http://other/' }
cycle_timers: { policy_eval: 30m, notifications: 10 }
`,
    check: (c) => {
      assert.equal(c.data_dir, '/srv/lading');
      assert.equal(c.db_url, 'postgres://lading:pw@db:5432/lading');
      assert.deepEqual(c.listen, { host: '0.0.0.0', port: 9000, allowed_origins: [] });
      assert.deepEqual(c.roles, ['api', 'worker']);
      assert.equal(c.log_level, 'debug');
      assert.equal(c.production_mode, true);
      assert.deepEqual(c.admin, { password: 's3cret-enough', email: 'ops@example.com' });
      assert.deepEqual(c.previous_encryption_keys, ['old-key-0123456789']);
      assert.equal(c.analysis.lease_seconds, 600);
      assert.equal(c.analysis.limits.max_uncompressed_bytes, 8 * 1024 ** 3);
      assert.equal(c.analysis.limits.max_entries, DEFAULT_LIMITS.maxEntries);
      assert.equal(c.analysis.scratch_dir, '/scratch');
      assert.equal(c.feeds.sync_interval_seconds, 3600);
      assert.deepEqual(c.feeds.base_urls, { debian: 'http://mirror.local/debian' });
      assert.deepEqual(c.watchers, { tag_interval: 300, repo_interval: 120 });
      assert.equal(c.webhooks.timeout, 2);
      assert.equal(c.webhooks.retry_deadline, 86400);
      assert.deepEqual(c.webhooks.types, { policy_eval: { url: 'http://other/' } });
      assert.equal(c.cycle_timers.policy_eval, 1800);
      assert.equal(c.cycle_timers.vulnerability_scan, 300);
    },
  },
  { name: 'an empty file', yaml: '', check: (c) => assert.equal(c.listen.port, 8228) },
  { name: 'a comment-only file', yaml: '# nothing\n', check: (c) => assert.equal(c.listen.port, 8228) },
  { name: 'roles: [all]', yaml: 'roles: [all, api]', check: (c) => assert.deepEqual(c.roles, [...ROLES]) },
  { name: 'YAML 1.2: on stays a string, so a host named "on" is kept', yaml: 'listen: { host: on }', check: (c) => assert.equal(c.listen.host, 'on') },
  {
    name: 'the named environment variables',
    env: { LADING_DATA_DIR: '/d', LADING_DB_URL: 'postgres://h/db', LADING_PORT: '8300', LADING_HOST: '::', LADING_ADMIN_PASSWORD: '123456', LADING_ENCRYPTION_KEY: 'k'.repeat(32), LADING_LOG_LEVEL: 'warn', LADING_ROLES: 'api, feeds', LADING_PRODUCTION_MODE: 'yes', LADING_ADMIN_EMAIL: 'a@b.c', LADING_PREVIOUS_ENCRYPTION_KEYS: `${'a'.repeat(16)},${'b'.repeat(16)}` },
    check: (c) => {
      assert.equal(c.data_dir, '/d');
      assert.equal(c.db_url, 'postgres://h/db');
      assert.deepEqual(c.listen, { host: '::', port: 8300, allowed_origins: [] });
      assert.equal(c.admin.password, '123456'); // a numeric-looking password stays a string
      assert.equal(c.encryption_key, 'k'.repeat(32));
      assert.equal(c.log_level, 'warn');
      assert.deepEqual(c.roles, ['api', 'feeds']);
      assert.equal(c.production_mode, true);
      assert.equal(c.previous_encryption_keys.length, 2);
    },
  },
  {
    name: 'the generic LADING_<SECTION>__<KEY> form, nested keys, lists, booleans, durations, sizes',
    env: {
      LADING_ANALYSIS__WORKERS: '8', LADING_ANALYSIS__FILE_DIGESTS: 'false', LADING_ANALYSIS__LIMITS__MAX_LAYERS: '50', LADING_ANALYSIS__LIMITS__MAX_CAPTURED_BYTES: '1GiB',
      LADING_FEEDS__SOURCES: 'osv,nvd', LADING_FEEDS__BASE_URLS__OSV: 'http://127.0.0.1:9/osv', LADING_WATCHERS__TAG_INTERVAL: '90',
      LADING_WEBHOOKS__RETRY_DEADLINE: '2h', LADING_ANALYSIS__RETRIEVE_FILES: '["/a","/b,c"]', LADING_LISTEN__PORT: '8400', LADING_PORT: '8300',
    },
    check: (c) => {
      assert.equal(c.analysis.workers, 8);
      assert.equal(c.analysis.file_digests, false);
      assert.equal(c.analysis.limits.max_layers, 50);
      assert.equal(c.analysis.limits.max_captured_bytes, 1024 ** 3);
      assert.deepEqual(c.feeds.sources, ['osv', 'nvd']);
      assert.equal(c.feeds.base_urls.osv, 'http://127.0.0.1:9/osv');
      assert.equal(c.watchers.tag_interval, 90);
      assert.equal(c.webhooks.retry_deadline, 7200);
      assert.deepEqual(c.analysis.retrieve_files, ['/a', '/b,c']);
      assert.equal(c.listen.port, 8400, 'the generic form wins over the short one');
    },
  },
  {
    name: 'precedence: file < environment < overrides; empty variables are unset',
    yaml: 'listen: { port: 9000, host: 10.0.0.1 }\nlog_level: error\ndb_url: /file.db',
    env: { LADING_PORT: '9001', LADING_LOG_LEVEL: 'debug', LADING_DB_URL: '' },
    overrides: { listen: { port: 9002 }, roles: ['worker'], data_dir: 'rel' },
    check: (c) => {
      assert.deepEqual(c.listen, { host: '10.0.0.1', port: 9002, allowed_origins: [] });
      assert.equal(c.log_level, 'debug');
      assert.equal(c.db_url, '/file.db');
      assert.deepEqual(c.roles, ['worker']);
      assert.equal(c.data_dir, '/work/rel');
    },
  },
];

for (const g of GOOD) {
  test(`good: ${g.name}`, () => {
    g.check(load({ ...(g.yaml !== undefined ? { yaml: g.yaml } : {}), env: { ...ENV, ...g.env }, ...(g.overrides ? { overrides: g.overrides } : {}) }));
  });
}

const BAD: { name: string; yaml?: string; env?: Record<string, string>; overrides?: Record<string, unknown>; want: (string | RegExp)[]; never?: string[] }[] = [
  { name: 'port from the environment', env: { LADING_PORT: 'abc' }, want: ['configuration: listen.port: expected a number from 1 to 65535, got "abc" (from LADING_PORT)'] },
  { name: 'port out of range', env: { LADING_PORT: '70000' }, want: ['configuration: listen.port: expected a number from 1 to 65535, got 70000 (from LADING_PORT)'] },
  { name: 'port as a quoted string in the file (no coercion)', yaml: 'listen:\n  port: "8228"\n', want: ['configuration: listen.port: expected a number from 1 to 65535, got "8228" (from configuration text line 2)'] },
  { name: 'port 0 from overrides', overrides: { listen: { port: 0 } }, want: ['configuration: listen.port: expected a number from 1 to 65535, got 0 (from command line)'] },
  { name: 'an unknown key, with a suggestion', yaml: 'listen:\n  hots: 0.0.0.0\n', want: ['configuration: listen.hots: unknown key (did you mean host?) (from configuration text line 2)'] },
  { name: 'an unknown top-level key', yaml: 'analyser:\n  workers: 2\n', want: [/^configuration: analyser: unknown key \(did you mean analysis\?\) \(from configuration text line 1\)$/] },
  { name: 'an unknown generic variable', env: { LADING_ANALYSIS__WROKERS: '3' }, want: ['configuration: analysis.wrokers: unknown key (did you mean workers?) (from LADING_ANALYSIS__WROKERS)'] },
  { name: 'a generic variable naming no section', env: { LADING_NOPE__X: '1' }, want: [/^configuration: nope\.x: unknown key .*\(from LADING_NOPE__X\)$/] },
  { name: 'a mapping where a value was expected', yaml: 'listen: 8228\n', want: ['configuration: listen: expected a mapping (key: value lines), got 8228 (from configuration text line 1)'] },
  { name: 'a bad role', yaml: 'roles: [api, wrker]\n', want: ['configuration: roles[1]: expected one of api, worker, watcher, feeds, notifier, all, got "wrker" (from configuration text line 1)'] },
  { name: 'no roles', env: { LADING_ROLES: ',' }, want: [/^configuration: roles: expected a list of roles .*\(from LADING_ROLES\)$/] },
  { name: 'a bad boolean', env: { LADING_PRODUCTION_MODE: 'maybe' }, want: ['configuration: production_mode: expected true or false, got "maybe" (from LADING_PRODUCTION_MODE)'] },
  { name: 'a bad log level', yaml: 'log_level: LOUD', want: ['configuration: log_level: expected one of fatal, error, warn, info, debug, trace, silent, got "LOUD" (from configuration text line 1)'] },
  { name: 'a short admin password is named but not shown', env: { LADING_ADMIN_PASSWORD: 'abc12' }, want: ['configuration: admin.password: expected a password of 6 to 128 characters, got a value (hidden) (from LADING_ADMIN_PASSWORD)'], never: ['abc12'] },
  { name: 'a short encryption key is named but not shown', yaml: 'encryption_key: tooshortkey', want: [/^configuration: encryption_key: expected an encryption key of at least 16 characters, got a value \(hidden\)/], never: ['tooshortkey'] },
  { name: 'a bad database URL, password masked', yaml: 'db_url: mysql://u:hunter2@h/db', want: ['configuration: db_url: expected a file path, sqlite:PATH or postgres://… URL, got "mysql://u:***@h/db" (from configuration text line 1)'], never: ['hunter2'] },
  { name: 'a bad duration', yaml: 'watchers:\n  tag_interval: soon\n', want: [/^configuration: watchers\.tag_interval: expected a duration from 1s to 7d .*, got "soon" \(from configuration text line 2\)$/] },
  { name: 'a duration below its minimum', env: { LADING_FEED_SYNC_INTERVAL: '0.5' }, want: [/^configuration: feeds\.sync_interval_seconds: expected a duration from 1s to 30d .*got 0\.5 \(from LADING_FEED_SYNC_INTERVAL\)$/] },
  { name: 'a bad size', yaml: 'analysis: { limits: { max_config_bytes: lots } }', want: [/^configuration: analysis\.limits\.max_config_bytes: expected a size in bytes .*got "lots"/] },
  { name: 'a bad content rule regex', yaml: 'analysis:\n  content_rules:\n    - "X=("\n', want: [/^configuration: analysis\.content_rules\[0\]: content rule X: invalid regex .*got "X=\(" \(from configuration text line 3\)$/] },
  { name: 'a relative retrieve_files path', yaml: 'analysis: { retrieve_files: [etc/passwd] }', want: [/^configuration: analysis\.retrieve_files\[0\]: expected an absolute path, got "etc\/passwd"/] },
  { name: 'an unknown feed source', yaml: 'feeds: { sources: [debian, suse] }', want: [/^configuration: feeds\.sources\[1\]: expected one of debian, .*got "suse"/] },
  { name: 'a base URL for an unknown source', yaml: 'feeds: { base_urls: { sles: "http://x/" } }', want: [/^configuration: feeds\.base_urls\.sles: unknown key/] },
  { name: 'a base URL that is not http', yaml: 'feeds: { base_urls: { debian: "ftp://x/" } }', want: [/^configuration: feeds\.base_urls\.debian: expected an http:\/\/ or https:\/\/ URL, got "ftp:\/\/x\/"/] },
  { name: 'webhook basic auth needs both halves', yaml: 'webhooks: { username: hook }', want: ['configuration: webhooks.password: required together with username (basic auth needs both) (from configuration text line 1)'] },
  { name: 'a webhook type that does not exist', yaml: 'webhooks: { types: { tag_updates: { url: "http://x/" } } }', want: [/^configuration: webhooks\.types\.tag_updates: unknown key \(did you mean tag_update\?\)/] },
  { name: 'a null value', yaml: 'listen:\n  port:\n', want: [/^configuration: listen\.port: expected a number from 1 to 65535, got null/] },
  { name: 'several problems at once, one line each', yaml: 'listen: { port: -1 }\nlog_level: 3\n', env: { LADING_ANALYSIS__WORKERS: 'many' }, want: [/listen\.port: .*got -1/, /log_level: expected one of .*got 3/, /analysis\.workers: expected a whole number from 1 to 256, got "many" \(from LADING_ANALYSIS__WORKERS\)/] },
  { name: 'YAML syntax', yaml: 'listen: [1\n', want: [/^configuration: configuration text line \d+: /] },
  { name: 'duplicate keys', yaml: 'log_level: info\nlog_level: debug\n', want: [/^configuration: configuration text line 2: Map keys must be unique/] },
  { name: 'a list at the top level', yaml: '- a\n', want: ['configuration: configuration text: expected a mapping of keys at the top level'] },
];

for (const b of BAD) {
  test(`bad: ${b.name}`, () => {
    const msg = error({ ...(b.yaml !== undefined ? { yaml: b.yaml } : {}), env: { ...ENV, ...b.env }, ...(b.overrides ? { overrides: b.overrides } : {}) });
    const lines = msg.split('\n');
    for (const w of b.want) {
      assert.ok(lines.some((l) => (typeof w === 'string' ? l === w : w.test(l))), `no line matching ${w} in:\n${msg}`);
    }
    for (const n of b.never ?? []) assert.ok(!msg.includes(n), `message shows ${n}: ${msg}`);
  });
}

test('a file: read, named in messages, relative paths resolved against its directory; LADING_CONFIG finds it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lading-config-'));
  try {
    const file = join(dir, 'lading.yaml');
    await writeFile(file, 'data_dir: ./data\nanalysis: { scratch_dir: tmp }\nlisten: { port: 8999 }\n');
    const c = load({ file });
    assert.equal(c.data_dir, join(dir, 'data'));
    assert.equal(c.db_url, join(dir, 'data', 'lading.db'));
    assert.equal(c.analysis.scratch_dir, join(dir, 'tmp'));
    assert.equal(c.config_file, file);
    assert.equal(load({ env: { ...ENV, LADING_CONFIG: file } }).listen.port, 8999);
    await writeFile(file, 'listen:\n  port: 0\n');
    assert.equal(error({ file }), `configuration: listen.port: expected a number from 1 to 65535, got 0 (from ${file} line 2)`);
    assert.equal(error({ file: join(dir, 'missing.yaml') }), `configuration: cannot read ${join(dir, 'missing.yaml')}: no such file`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('redactConfig hides passwords, keys and URL passwords', () => {
  const c = load({ yaml: 'db_url: postgres://u:dbpw@h/db\nadmin: { password: adminpw1 }\nencryption_key: 0123456789abcdefXYZ\nprevious_encryption_keys: [oldoldoldoldoldold]\nwebhooks: { url: "https://a:hookpw@h/", username: a, password: hookpw2 }' });
  const text = JSON.stringify(redactConfig(c));
  for (const secret of ['dbpw', 'adminpw1', '0123456789abcdefXYZ', 'oldoldoldoldoldold', 'hookpw']) assert.ok(!text.includes(secret), `${secret} in ${text}`);
  assert.match(text, /postgres:\/\/u:\*\*\*@h\/db/);
  assert.match(text, /"password":"\*\*\*"/);
});

test('every key and every environment variable is documented in docs/configuration.md', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  // One row covers each repeated part: feeds.base_urls.<source>, webhooks.types.<type>.
  const keys = [...new Set(allKeyPaths().map((k) => k.replace(/^feeds\.base_urls\..*/, 'feeds.base_urls.<source>').replace(/^webhooks\.types\..*/, 'webhooks.types.<type>')))];
  const missing = keys.filter((k) => !doc.includes(`\`${k}\``));
  assert.deepEqual(missing, [], `undocumented keys: ${missing.join(', ')}`);
  const missingEnv = Object.keys(ENV_VARS).filter((v) => !doc.includes(v));
  assert.deepEqual(missingEnv, []);
  assert.ok(allKeyPaths().includes('listen.port') && allKeyPaths().includes('analysis.limits.max_layers') && allKeyPaths().includes('webhooks.types.policy_eval.url'));
});

test('the example file in docs/configuration.md is valid', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  const m = /<!-- example -->\s*```yaml\n([\s\S]*?)```/.exec(doc);
  assert.ok(m, 'no example block');
  const c = load({ yaml: m[1]! });
  assert.equal(c.listen.port, 8228);
});

test('object_store: defaults, the s3 section checked, its secret never echoed', () => {
  const c = load();
  assert.equal(c.object_store.driver, 'db');
  assert.equal(c.object_store.compression, 'zstd');
  assert.equal(c.object_store.s3.path_style, false);
  const s3 = load({ yaml: 'object_store:\n  driver: s3\n  s3:\n    url: http://minio:9000\n    bucket: lading\n    path_style: true\n', env: { ...ENV, LADING_OBJECT_STORE__S3__SECRET_KEY: 'shh-secret', LADING_OBJECT_STORE__S3__ACCESS_KEY: 'AK' } });
  assert.deepEqual([s3.object_store.s3.bucket, s3.object_store.s3.secret_key, s3.object_store.s3.timeout], ['lading', 'shh-secret', 30]);
  assert.match(error({ yaml: 'object_store:\n  driver: s3\n' }), /object_store\.s3\.bucket: required when object_store\.driver is s3/);
  assert.match(error({ yaml: 'object_store:\n  driver: nfs\n' }), /object_store\.driver: expected one of db, dir, s3/);
  assert.match(error({ yaml: 'object_store:\n  s3:\n    url: ftp://x\n' }), /object_store\.s3\.url: expected an http:\/\/ or https:\/\/ URL/);
  const message = error({ yaml: 'object_store:\n  s3:\n    secret_key: 12\n    access_key: AK\n' });
  assert.match(message, /object_store\.s3\.secret_key: expected a secret access key/);
  assert.doesNotMatch(message, /12/);
  assert.match(error({ yaml: 'object_store:\n  s3:\n    access_key: AK\n' }), /object_store\.s3\.secret_key: access_key and secret_key are given together/);
});
