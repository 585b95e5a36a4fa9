/**
 * Alpine secdb (https://secdb.alpinelinux.org/): one document per release and repository,
 * `{distroversion: 'v3.19', reponame, packages: [{pkg: {name, secfixes: {'1.2.3-r0': ['CVE-...']}}}]}`,
 * served as JSON (and historically as YAML, read with every scalar a string).
 *
 * Package names are aports (origin = source package) → nameKind 'source', namespace
 * `alpine:3.19`, scheme apk. A secfixes version means fixed in that version ({introduced: '0',
 * fixed}); the key `0` means the package was never affected (state 'not-affected'). Entries such
 * as `CVE-2017-8904 XSA-214` name one flaw twice: the CVE is the id, the rest are aliases.
 *
 * Online: releases from the index page (or a configured list), main.json and community.json of
 * each; conditional requests; when anything changed the whole secdb is read again and replaces
 * the source (full). Offline: a document (upsert) or a directory of them (the whole secdb: full).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import type { FeedDriver, HttpResult, SyncContext } from '../driver.js';
import type { Affected, FeedBatch, Vulnerability } from '../model.js';
import { LadingError, describeError } from '../../errors.js';
import { expectOk, getIfPresent, warnOf } from './osv.js';
import { readHead } from '../files.js';
import { isPlainObject as isObject } from '../../util/objects.js';

export const ALPINE_SECDB_URL = 'https://secdb.alpinelinux.org';
const MAX_DOCUMENT_BYTES = 256 * 1024 * 1024;
const BATCH_SIZE = 2000;

export interface AlpineDriverOptions {
  /** Releases to read (`v3.19`); default: every `vX.Y` the index page lists. */
  releases?: string[];
  /** Repositories per release (default main and community). */
  repos?: string[];
}

export interface SecdbConversion {
  namespace: string;
  vulnerabilities: Vulnerability[];
  affected: Affected[];
}

type Json = Record<string, unknown>;

/** Parse a secdb document's text: JSON, or YAML with every scalar a string. */
export function parseSecdbText(text: string): unknown {
  return /^\s*[{[]/.test(text) ? JSON.parse(text) : YAML.parse(text, { schema: 'failsafe' });
}

/** Whether a parsed document has the secdb shape. */
export function isSecdb(doc: unknown): doc is Json {
  return isObject(doc) && typeof doc.distroversion === 'string' && (Array.isArray(doc.packages) || doc.packages === '');
}

/**
 * One identifier of a secfixes entry, normalised: `CVE_2019-2426` and `CVE-2017-8073.patch` →
 * CVE-2019-2426 and CVE-2017-8073; other ids (`XSA-214`, `TALOS-2017-0499`, `wnpa-sec-2017-18`,
 * `GHSA-…`) as written.
 */
function identifier(token: string): string | undefined {
  const cve = /^CVE-(\d{4})-(\d{4,})/i.exec(token);
  if (cve) return `CVE-${cve[1]}-${cve[2]}`;
  const other = /^([A-Za-z][A-Za-z0-9]*-[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*)[.,;:]*$/.exec(token);
  return other?.[1];
}

/** The identifiers of a secfixes entry: the first CVE (or the first id) leads, the rest are aliases. */
export function secfixIds(entry: string): string[] {
  // `CVE 2018-16859` and `CVE_2019-2426` occur in the real data.
  const text = entry.split('(')[0]!.replace(/\bCVE[\s_]+(?=\d{4}-\d)/gi, 'CVE-');
  const ids = [...new Set(text.split(/\s+/).filter(Boolean).map(identifier).filter((x): x is string => !!x))];
  const cve = ids.findIndex((id) => id.startsWith('CVE-'));
  if (cve > 0) ids.unshift(...ids.splice(cve, 1));
  return ids;
}

/** Convert one secdb document. Undefined (warned) when it is not usable as a whole. */
export function convertSecdb(doc: unknown, label: string, warn: (m: string) => void): SecdbConversion | undefined {
  if (!isSecdb(doc)) {
    warn(`${label}: not a secdb document (no distroversion and packages), skipped`);
    return undefined;
  }
  const release = /^v(\d+\.\d+)$/.exec(doc.distroversion as string)?.[1];
  if (!release) {
    warn(`${label}: distroversion ${JSON.stringify(doc.distroversion)} is not a release (vX.Y), skipped`);
    return undefined;
  }
  const namespace = `alpine:${release}`;
  const vulns = new Map<string, Vulnerability>();
  // (id, package) → fixed versions, and whether a `0` key names it.
  const found = new Map<string, { id: string; name: string; fixed: Set<string>; zero: boolean }>();
  const packages = Array.isArray(doc.packages) ? doc.packages : [];
  packages.forEach((item, index) => {
    const pkg = isObject(item) ? item.pkg : undefined;
    const name = isObject(pkg) && typeof pkg.name === 'string' ? pkg.name.trim() : '';
    if (!isObject(pkg) || !name) {
      warn(`${label}: packages[${index}] has no pkg.name, skipped`);
      return;
    }
    const secfixes = pkg.secfixes;
    if (secfixes === undefined || secfixes === '' || secfixes === null) return;
    if (!isObject(secfixes)) {
      warn(`${label}: ${name}: secfixes is not a map, skipped`);
      return;
    }
    for (const [rawVersion, list] of Object.entries(secfixes)) {
      const version = rawVersion.trim();
      if (!/^\d/.test(version)) {
        warn(`${label}: ${name}: secfixes key ${JSON.stringify(rawVersion)} is not a version, skipped`);
        continue;
      }
      if (list === '' || list === null) continue;
      if (!Array.isArray(list)) {
        warn(`${label}: ${name} ${version}: secfixes value is not a list, skipped`);
        continue;
      }
      for (const entry of list) {
        const ids = typeof entry === 'string' ? secfixIds(entry) : [];
        if (ids.length === 0) {
          warn(`${label}: ${name} ${version}: no identifier in ${JSON.stringify(entry)}, skipped`);
          continue;
        }
        const [id, ...aliases] = ids as [string, ...string[]];
        const v = vulns.get(id) ?? { id, source: 'alpine', aliases: [], cvss: [], references: [] };
        for (const a of aliases) if (!v.aliases.includes(a)) v.aliases.push(a);
        vulns.set(id, v);
        const key = `${id}\0${name}`;
        const f = found.get(key) ?? { id, name, fixed: new Set<string>(), zero: false };
        if (version === '0') f.zero = true;
        else f.fixed.add(version);
        found.set(key, f);
      }
    }
  });
  const affected: Affected[] = [...found.values()].map((f) => {
    // A real fix version outranks a `0` for the same flaw: the conservative reading.
    const fixedVersions = [...f.fixed];
    return {
      vulnId: f.id,
      source: 'alpine',
      namespace,
      name: f.name,
      nameKind: 'source',
      scheme: 'apk',
      ranges: fixedVersions.map((fixed) => ({ introduced: '0', fixed })),
      versions: [],
      state: fixedVersions.length > 0 ? 'fixed' : 'not-affected',
      fixedVersions,
    };
  });
  return { namespace, vulnerabilities: [...vulns.values()], affected };
}

/**
 * Batches over documents: each flaw's Vulnerability once, and one Affected per (release, flaw,
 * package) even when documents overlap (a release in both YAML and JSON form): fix versions merge.
 */
function* secdbBatches(conversions: SecdbConversion[]): Generator<FeedBatch> {
  const vulns = new Map<string, Vulnerability>();
  const affected = new Map<string, Affected>();
  for (const c of conversions) {
    for (const v of c.vulnerabilities) {
      const known = vulns.get(v.id);
      if (!known) vulns.set(v.id, v);
      else for (const a of v.aliases) if (!known.aliases.includes(a)) known.aliases.push(a);
    }
    for (const a of c.affected) {
      const key = `${a.namespace}\0${a.vulnId}\0${a.name}`;
      const known = affected.get(key);
      if (!known) {
        affected.set(key, a);
        continue;
      }
      for (const f of a.fixedVersions) {
        if (known.fixedVersions.includes(f)) continue;
        known.fixedVersions.push(f);
        known.ranges.push({ introduced: '0', fixed: f });
      }
      if (known.fixedVersions.length > 0) known.state = 'fixed';
    }
  }
  const vulnList = [...vulns.values()];
  const affectedList = [...affected.values()];
  for (let i = 0; i < vulnList.length; i += BATCH_SIZE) yield { vulnerabilities: vulnList.slice(i, i + BATCH_SIZE) };
  for (let i = 0; i < affectedList.length; i += BATCH_SIZE) yield { affected: affectedList.slice(i, i + BATCH_SIZE) };
}

async function* fromArray(batches: Iterable<FeedBatch>): AsyncGenerator<FeedBatch> {
  yield* batches;
}

/** `vX.Y` releases linked from the secdb index page. */
export function releasesInIndex(html: string): string[] {
  const found = new Set<string>();
  for (const m of html.matchAll(/href="(?:\.\/)?(v\d+\.\d+)\/?"/g)) found.add(m[1]!);
  return [...found].sort((a, b) => {
    const [am, an] = a.slice(1).split('.').map(Number) as [number, number];
    const [bm, bn] = b.slice(1).split('.').map(Number) as [number, number];
    return am - bm || an - bn;
  });
}

function convertText(text: string, label: string, warn: (m: string) => void): SecdbConversion | undefined {
  let doc: unknown;
  try {
    doc = parseSecdbText(text);
  } catch (e) {
    warn(`${label}: does not parse (${describeError(e)}), skipped`);
    return undefined;
  }
  return convertSecdb(doc, label, warn);
}

async function walkFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir, { recursive: true })) as string[];
  return names.filter((n) => /\.(json|ya?ml)$/i.test(n)).sort().map((n) => join(dir, n));
}

const readHeadText = async (path: string): Promise<string> => (await readHead(path, 64 * 1024)).toString('utf8');

const looksLikeSecdb = (head: string): boolean =>
  /(^|\n)distroversion:|"distroversion"\s*:/.test(head) && /(^|\n)packages:|"packages"\s*:/.test(head);

export function createAlpineDriver(options: AlpineDriverOptions = {}): FeedDriver {
  const repos = options.repos ?? ['main', 'community'];
  return {
    id: 'alpine',
    description: 'Alpine secdb (secfixes per release and repository)',
    async sync(ctx: SyncContext) {
      const base = (ctx.baseUrl ?? ALPINE_SECDB_URL).replace(/\/+$/, '');
      let releases = options.releases;
      if (!releases) {
        const index = await ctx.get(`${base}/`, { conditional: false });
        expectOk(index, `${base}/`);
        releases = releasesInIndex(index.body.toString('utf8'));
        if (releases.length === 0) throw new LadingError('BAD_INPUT', `${base}/: the index lists no releases`);
      }
      const urls = releases.flatMap((r) => repos.map((repo) => `${base}/${r}/${repo}.json`));
      const results = new Map<string, HttpResult>();
      for (const url of urls) {
        const res = await getIfPresent(ctx, url, { conditional: true, maxBytes: MAX_DOCUMENT_BYTES });
        if (res) results.set(url, res); // else absent: older releases have no community repository
      }
      if ([...results.values()].every((r) => r.notModified)) return { full: false, batches: fromArray([]) };
      // Something changed: the snapshot replaces the source, so every document is needed.
      const conversions: SecdbConversion[] = [];
      for (const [url, first] of results) {
        const res = first.notModified ? await ctx.get(url, { conditional: false, maxBytes: MAX_DOCUMENT_BYTES }) : first;
        expectOk(res, url);
        const c = convertText(res.body.toString('utf8'), url, warnOf(ctx));
        if (c) conversions.push(c);
      }
      if (conversions.length === 0) throw new LadingError('BAD_INPUT', `${base}: no usable secdb document`);
      return { full: true, batches: fromArray(secdbBatches(conversions)) };
    },
    async detect(path: string) {
      const st = await stat(path).catch(() => undefined);
      if (!st) return false;
      const files = st.isDirectory() ? (await walkFiles(path)).slice(0, 20) : [path];
      for (const f of files) {
        if (looksLikeSecdb(await readHeadText(f).catch(() => ''))) return true;
      }
      return false;
    },
    async importPath(path, ctx) {
      const st = await stat(path).catch(() => undefined);
      if (!st) throw new LadingError('BAD_INPUT', `${path}: no such file or directory`);
      const files = st.isDirectory() ? await walkFiles(path) : [path];
      const conversions: SecdbConversion[] = [];
      for (const f of files) {
        const size = (await stat(f)).size;
        if (size > MAX_DOCUMENT_BYTES) {
          ctx.warn(`${f}: ${size} bytes exceed the document limit, skipped`);
          continue;
        }
        const c = convertText(await readFile(f, 'utf8'), f, warnOf(ctx));
        if (c) conversions.push(c);
      }
      // A directory is the whole secdb (a full replace) once it holds at least one document.
      return { full: st.isDirectory() && conversions.length > 0, batches: fromArray(secdbBatches(conversions)) };
    },
  };
}

export const alpineDriver: FeedDriver = createAlpineDriver();
