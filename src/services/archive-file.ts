/**
 * The analysis archive as a file, in Anchore's image archive format (its catalog archiver's
 * ImageArchive): a tar.gz holding one member per artifact and a JSON `archive_manifest` member
 * `{account, image_digest, archived_at, metadata: {versions, image_id, image_record}, artifacts:
 * [{name, metadata, source: {bucket, key}, dest: {tarfile_path}}]}`, where `image_record` is the
 * catalog record (with its `image_detail` tags) as a JSON string.
 *
 * Lading writes the artifacts `analysis` (its SBOM, native JSON) and `image_manifest`, each with
 * the sha256 of its bytes in its metadata. Reading takes those, or from an archive Anchore wrote,
 * its `syft_sbom` artifact (syft JSON) as the analysis; a member whose metadata names a sha256 must
 * hash to it, and the analysis must be of the archive's image digest. `POST /import/images` reads
 * these (services/archive-import.ts restores them).
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
// tar's parts by their own entry points: its main one is one file that also loads the packer and unpacker.
import { Parser } from 'tar/parse';
import type { ReadEntry } from 'tar/read-entry';
import { z } from 'zod';
import { LadingError } from '../errors.js';
import { compressionOfMagic } from '../image/decompress.js';
import { readSbom } from '../sbom/formats/index.js';
import type { Sbom } from '../sbom/model.js';
import type { ArchivedImage } from '../store/archive.js';
import { decodeDocumentText } from '../store/objects/codec.js';
import { VERSION } from '../version.js';

export const ARCHIVE_MANIFEST = 'archive_manifest';
/** The largest archive read, compressed and expanded. */
export const MAX_ARCHIVE_BYTES = 512 * 1024 * 1024;

const DIGEST = /^sha256:[0-9a-f]{64}$/;

const artifactSchema = z.object({
  name: z.string().min(1).max(256),
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
  source: z.object({ bucket: z.string(), key: z.string() }).nullable().optional(),
  dest: z.object({ tarfile_path: z.string() }).nullable().optional(),
});
const manifestSchema = z.object({
  account: z.string().optional(),
  image_digest: z.string().regex(DIGEST, 'expected an image digest (sha256:<64 hex>)'),
  archived_at: z.string().optional(),
  metadata: z.object({ image_id: z.string().nullable().optional(), image_record: z.string().optional() }).passthrough().optional(),
  artifacts: z.array(artifactSchema).max(10_000),
});
const detailSchema = z.object({ registry: z.string().min(1), repo: z.string().min(1), tag: z.string().min(1) }).passthrough();
const recordSchema = z.object({
  imageDigest: z.string().optional(),
  parentDigest: z.string().nullable().optional(),
  annotations: z.union([z.record(z.string(), z.unknown()), z.string()]).nullable().optional(),
  image_detail: z.array(detailSchema).nullable().optional(),
}).passthrough();

type Artifact = z.infer<typeof artifactSchema>;

/** What an archive restores: the image's identity, tags and annotations, and its analysis. */
export interface ReadArchive {
  imageDigest: string;
  imageId?: string;
  parentDigest?: string;
  annotations: Record<string, unknown>;
  tags: { registry: string; repo: string; tag: string }[];
  sbom: Sbom;
  /** The image manifest, when the archive has one that is JSON. */
  manifest?: unknown;
}

function bad(message: string): LadingError {
  return new LadingError('BAD_INPUT', `the analysis archive: ${message}`);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// --- writing ---------------------------------------------------------------------------------

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

/** One regular file as ustar: header, content, padding (member names here are short). */
function tarMember(name: string, content: Buffer, mtime: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(content.length, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  const rest = content.length % 512;
  return Buffer.concat([h, content, Buffer.alloc(rest ? 512 - rest : 0)]);
}

/** The catalog record as Anchore's archive keeps it (image_record), from an archived image. */
function imageRecord(account: string, image: ArchivedImage): Record<string, unknown> {
  return {
    imageDigest: image.imageDigest,
    parentDigest: image.parentDigest ?? image.imageDigest,
    userId: account,
    image_type: 'docker',
    image_status: 'active',
    analysis_status: 'analyzed',
    annotations: image.annotations,
    created_at: image.imageCreatedAt,
    analyzed_at: image.analyzedAt ?? null,
    image_detail: image.tags.map((t) => ({
      registry: t.registry, repo: t.repo, tag: t.tag, fulltag: t.fulltag, imageDigest: image.imageDigest,
      imageId: image.imageId ?? null, created_at: t.createdAt, last_updated: t.lastUpdated,
    })),
  };
}

/** An archived image as Anchore's tar.gz analysis archive. */
export function writeAnalysisArchive(account: string, image: ArchivedImage, sbom: Sbom, manifest: string | null, now = new Date()): Buffer {
  const at = now.toISOString();
  const mtime = Math.floor(now.getTime() / 1000);
  const members: [string, Buffer, { bucket: string }][] = [['analysis', Buffer.from(JSON.stringify(sbom)), { bucket: 'analysis_data' }]];
  if (manifest !== null) members.push(['image_manifest', Buffer.from(manifest), { bucket: 'manifest_data' }]);
  const artifacts = members.map(([name, bytes, { bucket }]) => ({
    name,
    metadata: { completed_at: at, bytes_copied: bytes.length, sha256: sha256(bytes), ...(name === 'analysis' ? { format: 'lading-sbom-json' } : {}) },
    source: { bucket, key: image.imageDigest },
    dest: { tarfile_path: name },
  }));
  const archiveManifest = {
    account,
    image_digest: image.imageDigest,
    archived_at: image.archivedAt,
    metadata: { versions: { lading: VERSION }, image_id: image.imageId ?? null, image_record: JSON.stringify(imageRecord(account, image)) },
    artifacts,
  };
  const parts = members.map(([name, bytes]) => tarMember(name, bytes, mtime));
  parts.push(tarMember(ARCHIVE_MANIFEST, Buffer.from(JSON.stringify(archiveManifest)), mtime), Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

// --- reading ---------------------------------------------------------------------------------

/** The regular files of a tar (gzip-compressed or not), by name. */
async function tarMembers(bytes: Buffer): Promise<Map<string, Buffer>> {
  if (bytes.length === 0) throw bad('the file is empty');
  if (bytes.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) throw bad('this is a zip file; expected the tar.gz an analysis archive export writes');
  let tar = bytes;
  const kind = compressionOfMagic(bytes);
  if (kind === 'zstd') throw bad('zstd-compressed; expected a tar.gz');
  if (kind === 'gzip') {
    try {
      tar = gunzipSync(bytes, { maxOutputLength: MAX_ARCHIVE_BYTES });
    } catch (e) {
      throw bad(`not a readable gzip file (${(e as Error).message})`);
    }
  }
  if (tar.length < 512) throw bad('not a tar archive (shorter than one tar header)');
  const files = new Map<string, Buffer>();
  let failure: Error | undefined;
  const parser = new Parser({ strict: true, zstd: false, brotli: false, gzip: false });
  parser.on('entry', (entry: ReadEntry) => {
    if (entry.type !== 'File' && entry.type !== 'OldFile') {
      entry.resume();
      return;
    }
    const parts: Buffer[] = [];
    entry.on('data', (c: Buffer) => parts.push(c));
    entry.on('end', () => files.set(entry.path.replace(/^\.\//, ''), Buffer.concat(parts)));
  });
  parser.on('error', (e: Error) => {
    failure ??= e;
  });
  parser.on('warn', (_code: string, message: string) => {
    failure ??= new Error(message);
  });
  const ended = new Promise<void>((resolve) => {
    parser.once('end', resolve);
    parser.once('close', resolve);
  });
  parser.end(tar);
  await ended;
  if (failure) throw bad(`not a readable tar archive (${failure.message})`);
  if (!files.size) throw bad('not a tar archive (no files in it)');
  return files;
}

function json(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(decodeDocumentText(bytes));
  } catch (e) {
    throw bad(`${what} is not JSON (${(e as Error).message})`);
  }
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw bad(`${what}: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
}

/** An artifact's bytes: its member must be there and hash to the sha256 its metadata names. */
function artifactBytes(files: Map<string, Buffer>, a: Artifact): Buffer {
  const member = a.dest?.tarfile_path ?? a.name;
  const bytes = files.get(member);
  if (!bytes) throw bad(`artifact ${a.name} is listed in archive_manifest, but the archive has no member ${member}`);
  const want = a.metadata?.sha256;
  if (typeof want === 'string' && want.replace(/^sha256:/, '') !== sha256(bytes)) {
    throw new LadingError('DIGEST_MISMATCH', `the analysis archive: member ${member} has sha256 ${sha256(bytes)}, but archive_manifest says ${want}`);
  }
  return bytes;
}

/** The analysis: Lading's SBOM (`analysis`), else the syft SBOM Anchore archives (`syft_sbom`). */
function analysisOf(files: Map<string, Buffer>, artifacts: Artifact[], imageDigest: string): Sbom {
  const own = artifacts.find((a) => a.name === 'analysis' && a.metadata?.format === 'lading-sbom-json');
  if (own) {
    const sbom = json(artifactBytes(files, own), 'the analysis member') as Sbom;
    if (!sbom || typeof sbom !== 'object' || typeof sbom.source !== 'object' || !Array.isArray(sbom.packages)) throw bad('the analysis member is not a Lading SBOM');
    if (sbom.source.manifestDigest && sbom.source.manifestDigest !== imageDigest) {
      throw new LadingError('DIGEST_MISMATCH', `the analysis archive: its analysis is of ${sbom.source.manifestDigest}, but archive_manifest names image ${imageDigest}`);
    }
    return sbom;
  }
  const syft = artifacts.find((a) => a.name === 'syft_sbom');
  if (!syft) throw bad('no analysis in it: archive_manifest lists neither a Lading "analysis" artifact nor a "syft_sbom" artifact');
  let sbom: Sbom;
  try {
    sbom = readSbom(decodeDocumentText(artifactBytes(files, syft)));
  } catch (e) {
    if (e instanceof LadingError && e.code === 'DIGEST_MISMATCH') throw e;
    throw bad(`the syft_sbom member is not an SBOM Lading reads (${(e as Error).message})`);
  }
  return { ...sbom, source: { ...sbom.source, manifestDigest: imageDigest } };
}

function recordOf(text: string | undefined): z.infer<typeof recordSchema> {
  if (text === undefined) throw bad('archive_manifest has no metadata.image_record (the image record with its tags)');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad('archive_manifest metadata.image_record is not JSON');
  }
  return parseWith(recordSchema, value, 'metadata.image_record');
}

function annotationsOf(a: Record<string, unknown> | string | null | undefined): Record<string, unknown> {
  if (a === null || a === undefined) return {};
  if (typeof a !== 'string') return a;
  try {
    const v = JSON.parse(a) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    throw bad('metadata.image_record.annotations is a string that is not JSON');
  }
}

/** Read and check an analysis archive (see the module comment); a clear BAD_INPUT or DIGEST_MISMATCH otherwise. */
export async function readAnalysisArchive(bytes: Buffer): Promise<ReadArchive> {
  const files = await tarMembers(bytes);
  const raw = files.get(ARCHIVE_MANIFEST);
  if (!raw) throw bad(`missing member ${ARCHIVE_MANIFEST} (members: ${[...files.keys()].slice(0, 10).join(', ')})`);
  const m = parseWith(manifestSchema, json(raw, ARCHIVE_MANIFEST), ARCHIVE_MANIFEST);
  const record = recordOf(m.metadata?.image_record);
  if (record.imageDigest !== undefined && record.imageDigest !== m.image_digest) {
    throw new LadingError('DIGEST_MISMATCH', `the analysis archive: image_record is of ${record.imageDigest}, but archive_manifest names image ${m.image_digest}`);
  }
  const tags = (record.image_detail ?? []).map((d) => ({ registry: d.registry, repo: d.repo, tag: d.tag }));
  if (!tags.length) throw bad('metadata.image_record.image_detail names no tag; an image is restored under its tags');
  const sbom = analysisOf(files, m.artifacts, m.image_digest);
  const manifestArtifact = m.artifacts.find((a) => a.name === 'image_manifest');
  const manifest = manifestArtifact ? json(artifactBytes(files, manifestArtifact), 'the image_manifest member') : undefined;
  const imageId = (m.metadata?.image_id ?? undefined) || sbom.source.imageId?.replace(/^sha256:/, '') || undefined;
  const parent = record.parentDigest ?? undefined;
  return {
    imageDigest: m.image_digest,
    ...(imageId ? { imageId: imageId.replace(/^sha256:/, '') } : {}),
    ...(parent && DIGEST.test(parent) && parent !== m.image_digest ? { parentDigest: parent } : {}),
    annotations: annotationsOf(record.annotations),
    tags,
    sbom,
    ...(manifest !== undefined ? { manifest } : {}),
  };
}
