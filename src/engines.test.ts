/**
 * `npm ci` warns EBADENGINE when an installed package wants a newer Node.js than the one the
 * project says it runs on. The lowest Node.js in package.json's `engines` must satisfy every
 * locked package's own `engines.node`, so a user on the documented minimum gets a clean install.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import semver from 'semver';

const root = new URL('../', import.meta.url);
const json = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(name, root), 'utf8')) as Record<string, unknown>;

test('the documented minimum Node.js satisfies every locked package', () => {
  const engines = json('package.json').engines as { node: string };
  const minimum = semver.minVersion(engines.node);
  assert.ok(minimum, `package.json engines.node ${engines.node} has a minimum`);
  const packages = json('package-lock.json').packages as Record<string, { engines?: { node?: string } | string[] }>;
  const wanting = Object.entries(packages).flatMap(([path, meta]) => {
    const range = Array.isArray(meta.engines) ? undefined : meta.engines?.node;
    return range && !semver.satisfies(minimum, range) ? [`${path} wants node ${range}`] : [];
  });
  assert.deepEqual(wanting, [], `Node.js ${minimum.version} is below what these packages want`);
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  assert.match(readme, new RegExp(`Node\\.js >= ${minimum.major}\\.${minimum.minor}\\b`), 'README states the same minimum');
});
