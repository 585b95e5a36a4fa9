/** Builds the web UI (ui/) into dist/ui, served by the API at /ui/ (src/api/ui.ts). */
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/ui/',
  // Preact's automatic JSX runtime (no React, no compat layer).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    assetsDir: 'assets',
    sourcemap: false,
    modulePreload: { polyfill: false },
  },
  server: {
    // `vite --config ui/vite.config.ts` during development: the API of a local service behind it.
    proxy: { '/v1': process.env.LADING_URL ?? 'http://127.0.0.1:8228' },
  },
});
