/**
 * Ignore rules: findings a team has decided not to be told about, like grype's `.grype.yaml`
 * `ignore:` list, plus an expiry date like trivy's `exp:`.
 *
 * ```yaml
 * ignore:
 *   - vulnerability: CVE-2023-1234        # the id or any alias
 *     package: { name: libssl3, version: 3.0.11-1~deb12u1, type: deb, location: "/var/lib/**", upstream-name: openssl }
 *     fix-state: not-fixed                 # fixed | not-fixed | wont-fix | unknown
 *     namespace: debian:12
 *     reason: only reachable from the CLI, which the image never runs
 *     expires: 2025-07-01                  # YYYY-MM-DD
 * ```
 *
 * Every field given must hold for a rule to apply; a rule must give at least one. The file may be
 * YAML or JSON (JSON is YAML); every scalar is read as a string, so `version: 1.10` stays `1.10`.
 * A list at the top level is accepted too.
 *
 * Expiry works as trivy's: the rule applies before the date and stops applying at 00:00 UTC of it
 * (`expires: 2025-07-01` covers findings through 30 June). An expired rule suppresses nothing and
 * produces a warning, so the findings it hid come back loudly.
 */
import { parse as parseYaml } from 'yaml';
import { LadingError } from '../errors.js';
import type { FixState } from '../feeds/model.js';
import type { Match, Suppressed } from './model.js';
import { isPlainObject as isObj } from '../util/objects.js';

export interface IgnoreRule {
  /** 1-based position in the file, for messages. */
  index: number;
  vulnerability?: string;
  package?: { name?: string; version?: string; type?: string; location?: string; upstreamName?: string };
  fixState?: FixState;
  namespace?: string;
  reason?: string;
  /** `YYYY-MM-DD`. */
  expires?: string;
}

const FIX_STATES: readonly FixState[] = ['fixed', 'not-fixed', 'wont-fix', 'not-affected', 'unknown'];
const RULE_KEYS = new Set(['vulnerability', 'package', 'fix-state', 'namespace', 'reason', 'expires']);
const PACKAGE_KEYS = new Set(['name', 'version', 'type', 'location', 'upstream-name']);

function bad(origin: string, problem: string): LadingError {
  return new LadingError('BAD_INPUT', `ignore file ${origin}: ${problem}`);
}

function str(v: unknown, origin: string, where: string): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw bad(origin, `${where} is not a single value`);
  return v;
}

function validDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
}

/** Reads an ignore file (YAML or JSON); anything malformed is a BAD_INPUT error naming the rule and key. */
export function parseIgnoreFile(text: string, origin = 'ignore file'): IgnoreRule[] {
  let doc: unknown;
  try {
    doc = parseYaml(text.replace(/^\uFEFF/, ''), { schema: 'failsafe' });
  } catch (e) {
    throw bad(origin, `not YAML or JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (doc === null || doc === undefined || doc === '') return [];
  let list: unknown;
  if (Array.isArray(doc)) list = doc;
  else if (isObj(doc)) {
    list = doc.ignore;
    if (list === undefined || list === '' || list === null) return [];
  } else throw bad(origin, 'expected a mapping with an "ignore" list');
  if (!Array.isArray(list)) throw bad(origin, '"ignore" is not a list');

  return list.map((r, i): IgnoreRule => {
    const where = `rule ${i + 1}`;
    if (!isObj(r)) throw bad(origin, `${where} is not a mapping`);
    for (const k of Object.keys(r)) if (!RULE_KEYS.has(k)) throw bad(origin, `${where}: unknown key "${k}" (known: ${[...RULE_KEYS].join(', ')})`);
    const rule: IgnoreRule = { index: i + 1 };
    const vulnerability = str(r.vulnerability, origin, `${where}: "vulnerability"`);
    if (vulnerability) rule.vulnerability = vulnerability;
    if (r.package !== undefined && r.package !== '') {
      if (!isObj(r.package)) throw bad(origin, `${where}: "package" is not a mapping`);
      for (const k of Object.keys(r.package)) if (!PACKAGE_KEYS.has(k)) throw bad(origin, `${where}: unknown key "package.${k}" (known: ${[...PACKAGE_KEYS].join(', ')})`);
      const p: NonNullable<IgnoreRule['package']> = {};
      for (const [k, field] of [['name', 'name'], ['version', 'version'], ['type', 'type'], ['location', 'location'], ['upstream-name', 'upstreamName']] as const) {
        const v = str(r.package[k], origin, `${where}: "package.${k}"`);
        if (v) p[field] = v;
      }
      if (Object.keys(p).length) rule.package = p;
    }
    const fixState = str(r['fix-state'], origin, `${where}: "fix-state"`);
    if (fixState) {
      if (!(FIX_STATES as readonly string[]).includes(fixState)) throw bad(origin, `${where}: "fix-state" ${JSON.stringify(fixState)} is not one of ${FIX_STATES.join(', ')}`);
      rule.fixState = fixState as FixState;
    }
    const namespace = str(r.namespace, origin, `${where}: "namespace"`);
    if (namespace) rule.namespace = namespace;
    const reason = str(r.reason, origin, `${where}: "reason"`);
    if (reason) rule.reason = reason;
    const expires = str(r.expires, origin, `${where}: "expires"`);
    if (expires) {
      if (!validDate(expires)) throw bad(origin, `${where}: "expires" ${JSON.stringify(expires)} is not a date (YYYY-MM-DD)`);
      rule.expires = expires;
    }
    if (!rule.vulnerability && !rule.package && !rule.fixState && !rule.namespace) {
      throw bad(origin, `${where} matches everything: give at least one of vulnerability, package, fix-state, namespace`);
    }
    return rule;
  });
}

/** A path glob: `**` any run of characters, `*` any within one path segment, `?` one character. */
function globRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function ruleExpired(rule: IgnoreRule, now: Date): boolean {
  return rule.expires !== undefined && now.getTime() >= Date.parse(`${rule.expires}T00:00:00Z`);
}

/** Does the rule (ignoring its expiry) cover the finding? */
export function ruleCovers(rule: IgnoreRule, m: Match): boolean {
  if (rule.vulnerability) {
    const want = rule.vulnerability.toUpperCase();
    if (![m.vulnerability.id, ...m.vulnerability.aliases].some((x) => x.toUpperCase() === want)) return false;
  }
  if (rule.fixState && m.vulnerability.fixState !== rule.fixState) return false;
  if (rule.namespace && m.match.namespace !== rule.namespace) return false;
  const p = rule.package;
  if (p) {
    if (p.name && m.package.name !== p.name) return false;
    if (p.version && m.package.version !== p.version) return false;
    if (p.type && m.package.type !== p.type) return false;
    if (p.upstreamName && (m.package.sourceName ?? m.package.name) !== p.upstreamName) return false;
    if (p.location) {
      const re = globRegExp(p.location);
      if (!m.package.locations.some((l) => re.test(l.path))) return false;
    }
  }
  return true;
}

export function describeRule(rule: IgnoreRule): string {
  const parts: string[] = [];
  if (rule.vulnerability) parts.push(rule.vulnerability);
  if (rule.package?.name) parts.push(`package ${rule.package.name}${rule.package.version ? `@${rule.package.version}` : ''}`);
  if (rule.fixState) parts.push(`fix-state ${rule.fixState}`);
  if (rule.namespace) parts.push(`namespace ${rule.namespace}`);
  return parts.join(', ') || 'package rule';
}

/** Splits findings into those still reported and those an unexpired rule suppresses; expired rules give warnings. */
export function applyIgnoreRules(matches: readonly Match[], rules: readonly IgnoreRule[], now: Date = new Date()): { matches: Match[]; suppressed: Suppressed[]; warnings: string[] } {
  const warnings = rules.filter((r) => ruleExpired(r, now))
    .map((r) => `ignore rule ${r.index} (${describeRule(r)}) expired on ${r.expires}: it no longer suppresses anything`);
  const live = rules.filter((r) => !ruleExpired(r, now));
  const kept: Match[] = [];
  const suppressed: Suppressed[] = [];
  for (const m of matches) {
    const rule = live.find((r) => ruleCovers(r, m));
    if (rule) suppressed.push({ ...m, reason: `ignore: ${rule.reason ?? `rule ${rule.index} (${describeRule(rule)})`}${rule.expires ? ` (until ${rule.expires})` : ''}` });
    else kept.push(m);
  }
  return { matches: kept, suppressed, warnings };
}
