import { test } from 'node:test';
import assert from 'node:assert/strict';
import { phpAnalyzer, composerLicense, composerIdentity } from './php.js';
import { runAnalyzer } from '../testing.js';

const monolog = {
  name: 'monolog/monolog', version: '2.9.1', version_normalized: '2.9.1.0',
  source: { type: 'git', url: 'https://github.com/Seldaek/monolog.git', reference: 'f259e2b' },
  dist: { type: 'zip', url: 'https://api.github.com/repos/Seldaek/monolog/zipball/f259e2b', reference: 'f259e2b', shasum: '' },
  type: 'library', license: ['MIT'], 'install-path': '../monolog/monolog',
};
const kernel = { name: 'symfony/http-kernel', version: 'v6.3.0', type: 'library', license: ['MIT', '(MIT or GPL-3.0-or-later)'] };
const phpunit = { name: 'phpunit/phpunit', version: '10.3.2', type: 'library', license: ['BSD-3-Clause'] };

test('composer 2 installed.json: packages, dev names, licenses, metadata', async () => {
  const installed = { packages: [monolog, kernel, phpunit], dev: true, 'dev-package-names': ['phpunit/phpunit'] };
  const r = await runAnalyzer(phpAnalyzer, { '/var/www/vendor/composer/installed.json': { content: JSON.stringify(installed), layer: 2 } });
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.packages!.map((p) => p.purl), ['pkg:composer/monolog/monolog@2.9.1', 'pkg:composer/symfony/http-kernel@v6.3.0', 'pkg:composer/phpunit/phpunit@10.3.2']);
  const [m, k, u] = r.packages!;
  assert.equal(m!.type, 'php-composer');
  assert.equal(m!.foundBy, 'php');
  assert.deepEqual(m!.licenses, ['MIT']);
  assert.deepEqual(m!.locations, [{ path: '/var/www/vendor/composer/installed.json', layer: 2 }]);
  const meta = m!.metadata as Record<string, unknown>;
  assert.equal(meta['dev'], false);
  assert.equal(meta['installPath'], '../monolog/monolog');
  assert.deepEqual(meta['dist'], { type: 'zip', url: 'https://api.github.com/repos/Seldaek/monolog/zipball/f259e2b', reference: 'f259e2b' });
  assert.deepEqual(k!.licenses, ['MIT', 'MIT OR GPL-3.0-or-later']);
  assert.deepEqual(k!.cpes, ['cpe:2.3:a:symfony:http-kernel:6.3.0:*:*:*:*:*:*:*']);
  assert.equal((u!.metadata as Record<string, unknown>)['dev'], true);
});

test('composer 1 installed.json: a bare array', async () => {
  const r = await runAnalyzer(phpAnalyzer, { '/app/vendor/composer/installed.json': JSON.stringify([monolog]) });
  assert.deepEqual(r.packages!.map((p) => `${p.name}@${p.version}`), ['monolog/monolog@2.9.1']);
});

test('composer.lock: packages and packages-dev', async () => {
  const lock = { 'content-hash': 'abc', packages: [monolog, kernel], 'packages-dev': [phpunit] };
  const r = await runAnalyzer(phpAnalyzer, { '/app/composer.lock': JSON.stringify(lock) });
  assert.deepEqual(r.packages!.map((p) => `${p.name} ${(p.metadata as { dev: boolean }).dev}`), ['monolog/monolog false', 'symfony/http-kernel false', 'phpunit/phpunit true']);
});

test('malformed files and entries warn; the rest still count', async () => {
  const r = await runAnalyzer(phpAnalyzer, {
    '/a/composer.lock': '{"packages": [',
    '/b/composer.lock': JSON.stringify({ packages: [{ name: 'x/y' }, monolog, monolog] }),
    '/c/vendor/composer/installed.json': JSON.stringify({ nope: true }),
    '/d/composer.json': '{}',
  });
  assert.deepEqual(r.packages!.map((p) => p.purl), ['pkg:composer/monolog/monolog@2.9.1']);
  assert.equal(r.warnings.length, 3, r.warnings.join('\n'));
  assert.match(r.warnings[0]!, /^\/a\/composer\.lock: not a readable composer file/);
  assert.equal(r.warnings[1], '/b/composer.lock: package 0 has no name or version; skipped');
  assert.match(r.warnings[2]!, /^\/c\/vendor\/composer\/installed\.json: not a readable composer file \(neither/);
});

test('license normalisation and identity helpers', () => {
  assert.equal(composerLicense('GPL-2.0+'), 'GPL-2.0-or-later');
  assert.equal(composerLicense('Apache 2'), 'Apache-2.0');
  assert.equal(composerLicense('proprietary'), 'proprietary');
  assert.equal(composerIdentity('weird', '1.0').purl, 'pkg:composer/weird@1.0');
});
