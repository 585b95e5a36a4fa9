/**
 * Anchore's v1 response shapes, built from Lading's records: AnchoreImage, the vulnerability item,
 * and the content items. Anchore wrote missing values as the string "None"; so do these.
 */
import type { CatalogImage, ImageTag } from '../store/catalog.js';
import type { StoredEvaluation } from '../store/policies.js';
import { ruleText } from '../policy/gates/secret_scans.js';
import { ANCHORE_TYPE, isOsType, typesOfAnchoreContent } from '../sbom/ecosystems.js';
import type { Package, Sbom } from '../sbom/model.js';
import type { Cvss } from '../feeds/model.js';
import { cvssSubScores } from '../feeds/cvss.js';
import { anchoreGroup } from '../feeds/groups.js';
import type { Match } from '../vulns/model.js';

/** ISO 8601 UTC without milliseconds, trailing Z (Anchore's form). */
export function isoZ(s: string | undefined): string | null {
  if (!s) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Lading's extension of AnchoreImage: the base image (store/bases.ts), null when none is known. */
export interface BaseImageView { digest: string; tag: string | null; shared_layers: number }

export function anchoreImage(img: CatalogImage, base?: BaseImageView | null): Record<string, unknown> {
  const m = img.metadata;
  return {
    imageDigest: img.imageDigest,
    parentDigest: img.parentDigest ?? img.imageDigest,
    userId: img.account,
    analysis_status: img.analysisStatus,
    ...(img.analysisError ? { analysis_error: img.analysisError } : {}),
    image_status: img.imageStatus,
    image_type: 'docker',
    created_at: isoZ(img.createdAt),
    last_updated: isoZ(img.lastUpdated),
    analyzed_at: isoZ(img.analyzedAt),
    annotations: img.annotations,
    record_version: '1',
    image_content: {
      metadata: {
        arch: m?.arch ?? null,
        distro: m?.distro ?? null,
        distro_version: m?.distro_version ?? null,
        dockerfile_mode: m?.dockerfile_mode ?? (img.dockerfile !== undefined ? 'Actual' : null),
        image_size: m ? String(m.image_size) : null,
        layer_count: m?.layer_count ?? null,
      },
    },
    image_detail: img.tags.map((t) => ({
      registry: t.registry,
      repo: t.repo,
      tag: t.tag,
      digest: img.imageDigest,
      imageDigest: img.imageDigest,
      imageId: img.imageId ?? null,
      userId: img.account,
      fulltag: t.fulltag,
      fulldigest: `${t.registry}/${t.repo}@${img.imageDigest}`,
      dockerfile: img.dockerfile !== undefined ? Buffer.from(img.dockerfile).toString('base64') : null,
      created_at: isoZ(t.createdAt),
      last_updated: isoZ(t.lastUpdated),
      tag_detected_at: isoZ(t.createdAt),
    })),
    ...(base !== undefined ? { base_image: base } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Vulnerabilities

export const VULN_TYPES = ['os', 'non-os', 'all'] as const;
export type VulnType = (typeof VULN_TYPES)[number];

/** Anchore's `{id, cvss_v2, cvss_v3}` of a vulnerability's CVSS records (-1.0 where unknown). */
export function cvssDoc(list: Cvss[], id: string) {
  const v2 = list.find((c) => c.version.startsWith('2'));
  const v3 = list.find((c) => c.version.startsWith('3'));
  const score = (c: Cvss | undefined) => {
    const sub = c ? cvssSubScores(c) : { exploitability: -1.0, impact: -1.0 };
    return { base_score: c ? c.baseScore : -1.0, exploitability_score: sub.exploitability, impact_score: sub.impact };
  };
  return { id, cvss_v2: score(v2), cvss_v3: score(v3) };
}

export function vulnItem(m: Match): Record<string, unknown> {
  const v = m.vulnerability;
  const p = m.package;
  const nvd = v.cvss.filter((c) => c.source === 'nvd');
  const vendor = v.cvss.filter((c) => c.source !== 'nvd');
  const cveId = [v.id, ...v.aliases].find((a) => a.startsWith('CVE-')) ?? v.id;
  return {
    vuln: v.id,
    severity: v.severity,
    url: v.references[0] ?? (cveId.startsWith('CVE-') ? `https://nvd.nist.gov/vuln/detail/${cveId}` : 'None'),
    fix: v.fixedVersions.length ? v.fixedVersions.join(',') : 'None',
    package: `${p.name}-${p.version}`,
    package_name: p.name,
    package_version: p.version,
    package_type: ANCHORE_TYPE[p.type] ?? p.type,
    package_cpe: 'None',
    package_cpe23: 'None',
    package_path: p.locations[0]?.path ?? 'None',
    feed: 'vulnerabilities',
    feed_group: anchoreGroup(m.match.namespace),
    will_not_fix: v.fixState === 'wont-fix',
    inherited_from_base: m.inheritedFromBase === true,
    nvd_data: nvd.length ? [cvssDoc(nvd, cveId)] : [],
    vendor_data: vendor.length ? [cvssDoc(vendor, v.id)] : [],
  };
}

export function vulnItems(matches: Match[], type: VulnType, vendorOnly: boolean): Record<string, unknown>[] {
  return matches
    .filter((m) => type === 'all' || (type === 'os') === isOsType(m.package.type))
    .filter((m) => !vendorOnly || m.vulnerability.fixState !== 'wont-fix')
    .map(vulnItem);
}

// ---------------------------------------------------------------------------------------------
// Content

/**
 * Anchore's content types, in its order. The package types under each language one are the rows of
 * sbom/ecosystems.ts whose Anchore name it is (`anchore.content`).
 */
export const CONTENT_TYPES = ['os', 'files', 'npm', 'gem', 'python', 'java', 'binary', 'go', 'malware'] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

function str(v: unknown): string | undefined {
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

function osItem(p: Package): Record<string, unknown> {
  const md = p.metadata ?? {};
  const license = p.licenses.join(' ');
  return {
    package: p.name,
    version: p.version,
    type: ANCHORE_TYPE[p.type] ?? p.type,
    size: str(md.installedSize) ?? str(md.size) ?? 'N/A',
    origin: str(md.maintainer) ?? str(md.vendor) ?? 'N/A',
    license: license || 'Unknown',
    licenses: license ? license.split(/\s+/) : [],
    cpes: p.cpes,
    sourcepkg: p.sourceName ?? p.name,
  };
}

function languageItem(p: Package): Record<string, unknown> {
  const md = p.metadata ?? {};
  const license = p.licenses.join(' ');
  return {
    package: p.name,
    type: (ANCHORE_TYPE[p.type] ?? p.type).toUpperCase(),
    location: p.locations[0]?.path ?? 'N/A',
    version: p.version,
    origin: str(md.author) ?? 'Unknown',
    license: license || 'Unknown',
    licenses: license ? license.split(/\s+/) : [],
    cpes: p.cpes,
  };
}

/** `JAVA-JAR`, `JAVA-WAR`...: the extension of the innermost archive of a virtual path (`/a.war:WEB-INF/lib/b.jar`). */
function javaType(path: string): string {
  const parts = path.split(':');
  const ext = [...parts].reverse().map((x) => /\.([A-Za-z0-9]+)$/.exec(x)?.[1]).find(Boolean);
  return `JAVA-${(ext ?? 'jar').toUpperCase()}`;
}

/** Anchore's java item: manifest and pom versions (`N/A` when absent), and the pom.properties it read. */
function javaItem(p: Package): Record<string, unknown> {
  const md = p.metadata ?? {};
  const manifest = (md.manifest ?? {}) as Record<string, string>;
  const location = str(md.virtualPath) ?? p.locations[0]?.path ?? 'N/A';
  const mavenVersion = md.pomPath !== undefined ? p.version : 'N/A';
  const groupId = str(md.groupId);
  const license = p.licenses.join(' ');
  return {
    package: p.name,
    type: javaType(location),
    location,
    'specification-version': manifest['Specification-Version'] ?? 'N/A',
    'implementation-version': manifest['Implementation-Version'] ?? 'N/A',
    'maven-version': mavenVersion,
    version: p.version || 'N/A',
    origin: groupId ?? manifest['Specification-Vendor'] ?? manifest['Implementation-Vendor'] ?? 'Unknown',
    license: license || 'Unknown',
    licenses: license ? license.split(/\s+/) : [],
    cpes: p.cpes,
    metadata: {
      ...(md.pomPath !== undefined ? { 'pom.properties': `\ngroupId=${groupId ?? ''}\nartifactId=${str(md.artifactId) ?? p.name}\nversion=${p.version}\n` } : {}),
      ...(Object.keys(manifest).length ? { manifest } : {}),
    },
  };
}

function fileItem(f: Sbom['files'][number]): Record<string, unknown> {
  return {
    filename: f.path,
    linkdest: f.linkTarget ?? null,
    size: f.size,
    mode: (f.mode & 0o7777).toString(8).padStart(5, '0'),
    sha256: f.type === 'dir' ? null : f.sha256 ?? null,
    type: f.type === 'symlink' ? 'slink' : f.type,
    uid: f.uid,
    gid: f.gid,
  };
}

/** The content items of one type. */
export function contentItems(sbom: Sbom, type: ContentType): unknown[] {
  if (type === 'os') return sbom.packages.filter((p) => isOsType(p.type)).map(osItem);
  if (type === 'files') return sbom.files.map(fileItem);
  if (type === 'malware') return [];
  const types = typesOfAnchoreContent(type);
  return sbom.packages.filter((p) => types.includes(p.type)).map(type === 'java' ? javaItem : languageItem);
}

// ---------------------------------------------------------------------------------------------
// Tag summaries, policy checks, metadata, artifacts

function epoch(s: string | undefined): number | null {
  if (!s) return null;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}

/** One AnchoreImageTagSummary (`/summaries/imagetags`): times are epoch seconds. */
export function tagSummary(img: CatalogImage, t: ImageTag): Record<string, unknown> {
  return {
    imageDigest: img.imageDigest,
    parentDigest: img.parentDigest ?? img.imageDigest,
    imageId: img.imageId ?? null,
    analysis_status: img.analysisStatus,
    image_status: img.imageStatus,
    fulltag: t.fulltag,
    created_at: epoch(img.createdAt),
    analyzed_at: epoch(img.analyzedAt),
    tag_detected_at: epoch(t.createdAt),
  };
}

/** `GET /images/{digest}/check` from stored evaluations: `[{digest: {tag: [{detail, last_evaluation, policyId, status}]}}]`. */
export function checkResponseOf(imageDigest: string, tag: string, evals: StoredEvaluation[], detail: boolean): Record<string, Record<string, unknown[]>>[] {
  return [{
    [imageDigest]: {
      [tag]: evals.map((e) => ({
        detail: detail ? { result: e.doc, policy: e.doc.bundle } : {},
        last_evaluation: isoZ(e.createdAt),
        policyId: e.policyId,
        status: e.status,
      })),
    },
  }];
}

export const METADATA_TYPES = ['manifest', 'docker_history', 'dockerfile'] as const;
export type MetadataType = (typeof METADATA_TYPES)[number];

/** The image history as Docker lists it, oldest first; layer ids where history and layers line up. */
function dockerHistory(sbom: Sbom): Record<string, unknown>[] {
  const { history, layers } = sbom.source;
  const aligned = history.filter((h) => !h.emptyLayer).length === layers.length;
  let next = 0;
  return history.map((h) => {
    const layer = aligned && !h.emptyLayer ? layers[next++] : undefined;
    return {
      Created: h.created ?? '',
      CreatedBy: h.createdBy,
      Comment: h.comment ?? '',
      Id: layer?.digest ?? '<missing>',
      Size: layer ? layer.uncompressedSize ?? layer.size : 0,
      Tags: [],
    };
  });
}

/** A metadata document as text (JSON for manifest and history); undefined when not stored. */
export function metadataText(sbom: Sbom, type: MetadataType, manifest: unknown): string | undefined {
  if (type === 'manifest') return manifest === undefined ? undefined : JSON.stringify(manifest);
  if (type === 'docker_history') return JSON.stringify(dockerHistory(sbom));
  return sbom.source.dockerfile.text;
}

/** `/artifacts/retrieved_files`: `[{path, b64_content}]`. */
export function retrievedFileItems(sbom: Sbom): Record<string, unknown>[] {
  return sbom.retrievedFiles.map((f) => ({ path: f.path, b64_content: f.contentBase64 }));
}

/** The regex of a secret rule, by name (the rule's name where its regex is not known). */
export function secretRegex(name: string): string {
  const text = ruleText(name);
  return text === name ? name : text.slice(name.length + 1);
}

/**
 * `/artifacts/file_content_search` and `/secret_search`: `[{path, matches: [{name, regex, lines}]}]`
 * by path, `regexOf` giving each rule's regex.
 */
export function searchItems(found: { path: string; ruleId: string; line: number }[], regexOf: (name: string) => string): Record<string, unknown>[] {
  const byPath = new Map<string, Map<string, Set<number>>>();
  for (const f of found) {
    const rules = byPath.get(f.path) ?? new Map<string, Set<number>>();
    byPath.set(f.path, rules);
    const lines = rules.get(f.ruleId) ?? new Set<number>();
    rules.set(f.ruleId, lines);
    lines.add(f.line);
  }
  return [...byPath.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([path, rules]) => ({
    path,
    matches: [...rules.entries()].sort(([a], [b]) => a.localeCompare(b))
      .map(([name, lines]) => ({ name, regex: regexOf(name), lines: [...lines].sort((x, y) => x - y) })),
  }));
}
