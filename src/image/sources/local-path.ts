/** Splitting `PATH[:SELECTOR]` where PATH may itself contain colons: the longest existing prefix is the path. */
import { existsSync } from 'node:fs';

export function splitPathSelector(text: string): { path: string; selector?: string } {
  if (existsSync(text)) return { path: text };
  for (let i = text.lastIndexOf(':'); i > 0; i = text.lastIndexOf(':', i - 1)) {
    const path = text.slice(0, i);
    if (existsSync(path)) return { path, selector: text.slice(i + 1) || undefined } as { path: string; selector?: string };
  }
  return { path: text };
}
