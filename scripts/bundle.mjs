/**
 * The `lading` command as one bundle (dist/bin/lading.js plus chunks that each command loads when
 * it runs), built from the compiled dist/ tree. Node then reads a handful of files at start instead
 * of several hundred modules of Lading and its dependencies; that is most of a warm run's time.
 * Native addons and the AWS SDK (loaded only for ECR) stay outside and resolve from node_modules.
 */
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

const outdir = 'dist/bin';
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { lading: 'dist/cli/main.js' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunk-[hash]',
  external: ['better-sqlite3', 'zstd-napi', 'pg-native', '@aws-sdk/*'],
  // CommonJS dependencies call require(); an ES module has none of its own.
  banner: { js: "import { createRequire as __ladingRequire } from 'node:module'; const require = __ladingRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});
