/**
 * Record validation: a problem as a sentence naming the record and field, or undefined when fine.
 * Feed records are checked before they are spooled; stored rows (as bundles carry them) before a restore.
 */
import type { SchemeId } from '../../versions/types.js';

const SEVERITIES = new Set(['Critical', 'High', 'Medium', 'Low', 'Negligible', 'Unknown']);
const SCHEME_IDS: Record<SchemeId, true> = {
  dpkg: true, rpm: true, apk: true, semver: true, pep440: true, maven: true, gem: true, go: true, nuget: true, composer: true,
};
const SCHEMES = new Set(Object.keys(SCHEME_IDS));
const FIX_STATES = new Set(['fixed', 'not-fixed', 'wont-fix', 'not-affected', 'unknown']);

export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isStr = (v: unknown): v is string => typeof v === 'string';
export const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
export const strArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const optStr = (v: unknown) => v === undefined || isStr(v);
const label = (v: unknown) => (isStr(v) && v ? JSON.stringify(v).slice(0, 80) : '(no id)');

export function checkVulnerability(v: unknown, source: string): string | undefined {
  if (!isObj(v)) return `a vulnerability that is not an object`;
  const what = `vulnerability ${label(v.id)}`;
  if (!nonEmpty(v.id)) return `${what}: id must be a non-empty string`;
  if (v.source !== source) return `${what}: source ${JSON.stringify(v.source)} is not the feed's (${source})`;
  if (!strArray(v.aliases)) return `${what}: aliases must be an array of strings`;
  for (const f of ['summary', 'description', 'published', 'modified', 'withdrawn'] as const) {
    if (!optStr(v[f])) return `${what}: ${f} must be a string`;
  }
  if (v.severity !== undefined && !SEVERITIES.has(v.severity as string)) return `${what}: unknown severity ${JSON.stringify(v.severity)}`;
  if (!Array.isArray(v.cvss)) return `${what}: cvss must be an array`;
  for (const c of v.cvss) {
    if (!isObj(c) || !isStr(c.source) || !isStr(c.version) || !isStr(c.vector) || typeof c.baseScore !== 'number' || !Number.isFinite(c.baseScore)) {
      return `${what}: each cvss entry needs source, version, vector (strings) and a numeric baseScore`;
    }
    if (c.type !== undefined && c.type !== 'Primary' && c.type !== 'Secondary') return `${what}: cvss type must be Primary or Secondary`;
  }
  if (!strArray(v.references)) return `${what}: references must be an array of strings`;
  return undefined;
}

export function checkAffected(a: unknown, source: string): string | undefined {
  if (!isObj(a)) return `an affected record that is not an object`;
  const what = `affected record of ${label(a.vulnId)} for ${label(a.namespace)}/${label(a.name)}`;
  if (!nonEmpty(a.vulnId)) return `${what}: vulnId must be a non-empty string`;
  if (a.source !== source) return `${what}: source ${JSON.stringify(a.source)} is not the feed's (${source})`;
  if (!nonEmpty(a.namespace)) return `${what}: namespace must be a non-empty string`;
  if (!nonEmpty(a.name)) return `${what}: name must be a non-empty string`;
  if (a.nameKind !== 'source' && a.nameKind !== 'binary') return `${what}: nameKind must be "source" or "binary"`;
  if (!SCHEMES.has(a.scheme as string)) return `${what}: unknown version scheme ${JSON.stringify(a.scheme)}`;
  if (!Array.isArray(a.ranges)) return `${what}: ranges must be an array`;
  for (const r of a.ranges) {
    if (!isObj(r) || !optStr(r.introduced) || !optStr(r.fixed) || !optStr(r.lastAffected)) {
      return `${what}: each range is an object whose introduced, fixed and lastAffected are strings`;
    }
  }
  if (!strArray(a.versions)) return `${what}: versions must be an array of strings`;
  if (!FIX_STATES.has(a.state as string)) return `${what}: unknown fix state ${JSON.stringify(a.state)}`;
  if (!strArray(a.fixedVersions)) return `${what}: fixedVersions must be an array of strings`;
  if (a.severity !== undefined && !SEVERITIES.has(a.severity as string)) return `${what}: unknown severity ${JSON.stringify(a.severity)}`;
  if (!optStr(a.moduleStream)) return `${what}: moduleStream must be a string`;
  return undefined;
}

export function checkKev(k: unknown): string | undefined {
  if (!isObj(k)) return `a KEV entry that is not an object`;
  const what = `KEV entry ${label(k.cve)}`;
  if (!nonEmpty(k.cve)) return `${what}: cve must be a non-empty string`;
  if (!nonEmpty(k.dateAdded)) return `${what}: dateAdded must be a non-empty string`;
  for (const f of ['vendorProject', 'product', 'vulnerabilityName', 'dueDate', 'knownRansomwareCampaignUse', 'requiredAction'] as const) {
    if (!optStr(k[f])) return `${what}: ${f} must be a string`;
  }
  return undefined;
}

export function checkEpss(e: unknown): string | undefined {
  if (!isObj(e)) return `an EPSS entry that is not an object`;
  const what = `EPSS entry ${label(e.cve)}`;
  if (!nonEmpty(e.cve)) return `${what}: cve must be a non-empty string`;
  for (const f of ['score', 'percentile'] as const) {
    const n = e[f];
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 1) return `${what}: ${f} must be a number from 0 to 1`;
  }
  if (!nonEmpty(e.date)) return `${what}: date must be a non-empty string`;
  return undefined;
}

function jsonField<T>(row: Record<string, unknown>, column: string, check: (v: unknown) => v is T): T | string {
  const text = row[column];
  if (!isStr(text)) return `${column} must be a JSON string`;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return `${column} is not valid JSON`;
  }
  return check(v) ? v : `${column} has the wrong shape`;
}

const isAnyObj = (v: unknown): v is Record<string, unknown> => isObj(v);

/** Validate a stored row (as a bundle carries it) of one VulnDb table. */
export function checkStoredRow(table: string, row: Record<string, unknown>): string | undefined {
  const need = (cols: string[]) => cols.find((c) => !nonEmpty(row[c]));
  const optional = (cols: string[]) => cols.find((c) => row[c] !== null && row[c] !== undefined && !isStr(row[c]));
  switch (table) {
    case 'meta': {
      const m = need(['key']) ?? (isStr(row.value) ? undefined : 'value');
      return m && `${m} must be a string`;
    }
    case 'vulnerabilities': {
      const m = need(['source', 'id']) ?? optional(['modified']);
      if (m) return `${m} must be a string`;
      const aliases = jsonField(row, 'aliases', strArray);
      if (isStr(aliases)) return aliases;
      const data = jsonField(row, 'data', isAnyObj);
      if (isStr(data)) return data;
      if (data.id !== row.id) return `data.id ${JSON.stringify(data.id)} differs from id ${JSON.stringify(row.id)}`;
      return checkVulnerability(data, String(row.source));
    }
    case 'aliases': {
      const m = need(['source', 'vuln_id', 'alias']);
      return m && `${m} must be a non-empty string`;
    }
    case 'affected': {
      const m = need(['source', 'vuln_id', 'namespace', 'name', 'name_kind', 'scheme']);
      if (m) return `${m} must be a non-empty string`;
      const data = jsonField(row, 'data', isAnyObj);
      if (isStr(data)) return data;
      return checkAffected({ ...data, vulnId: row.vuln_id, source: row.source, namespace: row.namespace, name: row.name, nameKind: row.name_kind, scheme: row.scheme }, String(row.source));
    }
    case 'kev': {
      const m = need(['cve', 'source']);
      if (m) return `${m} must be a non-empty string`;
      const data = jsonField(row, 'data', isAnyObj);
      if (isStr(data)) return data;
      if (data.cve !== row.cve) return `data.cve differs from cve`;
      return checkKev(data);
    }
    case 'epss': {
      const m = need(['cve', 'source']);
      if (m) return `${m} must be a non-empty string`;
      return checkEpss({ cve: row.cve, score: row.score, percentile: row.percentile, date: row.date });
    }
    case 'sync_state': {
      const m = need(['source', 'kind', 'status']) ?? optional(['last_sync', 'last_success', 'error']);
      if (m) return `${m} must be a string`;
      for (const c of ['records', 'warnings']) if (typeof row[c] !== 'number' || !Number.isInteger(row[c])) return `${c} must be an integer`;
      for (const c of ['cursor', 'validators']) {
        const v = jsonField(row, c, isAnyObj);
        if (isStr(v)) return v;
      }
      return undefined;
    }
    default:
      return `unknown table`;
  }
}
