/** The `lading image inspect` view of a resolved image: a plain object for JSON, text for a person. */
import type { ResolvedImage } from '../../image/types.js';
import { formatPlatform } from '../../image/platform.js';
import { digestText, keyValues, table, humanBytes } from '../render.js';
import { imageMetadata } from '../../analyze/metadata.js';

export function inspectView(img: ResolvedImage) {
  const m = imageMetadata(img);
  return {
    source: img.origin.kind,
    input: img.origin.input,
    registry: img.origin.registry,
    repository: img.origin.repository,
    tag: img.origin.tag,
    tags: img.origin.tags,
    manifestDigest: m.manifestDigest,
    indexDigest: m.indexDigest,
    mediaType: m.mediaType,
    platform: formatPlatform(img.platform),
    configDigest: m.imageId,
    created: m.created,
    author: img.config.author,
    ...m.config,
    layers: m.layers.map((l) => ({ digest: l.digest, diffId: l.diffId, mediaType: l.mediaType, size: l.size })),
    history: m.history,
  };
}

const list = (v: string[] | null) => (v && v.length ? JSON.stringify(v) : undefined);

export function inspectText(img: ResolvedImage): string {
  const v = inspectView(img);
  const repo = v.registry && v.repository ? `${v.registry}/${v.repository}` : undefined;
  let out = keyValues([
    ['Source', `${v.source}:${v.input}`],
    ['Repository', repo],
    ['Tag', v.tag],
    ['Tags', v.tags.length > 1 ? v.tags.join(', ') : undefined],
    ['Manifest digest', digestText(v.manifestDigest, v.configDigest)],
    ['Index digest', v.indexDigest],
    ['Media type', v.mediaType],
    ['Platform', v.platform],
    ['Config digest', v.configDigest],
    ['Created', v.created],
    ['Author', v.author],
    ['User', v.user || undefined],
    ['Working dir', v.workingDir || undefined],
    ['Entrypoint', list(v.entrypoint)],
    ['Cmd', list(v.cmd)],
    ['Exposed ports', v.exposedPorts.join(', ') || undefined],
    ['Volumes', v.volumes.join(', ') || undefined],
    ['Stop signal', v.stopSignal],
  ]);
  if (v.env.length) out += '\nEnv:\n' + v.env.map((e) => `  ${e}`).join('\n') + '\n';
  const labels = Object.entries(v.labels);
  if (labels.length) out += '\nLabels:\n' + labels.map(([k, val]) => `  ${k}=${val}`).join('\n') + '\n';
  out += `\nLayers (${v.layers.length}):\n` + table(['#', 'DIGEST', 'MEDIA TYPE', 'SIZE'], v.layers.map((l, i) => [i, l.digest, l.mediaType, humanBytes(l.size)]));
  if (v.history.length) {
    out += `\nHistory (${v.history.length}):\n` + table(['CREATED', 'CREATED BY', 'LAYER'],
      v.history.map((h) => [h.created ?? '', h.createdBy.length > 100 ? h.createdBy.slice(0, 97) + '...' : h.createdBy, h.emptyLayer ? '' : 'yes']));
  }
  return out;
}
