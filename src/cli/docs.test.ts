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

test('docs point only to what exists: no README figures; the per-registry CA they describe is the one the API takes', async () => {
  const [readme, service, deploy] = await Promise.all([read('README.md'), read('docs/service.md'), read('docs/deploy.md')]);
  const figures = /figures in the README/.test(service);
  assert.ok(!figures || /^#+ .*figures/im.test(readme), 'service.md points to figures the README does not have');
  // a registry record (API /registries, `lading registry add --ca-cert`) carries a CA: deploy.md names the real field and flag
  const [registryRoute, registryCli] = await Promise.all([read('src/api/routes/registries.ts'), read('src/cli/commands/registry.ts')]);
  assert.match(registryRoute, /registry_ca_cert:/);
  assert.match(registryCli, /'--ca-cert <file>'/);
  assert.match(deploy, /`registry_ca_cert`/);
  assert.match(deploy, /registry add HOST USER PASS --ca-cert/);
  assert.doesNotMatch(deploy, /record has no CA setting/);
});
