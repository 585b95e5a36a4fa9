/**
 * What `npm pack` would publish: the compiled CLI and service from dist/, and no tests, test kits,
 * test data or benches (tsconfig.build.json leaves them out of dist/; `npm run bench` compiles them
 * into build/, which the package does not list).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
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
  assert.ok(files.includes('dist/cli/main.js'), 'the CLI is in the package');
  assert.ok(files.includes('dist/ui/index.html'), 'the web UI is in the package');
  assert.deepEqual(files.filter((f) => NOT_SHIPPED.test(f)), [], 'test or bench files in the package');
});
