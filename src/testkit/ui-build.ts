/**
 * The web UI for tests: builds ui/ into dist/ui with Vite when it is missing (CI runs `npm run
 * build` first, so this usually finds it). Test files run in parallel: each builds into its own
 * directory and moves it into place, so a half-written dist/ui is never served.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (this file is src/testkit/ui-build.ts, or build/testkit/ui-build.js under npm run bench). */
export const PACKAGE_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const UI_DIST = resolve(PACKAGE_ROOT, 'dist/ui');

export function ensureUiBuilt(): string {
  if (existsSync(resolve(UI_DIST, 'index.html'))) return UI_DIST;
  const tmp = `${UI_DIST}.build-${process.pid}`;
  const vite = resolve(PACKAGE_ROOT, 'node_modules/vite/bin/vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--config', 'ui/vite.config.ts', '--outDir', tmp, '--emptyOutDir', '--logLevel', 'warn'], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vite build failed (${r.status}): ${r.stderr || r.stdout}`);
  try {
    if (!existsSync(resolve(UI_DIST, 'index.html'))) {
      rmSync(UI_DIST, { recursive: true, force: true });
      renameSync(tmp, UI_DIST);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return UI_DIST;
}
