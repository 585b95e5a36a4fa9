/**
 * Rust crates: binaries built with cargo-auditable carry their dependency tree as zlib-compressed
 * JSON in a `.dep-v0` section (ELF, PE; `__DATA,.dep-v0` in Mach-O); `Cargo.lock` files list the
 * resolved crates of a workspace. Build-only dependencies recorded by cargo-auditable are not in
 * the binary and are left out, as syft does.
 */
import { inflateSync } from 'node:zlib';
import type { Analyzer, AnalyzerContext } from '../types.js';
import type { Package } from '../../sbom/model.js';
import { purl, cpeCandidates } from '../../sbom/identity.js';
import { BINARY_MAGIC, findSection, parseBinary, sectionData, type BinaryFile } from '../binfmt.js';
import { LadingError, describeError } from '../../errors.js';

const MAX_BINARY_BYTES = 256 * 1024 * 1024;
const DEP_SECTION = Buffer.from('.dep-v0', 'latin1');
/** Largest inflated audit JSON accepted. */
const MAX_AUDIT_JSON = 16 * 1024 * 1024;

export interface AuditPackage {
  name: string;
  version: string;
  source: string;
  kind: 'runtime' | 'build';
  root: boolean;
  dependencies: number[];
}

function auditSection(bin: BinaryFile): Buffer | undefined {
  const section = bin.format === 'macho' ? findSection(bin, '.dep-v0', '__DATA') ?? findSection(bin, '.dep-v0') : findSection(bin, '.dep-v0');
  return section && sectionData(bin, section);
}

/**
 * The cargo-auditable package list of a binary, or undefined when it has none.
 * Throws LadingError('BAD_INPUT') when the section is there but does not decode.
 */
export function readCargoAuditable(data: Buffer): AuditPackage[] | undefined {
  let bin: BinaryFile | undefined;
  try {
    bin = parseBinary(data);
  } catch {
    return undefined; // not an executable we can read: not ours to report
  }
  const compressed = bin && auditSection(bin);
  if (!compressed) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(inflateSync(compressed, { maxOutputLength: MAX_AUDIT_JSON }).toString('utf8'));
  } catch (e) {
    throw new LadingError('BAD_INPUT', `cargo-auditable data does not decode: ${describeError(e)}`);
  }
  const packages = (json as { packages?: unknown } | null)?.packages;
  if (!Array.isArray(packages)) throw new LadingError('BAD_INPUT', 'cargo-auditable data has no packages array');
  const out: AuditPackage[] = [];
  for (const [i, p] of packages.entries()) {
    const r = p as Record<string, unknown>;
    if (typeof r?.['name'] !== 'string' || typeof r['version'] !== 'string' || !r['name'] || !r['version']) {
      throw new LadingError('BAD_INPUT', `cargo-auditable package ${i} has no name or version`);
    }
    out.push({
      name: r['name'],
      version: r['version'],
      source: typeof r['source'] === 'string' ? r['source'] : 'crates.io',
      kind: r['kind'] === 'build' ? 'build' : 'runtime',
      root: r['root'] === true,
      dependencies: Array.isArray(r['dependencies']) ? r['dependencies'].filter((d): d is number => Number.isInteger(d)) : [],
    });
  }
  return out;
}

type TomlValue = string | number | boolean | TomlValue[];

export interface TomlTable {
  /** `package` for `[[package]]`, `metadata` for `[metadata]`; '' for the top level. */
  name: string;
  array: boolean;
  values: Record<string, TomlValue>;
}

/** A reader over a TOML text: the position, the line (for errors) and the pieces of the subset. */
class TomlReader {
  i = 0;
  line = 1;

  constructor(readonly text: string) {}

  fail(msg: string): never {
    throw new LadingError('BAD_INPUT', `line ${this.line}: ${msg}`);
  }

  skipSpace(newlines: boolean): void {
    const text = this.text;
    while (this.i < text.length) {
      const ch = text[this.i]!;
      if (ch === ' ' || ch === '\t' || ch === '\r') this.i++;
      else if (ch === '#') while (this.i < text.length && text[this.i] !== '\n') this.i++;
      else if (ch === '\n' && newlines) { this.i++; this.line++; }
      else break;
    }
  }

  basicString(): string {
    const text = this.text;
    const quote = text[this.i]!;
    this.i++;
    let out = '';
    while (this.i < text.length && text[this.i] !== quote) {
      const ch = text[this.i]!;
      if (ch === '\n') this.fail('unterminated string');
      if (ch === '\\' && quote === '"') {
        out += this.escape();
        continue;
      }
      out += ch;
      this.i++;
    }
    if (this.i >= text.length) this.fail('unterminated string');
    this.i++;
    return out;
  }

  /** The escape sequence at the backslash under the position, moving past it. */
  private escape(): string {
    const text = this.text;
    const e = text[this.i + 1];
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', b: '\b', f: '\f' };
    if (e !== undefined && simple[e] !== undefined) { this.i += 2; return simple[e]; }
    const hex = e === 'u' ? text.slice(this.i + 2, this.i + 6) : e === 'U' ? text.slice(this.i + 2, this.i + 10) : '';
    if (hex && /^[0-9a-fA-F]+$/.test(hex)) {
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) this.fail('bad unicode escape');
      this.i += 2 + hex.length;
      return String.fromCodePoint(cp);
    }
    return this.fail('bad escape in string');
  }

  value(depth: number): TomlValue {
    const ch = this.text[this.i];
    if (ch === '"' || ch === "'") return this.basicString();
    if (ch === '[') return this.array(depth);
    const m = /^(true|false|[+-]?\d[\d_]*)/.exec(this.text.slice(this.i, this.i + 32));
    if (!m) return this.fail('unsupported value');
    this.i += m[0].length;
    return m[0] === 'true' ? true : m[0] === 'false' ? false : Number(m[0].replace(/_/g, ''));
  }

  private array(depth: number): TomlValue[] {
    if (depth > 16) this.fail('arrays nested too deeply');
    this.i++;
    const arr: TomlValue[] = [];
    for (;;) {
      this.skipSpace(true);
      if (this.text[this.i] === ']') { this.i++; return arr; }
      arr.push(this.value(depth + 1));
      this.skipSpace(true);
      if (this.text[this.i] === ',') { this.i++; continue; }
      if (this.text[this.i] === ']') { this.i++; return arr; }
      this.fail('expected , or ] in array');
    }
  }

  /** `[name]` or `[[name]]`: a new table. */
  tableHeader(): TomlTable {
    const m = /^\[(\[?)\s*([A-Za-z0-9_.-]+)\s*\](\]?)/.exec(this.text.slice(this.i, this.i + 256));
    if (!m || !m[1] !== !m[3]) this.fail('bad table header');
    this.i += m![0].length;
    return { name: m![2]!, array: m![1] === '[', values: {} };
  }

  /** `key = value`, stored in the table. */
  keyValue(table: TomlTable): void {
    let key: string;
    if (this.text[this.i] === '"' || this.text[this.i] === "'") key = this.basicString();
    else {
      const m = /^[A-Za-z0-9_-]+/.exec(this.text.slice(this.i, this.i + 256));
      if (!m) this.fail('expected a key');
      key = m![0];
      this.i += key.length;
    }
    this.skipSpace(false);
    if (this.text[this.i] !== '=') this.fail('expected =');
    this.i++;
    this.skipSpace(false);
    table.values[key] = this.value(0);
  }
}

/**
 * The TOML subset Cargo.lock uses: `[table]`, `[[array-of-tables]]`, `key = value` with basic and
 * literal strings, integers, booleans and (multi-line) arrays; `#` comments. Throws on anything else.
 */
export function parseTomlSubset(text: string): TomlTable[] {
  const tables: TomlTable[] = [{ name: '', array: false, values: {} }];
  const r = new TomlReader(text);
  let cur = tables[0]!;
  while (r.i < text.length) {
    r.skipSpace(true);
    if (r.i >= text.length) break;
    if (text[r.i] === '[') {
      cur = r.tableHeader();
      tables.push(cur);
    } else {
      r.keyValue(cur);
    }
    r.skipSpace(false);
    if (r.i < text.length && text[r.i] !== '\n') r.fail('unexpected text after value');
  }
  return tables;
}

export interface LockPackage {
  name: string;
  version: string;
  source?: string;
  checksum?: string;
  dependencies: string[];
}

export function parseCargoLock(text: string): { version?: number; packages: LockPackage[]; problems: string[] } {
  const tables = parseTomlSubset(text);
  const top = tables[0]!.values;
  // Lock format v1 keeps checksums in [metadata]: "checksum <name> <version> (<source>)" = "<sha256>".
  const checksums = new Map<string, string>();
  for (const t of tables) {
    if (t.name !== 'metadata' || t.array) continue;
    for (const [k, v] of Object.entries(t.values)) {
      const m = /^checksum (\S+) (\S+) \(/.exec(k);
      if (m && typeof v === 'string') checksums.set(`${m[1]} ${m[2]}`, v);
    }
  }
  const packages: LockPackage[] = [];
  const problems: string[] = [];
  for (const t of tables) {
    if (t.name !== 'package' || !t.array) continue;
    const { name, version, source, checksum, dependencies } = t.values;
    if (typeof name !== 'string' || typeof version !== 'string' || !name || !version) {
      problems.push(`a [[package]] without name or version`);
      continue;
    }
    const sum = typeof checksum === 'string' ? checksum : checksums.get(`${name} ${version}`);
    packages.push({
      name,
      version,
      ...(typeof source === 'string' ? { source } : {}),
      ...(sum ? { checksum: sum } : {}),
      dependencies: Array.isArray(dependencies) ? dependencies.filter((d): d is string => typeof d === 'string') : [],
    });
  }
  return { ...(typeof top['version'] === 'number' ? { version: top['version'] } : {}), packages, problems };
}

function crate(name: string, version: string, path: string, layer: number, metadata: Record<string, unknown>): Package {
  return {
    name,
    version,
    type: 'rust-crate',
    purl: purl('cargo', undefined, name, version),
    cpes: cpeCandidates([name], [name], version),
    licenses: [],
    locations: [{ path, layer }],
    metadata,
    foundBy: 'rust',
  };
}

const isLock = (p: string) => p === 'Cargo.lock' || p.endsWith('/Cargo.lock');

async function analyze(ctx: AnalyzerContext) {
  const packages: Package[] = [];
  for (const file of ctx.files) {
    const seen = new Set<string>();
    const push = (p: Package) => {
      if (seen.has(p.purl)) return;
      seen.add(p.purl);
      packages.push(p);
    };
    const data = await file.read();
    if (isLock(file.path)) {
      let lock: ReturnType<typeof parseCargoLock>;
      try {
        lock = parseCargoLock(data.toString('utf8'));
      } catch (e) {
        ctx.warn(`${file.path}: not a readable Cargo.lock (${describeError(e)}); skipped`);
        continue;
      }
      for (const p of lock.problems) ctx.warn(`${file.path}: ${p}; skipped`);
      for (const p of lock.packages) {
        push(crate(p.name, p.version, file.path, file.entry.layer, {
          ...(p.source ? { source: p.source } : {}),
          ...(p.checksum ? { checksum: p.checksum } : {}),
          ...(p.dependencies.length ? { dependencies: p.dependencies } : {}),
        }));
      }
      continue;
    }
    let audit: AuditPackage[] | undefined;
    try {
      audit = readCargoAuditable(data);
    } catch (e) {
      ctx.warn(`${file.path}: ${describeError(e)}; skipped`);
      continue;
    }
    for (const p of audit ?? []) {
      if (p.kind === 'build') continue;
      push(crate(p.name, p.version, file.path, file.entry.layer, {
        source: p.source,
        ...(p.root ? { root: true } : {}),
        dependencies: p.dependencies.map((d) => audit![d]).filter((d) => d !== undefined).map((d) => `${d.name} ${d.version}`),
      }));
    }
  }
  return { packages };
}

export const rustAnalyzer: Analyzer = {
  name: 'rust',
  perFile: true,
  // A `.dep-v0` section's name is in the file (ELF section-name table, PE section header or string
  // table, Mach-O section header); readCargoAuditable finds nothing in a binary without it.
  wants: { match: isLock, magic: BINARY_MAGIC, contains: [DEP_SECTION], maxBytes: MAX_BINARY_BYTES },
  analyze,
};
