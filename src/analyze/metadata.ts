/**
 * Image metadata for the SBOM: config, layers with the history line that made each, and a
 * Dockerfile reconstructed from the history ("guessed") or supplied by the user ("actual").
 */
import type { ResolvedImage, HistoryEntry } from '../image/types.js';
import type { ImageMetadata, LayerInfo } from '../sbom/model.js';

/** One history `created_by` as a Dockerfile instruction. */
export function instructionFromHistory(createdBy: string): string {
  let s = createdBy.trim();
  // buildkit: `RUN /bin/sh -c apt-get ... # buildkit`, `COPY . /app # buildkit`
  s = s.replace(/\s*# buildkit$/, '');
  const nop = /^\/bin\/sh -c #\(nop\)\s+(.*)$/s.exec(s);
  if (nop) s = nop[1]!.trim();
  else if (/^(?:\|\d+ (?:\S+=\S*\s+)*)?\/bin\/(?:ba)?sh -c /.test(s)) s = `RUN ${s.replace(/^\|\d+ (?:\S+=\S*\s+)*/, '').replace(/^\/bin\/(?:ba)?sh -c /, '')}`;
  else if (/^RUN \/bin\/(?:ba)?sh -c /.test(s)) s = `RUN ${s.slice(4).replace(/^\/bin\/(?:ba)?sh -c /, '')}`;
  // `ADD file:<sha> in / ` → `ADD file:<sha> /`
  const add = /^(ADD|COPY) (.*?) in (\S+)\s*$/s.exec(s);
  if (add) s = `${add[1]} ${add[2]} ${add[3]}`;
  if (!/^[A-Z]+\b/.test(s)) s = `RUN ${s}`;
  return s;
}

export function guessDockerfile(history: HistoryEntry[]): string {
  const lines = ['FROM scratch'];
  for (const h of history) if (h.created_by) lines.push(instructionFromHistory(h.created_by));
  return lines.join('\n') + '\n';
}

/** Tags in Anchore's full form (`registry/repository:tag`) where the registry is known. */
function fullTags(img: ResolvedImage): string[] {
  const { registry, repository, tags } = img.origin;
  if (registry && repository) return tags.map((t) => `${registry}/${repository}:${t}`);
  return tags;
}

export function imageMetadata(img: ResolvedImage, uncompressedSizes?: number[], dockerfile?: string): ImageMetadata {
  const c = img.config.config ?? {};
  const history = img.config.history ?? [];
  const layerHistory = history.filter((h) => !h.empty_layer);
  const layers: LayerInfo[] = img.layers.map((l, i) => {
    const h = layerHistory.length === img.layers.length ? layerHistory[i] : undefined;
    return {
      index: i,
      digest: l.digest,
      diffId: l.diffId,
      mediaType: l.mediaType,
      size: l.size,
      ...(uncompressedSizes?.[i] !== undefined ? { uncompressedSize: uncompressedSizes[i] } : {}),
      ...(h?.created_by ? { createdBy: instructionFromHistory(h.created_by) } : {}),
    };
  });
  return {
    imageId: img.configDigest,
    ...(img.manifestDigest ? { manifestDigest: img.manifestDigest } : {}),
    ...(img.indexDigest ? { indexDigest: img.indexDigest } : {}),
    mediaType: img.manifestMediaType,
    tags: fullTags(img),
    ...(img.origin.registry ? { registry: img.origin.registry } : {}),
    ...(img.origin.repository ? { repository: img.origin.repository } : {}),
    platform: { os: img.platform.os, architecture: img.platform.architecture, ...(img.platform.variant ? { variant: img.platform.variant } : {}) },
    ...(img.config.created ? { created: img.config.created } : {}),
    config: {
      env: c.Env ?? [],
      entrypoint: c.Entrypoint ?? null,
      cmd: c.Cmd ?? null,
      user: c.User ?? '',
      workingDir: c.WorkingDir ?? '',
      exposedPorts: Object.keys(c.ExposedPorts ?? {}),
      volumes: Object.keys(c.Volumes ?? {}),
      labels: c.Labels ?? {},
      ...(c.StopSignal ? { stopSignal: c.StopSignal } : {}),
    },
    layers,
    ...(img.manifest.annotations && Object.keys(img.manifest.annotations).length ? { annotations: { ...img.manifest.annotations } } : {}),
    history: history.map((h) => ({ ...(h.created ? { created: h.created } : {}), createdBy: h.created_by ?? '', emptyLayer: !!h.empty_layer, ...(h.comment ? { comment: h.comment } : {}) })),
    dockerfile: dockerfile !== undefined ? { mode: 'actual', text: dockerfile } : { mode: 'guessed', text: guessDockerfile(history) },
  };
}
