/**
 * What `npm pack` would publish: the compiled CLI and service from dist/, and no tests, test kits,
 * test data or benches (tsconfig.build.json leaves them out of dist/; `npm run bench` compiles them
 * into build/, which the package does not list).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Paths in the package that are test or benchmark code. */
const NOT_SHIPPED = /\.test\.js|(^|\/)(testkit|bench|testdata)\/|(^|\/)testing(-[^/]*)?\.js|(^|\/)bench\.js|e2e-images\.js/;

test('the NOT_SHIPPED pattern names test and bench files, not shipped ones', () => {
  for (const p of ['dist/api/api.test.js', 'dist/testkit/example.js', 'dist/bench/main.js', 'dist/queue/testing.js', 'dist/analyze/testing-zip.js', 'dist/queue/bench.js', 'dist/cli/testdata/evaluate-driver.js', 'dist/policy/e2e-images.js']) {
    assert.match(p, NOT_SHIPPED, p);
  }
  for (const p of ['dist/cli/main.js', 'dist/queue/worker.js', 'dist/feeds/drivers/redhat/csaf.js', 'dist/ui/index.html', 'package.json']) assert.doesNotMatch(p, NOT_SHIPPED, p);
});

test('npm pack ships the built code and no tests, test kits or benches', async (t) => {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) {
    t.skip('dist/ is not built: run npm run build');
    return;
  }
  const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
  assert.ok(files.includes('dist/cli/main.js'), 'the compiled CLI is in the package');
  assert.ok(files.includes('dist/bin/lading.js'), 'the bundled command is in the package');
  assert.ok(files.includes('dist/ui/index.html'), 'the web UI is in the package');
  assert.deepEqual(files.filter((f) => NOT_SHIPPED.test(f)), [], 'test or bench files in the package');
});

test('the bundled command (the package\'s bin) runs, finds its version, schemas and analyzers, and writes what the sources write', async (t) => {
  const bin = join(ROOT, 'dist/bin/lading.js');
  if (!existsSync(bin)) {
    t.skip('dist/ is not built: run npm run build');
    return;
  }
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: { lading: string } };
  assert.equal(pkg.bin.lading, 'dist/bin/lading.js');
  const run = promisify(execFile);
  assert.equal((await run(process.execPath, [bin, '--version'])).stdout.trim(), pkg.version);
  const dir = mkdtempSync(join(tmpdir(), 'lading-bin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { buildImage, dockerArchiveBuffer } = await import('../src/testkit/images.js');
  const img = buildImage({ layers: [{ entries: [
    { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
    { type: 'file', path: 'var/lib/dpkg/status', content: 'Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2\nLicense: GPL-3.0\n' },
  ] }] });
  const tar = join(dir, 'app.tar');
  writeFileSync(tar, dockerArchiveBuffer(img, ['app:1']));
  const env = { ...process.env, LADING_CACHE_DIR: join(dir, 'cache') };
  const args = ['sbom', `docker-archive:${tar}`, '-o', 'cyclonedx-json'];
  const bundled = JSON.parse((await run(process.execPath, [bin, ...args], { env })).stdout) as { components: { name: string }[]; metadata: { tools: unknown } };
  const source = JSON.parse((await run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], { env, cwd: ROOT })).stdout) as typeof bundled;
  assert.ok(bundled.components.some((c) => c.name === 'bash'), 'the dpkg analyzer ran');
  assert.deepEqual(bundled.components, source.components);
  assert.deepEqual(bundled.metadata.tools, source.metadata.tools);
});
