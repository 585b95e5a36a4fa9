/**
 * Builds the bench's synthetic image (about 150 MB uncompressed, 4 gzip layers that compress
 * like real ones) and pushes it: `node build/bench/synthetic.js HOST/REPO:TAG`. Prints sizes as JSON.
 */
import { randomBytes } from 'node:crypto';
import { buildImage } from '../testkit/images.js';
import { pushImage } from '../testkit/registry.js';
import { parseReference } from '../image/reference.js';
import type { TarEntry } from '../testkit/tar.js';

/** Text-like and binary-like files, so the layers compress like real ones (about 3:1). */
function layerEntries(layer: number, files: number, avg: number): TarEntry[] {
  const words = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua '.split(' ');
  const out: TarEntry[] = [];
  for (let i = 0; i < files; i++) {
    const dir = `usr/lib/bench${layer}/d${i % 50}`;
    const size = Math.max(64, Math.round(avg * (0.2 + ((i * 7919) % 100) / 62.5)));
    let content: Buffer;
    if (i % 3 === 0) {
      // binary: half random, half repeated
      const r = randomBytes(Math.floor(size / 2));
      content = Buffer.concat([r, Buffer.alloc(size - r.length, i % 251)]);
    } else {
      const parts: string[] = [];
      let n = 0;
      let k = i;
      while (n < size) {
        const w = words[(k = (k * 1103515245 + 12345) % 2147483648) % words.length]!;
        parts.push(w);
        n += w.length + 1;
      }
      content = Buffer.from(parts.join(' ').slice(0, size));
    }
    out.push({ type: 'file', path: `${dir}/f${i}.dat`, content, mode: i % 5 === 0 ? 0o755 : 0o644 });
  }
  return out;
}

function dpkgStatus(n: number): string {
  const paras: string[] = [];
  for (let i = 0; i < n; i++) paras.push(`Package: pkg${i}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.${i}-1\nSource: src${i % 40}\n`);
  return paras.join('\n');
}

async function main(): Promise<void> {
  const ref = parseReference(process.argv[2] ?? '');
  const image = buildImage({
    layers: [
      { entries: [{ type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' }, { type: 'file', path: 'var/lib/dpkg/status', content: dpkgStatus(300) }, ...layerEntries(0, 3000, 16_000)] },
      { entries: layerEntries(1, 2000, 20_000) },
      { entries: layerEntries(2, 3000, 8_000) },
      { entries: layerEntries(3, 500, 60_000) },
    ],
  });
  await pushImage(ref.registry, ref.repository, ref.tag ?? 'latest', image);
  process.stdout.write(JSON.stringify({
    layers: image.layers.length,
    uncompressed: image.layers.reduce((s, l) => s + l.tar.length, 0),
    compressed: image.layers.reduce((s, l) => s + l.desc.size, 0),
  }));
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
