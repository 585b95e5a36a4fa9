/** What the README and docs/ say about the CLI agrees with the code (issue 17, item 15). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from './testing.js';

const read = (path: string) => readFile(join(repoRoot, path), 'utf8');

test('the README says how to put lading on the PATH, with the package\'s own bin path', async () => {
  const readme = await read('README.md');
  const bin = (JSON.parse(await read('package.json')) as { bin: Record<string, string> }).bin.lading!;
  assert.match(readme, /npm link/);
  assert.ok(readme.includes(`node $PWD/${bin}`), `the README names ${bin}`);
});

test('docs point only to what exists: no README figures, no per-registry CA setting', async () => {
  const [readme, service, deploy] = await Promise.all([read('README.md'), read('docs/service.md'), read('docs/deploy.md')]);
  const figures = /figures in the README/.test(service);
  assert.ok(!figures || /^#+ .*figures/im.test(readme), 'service.md points to figures the README does not have');
  // a registry record (API /registries, `lading registry add`) carries no CA: deploy.md must not offer one
  const registryRoute = await read('src/api/routes/registries.ts').catch(() => '');
  assert.doesNotMatch(registryRoute, /\bca(_cert|_file|Cert|File)\b/, 'registry records gained a CA: update deploy.md');
  assert.doesNotMatch(deploy, /registry record's (or `--ca-file` )?setting/);
});
