/**
 * Reading a bundle: every problem is collected with its location (nothing stops at the first),
 * and what is valid is compiled for evaluation. Names of gates, triggers and parameters are
 * matched case-insensitively, parameter aliases are honoured, and end-of-life gates parse but are
 * reported (as errors with `strict`, as Anchore does when a bundle is added).
 */
import { GATES, gateNamed } from './gates/index.js';
import type { GateDef, TriggerDef } from './gate.js';
import type { ParamSpec } from './params.js';
import { didYouMean, type Problem, type ProblemScope } from './problems.js';
import { wildcardProblem } from './wildcard.js';
import type {
  Action, CompiledAllowlist, CompiledAllowlistItem, CompiledBundle, CompiledImageRule, CompiledMapping, CompiledPolicy,
  CompiledRule, ImageMatchType, ImageSelector,
} from './model.js';
import { isPlainObject as isObj } from '../util/objects.js';

export const BUNDLE_VERSION = '1_0';
const ACTIONS: Action[] = ['go', 'warn', 'stop'];
const MATCH_TYPES: ImageMatchType[] = ['tag', 'digest', 'id'];

export interface LoadOptions {
  /** Report end-of-life gates and triggers as errors (Anchore's check when a bundle is added). */
  strict?: boolean;
}

type Obj = Record<string, unknown>;

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);

class Reader {
  readonly problems: Problem[] = [];
  constructor(readonly strict: boolean) {}

  add(severity: Problem['severity'], type: string, location: string, message: string, scope: ProblemScope, fatal = false): void {
    this.problems.push({ severity, type, location, message, scope, ...(fatal ? { fatal: true } : {}) });
  }

  error(type: string, location: string, message: string, scope: ProblemScope): void {
    this.add('error', type, location, message, scope);
  }

  /** A string field: undefined (and an error when required) when missing or not a string. */
  str(o: Obj, key: string, loc: string, scope: ProblemScope, required: boolean): string | undefined {
    const v = o[key];
    if (v === undefined || v === null) {
      if (required) this.error('ValidationError', loc, `missing required field "${key}"`, scope);
      return undefined;
    }
    if (typeof v !== 'string') {
      this.error('ValidationError', `${loc}.${key}`, `must be a string, not ${typeName(v)}`, scope);
      return undefined;
    }
    return v;
  }

  /** A list field; undefined when missing (an error when required) or not a list. */
  list(o: Obj, key: string, loc: string, scope: ProblemScope, required: boolean): unknown[] | undefined {
    const v = o[key];
    if (v === undefined || v === null) {
      if (required) this.error('ValidationError', loc, `missing required field "${key}"`, scope);
      return undefined;
    }
    if (!Array.isArray(v)) {
      this.error('ValidationError', `${loc}.${key}`, `must be a list, not ${typeName(v)}`, scope);
      return undefined;
    }
    return v;
  }

  strings(o: Obj, key: string, loc: string, scope: ProblemScope): string[] {
    const items = this.list(o, key, loc, scope, false) ?? [];
    const out: string[] = [];
    items.forEach((x, i) => {
      if (typeof x === 'string') out.push(x);
      else this.error('ValidationError', `${loc}.${key}[${i}]`, `must be a string, not ${typeName(x)}`, scope);
    });
    return out;
  }

  version(o: Obj, loc: string, what: string, scope: ProblemScope, fatal = false): boolean {
    const v = o.version;
    if (v === BUNDLE_VERSION) return true;
    const where = loc ? `${loc}.version` : 'version';
    this.add('error', 'UnsupportedVersionError', where,
      v === undefined ? `missing ${what} version: it must be "${BUNDLE_VERSION}"` : `unsupported ${what} version ${JSON.stringify(v)}: it must be "${BUNDLE_VERSION}"`, scope, fatal);
    return false;
  }

  pattern(value: string, loc: string, scope: ProblemScope): void {
    const bad = wildcardProblem(value);
    if (bad) this.error('ValidationError', loc, bad, scope);
  }

  rule(raw: unknown, loc: string, scope: ProblemScope): CompiledRule | undefined {
    if (!isObj(raw)) {
      this.error('ValidationError', loc, `a rule must be an object, not ${typeName(raw)}`, scope);
      return undefined;
    }
    const ruleId = typeof raw.id === 'string' ? raw.id : undefined;
    const gateName = this.str(raw, 'gate', loc, scope, true);
    const triggerName = this.str(raw, 'trigger', loc, scope, true);
    const actionText = this.str(raw, 'action', loc, scope, true);
    const action = actionText?.toLowerCase() as Action | undefined;
    let ok = true;
    if (actionText !== undefined && !ACTIONS.includes(action!)) {
      this.error('InvalidGateAction', `${loc}.action`, `invalid action ${JSON.stringify(actionText)}: expected GO, WARN or STOP`, scope);
      ok = false;
    }
    const params = this.list(raw, 'params', loc, scope, false) ?? [];
    if (gateName === undefined || triggerName === undefined) return undefined;
    const gate = gateNamed(gateName);
    if (!gate) {
      const active = Object.values(GATES).filter((g) => g.state !== 'eol').map((g) => g.name);
      const hint = didYouMean(gateName, Object.keys(GATES));
      this.error('GateNotFoundError', `${loc}.gate`, `unknown gate ${JSON.stringify(gateName)}${hint}${hint ? '' : `; the gates are ${active.join(', ')}`}`, scope);
      return undefined;
    }
    const trigger = Object.values(gate.triggers).find((t) => t.name === triggerName.toLowerCase());
    if (!trigger) {
      const names = Object.keys(gate.triggers);
      const hint = didYouMean(triggerName, names);
      this.error('TriggerNotFoundError', `${loc}.trigger`, `unknown trigger ${JSON.stringify(triggerName)} for gate ${gate.name}${hint}${hint ? '' : `; its triggers are ${names.join(', ')}`}`, scope);
      return undefined;
    }
    const endOfLife = gate.state === 'eol' || trigger.state === 'eol';
    if (endOfLife) {
      const what = gate.state === 'eol' ? `gate ${gate.name}` : `trigger ${gate.name}/${trigger.name}`;
      const successor = (gate.state === 'eol' ? gate.supersededBy : trigger.supersededBy);
      this.add(this.strict ? 'error' : 'warn', 'EndOfLifedError', `${loc}.${gate.state === 'eol' ? 'gate' : 'trigger'}`,
        `${what} is end-of-life: the rule is not evaluated and should be removed${successor ? ` or replaced with the ${successor} gate` : ''}`, scope);
      return ok ? { id: ruleId, location: loc, gate, trigger, action: action!, values: {}, endOfLife: true } : undefined;
    }
    const values = this.params(params, loc, scope, gate, trigger);
    if (!values || !ok) return undefined;
    return { id: ruleId, location: loc, gate, trigger, action: action!, values, endOfLife: false };
  }

  /** Checks the parameters of a rule; their parsed values, or undefined when any is wrong. */
  params(params: unknown[], loc: string, scope: ProblemScope, gate: GateDef, trigger: TriggerDef): Record<string, unknown> | undefined {
    const specs = Object.values(trigger.params) as ParamSpec[];
    const byName = new Map<string, ParamSpec>();
    for (const s of specs) {
      byName.set(s.name, s);
      for (const a of s.aliases) byName.set(a, s);
    }
    const where = `${gate.name}/${trigger.name}`;
    // As in Anchore: given names are lower-cased (a repeated name keeps its last value); a
    // parameter takes its canonical name's value, else its first alias given.
    const byGiven = new Map<string, { value: unknown; index: number }>();
    let ok = true;
    params.forEach((p, i) => {
      const ploc = `${loc}.params[${i}]`;
      if (!isObj(p)) {
        this.error('ValidationError', ploc, `a parameter must be an object with "name" and "value", not ${typeName(p)}`, scope);
        ok = false;
        return;
      }
      const name = this.str(p, 'name', ploc, scope, true);
      if (name === undefined) { ok = false; return; }
      const lower = name.toLowerCase();
      if (!byName.has(lower)) {
        const names = specs.map((s) => s.name);
        this.error('InvalidParameterError', ploc, names.length
          ? `unknown parameter ${JSON.stringify(name)} for ${where}${didYouMean(name, names) || `; its parameters are ${names.join(', ')}`}`
          : `unknown parameter ${JSON.stringify(name)}: ${where} takes no parameters`, scope);
        ok = false;
        return;
      }
      if (byGiven.has(lower)) this.add('warn', 'ValidationWarning', ploc, `parameter ${JSON.stringify(name)} is given more than once; the last value is used`, scope);
      byGiven.set(lower, { value: p.value, index: i });
    });
    const given = new Map<string, { value: unknown; index: number }>();
    for (const spec of specs) {
      const present = (n: string) => { const g = byGiven.get(n); return g && g.value !== undefined && g.value !== null ? g : undefined; };
      const g = present(spec.name) ?? spec.aliases.map(present).find((x) => x !== undefined);
      if (g) given.set(spec.name, g);
    }
    const raw: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    for (const spec of specs) {
      const g = given.get(spec.name);
      if (g === undefined) {
        if (spec.required) {
          this.error('RequiredParameterNotSetError', `${loc}.params`, `missing required parameter ${JSON.stringify(spec.name)} for ${where}`, scope);
          ok = false;
        }
        continue;
      }
      const ploc = `${loc}.params[${g.index}]`;
      if (typeof g.value !== 'string') {
        this.error('ParameterValueInvalidError', `${ploc}.value`, `${spec.name} must be a string (bundles write every value as a string, e.g. ${JSON.stringify(String(g.value))}), not ${typeName(g.value)}`, scope);
        ok = false;
        continue;
      }
      const bad = spec.validator.check(g.value);
      if (bad) {
        this.error('ParameterValueInvalidError', `${ploc}.value`, `bad value for ${spec.name} of ${where}: ${bad}`, scope);
        ok = false;
        continue;
      }
      raw[spec.name] = g.value;
      values[spec.name] = spec.validator.parse(g.value);
    }
    for (const issue of trigger.check?.(raw) ?? []) {
      const g = given.get(issue.param);
      const iloc = g ? `${loc}.params[${g.index}].value` : `${loc}.params`;
      this.add(issue.severity, issue.severity === 'error' ? 'ParameterValueInvalidError' : 'ValidationWarning', iloc, `${where}: ${issue.message}`, scope);
      if (issue.severity === 'error') ok = false;
    }
    return ok ? values : undefined;
  }

  policy(raw: unknown, loc: string): CompiledPolicy | undefined {
    if (!isObj(raw)) {
      this.error('ValidationError', loc, `a policy must be an object, not ${typeName(raw)}`, { kind: 'bundle' });
      return undefined;
    }
    const id = this.str(raw, 'id', loc, { kind: 'bundle' }, true);
    if (id === undefined) return undefined;
    const scope: ProblemScope = { kind: 'policy', id };
    this.version(raw, loc, 'policy', scope);
    const rules = (this.list(raw, 'rules', loc, scope, true) ?? [])
      .map((r, i) => this.rule(r, `${loc}.rules[${i}]`, scope))
      .filter((r): r is CompiledRule => r !== undefined);
    return { id, name: typeof raw.name === 'string' ? raw.name : undefined, location: loc, rules, raw };
  }

  allowlist(raw: unknown, loc: string): CompiledAllowlist | undefined {
    if (!isObj(raw)) {
      this.error('ValidationError', loc, `a whitelist must be an object, not ${typeName(raw)}`, { kind: 'bundle' });
      return undefined;
    }
    const id = this.str(raw, 'id', loc, { kind: 'bundle' }, true);
    if (id === undefined) return undefined;
    const scope: ProblemScope = { kind: 'whitelist', id };
    this.version(raw, loc, 'whitelist', scope);
    const items: CompiledAllowlistItem[] = [];
    (this.list(raw, 'items', loc, scope, true) ?? []).forEach((item, i) => {
      const iloc = `${loc}.items[${i}]`;
      if (!isObj(item)) {
        this.error('ValidationError', iloc, `an item must be an object, not ${typeName(item)}`, scope);
        return;
      }
      const gate = this.str(item, 'gate', iloc, scope, true);
      const triggerId = this.str(item, 'trigger_id', iloc, scope, true);
      const expires = this.str(item, 'expires_on', iloc, scope, false);
      let expiresOn: Date | undefined;
      if (expires) {
        expiresOn = parseRfc3339(expires);
        if (!expiresOn) this.error('ValidationError', `${iloc}.expires_on`, `${JSON.stringify(expires)} is not an RFC 3339 UTC time such as "2025-01-31T00:00:00Z"`, scope);
      }
      if (gate !== undefined && !gateNamed(gate)) {
        this.add('warn', 'ValidationWarning', `${iloc}.gate`, `unknown gate ${JSON.stringify(gate)}${didYouMean(gate, Object.keys(GATES))}: this item never matches`, scope);
      }
      if (triggerId !== undefined) {
        const bad = wildcardProblem(triggerId);
        if (bad) this.error('ValidationError', `${iloc}.trigger_id`, bad, scope);
      }
      if (gate === undefined || triggerId === undefined || (expires && !expiresOn)) return;
      items.push({ id: typeof item.id === 'string' ? item.id : undefined, gate: gate.toLowerCase(), triggerId, expiresOn });
    });
    return { id, name: typeof raw.name === 'string' ? raw.name : undefined, items, raw };
  }

  selector(raw: Obj, loc: string, scope: ProblemScope): ImageSelector | undefined {
    const registry = this.str(raw, 'registry', loc, scope, true);
    const repository = this.str(raw, 'repository', loc, scope, true);
    if (registry !== undefined) this.pattern(registry, `${loc}.registry`, scope);
    if (repository !== undefined) this.pattern(repository, `${loc}.repository`, scope);
    const image = raw.image;
    let sel: ImageSelector['image'] | undefined;
    if (image === undefined || image === null) this.error('ValidationError', loc, 'missing required field "image"', scope);
    else if (!isObj(image)) this.error('ValidationError', `${loc}.image`, `must be an object with "type" and "value", not ${typeName(image)}`, scope);
    else {
      const type = this.str(image, 'type', `${loc}.image`, scope, true);
      const value = this.str(image, 'value', `${loc}.image`, scope, true);
      if (type !== undefined && !MATCH_TYPES.includes(type as ImageMatchType)) {
        this.error('ValidationError', `${loc}.image.type`, `unknown image match type ${JSON.stringify(type)}: expected tag, digest or id`, scope);
      } else if (type !== undefined && value !== undefined) {
        if (type === 'tag') this.pattern(value, `${loc}.image.value`, scope);
        sel = { type: type as ImageMatchType, value };
      }
    }
    if (registry === undefined || repository === undefined || !sel) return undefined;
    return { registry, repository, image: sel };
  }

  imageRule(raw: unknown, loc: string, index: number): CompiledImageRule | undefined {
    const scope: ProblemScope = { kind: 'bundle' };
    if (!isObj(raw)) {
      this.error('ValidationError', loc, `an image rule must be an object, not ${typeName(raw)}`, scope);
      return undefined;
    }
    const name = this.str(raw, 'name', loc, scope, true);
    const sel = this.selector(raw, loc, scope);
    return sel ? { ...sel, index, id: typeof raw.id === 'string' ? raw.id : undefined, name, raw } : undefined;
  }

  mapping(raw: unknown, loc: string, index: number): CompiledMapping | undefined {
    const scope: ProblemScope = { kind: 'bundle' };
    if (!isObj(raw)) {
      this.error('ValidationError', loc, `a mapping must be an object, not ${typeName(raw)}`, scope);
      return undefined;
    }
    const name = this.str(raw, 'name', loc, scope, true);
    const sel = this.selector(raw, loc, scope);
    const hasOne = raw.policy_id !== undefined && raw.policy_id !== null && raw.policy_id !== '';
    const hasMany = Array.isArray(raw.policy_ids) ? raw.policy_ids.length > 0 : raw.policy_ids !== undefined && raw.policy_ids !== null;
    let policyIds: string[] = [];
    if (hasOne && hasMany) this.error('ValidationError', loc, 'give either policy_id or policy_ids, not both', scope);
    else if (!hasOne && !hasMany) this.error('ValidationError', loc, 'missing policy_id (or policy_ids): a mapping must name the policy to apply', scope);
    else if (hasOne) {
      const id = this.str(raw, 'policy_id', loc, scope, true);
      if (id !== undefined) policyIds = [id];
    } else policyIds = this.strings(raw, 'policy_ids', loc, scope);
    const whitelistIds = this.strings(raw, 'whitelist_ids', loc, scope);
    if (!sel || !policyIds.length) return undefined;
    return { ...sel, index, id: typeof raw.id === 'string' ? raw.id : undefined, name, policyIds, whitelistIds, raw };
  }
}

/** Anchore accepted `YYYY-MM-DDTHH:MM:SSZ` with optional fraction; other RFC 3339 offsets are accepted too. */
export function parseRfc3339(s: string): Date | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:[.:](\d+))?(Z|[+-]\d{2}:\d{2})$/i.exec(s.trim());
  if (!m) return undefined;
  const d = new Date(`${m[1]}T${m[2]}${m[3] ? `.${m[3].slice(0, 3).padEnd(3, '0')}` : ''}${m[4]!.toUpperCase()}`);
  // Reject days that do not exist (Date would roll 02-30 over to 03-01).
  const [y, mo, day] = m[1]!.split('-').map(Number) as [number, number, number];
  const check = new Date(Date.UTC(y, mo - 1, day));
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== day) return undefined;
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Read and check a bundle; never throws. Problems marked `fatal` make it unusable. */
export function loadBundle(doc: unknown, options: LoadOptions = {}): CompiledBundle {
  const r = new Reader(options.strict === true);
  const bundleScope: ProblemScope = { kind: 'bundle' };
  const empty: CompiledBundle = {
    raw: isObj(doc) ? doc : {}, id: '', name: undefined, policies: new Map(), whitelists: new Map(),
    mappings: [], whitelistedImages: [], blacklistedImages: [], problems: r.problems,
  };
  if (!isObj(doc)) {
    r.add('error', 'ValidationError', '', `a bundle must be a JSON object, not ${typeName(doc)}`, bundleScope, true);
    return empty;
  }
  if (!r.version(doc, '', 'bundle', bundleScope, true)) return empty;
  const id = r.str(doc, 'id', '(bundle)', bundleScope, true) ?? '';

  const policies = new Map<string, CompiledPolicy>();
  (r.list(doc, 'policies', '(bundle)', bundleScope, true) ?? []).forEach((p, i) => {
    const compiled = r.policy(p, `policies[${i}]`);
    if (!compiled) return;
    const first = policies.get(compiled.id);
    if (first) r.error('DuplicateIdentifierFoundError', `policies[${i}].id`, `policy id ${JSON.stringify(compiled.id)} is also used by ${first.location}`, { kind: 'policy', id: compiled.id });
    else policies.set(compiled.id, compiled);
  });

  const whitelists = new Map<string, CompiledAllowlist>();
  (r.list(doc, 'whitelists', '(bundle)', bundleScope, false) ?? []).forEach((w, i) => {
    const compiled = r.allowlist(w, `whitelists[${i}]`);
    if (!compiled) return;
    if (whitelists.has(compiled.id)) r.error('DuplicateIdentifierFoundError', `whitelists[${i}].id`, `whitelist id ${JSON.stringify(compiled.id)} is used more than once`, { kind: 'whitelist', id: compiled.id });
    else whitelists.set(compiled.id, compiled);
  });

  const mappings: CompiledMapping[] = [];
  (r.list(doc, 'mappings', '(bundle)', bundleScope, true) ?? []).forEach((m, i) => {
    const compiled = r.mapping(m, `mappings[${i}]`, i);
    if (!compiled) return;
    mappings.push(compiled);
    const mscope: ProblemScope = { kind: 'mapping', index: i };
    const rawM = m as Obj;
    compiled.policyIds.forEach((pid, k) => {
      if (!policies.has(pid)) {
        r.error('ReferencedObjectNotFoundError', `mappings[${i}].${rawM.policy_id !== undefined ? 'policy_id' : `policy_ids[${k}]`}`,
          `no policy with id ${JSON.stringify(pid)}${didYouMean(pid, [...policies.keys()])}`, mscope);
      }
    });
    compiled.whitelistIds.forEach((wid, k) => {
      if (!whitelists.has(wid)) r.error('ReferencedObjectNotFoundError', `mappings[${i}].whitelist_ids[${k}]`, `no whitelist with id ${JSON.stringify(wid)}${didYouMean(wid, [...whitelists.keys()])}`, mscope);
    });
  });

  const images = (key: string) => (r.list(doc, key, '(bundle)', bundleScope, false) ?? [])
    .map((x, i) => r.imageRule(x, `${key}[${i}]`, i))
    .filter((x): x is CompiledImageRule => x !== undefined);

  return {
    raw: doc, id, name: typeof doc.name === 'string' ? doc.name : undefined, policies, whitelists, mappings,
    whitelistedImages: images('whitelisted_images'), blacklistedImages: images('blacklisted_images'), problems: r.problems,
  };
}
