/**
 * The `lading` command as two files, built from the compiled dist/ tree:
 * - dist/bin/lading-main.cjs: the whole command in one CommonJS file (commands still load their
 *   work lazily: esbuild turns each dynamic import into code run on first use). One file means no
 *   ES module resolution at start, and CommonJS is what V8's code cache can serve on Node 20;
 * - dist/bin/lading.js: the launcher (src/cli/launch.ts), which compiles that file with a V8 code
 *   cache kept under the cache directory, keyed by the bundle's hash computed here.
 * Native addons and the AWS SDK (loaded only for ECR) stay outside and resolve from node_modules.
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

/**
 * commander requires node:child_process when it loads, for executable subcommands, which Lading has
 * none of; loading it costs every start several milliseconds. Its copy gets the module on first use.
 */
const lazyChildProcess = {
  name: 'lazy-child-process-for-commander',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) => (/[\\/]commander[\\/]/.test(args.importer) ? { path: 'lazy-child-process', namespace: 'lading-lazy' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'lading-lazy' }, () => ({
      loader: 'js',
      contents: `let m; const load = () => (m ??= require('node:child_process'));
module.exports = new Proxy({}, {
  get: (_, k) => load()[k], has: (_, k) => k in load(), ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_, k) => Object.getOwnPropertyDescriptor(load(), k),
});`,
    }));
  },
};

const outdir = 'dist/bin';
const main = `${outdir}/lading-main.cjs`;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: main,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['better-sqlite3', 'zstd-napi', 'pg-native', '@aws-sdk/*'],
  plugins: [lazyChildProcess],
  // The sources are ES modules: import.meta.url is the bundle's own URL (beside it: dist/ui, dist/sbom/schemas...).
  define: { 'import.meta.url': '__ladingModuleUrl' },
  banner: { js: "var __ladingModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
  // No comments and no indentation: a third of the bytes to read at every start, and pure ASCII
  // (non-ASCII text sits in dependencies' comments), so the launcher reads it as a one-byte string.
  // Identifiers are kept; stack traces map back with node --enable-source-maps.
  minifyWhitespace: true,
  legalComments: 'none',
  charset: 'ascii',
  sourcemap: 'linked',
  logLevel: 'warning',
});
const bytes = readFileSync(main);
if (bytes.some((b) => b > 0x7f)) throw new Error(`${main} is not pure ASCII: the launcher reads it as latin1`);
const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
await build({
  stdin: {
    // `lading --version` alone is answered here, before the bundle is even read.
    contents: `import { join } from 'node:path';\nimport { launchBundle } from './dist/cli/launch.js';\nimport { versionOnly } from './dist/cli/argv.js';\n`
      + `if (versionOnly(process.argv)) process.stdout.write(${JSON.stringify(`${version}\n`)});\n`
      + `else launchBundle(join(__dirname, 'lading-main.cjs'), ${JSON.stringify(hash)});\n`,
    resolveDir: '.',
    sourcefile: 'lading-launcher.js',
  },
  outfile: `${outdir}/lading.js`,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
// The package is "type": "module"; the launcher is CommonJS (no ES module loader at start).
writeFileSync(`${outdir}/package.json`, '{ "type": "commonjs" }\n');
