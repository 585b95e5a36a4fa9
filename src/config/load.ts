/**
 * Loading the service configuration: defaults < YAML file < environment < overrides (command-line
 * flags), validated by schema.ts. Every problem is reported with its key and where the value came
 * from, e.g. `configuration: listen.port: expected a number from 1 to 65535, got "abc" (from LADING_PORT)`;
 * secrets are never echoed.
 *
 * The file: YAML 1.2 (so `on`/`yes` stay strings and `0777` is a number, not octal), every scalar
 * taken as written (no coercion: `port: "8228"` is a string, and is refused), unknown keys refused.
 * The environment: the named variables below, and `LADING_<SECTION>__<KEY>[__<KEY>…]` for any key
 * (`LADING_ANALYSIS__WORKERS=4`, `LADING_FEEDS__BASE_URLS__DEBIAN=http://mirror/`). Environment
 * strings are converted to the key's type: numbers, booleans (true/false/1/0/yes/no/on/off),
 * lists (comma-separated, or a JSON array), durations and sizes. Empty variables count as unset.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { LadingError, describeError } from '../errors.js';
import { configSchema, elementKindAt, isSecretPath, keysAt, kindAt, type LadingConfig, type LeafKind } from './schema.js';
import { isPlainObject } from '../util/objects.js';
import { defaultDataDir } from '../data-dir.js';

type Path = (string | number)[];

/** The short environment variables, and the key each sets. */
export const ENV_VARS: Record<string, string> = {
  LADING_DATA_DIR: 'data_dir',
  LADING_CACHE_DIR: 'analysis.cache.dir',
  LADING_CACHE_MAX_BYTES: 'analysis.cache.max_bytes',
  LADING_DB_URL: 'db_url',
  LADING_HOST: 'listen.host',
  LADING_PORT: 'listen.port',
  LADING_TLS_CERT_FILE: 'listen.tls_cert_file',
  LADING_TLS_KEY_FILE: 'listen.tls_key_file',
  LADING_ROLES: 'roles',
  LADING_LOG_LEVEL: 'log_level',
  LADING_PRODUCTION_MODE: 'production_mode',
  LADING_ADMIN_PASSWORD: 'admin.password',
  LADING_ADMIN_EMAIL: 'admin.email',
  LADING_ENCRYPTION_KEY: 'encryption_key',
  LADING_PREVIOUS_ENCRYPTION_KEYS: 'previous_encryption_keys',
  LADING_FEED_SYNC_INTERVAL: 'feeds.sync_interval_seconds',
  LADING_TAG_WATCH_INTERVAL: 'watchers.tag_interval',
  LADING_REPO_WATCH_INTERVAL: 'watchers.repo_interval',
  LADING_POLICY_EVAL_INTERVAL: 'cycle_timers.policy_eval',
  LADING_NOTIFY_INTERVAL: 'cycle_timers.notifications',
  LADING_WEBHOOK_URL: 'webhooks.url',
  LADING_METRICS_ENABLED: 'metrics.enabled',
  LADING_METRICS_AUTH_REQUIRED: 'metrics.auth_required',
  LADING_METRICS_PORT: 'metrics.port',
};

/** The variable naming the configuration file when no file is given. */
export const CONFIG_FILE_ENV = 'LADING_CONFIG';

/** The SQLite file of the service, in data_dir, when db_url is not set. */
export const DEFAULT_DB_FILE = 'lading.db';

export interface LoadConfigOptions {
  /** The YAML file; default $LADING_CONFIG; none → defaults and environment only. */
  file?: string;
  /** YAML text instead of reading `file` (which, if given, names it in messages). */
  yaml?: string;
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Values that win over everything (command-line flags), in the file's shape: `{ listen: { port: 9000 } }`. */
  overrides?: Record<string, unknown>;
  /** How overrides are named in messages. Default 'command line'. */
  overridesSource?: string;
  /** Relative paths from the environment or overrides resolve here. Default process.cwd(). */
  cwd?: string;
}

export function pathKey(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out || '(top level)';
}


function getAt(obj: unknown, path: readonly (string | number)[]): unknown {
  let cur = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

function setAt(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let cur = obj;
  for (const p of path.slice(0, -1)) {
    if (!isPlainObject(cur[p])) cur[p] = {};
    cur = cur[p] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

/** Where each value came from: dotted key → 'FILE line N' | 'LADING_X' | 'command line'. */
class Provenance {
  private readonly map = new Map<string, string>();
  set(path: readonly (string | number)[], source: string): void {
    this.map.set(pathKey(path), source);
  }
  /** Everything under a path now comes from `source` (an override replaced it). */
  replace(path: readonly (string | number)[], source: string): void {
    const k = pathKey(path);
    for (const key of [...this.map.keys()]) if (key === k || key.startsWith(`${k}.`) || key.startsWith(`${k}[`)) this.map.delete(key);
    this.map.set(k, source);
  }
  /** The source of the value at a path, or of the nearest enclosing one that has one. */
  of(path: readonly (string | number)[]): string | undefined {
    for (let n = path.length; n >= 0; n--) {
      const s = this.map.get(pathKey(path.slice(0, n)));
      if (s) return s;
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The file

function readYaml(text: string, name: string, prov: Provenance): Record<string, unknown> {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, version: '1.2' });
  const err = doc.errors[0];
  if (err) {
    const line = lc.linePos(err.pos[0]).line;
    throw new LadingError('BAD_INPUT', `configuration: ${name} line ${line}: ${err.message.split('\n')[0]}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new LadingError('BAD_INPUT', `configuration: ${name}: ${describeError(e)}`, { cause: e });
  }
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) throw new LadingError('BAD_INPUT', `configuration: ${name}: expected a mapping of keys at the top level`);
  const walk = (node: unknown, path: Path) => {
    if (isMap(node)) {
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
        const at = [...path, key];
        const start = (item.key as YamlNode | null)?.range?.[0];
        if (start !== undefined) prov.set(at, `${name} line ${lc.linePos(start).line}`);
        walk(item.value, at);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const start = (item as YamlNode | null)?.range?.[0];
        if (start !== undefined) prov.set([...path, i], `${name} line ${lc.linePos(start).line}`);
        walk(item, [...path, i]);
      });
    }
  };
  walk(doc.contents, []);
  return value;
}

// ---------------------------------------------------------------------------------------------
// The environment

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** An environment string as the kind of value the key holds; left as the string when it is not one (validation then names it). */
function coerce(raw: string, kind: LeafKind | undefined, path: Path): unknown {
  const s = raw.trim();
  switch (kind) {
    case 'number':
      return /^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s) ? Number(s) : raw;
    case 'duration':
    case 'size':
      return /^\d+(\.\d+)?$/.test(s) ? Number(s) : raw;
    case 'boolean':
      return TRUE.has(s.toLowerCase()) ? true : FALSE.has(s.toLowerCase()) ? false : raw;
    case 'list': {
      if (s.startsWith('[')) {
        try {
          return JSON.parse(s);
        } catch {
          return raw;
        }
      }
      const ek = elementKindAt(path);
      return s.split(',').map((x) => x.trim()).filter((x) => x !== '').map((x) => coerce(x, ek, [...path, 0]));
    }
    case 'mapping':
      try {
        return JSON.parse(s);
      } catch {
        return raw;
      }
    default:
      return raw;
  }
}

interface EnvProblem { path: Path; source: string; message: string }

function readEnv(env: NodeJS.ProcessEnv, raw: Record<string, unknown>, prov: Provenance, problems: EnvProblem[]): void {
  const apply = (name: string, path: string[], value: string) => {
    setAt(raw, path, coerce(value, kindAt(path), path));
    prov.replace(path, name);
  };
  for (const [name, key] of Object.entries(ENV_VARS)) {
    const v = env[name];
    if (v !== undefined && v !== '') apply(name, key.split('.'), v);
  }
  // The generic form, after the short names: LADING_LISTEN__PORT wins over LADING_PORT.
  for (const name of Object.keys(env).sort()) {
    const m = /^LADING_([A-Z0-9_]+?__[A-Z0-9_]+)$/i.exec(name);
    const v = env[name];
    if (!m || v === undefined || v === '') continue;
    const path = m[1]!.toLowerCase().split('__');
    if (path.some((p) => p === '') || kindAt(path) === undefined) {
      problems.push({ path, source: name, message: 'unknown key' });
      continue;
    }
    apply(name, path, v);
  }
}

// ---------------------------------------------------------------------------------------------
// Overrides

function mergeOverrides(raw: Record<string, unknown>, over: Record<string, unknown>, source: string, prov: Provenance, path: string[] = []): void {
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const at = [...path, k];
    if (isPlainObject(v) && kindAt(at) === 'mapping') {
      if (!isPlainObject(raw[k])) raw[k] = {};
      mergeOverrides(raw[k] as Record<string, unknown>, v, source, prov, at);
    } else {
      raw[k] = v;
      prov.replace(at, source);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Messages

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

function suggestion(key: string, known: string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  if (best !== undefined && bestD <= (best.length <= 3 ? 1 : Math.max(2, Math.floor(best.length / 3)))) return ` (did you mean ${best}?)`;
  return known.length && known.length <= 12 ? ` (known keys: ${known.join(', ')})` : '';
}

/** A value as shown in a message: secrets hidden, URL passwords masked, long strings cut. */
function show(path: readonly (string | number)[], v: unknown): string {
  if (isSecretPath(path)) return 'a value (hidden)';
  if (typeof v === 'string') {
    const masked = v.replace(/(\/\/[^:/@\s]+:)[^@/\s]*@/, '$1***@');
    return JSON.stringify(masked.length > 80 ? `${masked.slice(0, 77)}...` : masked);
  }
  if (Array.isArray(v)) return 'a list';
  if (isPlainObject(v)) return 'a mapping';
  if (v === null) return 'null (an empty value)';
  return String(v);
}

function formatIssues(issues: readonly z.core.$ZodIssue[], raw: unknown, prov: Provenance): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(path);
      for (const key of issue.keys) {
        const at = [...path, key];
        const src = prov.of(at);
        lines.push(`configuration: ${pathKey(at)}: unknown key${suggestion(key, known)}${src ? ` (from ${src})` : ''}`);
      }
      continue;
    }
    const value = getAt(raw, path);
    const got = value === undefined ? '' : `, got ${show(path, value)}`;
    const src = prov.of(path);
    let message = issue.message;
    if (issue.code === 'invalid_type' && message.startsWith('Invalid input')) message = `expected ${issue.expected}`;
    lines.push(`configuration: ${pathKey(path)}: ${message}${got}${src ? ` (from ${src})` : ''}`);
  }
  return [...new Set(lines)];
}

// ---------------------------------------------------------------------------------------------

/**
 * Read, merge and validate the configuration. Throws LadingError('BAD_INPUT') naming every bad key
 * (one line each) and where its value came from.
 */
export function loadConfig(options: LoadConfigOptions = {}): LadingConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const prov = new Provenance();
  let raw: Record<string, unknown> = {};
  const file = options.file ?? (options.yaml === undefined ? env[CONFIG_FILE_ENV] || undefined : undefined);
  const name = file ?? 'configuration text';
  if (options.yaml !== undefined) {
    raw = readYaml(options.yaml, name, prov);
  } else if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : describeError(e);
      throw new LadingError('BAD_INPUT', `configuration: cannot read ${file}: ${why}`, { cause: e });
    }
    raw = readYaml(text, name, prov);
  }
  // Relative paths in the file are relative to the file.
  const fileDir = file !== undefined ? resolve(cwd, dirname(file)) : cwd;
  for (const key of [['data_dir'], ['analysis', 'scratch_dir'], ['analysis', 'cache', 'dir'], ['admission', 'tls_cert_file'], ['admission', 'tls_key_file']] as const) {
    const v = getAt(raw, key);
    if (typeof v === 'string' && v !== '' && !isAbsolute(v)) setAt(raw, key, resolve(fileDir, v));
  }

  const problems: EnvProblem[] = [];
  readEnv(env, raw, prov, problems);
  if (options.overrides) mergeOverrides(raw, options.overrides, options.overridesSource ?? 'command line', prov);

  const result = configSchema.safeParse(raw);
  const lines = problems.map((p) => `configuration: ${pathKey(p.path)}: ${p.message}${suggestion(String(p.path[p.path.length - 1]), keysAt(p.path.slice(0, -1)))} (from ${p.source})`);
  if (!result.success) lines.push(...formatIssues(result.error.issues, raw, prov));
  if (lines.length || !result.success) throw new LadingError('BAD_INPUT', lines.join('\n'));

  const parsed = result.data;
  const dataDir = resolve(cwd, parsed.data_dir ?? defaultDataDir(env));
  const scratch = parsed.analysis.scratch_dir;
  return {
    ...parsed,
    data_dir: dataDir,
    db_url: parsed.db_url ?? join(dataDir, DEFAULT_DB_FILE),
    analysis: {
      ...parsed.analysis,
      ...(scratch !== undefined ? { scratch_dir: resolve(cwd, scratch) } : {}),
      cache: { ...parsed.analysis.cache, dir: resolve(cwd, parsed.analysis.cache.dir ?? join(dataDir, 'cache')) },
    },
    ...(file !== undefined && options.yaml === undefined ? { config_file: resolve(cwd, file) } : {}),
  };
}

/** A copy safe to log or print: passwords and keys replaced by '***', URL passwords masked. */
export function redactConfig(config: LadingConfig): unknown {
  const walk = (v: unknown, path: Path): unknown => {
    if (isSecretPath(path) && v !== undefined) return Array.isArray(v) ? v.map(() => '***') : '***';
    if (typeof v === 'string') return v.replace(/(\/\/[^:/@\s]+:)[^@/\s]*@/, '$1***@');
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, i]));
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, [...path, k])]));
    return v;
  };
  return walk(config, []);
}
