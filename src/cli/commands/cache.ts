/** `lading cache status|clean`: the layer cache shared by `lading sbom|scan|evaluate` and the service's workers. */
import { Command, Option } from 'commander';

interface CleanOptions {
  olderThan?: string;
  layer?: string;
}

const DURATION: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** `30d`, `12h`, `90m`, `45s`. */
export function parseAge(text: string): number {
  const m = /^(\d+)([smhdw])$/.exec(text.trim());
  if (!m) throw new Error(`expected an age such as 30d, 12h or 90m, got "${text}"`);
  return Number(m[1]) * DURATION[m[2]!]! * 1000;
}

const mib = (n: number) => `${(n / 1024 ** 2).toFixed(1)} MiB`;

/** The `--no-cache` option of the image commands. */
export function noCacheOption(): Option {
  return new Option('--no-cache', 'neither read nor fill the layer cache ($LADING_CACHE_DIR, default <data dir>/cache)');
}

/** The cache an image command uses: none with --no-cache. */
export async function imageCache(o: { cache?: boolean }) {
  if (o.cache === false) return null;
  const { openCliCache } = await import('../../analyze/cache/location.js');
  return openCliCache();
}

export function cacheCommand(): Command {
  const cmd = new Command('cache').description('the layer cache (analysis results per layer, shared by sbom, scan, evaluate and the service)');
  cmd.command('status')
    .description('entries, bytes, cap and directory of the layer cache')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const { openCliCache } = await import('../../analyze/cache/location.js');
      const s = await openCliCache().status();
      if (o.json) process.stdout.write(JSON.stringify(s) + '\n');
      else process.stdout.write(`Directory: ${s.dir}\nLayers:    ${s.layers}\nEntries:   ${s.entries}\nSize:      ${mib(s.bytes)} of ${mib(s.cap)} (${(100 * s.bytes / s.cap).toFixed(1)}%)\n`);
    });
  cmd.command('clean')
    .description('remove cached layers: all, those unused for a while (--older-than), or one layer (--layer)')
    .option('--older-than <age>', 'only parts not used for this long (30d, 12h, 90m)')
    .option('--layer <diffID>', 'only the parts of this layer (sha256:…)')
    .action(async (o: CleanOptions) => {
      const { openCliCache } = await import('../../analyze/cache/location.js');
      const r = await openCliCache().clean({
        ...(o.olderThan ? { olderThanMs: parseAge(o.olderThan) } : {}),
        ...(o.layer ? { layer: o.layer } : {}),
      });
      process.stdout.write(`Removed ${r.entries} entries (${mib(r.bytes)})\n`);
    });
  return cmd;
}
