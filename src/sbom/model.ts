/**
 * Lading's internal SBOM model: what an analysis found in one image. Every later step (store,
 * vulnerability matching, policy, export) reads this.
 */
import type { FileType } from '../image/tree.js';
import type { PackageType } from './ecosystems.js';

/** `deb`, `npm`, `java-archive`...: the keys of the ecosystem table (ecosystems.ts). */
export type { PackageType };

/** Where a package was found: the evidence file and the layer that last wrote it. */
export interface Location {
  path: string;
  /** Index of the layer that introduced the evidence file (0 = base). */
  layer?: number;
  /** That layer's diff_id (the digest of its uncompressed tar, as the image config lists it), when known. */
  layerDiffId?: string;
  /** That layer's digest as the manifest names it (compressed; what `lading image inspect` lists), when known. */
  layerDigest?: string;
}

export interface Package {
  name: string;
  version: string;
  type: PackageType;
  /** Package URL (purl spec), e.g. pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12 */
  purl: string;
  cpes: string[];
  /** SPDX ids or expressions where they could be resolved; otherwise the text as declared. */
  licenses: string[];
  locations: Location[];
  /** Source package for OS packages (dpkg `Source:`, rpm source rpm, apk origin). Absent: same as binary. */
  sourceName?: string;
  sourceVersion?: string;
  arch?: string;
  /** rpm/dpkg epoch, when the version carries one. */
  epoch?: number;
  /** Paths the package owns (dpkg .list, rpm file list, apk files, python RECORD), when known. */
  files?: string[];
  /** Ecosystem-specific details (maintainer, installed size, group id, module path, checksums...). */
  metadata?: Record<string, unknown>;
  /** Which analyzer produced it (e.g. `dpkg`, `npm-installed`). */
  foundBy: string;
}

export interface Distro {
  /** `debian`, `ubuntu`, `alpine`, `rhel`, `rocky`, ... (os-release ID) */
  id: string;
  versionId?: string;
  versionCodename?: string;
  idLike: string[];
  prettyName?: string;
  /** Which file it came from. */
  source: string;
}

export type { FileType };

/** A file mode as JSON outputs write it: the permission and set-id bits in octal, at least four digits ("0644", "4755"). */
export function octalMode(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

export interface FileEntry {
  path: string;
  type: FileType;
  /** Permission and set-id bits (JSON outputs write them with octalMode). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkTarget?: string;
  layer: number;
  sha256?: string;
  /** Names (purl or `type:name`) of packages that own this path. */
  owners?: string[];
  setuid?: boolean;
  setgid?: boolean;
}

export interface SecretFinding {
  ruleId: string;
  description: string;
  path: string;
  line: number;
  /** The match with its secret part redacted. */
  match: string;
  layer?: number;
}

export interface ContentMatch {
  ruleId: string;
  path: string;
  line: number;
  match: string;
}

export interface RetrievedFile {
  path: string;
  /** base64 of the file's bytes, kept verbatim for the policy step. */
  contentBase64: string;
  size: number;
}

export interface LayerInfo {
  index: number;
  digest: string;
  diffId: string;
  mediaType: string;
  size: number;
  uncompressedSize?: number;
  /** The history entry (Dockerfile instruction) that made this layer. */
  createdBy?: string;
}

export interface ImageMetadata {
  /** Image id = config digest. */
  imageId: string;
  manifestDigest?: string;
  indexDigest?: string;
  mediaType: string;
  tags: string[];
  registry?: string;
  repository?: string;
  platform: { os: string; architecture: string; variant?: string };
  created?: string;
  config: {
    env: string[];
    entrypoint: string[] | null;
    cmd: string[] | null;
    user: string;
    workingDir: string;
    exposedPorts: string[];
    volumes: string[];
    labels: Record<string, string>;
    stopSignal?: string;
  };
  layers: LayerInfo[];
  /** The manifest's annotations, when it has any (e.g. org.opencontainers.image.base.name / base.digest). */
  annotations?: Record<string, string>;
  /** The base image, when one was identified (`lading sbom --base`; the service keeps its own record). */
  base?: { digest: string; tag?: string; sharedLayers: number };
  history: { created?: string; createdBy: string; emptyLayer: boolean; comment?: string }[];
  dockerfile: { mode: 'guessed' | 'actual'; text: string };
}

export interface Sbom {
  schema: 'lading-sbom/1';
  createdAt: string;
  tool: { name: 'lading'; version: string };
  source: ImageMetadata;
  distro?: Distro;
  packages: Package[];
  files: FileEntry[];
  secrets: SecretFinding[];
  contentMatches: ContentMatch[];
  retrievedFiles: RetrievedFile[];
  warnings: string[];
}
