/**
 * Build OCI / Docker images from a short description, and write them as an OCI layout, an OCI
 * archive or a docker-archive (legacy and OCI-style `docker save` layouts). For tests, benches
 * and the built-in example; nothing here is used by the scanner itself.
 */
import { gzipSync } from 'node:zlib';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MediaTypes, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type Platform } from '../image/types.js';
import { tarBuffer, sha256, type TarEntry, type TarOptions } from './tar.js';
import { createRequire } from 'node:module';

const moduleRequire = createRequire(import.meta.url);

export interface LayerSpec {
  entries: TarEntry[];
  /** A ready-made tar to use instead of `entries` (e.g. a real root filesystem). */
  tar?: Buffer;
  compression?: 'gzip' | 'zstd' | 'none';
  tarOptions?: TarOptions;
  /** Replace the layer's bytes after digests were computed (a tampered blob). */
  tamper?: (blob: Buffer) => Buffer;
  createdBy?: string;
}

export interface ImageSpec {
  layers: LayerSpec[];
  /** `docker` writes Docker schema 2 media types, `oci` (default) OCI ones. */
  format?: 'oci' | 'docker';
  platform?: Platform;
  config?: Partial<ImageConfig['config']>;
  created?: string;
  /** Extra history entries with no layer, appended after the layer entries. */
  emptyHistory?: string[];
  annotations?: Record<string, string>;
}

export interface BuiltImage {
  kind: 'image';
  manifest: ImageManifest;
  manifestBytes: Buffer;
  manifestDigest: string;
  manifestMediaType: string;
  config: ImageConfig;
  configBytes: Buffer;
  configDigest: string;
  /** Layer blobs in order: descriptor, bytes, and the uncompressed tar. */
  layers: { desc: Descriptor; blob: Buffer; tar: Buffer; diffId: string }[];
  /** Every blob (config and layers) by digest. */
  blobs: Map<string, Buffer>;
}

export interface BuiltIndex {
  kind: 'index';
  index: ImageIndex;
  bytes: Buffer;
  digest: string;
  mediaType: string;
  images: BuiltImage[];
}

/** zstd-napi is an optional native dependency; tests that need zstd skip where it is absent. */
export function zstdCompress(data: Buffer): Buffer {
  const z = moduleRequire('zstd-napi') as { compress(b: Buffer): Buffer };
  return z.compress(data);
}

function layerMediaType(format: 'oci' | 'docker', compression: 'gzip' | 'zstd' | 'none'): string {
  if (format === 'docker') {
    if (compression === 'zstd') return MediaTypes.dockerLayerZstd;
    return MediaTypes.dockerLayerGzip; // docker has no uncompressed type; tests use it for gzip only
  }
  return compression === 'gzip' ? MediaTypes.ociLayerGzip : compression === 'zstd' ? MediaTypes.ociLayerZstd : MediaTypes.ociLayer;
}

export function buildImage(spec: ImageSpec): BuiltImage {
  const format = spec.format ?? 'oci';
  const platform = spec.platform ?? { os: 'linux', architecture: 'amd64' };
  const blobs = new Map<string, Buffer>();
  const layers = spec.layers.map((l) => {
    const tar = l.tar ?? tarBuffer(l.entries, l.tarOptions);
    const compression = l.compression ?? 'gzip';
    const packed = compression === 'gzip' ? gzipSync(tar, { level: 1 }) : compression === 'zstd' ? zstdCompress(tar) : tar;
    const desc: Descriptor = { mediaType: layerMediaType(format, compression), digest: sha256(packed), size: packed.length };
    const blob = l.tamper ? l.tamper(packed) : packed;
    blobs.set(desc.digest, blob);
    return { desc, blob, tar, diffId: sha256(tar) };
  });
  const created = spec.created ?? '2023-11-14T22:13:20Z';
  const config: ImageConfig = {
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], ...spec.config },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: [
      ...spec.layers.map((l, i) => ({ created, created_by: l.createdBy ?? `/bin/sh -c #(nop) ADD file:layer${i} in / ` })),
      ...(spec.emptyHistory ?? []).map((c) => ({ created, created_by: c, empty_layer: true })),
    ],
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDigest = sha256(configBytes);
  blobs.set(configDigest, configBytes);
  const manifestMediaType = format === 'docker' ? MediaTypes.dockerManifest : MediaTypes.ociManifest;
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: manifestMediaType,
    config: { mediaType: format === 'docker' ? MediaTypes.dockerConfig : MediaTypes.ociConfig, digest: configDigest, size: configBytes.length },
    layers: layers.map((l) => l.desc),
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2));
  return {
    kind: 'image', manifest, manifestBytes, manifestDigest: sha256(manifestBytes), manifestMediaType,
    config, configBytes, configDigest, layers, blobs,
  };
}

export function buildIndex(images: BuiltImage[], format: 'oci' | 'docker' = 'oci'): BuiltIndex {
  const mediaType = format === 'docker' ? MediaTypes.dockerManifestList : MediaTypes.ociIndex;
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType,
    manifests: images.map((img) => ({
      mediaType: img.manifestMediaType,
      digest: img.manifestDigest,
      size: img.manifestBytes.length,
      platform: { os: img.config.os, architecture: img.config.architecture, ...(img.config.variant ? { variant: img.config.variant } : {}) },
    })),
  };
  const bytes = Buffer.from(JSON.stringify(index, null, 2));
  return { kind: 'index', index, bytes, digest: sha256(bytes), mediaType, images };
}

async function writeBlob(dir: string, digest: string, bytes: Buffer): Promise<void> {
  const [alg, hex] = digest.split(':') as [string, string];
  await mkdir(join(dir, 'blobs', alg), { recursive: true });
  await writeFile(join(dir, 'blobs', alg, hex), bytes);
}

/** Write an OCI image layout: `oci-layout`, `index.json` naming each entry by `org.opencontainers.image.ref.name`. */
export async function writeOciLayout(dir: string, entries: Record<string, BuiltImage | BuiltIndex>): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const manifests: Descriptor[] = [];
  for (const [name, item] of Object.entries(entries)) {
    const images = item.kind === 'index' ? item.images : [item];
    for (const img of images) {
      for (const [d, b] of img.blobs) await writeBlob(dir, d, b);
      await writeBlob(dir, img.manifestDigest, img.manifestBytes);
    }
    const top = item.kind === 'index'
      ? { mediaType: item.mediaType, digest: item.digest, size: item.bytes.length }
      : { mediaType: item.manifestMediaType, digest: item.manifestDigest, size: item.manifestBytes.length };
    if (item.kind === 'index') await writeBlob(dir, item.digest, item.bytes);
    manifests.push({ ...top, ...(name ? { annotations: { 'org.opencontainers.image.ref.name': name } } : {}) });
  }
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests }, null, 2));
}

/** A file list for tarBuffer from a folder-like map (used for docker-archive and OCI archives). */
function archiveEntries(files: Record<string, Buffer>): TarEntry[] {
  const dirs = new Set<string>();
  for (const p of Object.keys(files)) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return [
    ...[...dirs].sort().map((d): TarEntry => ({ type: 'dir', path: d })),
    ...Object.entries(files).map(([path, content]): TarEntry => ({ type: 'file', path, content })),
  ];
}

export function ociArchiveBuffer(entries: Record<string, BuiltImage | BuiltIndex>): Buffer {
  const files: Record<string, Buffer> = { 'oci-layout': Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) };
  const manifests: Descriptor[] = [];
  const put = (d: string, b: Buffer) => { files[`blobs/${d.replace(':', '/')}`] = b; };
  for (const [name, item] of Object.entries(entries)) {
    const images = item.kind === 'index' ? item.images : [item];
    for (const img of images) {
      for (const [d, b] of img.blobs) put(d, b);
      put(img.manifestDigest, img.manifestBytes);
    }
    if (item.kind === 'index') put(item.digest, item.bytes);
    const top = item.kind === 'index'
      ? { mediaType: item.mediaType, digest: item.digest, size: item.bytes.length }
      : { mediaType: item.manifestMediaType, digest: item.manifestDigest, size: item.manifestBytes.length };
    manifests.push({ ...top, annotations: { 'org.opencontainers.image.ref.name': name } });
  }
  files['index.json'] = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests }));
  return tarBuffer(archiveEntries(files));
}

/**
 * The tar `docker save` writes. `legacy`: `<id>/layer.tar` directories, `manifest.json`, `repositories`
 * (docker < 25). `oci`: docker 25+'s layout, blobs under `blobs/sha256/` plus `index.json` and `manifest.json`.
 * Layers are stored uncompressed, as docker does.
 */
export function dockerArchiveBuffer(img: BuiltImage, repoTags: string[], layout: 'legacy' | 'oci' = 'legacy'): Buffer {
  const files: Record<string, Buffer> = {};
  const configHex = img.configDigest.slice('sha256:'.length);
  let layerPaths: string[];
  let configPath: string;
  if (layout === 'legacy') {
    configPath = `${configHex}.json`;
    files[configPath] = img.configBytes;
    layerPaths = img.layers.map((l, i) => {
      const id = sha256(`${l.diffId}/${i}`).slice('sha256:'.length);
      files[`${id}/VERSION`] = Buffer.from('1.0');
      files[`${id}/json`] = Buffer.from(JSON.stringify({ id }));
      files[`${id}/layer.tar`] = l.tar;
      return `${id}/layer.tar`;
    });
  } else {
    const manifest = {
      schemaVersion: 2, mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, digest: img.configDigest, size: img.configBytes.length },
      layers: img.layers.map((l) => ({ mediaType: MediaTypes.ociLayer, digest: l.diffId, size: l.tar.length })),
    };
    const mbytes = Buffer.from(JSON.stringify(manifest));
    files[`blobs/sha256/${sha256(mbytes).slice(7)}`] = mbytes;
    configPath = `blobs/sha256/${configHex}`;
    files[configPath] = img.configBytes;
    layerPaths = img.layers.map((l) => {
      const p = `blobs/sha256/${l.diffId.slice(7)}`;
      files[p] = l.tar;
      return p;
    });
    files['oci-layout'] = Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    files['index.json'] = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MediaTypes.ociIndex,
      manifests: [{ mediaType: MediaTypes.ociManifest, digest: sha256(mbytes), size: mbytes.length,
        annotations: repoTags[0] ? { 'io.containerd.image.name': repoTags[0], 'org.opencontainers.image.ref.name': repoTags[0].split(':').pop() } : {} }],
    }));
  }
  files['manifest.json'] = Buffer.from(JSON.stringify([{ Config: configPath, RepoTags: repoTags, Layers: layerPaths }]));
  return tarBuffer(archiveEntries(files));
}
