/**
 * OpenVEX (v0.2.0, and the older v0.0.1 shapes): statements by a supplier that a vulnerability
 * does or does not affect a product. A finding is suppressed when the latest statement that
 * covers it says `not_affected` or `fixed`.
 *
 * A statement covers a finding when
 * - its vulnerability (name, @id, or an alias; CVE/GHSA ids are also read out of URLs) is the
 *   finding's id or one of its aliases, and
 * - one of its products is the package: a purl naming the same type, namespace, name, version
 *   (none = every version) and subpath, whose qualifiers the package's purl also has (a product
 *   without qualifiers matches any; `distro=jammy` matches `distro=ubuntu-22.04`; `arch=source` /
 *   `arch=src` names the package's source package), or
 * - one of its products is the image (a `pkg:oci` purl, `sha256:...`, `repo@sha256:...` or a
 *   `sha-256` hash equal to the manifest, index or config digest) and either lists no
 *   subcomponents (the whole image) or lists the package's purl among them.
 * When several statements cover a finding, the one with the latest timestamp wins (the statement's
 * own, else the document's; later in the input on a tie), as the OpenVEX spec says.
 */
import { PackageURL } from 'packageurl-js';
import { LadingError } from '../errors.js';
import type { Distro, ImageMetadata } from '../sbom/model.js';
import type { Match, MatchedPackage, Suppressed } from './model.js';
import { isPlainObject as isObj } from '../util/objects.js';

export const VEX_STATUSES = ['not_affected', 'affected', 'fixed', 'under_investigation'] as const;
export type VexStatus = (typeof VEX_STATUSES)[number];

export const VEX_JUSTIFICATIONS = [
  'component_not_present',
  'vulnerable_code_not_present',
  'vulnerable_code_not_in_execute_path',
  'vulnerable_code_cannot_be_controlled_by_adversary',
  'inline_mitigations_already_exist',
] as const;
export type VexJustification = (typeof VEX_JUSTIFICATIONS)[number];

export interface VexComponent {
  /** The `@id` (a purl, an image digest, or any IRI). */
  id: string;
  /** A purl: the @id when it is one, else `identifiers.purl`. */
  purl?: string;
  /** `sha256:<hex>` from `hashes["sha-256"]`. */
  digest?: string;
}

export interface VexProduct extends VexComponent {
  subcomponents: VexComponent[];
}

export interface VexStatement {
  /** Every id the statement's vulnerability goes by (name, @id, aliases, ids found in them). */
  vulnerabilityIds: string[];
  products: VexProduct[];
  status: VexStatus;
  justification?: VexJustification;
  impactStatement?: string;
  actionStatement?: string;
  /** Milliseconds since the epoch; the document's when the statement has none. */
  time: number;
}

export interface VexDocument {
  /** The file (or other name) it was read from, for reasons and messages. */
  origin: string;
  id?: string;
  author?: string;
  statements: VexStatement[];
}

// ------------------------------------------------------------------ parsing

/** CVE, GHSA and similar ids inside a URL or text (`https://nvd.nist.gov/vuln/detail/CVE-2023-1`). */
const EMBEDDED_ID = /\b(CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|GO-\d{4}-\d{4,}|PYSEC-\d{4}-\d+|RUSTSEC-\d{4}-\d{4})\b/gi;

function idsIn(text: string): string[] {
  const out = [text];
  for (const m of text.matchAll(EMBEDDED_ID)) {
    const id = m[1]!;
    out.push(/^cve-/i.test(id) ? id.toUpperCase() : id);
  }
  return out;
}

function bad(origin: string, where: string, problem: string): LadingError {
  return new LadingError('BAD_INPUT', `VEX document ${origin}: ${where ? `${where}: ` : ''}${problem}`);
}

function parseTime(value: unknown, origin: string, where: string): number | undefined {
  if (value === undefined) return undefined;
  const t = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(t)) throw bad(origin, where, `"timestamp" ${JSON.stringify(value)} is not a date-time`);
  return t;
}

function parseComponent(value: unknown, origin: string, where: string): VexComponent {
  if (typeof value === 'string') {
    if (!value) throw bad(origin, where, 'is an empty string');
    return { id: value, ...(value.startsWith('pkg:') ? { purl: value } : {}) };
  }
  if (!isObj(value)) throw bad(origin, where, 'is neither an object nor a string');
  const id = value['@id'];
  const identifiers = isObj(value.identifiers) ? value.identifiers : {};
  const idPurl = typeof identifiers.purl === 'string' ? identifiers.purl : undefined;
  if (id !== undefined && typeof id !== 'string') throw bad(origin, where, '"@id" is not a string');
  if (!id && !idPurl && !isObj(value.hashes)) throw bad(origin, where, 'has no "@id", "identifiers.purl" or "hashes"');
  const hashes = isObj(value.hashes) ? value.hashes : {};
  const sha = hashes['sha-256'];
  const purl = id?.startsWith('pkg:') ? id : idPurl;
  return {
    id: id || idPurl || `sha256:${String(sha)}`,
    ...(purl ? { purl } : {}),
    ...(typeof sha === 'string' && /^[a-f0-9]{64}$/i.test(sha) ? { digest: `sha256:${sha.toLowerCase()}` } : {}),
  };
}

function parseStatement(s: unknown, i: number, docTime: number | undefined, origin: string): VexStatement {
  const where = `statements[${i}]`;
  if (!isObj(s)) throw bad(origin, where, 'is not an object');

  const ids: string[] = [];
  const v = s.vulnerability;
  if (typeof v === 'string' && v) ids.push(...idsIn(v));
  else if (isObj(v)) {
    for (const k of ['name', '@id'] as const) {
      if (v[k] === undefined) continue;
      if (typeof v[k] !== 'string') throw bad(origin, `${where}.vulnerability`, `"${k}" is not a string`);
      ids.push(...idsIn(v[k]));
    }
    if (v.aliases !== undefined) {
      if (!Array.isArray(v.aliases) || v.aliases.some((a) => typeof a !== 'string')) throw bad(origin, `${where}.vulnerability`, '"aliases" is not a list of strings');
      for (const a of v.aliases as string[]) ids.push(...idsIn(a));
    }
  } else throw bad(origin, where, '"vulnerability" is missing (an object with "name" or "@id")');
  if (ids.length === 0) throw bad(origin, `${where}.vulnerability`, 'has neither "name" nor "@id"');

  if (!Array.isArray(s.products) || s.products.length === 0) throw bad(origin, where, '"products" is missing or empty');
  const products: VexProduct[] = s.products.map((p, j) => {
    const pw = `${where}.products[${j}]`;
    const base = parseComponent(p, origin, pw);
    const subs = isObj(p) ? p.subcomponents : undefined;
    if (subs !== undefined && !Array.isArray(subs)) throw bad(origin, pw, '"subcomponents" is not a list');
    return { ...base, subcomponents: (subs ?? []).map((c, k) => parseComponent(c, origin, `${pw}.subcomponents[${k}]`)) };
  });

  const status = s.status;
  if (typeof status !== 'string' || !(VEX_STATUSES as readonly string[]).includes(status)) {
    throw bad(origin, where, `"status" ${JSON.stringify(status)} is not one of ${VEX_STATUSES.join(', ')}`);
  }
  const justification = s.justification;
  if (justification !== undefined && (typeof justification !== 'string' || !(VEX_JUSTIFICATIONS as readonly string[]).includes(justification))) {
    throw bad(origin, where, `"justification" ${JSON.stringify(justification)} is not one of ${VEX_JUSTIFICATIONS.join(', ')}`);
  }
  const impact = typeof s.impact_statement === 'string' && s.impact_statement ? s.impact_statement : undefined;
  if (status === 'not_affected' && justification === undefined && impact === undefined) {
    throw bad(origin, where, 'a not_affected statement needs a "justification" or an "impact_statement"');
  }
  const action = typeof s.action_statement === 'string' && s.action_statement ? s.action_statement : undefined;
  const time = parseTime(s.timestamp, origin, where) ?? docTime ?? Number.NEGATIVE_INFINITY;
  return {
    vulnerabilityIds: [...new Set(ids)],
    products,
    status: status as VexStatus,
    ...(justification ? { justification: justification as VexJustification } : {}),
    ...(impact ? { impactStatement: impact } : {}),
    ...(action ? { actionStatement: action } : {}),
    time,
  };
}

/** Reads one OpenVEX JSON document; anything malformed is a BAD_INPUT error naming the place. */
export function parseVex(text: string, origin = 'VEX'): VexDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw bad(origin, '', `not JSON (${(e as Error).message})`);
  }
  if (!isObj(doc)) throw bad(origin, '', 'not a JSON object');
  const context = doc['@context'];
  if (typeof context !== 'string' || !context.startsWith('https://openvex.dev/ns')) {
    throw bad(origin, '', `not an OpenVEX document: "@context" is ${JSON.stringify(context)} (expected "https://openvex.dev/ns/v0.2.0")`);
  }
  if (!Array.isArray(doc.statements)) throw bad(origin, '', '"statements" is missing or not a list');
  const docTime = parseTime(doc.timestamp, origin, '');
  return {
    origin,
    ...(typeof doc['@id'] === 'string' ? { id: doc['@id'] } : {}),
    ...(typeof doc.author === 'string' ? { author: doc.author } : {}),
    statements: doc.statements.map((s, i) => parseStatement(s, i, docTime, origin)),
  };
}

// ------------------------------------------------------------------ matching

/** What VEX products are compared with besides the package: the image and its distro. */
export interface VexSubject {
  /** Manifest, index and config digests (`sha256:...`). */
  imageDigests: string[];
  distro?: Distro;
}

export function vexSubject(source: Pick<ImageMetadata, 'manifestDigest' | 'indexDigest' | 'imageId'>, distro?: Distro): VexSubject {
  return {
    imageDigests: [source.manifestDigest, source.indexDigest, source.imageId].filter((d): d is string => !!d && d.startsWith('sha256:')),
    ...(distro ? { distro } : {}),
  };
}

function parsePurl(s: string): PackageURL | undefined {
  try {
    return PackageURL.fromString(s);
  } catch {
    return undefined;
  }
}

/** Values a `distro` qualifier may take for this distro: `debian-12`, `bookworm`, `debian-bookworm`. */
function distroNames(d: Distro | undefined): Set<string> {
  const out = new Set<string>();
  if (!d) return out;
  if (d.versionId) {
    out.add(`${d.id}-${d.versionId}`);
    out.add(d.versionId);
  }
  if (d.versionCodename) {
    out.add(d.versionCodename);
    out.add(`${d.id}-${d.versionCodename}`);
  }
  return out;
}

function stripEpoch(v: string): string {
  return v.replace(/^\d+:/, '');
}

/** Does a statement's purl name this package (see the module comment)? */
export function purlCovers(statement: string, pkg: MatchedPackage, distro?: Distro): boolean {
  const s = parsePurl(statement);
  const p = parsePurl(pkg.purl);
  if (!s || !p) return statement === pkg.purl;
  if (s.type.toLowerCase() !== p.type.toLowerCase()) return false;
  if (s.namespace && s.namespace.toLowerCase() !== (p.namespace ?? '').toLowerCase()) return false;
  const q = s.qualifiers ?? {};
  const arch = q.arch;
  const bySource = (p.type === 'deb' && arch === 'source') || (p.type === 'rpm' && (arch === 'src' || arch === 'nosrc'));
  const name = bySource ? pkg.sourceName ?? pkg.name : p.name;
  const version = bySource ? pkg.sourceVersion ?? pkg.version : p.version;
  if (s.name !== name) return false;
  if (s.version && stripEpoch(s.version) !== stripEpoch(version ?? '')) return false;
  if (s.subpath && s.subpath !== p.subpath) return false;
  const mine = p.qualifiers ?? {};
  const distroAliases = distroNames(distro);
  for (const [k, v] of Object.entries(q)) {
    if (bySource && k === 'arch') continue;
    if (mine[k] === v) continue;
    if (k === 'distro' && distroAliases.has(v)) continue;
    return false;
  }
  return true;
}

function digestOf(c: VexComponent): string | undefined {
  if (c.digest) return c.digest;
  if (c.purl?.startsWith('pkg:oci/')) {
    const v = parsePurl(c.purl)?.version;
    return v && /^sha256:[a-f0-9]{64}$/i.test(v) ? v.toLowerCase() : undefined;
  }
  const m = /(?:^|@)(sha256:[a-f0-9]{64})$/i.exec(c.id);
  return m ? m[1]!.toLowerCase() : undefined;
}

function isImage(c: VexComponent, subject: VexSubject): boolean {
  const d = digestOf(c);
  return d !== undefined && subject.imageDigests.includes(d);
}

function componentCovers(c: VexComponent, pkg: MatchedPackage, subject: VexSubject): boolean {
  const purl = c.purl ?? (c.id.startsWith('pkg:') ? c.id : undefined);
  return purl !== undefined && purlCovers(purl, pkg, subject.distro);
}

/** Does the statement cover this finding? */
export function statementCovers(st: VexStatement, m: Match, subject: VexSubject): boolean {
  const ids = new Set([m.vulnerability.id, ...m.vulnerability.aliases].map((x) => x.toUpperCase()));
  if (!st.vulnerabilityIds.some((x) => ids.has(x.toUpperCase()))) return false;
  return st.products.some((p) => {
    if (componentCovers(p, m.package, subject)) return true;
    if (!isImage(p, subject)) return false;
    return p.subcomponents.length === 0 || p.subcomponents.some((c) => componentCovers(c, m.package, subject));
  });
}

/** `vex:not_affected (vulnerable_code_not_present): impact statement [file]` */
function reasonOf(st: VexStatement, doc: VexDocument): string {
  return `vex:${st.status}${st.justification ? ` (${st.justification})` : ''}${st.impactStatement ? `: ${st.impactStatement}` : ''} [${doc.origin}]`;
}

/** Splits findings into those still reported and those a VEX statement suppresses. */
export function applyVex(matches: readonly Match[], docs: readonly VexDocument[], subject: VexSubject): { matches: Match[]; suppressed: Suppressed[] } {
  const statements = docs.flatMap((doc) => doc.statements.map((st) => ({ st, doc })));
  const kept: Match[] = [];
  const suppressed: Suppressed[] = [];
  for (const m of matches) {
    let latest: { st: VexStatement; doc: VexDocument } | undefined;
    for (const s of statements) {
      if (statementCovers(s.st, m, subject) && (!latest || s.st.time >= latest.st.time)) latest = s;
    }
    if (latest && (latest.st.status === 'not_affected' || latest.st.status === 'fixed')) {
      suppressed.push({ ...m, reason: reasonOf(latest.st, latest.doc) });
    } else kept.push(m);
  }
  return { matches: kept, suppressed };
}
