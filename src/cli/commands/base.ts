/**
 * `--base REF` (repeatable) for `lading sbom|scan|evaluate` (issue 19): the images the user names as
 * possible bases. Each is analyzed (through the layer cache, so its shared layers cost nothing more)
 * or read from an SBOM file; the image's base is the one whose layers are the longest proper prefix
 * of its own (sbom/base.ts findBase), else the one its OCI base annotations name. The SBOM records
 * it as `source.base`; the packages inherited from it make findings `inherited_from_base`.
 */
import { analyzeImage } from '../../analyze/analyze.js';
import { annotatedBase, candidateOf, findBase, inheritedPackages } from '../../sbom/base.js';
import type { Sbom } from '../../sbom/model.js';
import type { ImageCliOptions } from '../options.js';
import { imageCache } from './cache.js';
import { sbomFromFile } from './sbom-file.js';
import { withImage } from './with-image.js';

export interface BaseCliOptions extends ImageCliOptions {
  base?: string[];
  cache: boolean;
}

/**
 * Identify the image's base among the --base images (or by its annotations), record it in
 * `sbom.source.base`, and return the keys of the packages inherited from it (empty: none).
 */
export async function applyBase(sbom: Sbom, o: BaseCliOptions, warn: (m: string) => void = (m) => process.stderr.write(`warning: ${m}\n`)): Promise<Set<string>> {
  const bases: Sbom[] = [];
  for (const ref of o.base ?? []) {
    bases.push(await sbomFromFile(ref) ?? await withImage(ref, o, async (img, signal) => analyzeImage(img, { secrets: false, cache: await imageCache(o), signal })));
  }
  const candidates = bases.map((b, i) => candidateOf(b, b.source.tags[0] ?? o.base![i]));
  const annotation = annotatedBase(sbom.source);
  const self = sbom.source.manifestDigest ?? sbom.source.imageId;
  const base = findBase({ digest: self, diffIds: sbom.source.layers.map((l) => l.diffId), ...(annotation ? { annotation } : {}) }, candidates);
  if (!base) {
    if (o.base?.length) warn(`no --base image is built on by ${sbom.source.tags[0] ?? self}: none has layers that are a proper prefix of its layers`);
    return new Set();
  }
  sbom.source.base = { digest: base.digest, ...(base.tag ? { tag: base.tag } : {}), sharedLayers: base.sharedLayers };
  const baseSbom = bases.find((_b, i) => candidates[i]!.digest === base.digest);
  return baseSbom ? inheritedPackages(sbom, baseSbom, base.sharedLayers) : new Set();
}
