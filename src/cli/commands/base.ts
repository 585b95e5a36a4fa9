/**
 * `--base REF` (repeatable) for `lading sbom|scan|evaluate` (issue 19): the images the user names as
 * possible bases. Each is analyzed (through the layer cache, so its shared layers cost nothing more)
 * or read from an SBOM file; the image's base is the one whose layers are the longest proper prefix
 * of its own (sbom/base.ts findBase), else the one its OCI base annotations name. Without `--base`,
 * the base the annotations `org.opencontainers.image.base.name` (+ `.digest`) name is fetched the same
 * way (`--no-base-lookup` skips it; a base that cannot be fetched is a warning). The SBOM records it
 * as `source.base`; the packages inherited from it make findings `inherited_from_base`.
 * `newerBaseDigests` resolves the base's tag again for `evaluate --advise`: a newer digest is analyzed
 * and offered as "rebuild on BASE@newdigest" (policy/rebuild.ts).
 */
import { analyzeImage } from '../../analyze/analyze.js';
import { describeError } from '../../errors.js';
import { parseReference } from '../../image/reference.js';
import type { NewerBase } from '../../policy/advice.js';
import { annotatedBase, candidateOf, findBase, inheritedPackages } from '../../sbom/base.js';
import type { Sbom } from '../../sbom/model.js';
import type { ImageCliOptions } from '../options.js';
import { imageCache } from './cache.js';
import { sbomFromFile } from './sbom-file.js';
import { withImage } from './with-image.js';

export interface BaseCliOptions extends ImageCliOptions {
  base?: string[];
  cache: boolean;
  /** false (`--no-base-lookup`): never fetch a base the annotations name, nor a newer digest of it. */
  baseLookup?: boolean;
}

/** The base found for an image: the keys of the packages inherited from it, and what the advice needs. */
export interface FoundBase {
  inherited: Set<string>;
  base?: { digest: string; tag?: string; sbom?: Sbom };
}

type Warn = (m: string) => void;
const stderrWarn: Warn = (m) => process.stderr.write(`warning: ${m}\n`);

/** An image analyzed for its packages only, through the layer cache. */
async function analyzeBase(ref: string, o: BaseCliOptions): Promise<Sbom> {
  return withImage(ref, o, async (img, signal) => analyzeImage(img, { secrets: false, cache: await imageCache(o), signal }));
}

/** The reference to pull the base the annotations name: `name@digest` (the name's tag dropped), or the name. */
export function annotatedRef(a: { name?: string; digest?: string }): string | undefined {
  if (!a.name) return undefined;
  if (!a.digest) return a.name;
  const ref = parseReference(a.name);
  return `${ref.registry}/${ref.repository}@${a.digest}`;
}

/** Without --base: the base the annotations name, fetched (undefined, with a warning, when it cannot be). */
async function fetchAnnotated(sbom: Sbom, o: BaseCliOptions, warn: Warn): Promise<{ sbom: Sbom; tag: string } | undefined> {
  const a = annotatedBase(sbom.source);
  if (!a || o.baseLookup === false || o.base?.length) return undefined;
  const what = `the base image ${a.name ?? a.digest} named by the image's org.opencontainers.image.base annotations`;
  let ref: string | undefined;
  try {
    ref = annotatedRef(a);
  } catch (e) {
    warn(`cannot fetch ${what}: ${describeError(e)}; no finding is marked inherited_from_base`);
    return undefined;
  }
  if (!ref) {
    warn(`cannot fetch ${what}: the annotations give a digest but no image name; no finding is marked inherited_from_base`);
    return undefined;
  }
  try {
    return { sbom: await analyzeBase(ref, o), tag: a.name! };
  } catch (e) {
    warn(`cannot fetch ${what} (${ref}): ${describeError(e)}; no finding is marked inherited_from_base (--no-base-lookup skips the lookup)`);
    return undefined;
  }
}

/**
 * Identify the image's base among the --base images (or the one its annotations name), record it in
 * `sbom.source.base`, and return the keys of the packages inherited from it (empty: none).
 */
export async function applyBase(sbom: Sbom, o: BaseCliOptions, warn: Warn = stderrWarn): Promise<Set<string>> {
  return (await findImageBase(sbom, o, warn)).inherited;
}

/** `applyBase` with the base found (its digest, tag and analysis), for the advice. */
export async function findImageBase(sbom: Sbom, o: BaseCliOptions, warn: Warn = stderrWarn): Promise<FoundBase> {
  const bases: { sbom: Sbom; tag?: string }[] = [];
  for (const ref of o.base ?? []) {
    const b = await sbomFromFile(ref) ?? await analyzeBase(ref, o);
    bases.push({ sbom: b, tag: b.source.tags[0] ?? ref });
  }
  const fetched = await fetchAnnotated(sbom, o, warn);
  if (fetched) bases.push(fetched);
  const candidates = bases.map((b) => candidateOf(b.sbom, b.tag));
  const annotation = annotatedBase(sbom.source);
  const self = sbom.source.manifestDigest ?? sbom.source.imageId;
  const base = findBase({ digest: self, diffIds: sbom.source.layers.map((l) => l.diffId), ...(annotation ? { annotation } : {}) }, candidates);
  if (!base) {
    if (o.base?.length) warn(`no --base image is built on by ${sbom.source.tags[0] ?? self}: none has layers that are a proper prefix of its layers`);
    return { inherited: new Set() };
  }
  sbom.source.base = { digest: base.digest, ...(base.tag ? { tag: base.tag } : {}), sharedLayers: base.sharedLayers };
  const baseSbom = bases.find((_b, i) => candidates[i]!.digest === base.digest)?.sbom;
  return {
    inherited: baseSbom ? inheritedPackages(sbom, baseSbom, base.sharedLayers) : new Set(),
    base: { digest: base.digest, ...(base.tag ? { tag: base.tag } : {}), ...(baseSbom ? { sbom: baseSbom } : {}) },
  };
}

/**
 * The base's tag resolved in its registry now: when it names another digest than the base's, that
 * image analyzed (through the layer cache) as a newer base. Empty when the base has no tag that
 * names a registry image, the lookup is off, or the tag still names the base (a failure is a warning).
 */
export async function newerBaseDigests(found: FoundBase, o: BaseCliOptions, warn: Warn = stderrWarn): Promise<NewerBase[]> {
  const tag = found.base?.tag;
  if (!tag || o.baseLookup === false || await sbomFromFile(tag).catch(() => undefined)) return [];
  let ref: string;
  try {
    const r = parseReference(tag);
    if (!r.tag) return [];
    ref = `${r.registry}/${r.repository}:${r.tag}`;
  } catch {
    return [];
  }
  try {
    const sbom = await analyzeBase(ref, o);
    const digest = sbom.source.manifestDigest ?? sbom.source.imageId;
    return digest === found.base!.digest ? [] : [{ tag: ref, digest, sbom }];
  } catch (e) {
    warn(`cannot look up a newer digest of the base ${ref}: ${describeError(e)}`);
    return [];
  }
}
