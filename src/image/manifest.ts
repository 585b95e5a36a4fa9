/** Parsing and checking the JSON documents of an image: index, manifest, config. */
import { createHash } from 'node:crypto';
import { LadingError } from '../errors.js';
import { MediaTypes, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest } from './types.js';
import type { Limits } from './limits.js';
import { isPlainObject as isObj } from '../util/objects.js';

export type ParsedManifest =
  | { kind: 'index'; mediaType: string; index: ImageIndex }
  | { kind: 'manifest'; mediaType: string; manifest: ImageManifest };

export function sha256Digest(bytes: Buffer): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

/** Check bytes against the digest they were asked for (sha256 and sha512 are supported). */
export function verifyBytes(bytes: Buffer, digest: string, what: string, size?: number): void {
  const [alg, hex] = digest.split(':');
  if ((alg !== 'sha256' && alg !== 'sha512') || !hex) {
    throw new LadingError('UNSUPPORTED', `${what}: unsupported digest algorithm in "${digest}"`);
  }
  if (size !== undefined && bytes.length !== size) {
    throw new LadingError('DIGEST_MISMATCH', `${what} ${digest}: size is ${bytes.length} bytes, the descriptor says ${size}`);
  }
  const got = createHash(alg).update(bytes).digest('hex');
  if (got !== hex) throw new LadingError('DIGEST_MISMATCH', `${what} ${digest}: content digest is ${alg}:${got}`);
}

function parseJson(bytes: Buffer, what: string, max: number): unknown {
  if (bytes.length > max) throw new LadingError('LIMIT_EXCEEDED', `${what} is ${bytes.length} bytes, over the limit of ${max}`);
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new LadingError('BAD_INPUT', `${what} is not valid JSON (${(e as Error).message})`);
  }
}


function checkDescriptor(v: unknown, where: string): Descriptor {
  if (!isObj(v)) throw new LadingError('BAD_INPUT', `${where} is not an object`);
  if (typeof v.digest !== 'string' || !/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(v.digest)) {
    throw new LadingError('BAD_INPUT', `${where}.digest is missing or not a digest`);
  }
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) {
    throw new LadingError('BAD_INPUT', `${where}.size is missing or not a non-negative integer`);
  }
  if (v.mediaType !== undefined && typeof v.mediaType !== 'string') throw new LadingError('BAD_INPUT', `${where}.mediaType is not a string`);
  return v as unknown as Descriptor;
}

/**
 * Parse a manifest or index. The media type comes from the document itself or, failing that, from
 * the transport (Content-Type, the referring descriptor). Schema 1 is refused with a clear message.
 */
export function parseManifest(bytes: Buffer, what: string, limits: Limits, transportMediaType?: string): ParsedManifest {
  const doc = parseJson(bytes, what, limits.maxManifestBytes);
  if (!isObj(doc)) throw new LadingError('BAD_INPUT', `${what} is not a JSON object`);
  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  const transport = transportMediaType?.split(';')[0]?.trim();
  if (doc.schemaVersion === 1 || declared === MediaTypes.dockerSchema1 || declared === MediaTypes.dockerSchema1Signed
    || transport === MediaTypes.dockerSchema1 || transport === MediaTypes.dockerSchema1Signed) {
    throw new LadingError('UNSUPPORTED', `${what} is a Docker schema 1 manifest, which is deprecated and not supported; push the image again with a current client (schema 2 or OCI)`);
  }
  if (doc.schemaVersion !== 2) throw new LadingError('BAD_INPUT', `${what}: schemaVersion is ${JSON.stringify(doc.schemaVersion)}, expected 2`);
  const mediaType = declared ?? (Array.isArray(doc.manifests) ? MediaTypes.ociIndex : transport && transport !== 'application/json' ? transport : MediaTypes.ociManifest);
  if (Array.isArray(doc.manifests)) {
    doc.manifests.forEach((m, i) => checkDescriptor(m, `${what}: manifests[${i}]`));
    return { kind: 'index', mediaType, index: doc as unknown as ImageIndex };
  }
  if (!Array.isArray(doc.layers)) throw new LadingError('BAD_INPUT', `${what} has neither "manifests" nor "layers"`);
  checkDescriptor(doc.config, `${what}: config`);
  if (doc.layers.length > limits.maxLayers) throw new LadingError('LIMIT_EXCEEDED', `${what} lists ${doc.layers.length} layers, over the limit of ${limits.maxLayers}`);
  doc.layers.forEach((l, i) => checkDescriptor(l, `${what}: layers[${i}]`));
  return { kind: 'manifest', mediaType, manifest: doc as unknown as ImageManifest };
}

/** Parse an image config blob already checked against its digest. */
export function parseConfig(bytes: Buffer, what: string, limits: Limits): ImageConfig {
  const doc = parseJson(bytes, what, limits.maxConfigBytes);
  if (!isObj(doc)) throw new LadingError('BAD_INPUT', `${what} is not a JSON object`);
  const rootfs = doc.rootfs;
  if (!isObj(rootfs) || !Array.isArray(rootfs.diff_ids) || !rootfs.diff_ids.every((d) => typeof d === 'string')) {
    throw new LadingError('BAD_INPUT', `${what} has no rootfs.diff_ids list`);
  }
  if (doc.config !== undefined && doc.config !== null && !isObj(doc.config)) throw new LadingError('BAD_INPUT', `${what}: "config" is not an object`);
  if (doc.history !== undefined && !Array.isArray(doc.history)) throw new LadingError('BAD_INPUT', `${what}: "history" is not a list`);
  return { ...(doc as unknown as ImageConfig), os: typeof doc.os === 'string' ? doc.os : 'unknown', architecture: typeof doc.architecture === 'string' ? doc.architecture : 'unknown' };
}

/** Pair manifest layers with config diff_ids; their counts must agree. */
export function pairLayers(manifest: ImageManifest, config: ImageConfig, what: string): (Descriptor & { diffId: string })[] {
  const ids = config.rootfs.diff_ids;
  if (ids.length !== manifest.layers.length) {
    throw new LadingError('BAD_INPUT', `${what}: the manifest lists ${manifest.layers.length} layers but the config lists ${ids.length} diff_ids`);
  }
  return manifest.layers.map((l, i) => ({ ...l, diffId: ids[i]! }));
}
