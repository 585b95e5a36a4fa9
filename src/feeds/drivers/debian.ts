/**
 * The Debian Security Tracker JSON (https://security-tracker.debian.org/tracker/data/json):
 * `{srcpkg: {CVE-id: {description, scope, debianbug, releases: {bookworm: {status, repositories,
 * fixed_version, urgency, nodsa, nodsa_reason}}}}}` → one Affected per (flaw, source package,
 * release) in `debian:<number>` (sid → `debian:unstable`) and one Vulnerability per flaw.
 *
 * Per release:
 * - `undetermined` → unknown
 * - fixed_version `0` → not-affected
 * - another fixed_version → fixed ({introduced: '0', fixed})
 * - open with no fix: urgency `end-of-life`, nodsa_reason `ignored`, or a plain no-dsa (nodsa set,
 *   no reason) → wont-fix; `postponed` or nothing → not-fixed
 * - resolved with no fixed version → unknown
 * Urgency (NVD-derived values carry `*` / `**`, stripped) → severity: unimportant Negligible, low,
 * medium, high, `not yet assigned` Unknown.
 *
 * The export is a full snapshot: a changed download (or an import) replaces the source; 304 is a no-op.
 */
import { readFile, stat } from 'node:fs/promises';
import type { FeedDriver, SyncContext } from '../driver.js';
import type { Affected, FeedBatch, FixState, Severity, Vulnerability } from '../model.js';
import { LadingError, describeError } from '../../errors.js';
import { expectOk, warnOf } from './osv.js';
import { isPlainObject as isObject } from '../../util/objects.js';

export const DEBIAN_TRACKER_URL = 'https://security-tracker.debian.org/tracker';
const MAX_JSON_BYTES = 1024 * 1024 * 1024;
const BATCH_SIZE = 2000;

/** Release codenames → the namespace release. Unknown codenames are warned once and skipped. */
export const DEBIAN_RELEASES: Record<string, string> = {
  wheezy: '7',
  jessie: '8',
  stretch: '9',
  buster: '10',
  bullseye: '11',
  bookworm: '12',
  trixie: '13',
  forky: '14',
  duke: '15',
  sid: 'unstable',
};

const URGENCY: Record<string, Severity> = {
  unimportant: 'Negligible',
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  'not yet assigned': 'Unknown',
};

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

export interface ReleaseVerdict {
  state: FixState;
  fixed?: string;
  severity?: Severity;
}

/** One release entry → state, fix and severity; undefined for an unknown status. */
export function releaseVerdict(entry: Json): ReleaseVerdict | undefined {
  const status = str(entry.status);
  const urgency = str(entry.urgency)?.replace(/\*+$/, '');
  const severity = urgency ? URGENCY[urgency] : undefined;
  const fixed = str(entry.fixed_version);
  const base = severity ? { severity } : {};
  if (status === 'undetermined') return { state: 'unknown', ...base };
  if (status !== 'resolved' && status !== 'open') return undefined;
  if (fixed === '0') return { state: 'not-affected', ...base };
  if (fixed) return { state: 'fixed', fixed, ...base };
  if (status === 'resolved') return { state: 'unknown', ...base };
  const reason = str(entry.nodsa_reason);
  const noDsa = entry.nodsa !== undefined && entry.nodsa !== null;
  if (urgency === 'end-of-life' || reason === 'ignored' || (noDsa && reason !== 'postponed')) return { state: 'wont-fix', ...base };
  return { state: 'not-fixed', ...base };
}

/** Batches from a parsed tracker document, package by package. */
export function* trackerBatches(doc: Json, warn: (m: string) => void): Generator<FeedBatch> {
  const seen = new Set<string>();
  const unknownReleases = new Set<string>();
  let batch: { vulnerabilities: Vulnerability[]; affected: Affected[] } = { vulnerabilities: [], affected: [] };
  for (const [pkg, flaws] of Object.entries(doc)) {
    if (!isObject(flaws)) {
      warn(`${pkg}: not a map of vulnerabilities, skipped`);
      continue;
    }
    for (const [id, flaw] of Object.entries(flaws)) {
      // The tracker writes an empty releases map as [].
      const releases = isObject(flaw) ? (Array.isArray(flaw.releases) && flaw.releases.length === 0 ? {} : flaw.releases) : undefined;
      if (!isObject(flaw) || !isObject(releases)) {
        warn(`${pkg} ${id}: no releases map, skipped`);
        continue;
      }
      if (!seen.has(id)) {
        seen.add(id);
        const v: Vulnerability = { id, source: 'debian', aliases: [], cvss: [], references: [`https://security-tracker.debian.org/tracker/${id}`] };
        const description = str(flaw.description);
        if (description) v.description = description;
        batch.vulnerabilities.push(v);
      }
      for (const [codename, entry] of Object.entries(releases)) {
        const release = DEBIAN_RELEASES[codename];
        if (!release) {
          if (!unknownReleases.has(codename)) warn(`release ${JSON.stringify(codename)} has no known number, its entries are skipped`);
          unknownReleases.add(codename);
          continue;
        }
        const verdict = isObject(entry) ? releaseVerdict(entry) : undefined;
        if (!verdict) {
          const status = isObject(entry) ? JSON.stringify(entry.status) : 'no entry';
          warn(`${pkg} ${id} ${codename}: unknown status ${status}, skipped`);
          continue;
        }
        const a: Affected = {
          vulnId: id,
          source: 'debian',
          namespace: `debian:${release}`,
          name: pkg,
          nameKind: 'source',
          scheme: 'dpkg',
          ranges: verdict.fixed ? [{ introduced: '0', fixed: verdict.fixed }] : [],
          versions: [],
          state: verdict.state,
          fixedVersions: verdict.fixed ? [verdict.fixed] : [],
        };
        if (verdict.severity) a.severity = verdict.severity;
        batch.affected.push(a);
      }
      if (batch.affected.length >= BATCH_SIZE) {
        yield batch;
        batch = { vulnerabilities: [], affected: [] };
      }
    }
  }
  if (batch.vulnerabilities.length > 0 || batch.affected.length > 0) yield batch;
}

/** Parse the tracker JSON; throws BAD_INPUT naming the source when it is not the tracker's shape. */
export function parseTracker(text: string, label: string): Json {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new LadingError('BAD_INPUT', `${label}: not JSON (${describeError(e)})`);
  }
  if (!isObject(doc)) throw new LadingError('BAD_INPUT', `${label}: not a Debian Security Tracker document (expected an object of source packages)`);
  if (Object.keys(doc).length === 0) throw new LadingError('BAD_INPUT', `${label}: the tracker document is empty`);
  return doc;
}

async function* fromIterable(batches: Iterable<FeedBatch>): AsyncGenerator<FeedBatch> {
  yield* batches;
}

/** `{"pkg": {"CVE-…": {` or `TEMP-…` at the start of a file. */
const HEAD = /^\s*\{\s*"[^"]+"\s*:\s*\{\s*"(?:CVE|TEMP|DSA|DLA)-[^"]*"\s*:\s*\{/;

export function createDebianDriver(): FeedDriver {
  return {
    id: 'debian',
    description: 'Debian Security Tracker (per source package and release)',
    async sync(ctx: SyncContext) {
      const url = `${(ctx.baseUrl ?? DEBIAN_TRACKER_URL).replace(/\/+$/, '')}/data/json`;
      const res = await ctx.get(url, { conditional: true, maxBytes: MAX_JSON_BYTES });
      if (res.notModified) return { full: false, batches: fromIterable([]) };
      expectOk(res, url);
      const doc = parseTracker(res.body.toString('utf8'), url);
      return { full: true, batches: fromIterable(trackerBatches(doc, warnOf(ctx))) };
    },
    async detect(path: string, head: Buffer) {
      const st = await stat(path).catch(() => undefined);
      return !!st?.isFile() && HEAD.test(head.subarray(0, 4096).toString('utf8'));
    },
    async importPath(path, ctx) {
      const st = await stat(path).catch(() => undefined);
      if (!st?.isFile()) throw new LadingError('BAD_INPUT', `${path}: expected the tracker JSON file (tracker/data/json)`);
      if (st.size > MAX_JSON_BYTES) throw new LadingError('LIMIT_EXCEEDED', `${path}: ${st.size} bytes exceed the limit of ${MAX_JSON_BYTES}`);
      const doc = parseTracker(await readFile(path, 'utf8'), path);
      return { full: true, batches: fromIterable(trackerBatches(doc, warnOf(ctx))) };
    },
  };
}

export const debianDriver: FeedDriver = createDebianDriver();
