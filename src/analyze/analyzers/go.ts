/**
 * Go binaries: the build information the Go toolchain embeds (`\xff Go buildinf:` header, in the
 * `.go.buildinfo` section or the start of the data segment). Both layouts: Go >= 1.18 with the
 * version and module strings inline (flags & 2), and the older one with pointers to Go string
 * headers, read through the virtual-address map. The module text (path/mod/dep/=>/build lines)
 * gives the main module, every dependency (replacements applied) and the build settings; the
 * toolchain version gives a `stdlib` package, as syft reports it.
 */
import type { Analyzer, AnalyzerContext } from '../types.js';
import type { Package } from '../../sbom/model.js';
import { purl, cpeCandidates } from '../../sbom/identity.js';
import { BINARY_MAGIC, findSection, parseBinary, readVirtual, sectionData, type BinaryFile } from '../binfmt.js';
import { LadingError, describeError } from '../../errors.js';

const MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const HEADER_SIZE = 32;
const ALIGN = 16;
/** Longest version or module string accepted. */
const MAX_STRING = 16 * 1024 * 1024;
const MAX_BINARY_BYTES = 256 * 1024 * 1024;

export interface GoBuildInfo {
  goVersion: string;
  /** The module text without its 16-byte sentinels; empty when the binary was built outside module mode. */
  modinfo: string;
}

/** Offset of the magic at a 16-byte boundary (relative to `start`) within [start, end), or -1. */
function findMagic(data: Buffer, start: number, end: number): number {
  let from = start;
  while (from < end) {
    const i = data.indexOf(MAGIC, from);
    if (i < 0 || i + HEADER_SIZE > end) return -1;
    if ((i - start) % ALIGN === 0) return i;
    from = start + Math.ceil((i - start + 1) / ALIGN) * ALIGN;
  }
  return -1;
}

function uvarint(data: Buffer, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const b = data[at + i];
    if (b === undefined) throw new LadingError('BAD_INPUT', 'Go build info: truncated string length');
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, at + i + 1];
    scale *= 128;
  }
  throw new LadingError('BAD_INPUT', 'Go build info: string length overflows');
}

function inlineString(data: Buffer, at: number): [Buffer, number] {
  const [len, start] = uvarint(data, at);
  if (len > MAX_STRING || start + len > data.length) throw new LadingError('BAD_INPUT', 'Go build info: inline string runs past the end of the file');
  return [data.subarray(start, start + len), start + len];
}

function pointerString(bin: BinaryFile, addr: number, ptrSize: number, bigEndian: boolean): Buffer {
  const readPtr = (b: Buffer, at: number): number => {
    if (ptrSize === 4) return bigEndian ? b.readUInt32BE(at) : b.readUInt32LE(at);
    const v = bigEndian ? b.readBigUInt64BE(at) : b.readBigUInt64LE(at);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(v);
  };
  const header = readVirtual(bin, addr, 2 * ptrSize);
  if (!header) throw new LadingError('BAD_INPUT', `Go build info: string header at 0x${addr.toString(16)} is not mapped`);
  const dataAddr = readPtr(header, 0);
  const len = readPtr(header, ptrSize);
  if (len < 0 || len > MAX_STRING) throw new LadingError('BAD_INPUT', 'Go build info: string length out of range');
  if (len === 0) return Buffer.alloc(0);
  const bytes = readVirtual(bin, dataAddr, len);
  if (!bytes) throw new LadingError('BAD_INPUT', `Go build info: string data at 0x${dataAddr.toString(16)} is not mapped`);
  return bytes;
}

/**
 * Where to look for the header, in file offsets: the dedicated section when there is one, then the
 * writable data (sections, else segments), where the linker puts it; the whole file only when the
 * executable header could not be read.
 */
function searchRanges(bin: BinaryFile | undefined, size: number): [number, number][] {
  if (!bin) return [[0, size]];
  const ranges: [number, number][] = [];
  const clamp = (offset: number, length: number) => {
    if (length > 0 && offset >= 0 && offset < size) ranges.push([offset, Math.min(size, offset + length)]);
  };
  const named = bin.format === 'macho' ? findSection(bin, '__go_buildinfo') : findSection(bin, '.go.buildinfo');
  if (named && sectionData(bin, named)) clamp(named.offset, named.fileSize);
  const writable = bin.sections.filter((s) => s.writable && s.fileSize > 0 && s !== named);
  if (writable.length) for (const s of writable) clamp(s.offset, s.fileSize);
  else for (const s of bin.segments) if (s.writable) clamp(s.offset, s.fileSize);
  return ranges;
}

/**
 * The toolchain version and module text of a Go binary, or undefined when it has none.
 * Throws LadingError('BAD_INPUT') when the header is there but its strings cannot be read.
 */
export function readGoBuildInfo(data: Buffer): GoBuildInfo | undefined {
  let bin: BinaryFile | undefined;
  try {
    bin = parseBinary(data);
  } catch {
    bin = undefined; // A damaged header does not hide inline build info; the pointer layout needs it though.
  }
  let at = -1;
  for (const [start, end] of searchRanges(bin, data.length)) {
    at = findMagic(data, start, end);
    if (at >= 0) break;
  }
  if (at < 0) return undefined;
  const ptrSize = data[at + 14]!;
  const flags = data[at + 15]!;
  let version: Buffer;
  let mod: Buffer;
  if (flags & 2) {
    let next: number;
    [version, next] = inlineString(data, at + HEADER_SIZE);
    [mod] = inlineString(data, next);
  } else {
    if (ptrSize !== 4 && ptrSize !== 8) throw new LadingError('BAD_INPUT', `Go build info: pointer size ${ptrSize}`);
    if (!bin) throw new LadingError('BAD_INPUT', 'Go build info uses pointers but the executable header is unreadable');
    const bigEndian = (flags & 1) !== 0;
    const ptr = (off: number) => {
      if (ptrSize === 4) return bigEndian ? data.readUInt32BE(off) : data.readUInt32LE(off);
      const v = bigEndian ? data.readBigUInt64BE(off) : data.readBigUInt64LE(off);
      return v > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(v);
    };
    version = pointerString(bin, ptr(at + 16), ptrSize, bigEndian);
    mod = pointerString(bin, ptr(at + 16 + ptrSize), ptrSize, bigEndian);
  }
  const goVersion = version.toString('utf8');
  if (!goVersion) return undefined;
  // Module text is framed by 16-byte binary sentinels; the end one follows a newline.
  const modinfo = mod.length >= 33 && mod[mod.length - 17] === 0x0a ? mod.toString('utf8', 16, mod.length - 16) : '';
  return { goVersion, modinfo };
}

export interface GoModule {
  path: string;
  version: string;
  sum?: string;
  replace?: GoModule;
}

export interface GoModInfo {
  /** The main package path (`path` line). */
  path?: string;
  main?: GoModule;
  deps: GoModule[];
  settings: Record<string, string>;
}

/** Go's strconv.Quote output back to text (close enough to JSON for what the toolchain writes). */
function unquote(s: string): string {
  if (!s.startsWith('"')) return s;
  try {
    return JSON.parse(s.replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1').replace(/\\a/g, '\\u0007').replace(/\\v/g, '\\u000b').replace(/\\'/g, "'")) as string;
  } catch {
    return s;
  }
}

/** Split `key=value` where either side may be a Go-quoted string. */
function splitSetting(s: string): [string, string] | undefined {
  let key: string;
  let rest: string;
  if (s.startsWith('"')) {
    const m = /^"(?:[^"\\]|\\.)*"/.exec(s);
    if (!m) return undefined;
    key = unquote(m[0]);
    rest = s.slice(m[0].length);
    if (!rest.startsWith('=')) return undefined;
    rest = rest.slice(1);
  } else {
    const eq = s.indexOf('=');
    if (eq <= 0) return undefined;
    key = s.slice(0, eq);
    rest = s.slice(eq + 1);
  }
  return [key, unquote(rest)];
}

export function parseModinfo(text: string): GoModInfo {
  const info: GoModInfo = { deps: [], settings: {} };
  let last: GoModule | undefined;
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    const mod = (): GoModule => ({ path: f[1] ?? '', version: f[2] ?? '', ...(f[3] ? { sum: f[3] } : {}) });
    switch (f[0]) {
      case 'path': info.path = f[1]; break;
      case 'mod': info.main = last = mod(); break;
      case 'dep': info.deps.push(last = mod()); break;
      case '=>': if (last && f[1]) last.replace = mod(); break;
      case 'build': {
        const kv = splitSetting(line.slice(6));
        if (kv) info.settings[kv[0]] = kv[1];
        break;
      }
      default: break;
    }
  }
  return info;
}

/** A replacement by a directory (`=> ../fork`) keeps the original path; the code is local, so `(devel)`. */
export function effectiveModule(m: GoModule): { path: string; version: string; sum?: string; replacedFrom?: string } {
  const r = m.replace;
  if (!r) return { path: m.path, version: m.version || '(devel)', ...(m.sum ? { sum: m.sum } : {}) };
  const local = /^(\.{1,2}\/|\/|[A-Za-z]:\\)/.test(r.path) || !r.version;
  if (local) return { path: m.path, version: '(devel)', replacedFrom: `${m.path}@${m.version}` };
  return { path: r.path, version: r.version, ...(r.sum ? { sum: r.sum } : {}), replacedFrom: `${m.path}@${m.version}` };
}

/** `pkg:golang/github.com/x/y@v1` — namespace is all but the last path segment. */
export function goPurl(path: string, version: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? purl('golang', undefined, path, version) : purl('golang', path.slice(0, i), path.slice(i + 1), version);
}

/** A small CPE set for hosted module paths: github.com/<vendor>/<product>, golang.org/x/<product>. */
export function goCpes(path: string, version: string): string[] {
  if (version === '(devel)' || !version) return [];
  const v = version.replace(/^v/, '').replace(/\+incompatible$/, '');
  const parts = path.split('/');
  const [host, a, b] = parts;
  if ((host === 'github.com' || host === 'gitlab.com' || host === 'bitbucket.org') && a && b) {
    return cpeCandidates([a], [b.replace(/\.v\d+$/, '')], v);
  }
  if (host === 'golang.org' && a === 'x' && b) return cpeCandidates(['golang'], [b], v);
  return [];
}

/** `go1.21.5` → stdlib package version and CPE (`cpe:2.3:a:golang:go:1.21.5:-:...`; rc/beta go in the update field). */
export function stdlibIdentity(goVersion: string): { version: string; purlVersion: string; cpe: string } | undefined {
  const m = /^go(\d+(?:\.\d+)*)((?:rc|beta)\d+)?(?:$|[\s+-])/.exec(goVersion);
  if (!m) return undefined;
  const update = m[2] ?? '-';
  return {
    version: `go${m[1]}${m[2] ?? ''}`,
    purlVersion: `${m[1]}${m[2] ?? ''}`,
    cpe: `cpe:2.3:a:golang:go:${m[1]}:${update}:*:*:*:*:*:*`,
  };
}

export function goPackages(info: GoBuildInfo, location: { path: string; layer: number }): Package[] {
  const mod = parseModinfo(info.modinfo);
  const arch = mod.settings['GOARCH'];
  const base = { goVersion: info.goVersion, ...(mod.main ? { mainModule: mod.main.path } : {}), ...(arch ? { architecture: arch } : {}) };
  const out = new Map<string, Package>();
  const push = (m: GoModule, extra: Record<string, unknown>) => {
    const e = effectiveModule(m);
    const p: Package = {
      name: e.path,
      version: e.version,
      type: 'go-module',
      purl: goPurl(e.path, e.version),
      cpes: goCpes(e.path, e.version),
      licenses: [],
      locations: [location],
      metadata: { ...base, ...(e.sum ? { h1Digest: e.sum } : {}), ...(e.replacedFrom ? { replaces: e.replacedFrom } : {}), ...extra },
      foundBy: 'go',
    };
    if (!out.has(p.purl)) out.set(p.purl, p);
  };
  if (mod.main?.path) push(mod.main, { main: true, ...(mod.path ? { mainPackage: mod.path } : {}), buildSettings: mod.settings });
  for (const d of mod.deps) if (d.path) push(d, {});
  const std = stdlibIdentity(info.goVersion);
  if (std) {
    const p: Package = {
      name: 'stdlib',
      version: std.version,
      type: 'go-module',
      purl: purl('golang', undefined, 'stdlib', std.purlVersion),
      cpes: [std.cpe],
      licenses: ['BSD-3-Clause'],
      locations: [location],
      metadata: base,
      foundBy: 'go',
    };
    if (!out.has(p.purl)) out.set(p.purl, p);
  }
  return [...out.values()];
}

async function analyze(ctx: AnalyzerContext) {
  const packages: Package[] = [];
  for (const file of ctx.files) {
    let info: GoBuildInfo | undefined;
    try {
      info = readGoBuildInfo(await file.read());
    } catch (e) {
      ctx.warn(`${file.path}: Go build info is malformed (${describeError(e)}); skipped`);
      continue;
    }
    if (info) packages.push(...goPackages(info, { path: file.path, layer: file.entry.layer }));
  }
  return { packages };
}

export const goAnalyzer: Analyzer = {
  name: 'go',
  perFile: true,
  // readGoBuildInfo finds nothing in a binary without the header's magic.
  wants: { magic: BINARY_MAGIC, contains: [MAGIC], maxBytes: MAX_BINARY_BYTES },
  analyze,
};
