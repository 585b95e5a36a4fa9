/**
 * One measured phase in its own process, so peak memory is the phase's own:
 *   node build/bench/phase.js squash|sbom|gunzip REF
 * Prints one JSON line: {phase, ms, maxRssMB, ...}.
 */
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { openSource } from '../image/sources/index.js';
import { squash } from '../image/squash.js';
import { analyzeImage } from '../analyze/analyze.js';

async function main(): Promise<void> {
  const [phase, ref] = process.argv.slice(2);
  if (!phase || !ref) throw new Error('usage: phase.js squash|sbom|gunzip REF');
  const source = await openSource(ref);
  const img = await source.resolve({});
  const start = process.hrtime.bigint();
  const extra: Record<string, number> = {};
  if (phase === 'squash') {
    const r = await squash(img);
    extra.files = r.files.size;
    extra.uncompressedMB = r.layers.reduce((s, l) => s + l.uncompressedBytes, 0) / 1e6;
    await r.dispose();
  } else if (phase === 'sbom') {
    const sbom = await analyzeImage(img);
    extra.packages = sbom.packages.length;
    extra.files = sbom.files.length;
  } else if (phase === 'gunzip') {
    // The floor: download every layer blob and gunzip it, doing nothing else.
    let bytes = 0;
    for (const l of img.layers) {
      await pipeline(await img.openBlob(l), createGunzip(), new Writable({ write(c: Buffer, _e, cb) { bytes += c.length; cb(); } }));
    }
    extra.uncompressedMB = bytes / 1e6;
  } else {
    throw new Error(`unknown phase ${phase}`);
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  await source.close();
  process.stdout.write(JSON.stringify({ phase, ms: Math.round(ms), maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024), ...extra }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
