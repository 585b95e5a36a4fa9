/**
 * Test helper: an analysis archive laid out as Anchore Engine 1.x's catalog archiver writes one
 * (anchore_engine/services/catalog/archiver.py, ArchiveImageTask._execute and ImageArchive): a
 * tar.gz whose members are, in order, `analysis`, `image_content`, `image_manifest` (the object-store
 * documents of buckets analysis_data, image_content_data, manifest_data, each as the store keeps it:
 * `{"document": ...}`), `syft_sbom` (optional, bucket syft_sbom), `vulnerabilities` (the policy
 * engine's report, no source), one `policy_evaluation-<evalId>` per stored evaluation (no source;
 * its policy_eval row in metadata.record, record_type policy_evaluation), and `archive_manifest`
 * last. Artifact metadata is `{completed_at, bytes_copied}` (no sha256); the catalog record and its
 * image_detail rows carry their times as epoch seconds; `image_record` is `json.dumps(record,
 * sort_keys=True)`. The analysis document is what its syft handlers write (`pkgs.allinfo` values
 * for dpkg with the whole version and release "N/A"; `pkgs.npms` by path).
 */
import { gzipSync } from 'node:zlib';
import { tarBuffer } from '../testkit/tar.js';

export interface AnchoreArchiveInput {
  account: string;
  imageDigest: string;
  imageId: string;
  tag: { registry: string; repo: string; tag: string };
  /** Epoch seconds. */
  createdAt: number;
  analyzedAt: number;
  tagCreatedAt: number;
  tagLastUpdated: number;
  /** pkgs.allinfo entries: name → the record the dpkg handler writes. */
  debs: Record<string, { version: string; sourcepkg: string; arch: string }>;
  npms?: Record<string, { name: string; version: string }>;
  distro: { id: string; version: string; like?: string };
  syft?: unknown;
  evaluations: { evalId: string; policyId: string; finalAction: 'GO' | 'STOP' | 'WARN'; createdAt: number; doc: Record<string, unknown> }[];
}

const doc = (value: unknown) => Buffer.from(JSON.stringify({ document: value }));
const rfc3339 = (s: number) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');

/** Python's json.dumps(..., sort_keys=True) key order, for image_record. */
function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(', ')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}: ${sortedJson((v as Record<string, unknown>)[k])}`).join(', ')}}`;
  return JSON.stringify(v);
}

function analysisDocument(a: AnchoreArchiveInput): unknown {
  const allinfo = Object.fromEntries(Object.entries(a.debs).map(([name, d]) => [name, {
    version: d.version, sourcepkg: d.sourcepkg, arch: d.arch, origin: 'Debian (maintainer)', release: 'N/A', size: '6000000', license: 'Unknown', type: 'dpkg', cpes: [],
  }]));
  const npms = Object.fromEntries(Object.entries(a.npms ?? {}).map(([path, n]) => [path, {
    name: n.name, versions: [n.version], latest: n.version, sourcepkg: '', origins: [], lics: ['MIT'], cpes: [],
  }]));
  return [{
    image: {
      imageId: a.imageId,
      imagedata: {
        analysis_report: {
          analyzer_meta: { analyzer_meta: { base: { DISTRO: a.distro.id, DISTROVERS: a.distro.version, LIKEDISTRO: a.distro.like ?? a.distro.id } } },
          package_list: {
            'pkgs.allinfo': { base: allinfo },
            'pkgs.all': { base: Object.fromEntries(Object.entries(a.debs).map(([n, d]) => [n, d.version])) },
            'pkgs.npms': { base: npms },
          },
        },
        image_report: { meta: { imageId: a.imageId, sizebytes: 1234 }, docker_data: { Architecture: 'amd64', Os: 'linux', RepoTags: [] }, dockerfile_mode: 'Guessed' },
      },
    },
  }];
}

/** The archive's tar.gz (see the module comment). */
export function anchoreArchive(a: AnchoreArchiveInput): Buffer {
  const completed = rfc3339(a.analyzedAt + 86_400);
  const members: { name: string; bytes: Buffer; source: { bucket: string; key: string } | null; extra?: Record<string, unknown> }[] = [
    { name: 'analysis', bytes: doc(analysisDocument(a)), source: { bucket: 'analysis_data', key: a.imageDigest } },
    { name: 'image_content', bytes: doc({ os: [], npm: [], files: [] }), source: { bucket: 'image_content_data', key: a.imageDigest } },
    { name: 'image_manifest', bytes: doc({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', layers: [] }), source: { bucket: 'manifest_data', key: a.imageDigest } },
  ];
  if (a.syft !== undefined) members.push({ name: 'syft_sbom', bytes: doc(a.syft), source: { bucket: 'syft_sbom', key: a.imageDigest } });
  members.push({ name: 'vulnerabilities', bytes: Buffer.from(sortedJson({ imageDigest: a.imageDigest, vulnerabilities: [] })), source: null });
  const fulltag = `${a.tag.registry}/${a.tag.repo}:${a.tag.tag}`;
  for (const e of a.evaluations) {
    const record = {
      userId: a.account, imageDigest: a.imageDigest, tag: fulltag, policyId: e.policyId, final_action: e.finalAction,
      created_at: e.createdAt, last_updated: e.createdAt, record_state_key: 'active', record_state_val: null, evalId: e.evalId, policyeval: null,
    };
    members.push({ name: `policy_evaluation-${e.evalId}`, bytes: doc(e.doc), source: null, extra: { record, record_type: 'policy_evaluation' } });
  }
  const imageRecord = {
    imageDigest: a.imageDigest, userId: a.account, parentDigest: a.imageDigest, created_at: a.createdAt, last_updated: a.analyzedAt,
    analyzed_at: a.analyzedAt, record_state_key: 'active', record_state_val: null, image_type: 'docker', arch: 'amd64',
    distro: a.distro.id, distro_version: a.distro.version, dockerfile_mode: 'Guessed', image_size: 1234, layer_count: 1,
    annotations: JSON.stringify({ owner: 'anchore' }), analysis_status: 'analyzed', image_status: 'active',
    image_detail: [{
      imageDigest: a.imageDigest, userId: a.account, registry: a.tag.registry, repo: a.tag.repo, tag: a.tag.tag, created_at: a.tagCreatedAt,
      last_updated: a.tagLastUpdated, tag_detected_at: a.tagCreatedAt, record_state_key: 'active', record_state_val: null, digest: a.imageDigest,
      imageId: a.imageId, dockerfile: null,
    }],
  };
  const manifest = {
    image_digest: a.imageDigest, account: a.account, archived_at: rfc3339(a.analyzedAt + 86_400),
    metadata: { versions: { service: '1.1.0', db: '0.0.15' }, image_id: a.imageId, image_record: sortedJson(imageRecord) },
    artifacts: members.map((m) => ({
      name: m.name, metadata: { ...m.extra, completed_at: completed, bytes_copied: m.bytes.length }, source: m.source, dest: { tarfile_path: m.name },
    })),
  };
  return gzipSync(tarBuffer([
    ...members.map((m) => ({ type: 'file' as const, path: m.name, content: m.bytes })),
    { type: 'file' as const, path: 'archive_manifest', content: Buffer.from(JSON.stringify(manifest)) },
  ]));
}
