/** Progress on stderr while layers stream, only when stderr is a terminal. */
import type { ResolvedImage } from '../image/types.js';
import { humanBytes } from './render.js';

export function progress(img: ResolvedImage): { update: (layer: number, bytes: number) => void; done: () => void } {
  if (!process.stderr.isTTY) return { update: () => {}, done: () => {} };
  const total = img.layers.reduce((s, l) => s + l.size, 0);
  const done = new Array<number>(img.layers.length).fill(0);
  let last = 0;
  return {
    update(layer, bytes) {
      done[layer] = bytes;
      const now = Date.now();
      if (now - last < 100) return;
      last = now;
      const sum = done.reduce((a, b) => a + b, 0);
      process.stderr.write(`\r\x1b[Klayer ${layer + 1}/${img.layers.length}  ${humanBytes(sum)} / ${humanBytes(total)}`);
    },
    done() {
      process.stderr.write('\r\x1b[K');
    },
  };
}
