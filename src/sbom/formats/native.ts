/**
 * `json`: Lading's own format, the Sbom object itself. Keys come in a fixed order (the model's
 * important fields first, the rest alphabetical) and packages are sorted, so the same analysis
 * always gives the same bytes.
 */
import { LadingError } from '../../errors.js';
import { octalMode, type Sbom } from '../model.js';
import { isObject, sortPackages, type Json } from './common.js';

/** Keys that come first, in this order, wherever they appear; all other keys follow alphabetically. */
const firstKeys = [
  'schema', 'createdAt', 'tool', 'source', 'distro', 'packages', 'files', 'secrets', 'contentMatches', 'retrievedFiles', 'warnings',
  'id', 'index', 'name', 'version', 'type', 'purl', 'cpes', 'licenses', 'locations', 'path', 'layer', 'layerDigest', 'layerDiffId',
  'sourceName', 'sourceVersion', 'arch', 'epoch', 'foundBy',
];
const rank = new Map(firstKeys.map((k, i) => [k, i]));

function compareKeys(a: string, b: string): number {
  const ra = rank.get(a) ?? Infinity;
  const rb = rank.get(b) ?? Infinity;
  if (ra !== rb) return ra - rb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorted key lists by the keys' original order: an SBOM has few object shapes and many objects. */
type ShapeCache = Map<string, string[]>;

function ordered(value: unknown, shapes: ShapeCache): unknown {
  if (Array.isArray(value)) return value.map((v) => ordered(v, shapes));
  if (!isObject(value)) return value;
  const keys = Object.keys(value);
  const shape = keys.join('\0');
  let sorted = shapes.get(shape);
  if (sorted === undefined) shapes.set(shape, (sorted = keys.sort(compareKeys)));
  const out: Json = {};
  for (const k of sorted) {
    if (value[k] !== undefined) out[k] = ordered(value[k], shapes);
  }
  return out;
}

/** The head: the fields that come first in the document (ranks 0-3 of firstKeys); the body is the rest. */
type SbomHead = Pick<Sbom, 'schema' | 'createdAt' | 'tool' | 'source'>;
export type SbomBody = Omit<Sbom, keyof SbomHead>;

/**
 * The body as writeNative lays it out, alone: `{\n  "distro": ...\n}`. A producer that keeps it
 * (the layer cache's image entry) hands it back through attachNativeBody.
 */
export function renderNativeBody(body: SbomBody): string {
  return JSON.stringify(ordered({ ...body, packages: sortPackages(body.packages), files: octalFiles(body.files) }, new Map()), null, 2);
}

/** Files' modes are written as octal strings ("0644"), as `lading image files -o json` writes them. */
function octalFiles(files: Sbom['files']): unknown[] {
  return files.map((f) => ({ ...f, mode: octalMode(f.mode) }));
}

/** SBOMs whose body is already rendered: the callback answers its UTF-8 bytes, or undefined once the body may have changed. */
const RENDERED = new WeakMap<Sbom, () => Buffer | undefined>();

export function attachNativeBody(sbom: Sbom, body: () => Buffer | undefined): void {
  RENDERED.set(sbom, body);
}

/** The head's members as writeNative lays them out, up to the comma after the last: `{\n  "schema": ...,\n`. */
function headMembers(sbom: Sbom): string {
  // Head keys sort before every body key, so the document is the head's members, then the body's.
  const head: SbomHead = { schema: sbom.schema, createdAt: sbom.createdAt, tool: sbom.tool, source: sbom.source };
  return `${JSON.stringify(ordered(head, new Map()), null, 2).slice(0, -2)},\n`;
}

export function writeNative(sbom: Sbom): string {
  const body = RENDERED.get(sbom)?.();
  if (body !== undefined) return `${headMembers(sbom)}${body.toString('utf8', 2)}\n`;
  return `${JSON.stringify(ordered({ ...sbom, packages: sortPackages(sbom.packages), files: octalFiles(sbom.files) }, new Map()), null, 2)}\n`;
}

/**
 * writeNative's document as UTF-8 bytes. With a rendered body (a warm run's cache entry) the
 * stored bytes are written as they are: a body of a few MB is neither decoded into a string nor
 * encoded back, which cost more than all the rest of the warm run's output.
 */
export function writeNativeBytes(sbom: Sbom): Buffer {
  const body = RENDERED.get(sbom)?.();
  if (body === undefined) return Buffer.from(writeNative(sbom));
  return Buffer.concat([Buffer.from(headMembers(sbom)), body.subarray(2), Buffer.from('\n')]);
}

/** The files of a parsed native body (renderNativeBody's), their modes back to numbers, in place. */
export function readNativeFileModes(files: unknown[]): void {
  files.forEach((f, i) => {
    const file = f as { mode: unknown };
    file.mode = readMode(file.mode, i);
  });
}

/** A file's mode as written: an octal string, or a number (what earlier Lading versions wrote). */
function readMode(v: unknown, i: number): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^[0-7]{1,6}$/.test(v)) return Number.parseInt(v, 8);
  throw new LadingError('BAD_INPUT', `Lading SBOM: files[${i}].mode ${JSON.stringify(v)} is not an octal mode such as "0644"`);
}

export function detectNative(doc: unknown): boolean {
  return isObject(doc) && doc.schema === 'lading-sbom/1';
}

/** Reads Lading's own JSON back, checking the parts every later step relies on. */
export function readNative(doc: unknown): Sbom {
  if (!detectNative(doc)) throw new LadingError('BAD_INPUT', 'not a Lading SBOM (schema is not "lading-sbom/1")');
  const d = doc as Json;
  if (!isObject(d.source)) throw new LadingError('BAD_INPUT', 'Lading SBOM: "source" is missing or not an object');
  if (!Array.isArray(d.packages)) throw new LadingError('BAD_INPUT', 'Lading SBOM: "packages" is not a list');
  d.packages.forEach((p, i) => {
    if (!isObject(p) || typeof p.name !== 'string' || typeof p.version !== 'string' || typeof p.type !== 'string'
      || typeof p.purl !== 'string' || !Array.isArray(p.locations) || !Array.isArray(p.licenses) || !Array.isArray(p.cpes)) {
      throw new LadingError('BAD_INPUT', `Lading SBOM: packages[${i}] lacks name, version, type, purl, cpes, licenses or locations`);
    }
  });
  for (const k of ['files', 'secrets', 'contentMatches', 'retrievedFiles', 'warnings'] as const) {
    if (d[k] !== undefined && !Array.isArray(d[k])) throw new LadingError('BAD_INPUT', `Lading SBOM: "${k}" is not a list`);
  }
  const sbom = d as unknown as Sbom;
  return {
    ...sbom,
    files: (sbom.files ?? []).map((f, i) => ({ ...f, mode: readMode((f as { mode: unknown }).mode, i) })),
    secrets: sbom.secrets ?? [],
    contentMatches: sbom.contentMatches ?? [],
    retrievedFiles: sbom.retrievedFiles ?? [],
    warnings: sbom.warnings ?? [],
  };
}
