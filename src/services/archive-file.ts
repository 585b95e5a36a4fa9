/**
 * The analysis archive as a file, in Anchore's image archive format (its catalog archiver's
 * ImageArchive, anchore_engine/services/catalog/archiver.py): a tar.gz holding one member per
 * artifact and a JSON `archive_manifest` member, written last, `{account, image_digest,
 * archived_at, metadata: {versions, image_id, image_record}, artifacts: [{name, metadata, source:
 * {bucket, key}, dest: {tarfile_path}}]}`, where `image_record` is the catalog record (its times as
 * epoch seconds, its `image_detail` tags) as a JSON string.
 *
 * Anchore's members are object-store documents as its object store keeps them (`{"document": ...}`):
 * `analysis` (its analyzer output), `image_content`, `image_manifest`, `syft_sbom` (1.x), then
 * `vulnerabilities` (a report) and one `policy_evaluation-<evalId>` per stored evaluation, whose
 * artifact metadata holds the evaluation's record (`record_type: policy_evaluation`, `record:
 * {tag, policyId, final_action, created_at, evalId, ...}`).
 *
 * Lading writes `analysis` (its SBOM, native JSON, `metadata.format: lading-sbom-json`),
 * `image_manifest` and its evaluations the same way, each with the sha256 of its bytes in its
 * metadata. Reading takes the analysis from Lading's `analysis`, else Anchore's `syft_sbom`, else
 * Anchore's `analysis` (sbom/formats/read-anchore.ts); the evaluation history with its times; the
 * image's created/analyzed times and its tags' times. `vulnerabilities` and `image_content` are
 * derived data: they are not read (the analysis is matched against today's data). A member whose
 * metadata names a sha256 must hash to it, and the analysis must be of the archive's image digest.
 * The file is streamed (services/archive-tar.ts); services/archive-import.ts restores what is read.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { LadingError } from '../errors.js';
import { readSbom } from '../sbom/formats/index.js';
import { readAnchoreAnalysis } from '../sbom/formats/read-anchore.js';
import type { PolicyEvaluationDoc } from '../policy/index.js';
import type { Action } from '../policy/model.js';
import type { Sbom } from '../sbom/model.js';
import type { ArchivedImage } from '../store/archive.js';
import { decodeDocumentText } from '../store/objects/codec.js';
import type { StoredEvaluation } from '../store/policies.js';
import { VERSION } from '../version.js';
import { bad, memberBytes, scanTar, tarMember, type ArchiveSource, type TarScan } from './archive-tar.js';

export const ARCHIVE_MANIFEST = 'archive_manifest';

const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** An Anchore time (epoch seconds) or Lading's (ISO 8601). */
const time = z.union([z.number().finite().nonnegative(), z.string().max(64)]).nullable().optional();

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
const detailSchema = z.object({ registry: z.string().min(1), repo: z.string().min(1), tag: z.string().min(1), created_at: time, last_updated: time }).passthrough();
const recordSchema = z.object({
  imageDigest: z.string().optional(),
  parentDigest: z.string().nullable().optional(),
  annotations: z.union([z.record(z.string(), z.unknown()), z.string()]).nullable().optional(),
  created_at: time,
  analyzed_at: time,
  image_detail: z.array(detailSchema).nullable().optional(),
}).passthrough();
/** The policy_eval row Anchore keeps in a policy_evaluation artifact's metadata. */
const evalRecordSchema = z.object({
  tag: z.string().min(1).max(1024),
  policyId: z.string().min(1).max(256),
  final_action: z.string().regex(/^(go|warn|stop)$/i, 'expected GO, WARN or STOP'),
  created_at: time,
  evalId: z.string().max(256).nullable().optional(),
}).passthrough();
const evalDocSchema = z.object({ result: z.record(z.string(), z.unknown()), final_action: z.string().optional() }).passthrough();

type Artifact = z.infer<typeof artifactSchema>;

export interface ArchivedTag { registry: string; repo: string; tag: string; createdAt?: string; lastUpdated?: string }

/** A stored evaluation as an archive keeps it, with its original time. */
export interface ArchivedEvaluation { tag: string; policyId: string; finalAction: Action; createdAt: string; doc: PolicyEvaluationDoc }

/** What an archive restores: the image's identity, tags, annotations and times, its analysis and its evaluations. */
export interface ReadArchive {
  imageDigest: string;
  imageId?: string;
  parentDigest?: string;
  annotations: Record<string, unknown>;
  tags: ArchivedTag[];
  sbom: Sbom;
  /** The image manifest, when the archive has one that is JSON. */
  manifest?: unknown;
  /** When the image was added and analyzed, as the archive recorded it. */
  createdAt?: string;
  analyzedAt?: string;
  /** The evaluation history, oldest first. */
  evaluations: ArchivedEvaluation[];
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

// --- writing ---------------------------------------------------------------------------------

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

type Member = { name: string; bytes: Buffer; bucket: string | null; metadata?: Record<string, unknown> };

/** An archived image (with its evaluation history, when kept) as Anchore's tar.gz analysis archive. */
export function writeAnalysisArchive(account: string, image: ArchivedImage, sbom: Sbom, manifest: string | null, evaluations: StoredEvaluation[] = [], now = new Date()): Buffer {
  const at = now.toISOString();
  const mtime = Math.floor(now.getTime() / 1000);
  const members: Member[] = [{ name: 'analysis', bytes: Buffer.from(JSON.stringify(sbom)), bucket: 'analysis_data', metadata: { format: 'lading-sbom-json' } }];
  if (manifest !== null) members.push({ name: 'image_manifest', bytes: Buffer.from(manifest), bucket: 'manifest_data' });
  for (const e of evaluations) {
    const record = {
      userId: account, imageDigest: image.imageDigest, tag: e.tag, policyId: e.policyId, final_action: e.finalAction.toUpperCase(),
      created_at: e.createdAt, last_updated: e.createdAt, evalId: e.evalId,
    };
    members.push({ name: `policy_evaluation-${e.evalId}`, bytes: Buffer.from(JSON.stringify({ document: e.doc })), bucket: null, metadata: { record, record_type: 'policy_evaluation' } });
  }
  const artifacts = members.map((m) => ({
    name: m.name,
    metadata: { ...m.metadata, completed_at: at, bytes_copied: m.bytes.length, sha256: sha256(m.bytes) },
    source: m.bucket ? { bucket: m.bucket, key: image.imageDigest } : null,
    dest: { tarfile_path: m.name },
  }));
  const archiveManifest = {
    account,
    image_digest: image.imageDigest,
    archived_at: image.archivedAt,
    metadata: { versions: { lading: VERSION }, image_id: image.imageId ?? null, image_record: JSON.stringify(imageRecord(account, image)) },
    artifacts,
  };
  const parts = members.map((m) => tarMember(m.name, m.bytes, mtime));
  parts.push(tarMember(ARCHIVE_MANIFEST, Buffer.from(JSON.stringify(archiveManifest)), mtime), Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

// --- reading ---------------------------------------------------------------------------------

/** The members a restore reads, by the names Anchore and Lading give them (dest.tarfile_path is the name). */
const WANTED = (name: string) => name === ARCHIVE_MANIFEST || name === 'analysis' || name === 'syft_sbom' || name === 'image_manifest' || name.startsWith('policy_evaluation-');

function json(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(decodeDocumentText(bytes));
  } catch (e) {
    throw bad(`${what} is not JSON (${(e as Error).message})`);
  }
}

/** An object-store document's content: Anchore keeps `{"document": value}`. */
function unwrap(v: unknown): unknown {
  return v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && 'document' in v ? (v as { document: unknown }).document : v;
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw bad(`${what}: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
}

/** A time as ISO 8601: Anchore's epoch seconds or an ISO string; undefined when absent. */
function isoTime(v: number | string | null | undefined, what: string): string | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  const ms = typeof v === 'number' ? v * 1000 : Date.parse(v);
  if (!Number.isFinite(ms)) throw bad(`${what} is not a time: ${JSON.stringify(v)}`);
  return new Date(ms).toISOString();
}

const memberOf = (a: Artifact) => a.dest?.tarfile_path ?? a.name;
const bytesOf = (scan: TarScan, a: Artifact) => memberBytes(scan, memberOf(a), a.name, a.metadata?.sha256);

function lading(scan: TarScan, a: Artifact, imageDigest: string): Sbom {
  const sbom = json(bytesOf(scan, a), 'the analysis member') as Sbom;
  if (!sbom || typeof sbom !== 'object' || typeof sbom.source !== 'object' || !Array.isArray(sbom.packages)) throw bad('the analysis member is not a Lading SBOM');
  if (sbom.source.manifestDigest && sbom.source.manifestDigest !== imageDigest) {
    throw new LadingError('DIGEST_MISMATCH', `the analysis archive: its analysis is of ${sbom.source.manifestDigest}, but archive_manifest names image ${imageDigest}`);
  }
  return sbom;
}

function anchoreMember(scan: TarScan, a: Artifact, read: (doc: unknown) => Sbom): Sbom {
  const bytes = bytesOf(scan, a);
  try {
    return read(unwrap(JSON.parse(decodeDocumentText(bytes))));
  } catch (e) {
    throw bad(`the ${a.name} member is not an analysis Lading reads (${(e as Error).message})`);
  }
}

/**
 * The analysis: Lading's SBOM (`analysis` with its format), else Anchore's syft SBOM (`syft_sbom`)
 * completed from its analyzer output (distro, image id) when that is there, else the analyzer output alone.
 */
function analysisOf(scan: TarScan, artifacts: Artifact[], imageDigest: string): Sbom {
  const own = artifacts.find((a) => a.name === 'analysis' && a.metadata?.format === 'lading-sbom-json');
  if (own) return lading(scan, own, imageDigest);
  const syft = artifacts.find((a) => a.name === 'syft_sbom');
  const analyzer = artifacts.find((a) => a.name === 'analysis');
  if (!syft && !analyzer) throw bad('no analysis in it: archive_manifest lists neither an "analysis" artifact nor a "syft_sbom" artifact');
  const fromAnalyzer = analyzer ? anchoreMember(scan, analyzer, readAnchoreAnalysis) : undefined;
  let sbom = syft ? anchoreMember(scan, syft, (doc) => readSbom(JSON.stringify(doc))) : fromAnalyzer!;
  if (syft && fromAnalyzer) {
    sbom = {
      ...sbom,
      ...(!sbom.distro && fromAnalyzer.distro ? { distro: fromAnalyzer.distro } : {}),
      source: { ...sbom.source, imageId: sbom.source.imageId || fromAnalyzer.source.imageId },
    };
  }
  return { ...sbom, source: { ...sbom.source, manifestDigest: imageDigest } };
}

function evaluationOf(scan: TarScan, a: Artifact, imageDigest: string, imageId: string): ArchivedEvaluation {
  const what = `artifact ${a.name}`;
  const record = parseWith(evalRecordSchema, a.metadata?.record, `${what} metadata.record`);
  const doc = parseWith(evalDocSchema, unwrap(json(bytesOf(scan, a), `the ${a.name} member`)), `the ${a.name} member`);
  const finalAction = record.final_action.toLowerCase() as Action;
  const createdAt = isoTime(record.created_at, `${what} metadata.record.created_at`);
  if (!createdAt) throw bad(`${what} metadata.record has no created_at`);
  return {
    tag: record.tag, policyId: record.policyId, finalAction, createdAt,
    doc: {
      ...(doc as unknown as PolicyEvaluationDoc),
      image_id: typeof doc.image_id === 'string' ? doc.image_id : imageId,
      image_digest: imageDigest, tag: typeof doc.tag === 'string' ? doc.tag : record.tag,
      final_action: finalAction, status: finalAction === 'stop' ? 'fail' : 'pass',
    },
  };
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

function tagsOf(record: z.infer<typeof recordSchema>): ArchivedTag[] {
  const tags = (record.image_detail ?? []).map((d, i) => {
    const createdAt = isoTime(d.created_at, `metadata.image_record.image_detail.${i}.created_at`);
    const lastUpdated = isoTime(d.last_updated, `metadata.image_record.image_detail.${i}.last_updated`);
    return { registry: d.registry, repo: d.repo, tag: d.tag, ...(createdAt ? { createdAt } : {}), ...(lastUpdated ? { lastUpdated } : {}) };
  });
  if (!tags.length) throw bad('metadata.image_record.image_detail names no tag; an image is restored under its tags');
  return tags;
}

/** The scan with every member the manifest names kept (a second pass only for names not kept by the first). */
async function withMembers(src: ArchiveSource, scan: TarScan, artifacts: Artifact[]): Promise<TarScan> {
  const missing = new Set(artifacts.map(memberOf).filter((m) => !scan.kept.has(m) && scan.hashes.has(m) && !WANTED(m)));
  if (!missing.size) return scan;
  const more = await scanTar(src, (name) => missing.has(name));
  return { hashes: scan.hashes, kept: new Map([...scan.kept, ...more.kept]) };
}

/** Read and check an analysis archive (see the module comment); a clear BAD_INPUT or DIGEST_MISMATCH otherwise. */
export async function readAnalysisArchive(src: ArchiveSource): Promise<ReadArchive> {
  const first = await scanTar(src, WANTED);
  const raw = first.kept.get(ARCHIVE_MANIFEST);
  if (!raw) throw bad(`missing member ${ARCHIVE_MANIFEST} (members: ${[...first.hashes.keys()].slice(0, 10).join(', ')})`);
  const m = parseWith(manifestSchema, json(raw, ARCHIVE_MANIFEST), ARCHIVE_MANIFEST);
  const record = recordOf(m.metadata?.image_record);
  if (record.imageDigest !== undefined && record.imageDigest !== m.image_digest) {
    throw new LadingError('DIGEST_MISMATCH', `the analysis archive: image_record is of ${record.imageDigest}, but archive_manifest names image ${m.image_digest}`);
  }
  const tags = tagsOf(record);
  const wanted = m.artifacts.filter((a) => ['analysis', 'syft_sbom', 'image_manifest'].includes(a.name) || a.metadata?.record_type === 'policy_evaluation');
  const scan = await withMembers(src, first, wanted);
  const sbom = analysisOf(scan, m.artifacts, m.image_digest);
  const manifestArtifact = m.artifacts.find((a) => a.name === 'image_manifest');
  const manifest = manifestArtifact ? unwrap(json(bytesOf(scan, manifestArtifact), 'the image_manifest member')) : undefined;
  const imageId = ((m.metadata?.image_id ?? undefined) || sbom.source.imageId || '').replace(/^sha256:/, '');
  const parent = record.parentDigest ?? undefined;
  const evaluations = m.artifacts.filter((a) => a.metadata?.record_type === 'policy_evaluation')
    .map((a) => evaluationOf(scan, a, m.image_digest, imageId))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const createdAt = isoTime(record.created_at, 'metadata.image_record.created_at');
  const analyzedAt = isoTime(record.analyzed_at, 'metadata.image_record.analyzed_at');
  return {
    imageDigest: m.image_digest,
    ...(imageId ? { imageId } : {}),
    ...(parent && DIGEST.test(parent) && parent !== m.image_digest ? { parentDigest: parent } : {}),
    annotations: annotationsOf(record.annotations),
    tags,
    sbom,
    ...(manifest !== undefined ? { manifest } : {}),
    ...(createdAt ? { createdAt } : {}),
    ...(analyzedAt ? { analyzedAt } : {}),
    evaluations,
  };
}
