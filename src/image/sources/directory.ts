/**
 * A directory or an unpacked root filesystem (`dir:PATH`, `rootfs:PATH`) as an image of one
 * synthetic layer: the directory walked as a tar stream (./dir-walk.ts), so the same analysis pass
 * reads it as it reads any layer. The layer is marked synthetic: it has no digest to verify, and
 * the analysis never caches it (its digest only names the path, not the content).
 */
import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { describeError, LadingError } from '../../errors.js';
import { MediaTypes, type ImageConfig, type ImageSource, type LayerDescriptor, type ResolvedImage } from '../types.js';
import { walkDirectory } from './dir-walk.js';

const sha256 = (text: string): string => 'sha256:' + createHash('sha256').update(text).digest('hex');

export class DirectorySource implements ImageSource {
  constructor(private readonly path: string, private readonly scheme: 'dir' | 'rootfs') {}

  async resolve(): Promise<ResolvedImage> {
    const what = `${this.scheme}:${this.path}`;
    let root: string;
    try {
      root = await realpath(this.path);
    } catch (e) {
      throw new LadingError('NOT_FOUND', `${what}: no such directory (${describeError(e)})`, { cause: e });
    }
    if (!(await stat(root)).isDirectory()) throw new LadingError('BAD_INPUT', `${what} is not a directory`);
    // Names, not content digests: the same path gives the same image id from run to run.
    const diffId = sha256(`lading-dir:${root}`);
    const layer: LayerDescriptor = { mediaType: MediaTypes.ociLayer, digest: diffId, size: 0, diffId, synthetic: true };
    const config: ImageConfig = { architecture: 'unknown', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] } };
    const configBytes = JSON.stringify(config);
    const configDigest = sha256(configBytes);
    return {
      origin: { kind: 'dir', input: this.path, tags: [] },
      manifestMediaType: MediaTypes.ociManifest,
      manifest: {
        schemaVersion: 2, mediaType: MediaTypes.ociManifest,
        config: { mediaType: MediaTypes.ociConfig, digest: configDigest, size: configBytes.length },
        layers: [{ mediaType: layer.mediaType, digest: layer.digest, size: 0 }],
      },
      platform: { os: 'linux', architecture: 'unknown' },
      config,
      configDigest,
      layers: [layer],
      openBlob: async (d, options) => {
        if (d.digest !== diffId) throw new LadingError('NOT_FOUND', `${what}: no layer ${d.digest}`);
        return Readable.from(walkDirectory(root, options?.onWarning ? { onWarning: options.onWarning } : {}), { objectMode: false });
      },
    };
  }

  async close(): Promise<void> {}
}
