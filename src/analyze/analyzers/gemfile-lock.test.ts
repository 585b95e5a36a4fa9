import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAnalyzer } from '../testing.js';
import { gemfileLockAnalyzer } from './gemfile-lock.js';

const lock = `GIT
  remote: https://github.com/rails/sprockets.git
  revision: 2e1d5a4a7e3e4f3b5c6d7e8f9a0b1c2d3e4f5a6b
  specs:
    sprockets (4.2.1)
      concurrent-ruby (~> 1.0)
      rack (>= 2.2.4, < 4)

PATH
  remote: .
  specs:
    myapp (0.1.0)
      rack (~> 2.2)

GEM
  remote: https://rubygems.org/
  specs:
    concurrent-ruby (1.2.2)
    mini_portile2 (2.8.4)
    nokogiri (1.15.4)
      mini_portile2 (~> 2.8.2)
      racc (~> 1.4)
    nokogiri (1.15.4-aarch64-linux)
      racc (~> 1.4)
    nokogiri (1.15.4-x86_64-linux)
      racc (~> 1.4)
    racc (1.7.1)
    rack (2.2.8)
    sqlite3 (1.6.6-x86_64-linux)

PLATFORMS
  aarch64-linux
  ruby
  x86_64-linux

DEPENDENCIES
  myapp!
  nokogiri (~> 1.15)
  sprockets!

BUNDLED WITH
   2.4.10
`;

test('Gemfile.lock: GEM, GIT and PATH specs, platforms split from versions, requirements ignored', async () => {
  const r = await runAnalyzer(gemfileLockAnalyzer, { '/srv/app/Gemfile.lock': { content: lock, layer: 2 } });
  assert.deepEqual(r.warnings, []);
  const ids = (r.packages ?? []).map((p) => `${p.name}@${p.version}`);
  assert.deepEqual(ids, [
    'sprockets@4.2.1', 'myapp@0.1.0', 'concurrent-ruby@1.2.2', 'mini_portile2@2.8.4', 'nokogiri@1.15.4', 'racc@1.7.1',
    'rack@2.2.8', 'sqlite3@1.6.6',
  ]);
  const noko = r.packages?.find((p) => p.name === 'nokogiri');
  assert.equal(noko?.purl, 'pkg:gem/nokogiri@1.15.4');
  assert.equal(noko?.foundBy, 'gemfile-lock');
  assert.equal(noko?.metadata?.platform, 'aarch64-linux');
  assert.deepEqual(noko?.metadata?.platforms, ['aarch64-linux', 'x86_64-linux']);
  assert.deepEqual(noko?.locations, [{ path: '/srv/app/Gemfile.lock', layer: 2 }]);
  const sqlite = r.packages?.find((p) => p.name === 'sqlite3');
  assert.equal(sqlite?.version, '1.6.6');
  assert.equal(sqlite?.metadata?.platform, 'x86_64-linux');
  assert.equal(sqlite?.metadata?.platforms, undefined);
  const sprockets = r.packages?.find((p) => p.name === 'sprockets');
  assert.equal(sprockets?.metadata?.source, 'git');
  assert.equal(sprockets?.metadata?.revision, '2e1d5a4a7e3e4f3b5c6d7e8f9a0b1c2d3e4f5a6b');
  assert.equal(r.packages?.find((p) => p.name === 'rack')?.metadata?.remote, 'https://rubygems.org/');
  assert.equal(r.packages?.find((p) => p.name === 'rack')?.metadata?.platform, undefined);
});

test('Gemfile.lock: gem source trees ignored, broken content warns', async () => {
  const r = await runAnalyzer(gemfileLockAnalyzer, {
    '/usr/lib/ruby/gems/3.1.0/gems/rack-2.2.8/Gemfile.lock': lock,
    '/a/Gemfile.lock': 'GEM\n  remote: https://rubygems.org/\n  specs:\n    rack 2.2.8\n    json (2.6.3)\n',
    '/b/Gemfile.lock': '{"not": "a lock"}\n',
  });
  assert.deepEqual(r.packages?.map((p) => `${p.name}@${p.version}`), ['json@2.6.3']);
  assert.equal(r.warnings.length, 2);
  assert.match(r.warnings[0] ?? '', /^\/a\/Gemfile\.lock:4: unreadable spec line: rack 2\.2\.8/);
  assert.match(r.warnings[1] ?? '', /^\/b\/Gemfile\.lock: no GEM, GIT or PATH section/);
});
