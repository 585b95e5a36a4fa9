/** OCI / Docker image JSON shapes, as far as Lading reads them. */
import type { Readable } from 'node:stream';

export const MediaTypes = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerForeignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
} as const;

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, unknown>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, unknown>;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Healthcheck?: unknown;
  Shell?: string[];
  OnBuild?: string[] | null;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  config?: ContainerConfig;
  rootfs: { type: string; diff_ids: string[] };
  history?: HistoryEntry[];
}

/** A layer of the chosen image: its descriptor plus the uncompressed digest from the config. */
export interface LayerDescriptor extends Descriptor {
  diffId: string;
  /**
   * Made on the fly from something that is not a blob (a directory): there is no digest or size to
   * verify, and its digest and diffId only name it; nothing may be cached under them.
   */
  synthetic?: true;
}

/** Where an image came from, for display and records. */
export interface ImageOrigin {
  kind: 'registry' | 'docker-archive' | 'oci-dir' | 'oci-archive' | 'dir';
  /** What the user typed, without the scheme prefix. */
  input: string;
  registry?: string;
  repository?: string;
  tag?: string;
  /** Tags that a local archive records for the image (docker-archive RepoTags, OCI ref names). */
  tags: string[];
}

/**
 * One image, for one platform, with its manifest and config already read and checked.
 * Layer blobs are opened on demand; their bytes are verified by `image/layers.ts`.
 */
export interface ResolvedImage {
  origin: ImageOrigin;
  /** sha256 of the raw manifest bytes; absent only for a legacy docker-archive, which has no manifest. */
  manifestDigest?: string;
  manifestMediaType: string;
  manifest: ImageManifest;
  /** When the reference named an index / manifest list, its digest. */
  indexDigest?: string;
  platform: Platform;
  config: ImageConfig;
  configDigest: string;
  layers: LayerDescriptor[];
  /** The raw (possibly compressed) bytes of a blob named by this image's manifest; a synthetic layer may warn as it is made. */
  openBlob(desc: Descriptor, options?: { onWarning?(message: string): void }): Promise<Readable>;
}

/**
 * Blobs kept by digest between runs (image configs): content-addressed, so an entry can only be
 * right or wrong, and a reader verifies it against its digest before use. `put` may fail silently.
 */
export interface BlobCache {
  get(digest: string): Promise<Buffer | undefined>;
  put(digest: string, bytes: Buffer): Promise<void>;
}

export interface ResolveOptions {
  platform?: Platform;
  signal?: AbortSignal;
}

/** An image source (registry, docker-archive, OCI layout): turns an input into a ResolvedImage. */
export interface ImageSource {
  resolve(options: ResolveOptions): Promise<ResolvedImage>;
  close(): Promise<void>;
}
