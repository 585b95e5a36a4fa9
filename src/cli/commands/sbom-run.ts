/** The work of `lading sbom`, loaded only when the command runs. */
import { readFile, writeFile } from 'node:fs/promises';
import { analyzeImage } from '../../analyze/analyze.js';
import { imageCache } from './cache.js';
import { writers } from '../../sbom/formats/index.js';
import { writeNativeBytes } from '../../sbom/formats/native.js';
import type { Sbom } from '../../sbom/model.js';
import { withImage } from './with-image.js';
import { progress } from '../progress.js';
import { digestText, table } from '../render.js';
import type { ImageCliOptions } from '../options.js';
import { applyBase, type BaseCliOptions } from './base.js';
import type { SbomOutput } from './sbom.js';

export interface SbomCliOptions extends ImageCliOptions, BaseCliOptions {
  output?: SbomOutput[];
  file?: string;
  dockerfile?: string;
  secrets: boolean;
  fileDigests?: boolean;
  contentRule?: string[];
  retrieveFile?: string[];
  cache: boolean;
}

export function sbomTable(sbom: Sbom): string {
  const rows = [...sbom.packages]
    .sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name) || a.version.localeCompare(b.version))
    .map((p) => [p.name, p.version, p.type]);
  const distro = sbom.distro ? `${sbom.distro.prettyName ?? `${sbom.distro.id} ${sbom.distro.versionId ?? ''}`.trim()}` : 'unknown';
  const counts = new Map<string, number>();
  for (const p of sbom.packages) counts.set(p.type, (counts.get(p.type) ?? 0) + 1);
  const summary = [...counts].map(([t, n]) => `${n} ${t}`).join(', ');
  const base = sbom.source.base;
  let out = `Image:    ${sbom.source.tags[0] ?? (sbom.source.imageId || '(none: SBOM input)')}\nDigest:   ${digestText(sbom.source.manifestDigest, sbom.source.imageId)}\n${base ? `Base:     ${base.tag ?? base.digest} (${base.sharedLayers} shared layer(s))\n` : ''}Distro:   ${distro}\nPackages: ${sbom.packages.length}${summary ? ` (${summary})` : ''}\n`;
  if (sbom.secrets.length) out += `Secrets:  ${sbom.secrets.length} finding(s): ${[...new Set(sbom.secrets.map((s) => s.ruleId))].join(', ')}\n`;
  out += '\n' + table(['NAME', 'VERSION', 'TYPE'], rows);
  return out;
}

export async function runSbom(ref: string, o: SbomCliOptions): Promise<void> {
  const dockerfile = o.dockerfile ? await readFile(o.dockerfile, 'utf8') : undefined;
  const cache = await imageCache(o);
  const sbom = await withImage(ref, o, async (img, signal) => {
    const bar = progress(img);
    try {
      return await analyzeImage(img, {
        secrets: o.secrets,
        fileDigests: o.fileDigests === true,
        ...(o.contentRule ? { contentRules: o.contentRule } : {}),
        ...(o.retrieveFile ? { retrieveFiles: o.retrieveFile } : {}),
        ...(dockerfile !== undefined ? { dockerfile } : {}),
        onProgress: bar.update,
        cache,
        signal,
      });
    } finally {
      bar.done();
    }
  });
  await applyBase(sbom, o);
  for (const w of sbom.warnings) process.stderr.write(`warning: ${w}\n`);
  for (const out of o.output ?? [{ format: 'table' }]) {
    // json as bytes: a warm run writes the cache entry's stored body as it is.
    const text = out.format === 'table' ? sbomTable(sbom) : out.format === 'json' ? writeNativeBytes(sbom) : writers[out.format].write(sbom);
    const file = out.file ?? o.file;
    if (file) await writeFile(file, text);
    else process.stdout.write(text);
  }
}
