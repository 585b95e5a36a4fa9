import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAnalyzer } from '../testing.js';
import { gemAnalyzer, parseGemspec, readRubyValue } from './gem.js';

const HOME = '/usr/lib/ruby/gems/3.1.0';

const rackSpec = `# -*- encoding: utf-8 -*-
# stub: rack 2.2.8 ruby lib

Gem::Specification.new do |s|
  s.name = "rack".freeze
  s.version = "2.2.8"

  s.required_rubygems_version = Gem::Requirement.new(">= 0".freeze) if s.respond_to? :required_rubygems_version=
  s.metadata = { "bug_tracker_uri" => "https://github.com/rack/rack/issues", "changelog_uri" => "https://github.com/rack/rack/blob/main/CHANGELOG.md" } if s.respond_to? :metadata=
  s.require_paths = ["lib".freeze]
  s.authors = ["Leah Neukirchen".freeze]
  s.bindir = "bin".freeze
  s.date = "2023-07-31"
  s.description = "Rack provides a minimal, modular and adaptable interface for developing\\nweb applications in Ruby.".freeze
  s.email = "leah@vuxu.org".freeze
  s.executables = ["rackup".freeze]
  s.files = ["CHANGELOG.md".freeze, "lib/rack.rb".freeze, "bin/rackup".freeze]
  s.homepage = "https://github.com/rack/rack".freeze
  s.licenses = ["MIT".freeze]
  s.required_ruby_version = Gem::Requirement.new(">= 2.3.0".freeze)
  s.rubygems_version = "3.3.15".freeze
  s.summary = "A modular Ruby webserver interface".freeze

  s.installed_by_version = "3.3.15" if s.respond_to? :installed_by_version

  if s.respond_to? :specification_version then
    s.specification_version = 4
  end

  if s.respond_to? :add_runtime_dependency then
    s.add_development_dependency(%q<minitest>.freeze, ["~> 5.0"])
  else
    s.add_dependency(%q<minitest>.freeze, ["~> 5.0"])
  end
end
`;

test('modern gemspec with .freeze', async () => {
  const r = await runAnalyzer(gemAnalyzer, { [`${HOME}/specifications/rack-2.2.8.gemspec`]: { content: rackSpec, layer: 1 } });
  assert.deepEqual(r.warnings, []);
  assert.equal(r.packages?.length, 1);
  const p = r.packages?.[0];
  assert.ok(p);
  assert.equal(p.name, 'rack');
  assert.equal(p.version, '2.2.8');
  assert.equal(p.type, 'gem');
  assert.equal(p.foundBy, 'gem');
  assert.equal(p.purl, 'pkg:gem/rack@2.2.8');
  assert.deepEqual(p.licenses, ['MIT']);
  assert.deepEqual(p.locations, [{ path: `${HOME}/specifications/rack-2.2.8.gemspec`, layer: 1 }]);
  assert.deepEqual(p.metadata?.authors, ['Leah Neukirchen']);
  assert.equal(p.metadata?.homepage, 'https://github.com/rack/rack');
  assert.equal(p.metadata?.summary, 'A modular Ruby webserver interface');
  assert.deepEqual(p.files, [`${HOME}/gems/rack-2.2.8/CHANGELOG.md`, `${HOME}/gems/rack-2.2.8/lib/rack.rb`, `${HOME}/gems/rack-2.2.8/bin/rackup`]);
  assert.ok(p.cpes.includes('cpe:2.3:a:rack_project:rack:2.2.8:*:*:*:*:ruby:*:*'));
});

const oldSpec = `# -*- encoding: utf-8 -*-

Gem::Specification.new do |s|
  s.name = %q{rake}
  s.version = "0.8.7"

  s.required_rubygems_version = Gem::Requirement.new(">= 0") if s.respond_to? :required_rubygems_version=
  s.authors = ["Jim Weirich"]
  s.date = %q{2009-05-15}
  s.email = %q{jim@weirichhouse.org}
  s.files = ["install.rb", "CHANGES"]
  s.homepage = %q{http://rake.rubyforge.org}
  s.license = 'MIT'
  s.summary = %q{Ruby based make-like utility (with {nested} braces).}
end
`;

test('older gemspec with %q{} strings and a singular license', async () => {
  const r = await runAnalyzer(gemAnalyzer, { '/var/lib/gems/1.8/specifications/rake-0.8.7.gemspec': oldSpec });
  assert.deepEqual(r.warnings, []);
  const p = r.packages?.[0];
  assert.equal(p?.name, 'rake');
  assert.equal(p?.version, '0.8.7');
  assert.deepEqual(p?.licenses, ['MIT']);
  assert.equal(p?.metadata?.homepage, 'http://rake.rubyforge.org');
  assert.equal(p?.metadata?.summary, 'Ruby based make-like utility (with {nested} braces).');
});

test('default gems and platform gems', async () => {
  const platformSpec = `# stub: nokogiri 1.15.4 x86_64-linux lib
Gem::Specification.new do |spec|
  spec.name = "nokogiri".freeze
  spec.version = "1.15.4"
  spec.platform = "x86_64-linux".freeze
  spec.licenses = ["MIT".freeze]
end
`;
  const defaultSpec = `# stub: json 2.6.1 ruby lib
Gem::Specification.new do |s|
  s.name = "json".freeze
  s.version = "2.6.1"
  s.files = ["json.rb".freeze]
  s.licenses = ["Ruby".freeze, "BSD-2-Clause".freeze]
end
`;
  const r = await runAnalyzer(gemAnalyzer, {
    [`${HOME}/specifications/nokogiri-1.15.4-x86_64-linux.gemspec`]: platformSpec,
    [`${HOME}/specifications/default/json-2.6.1.gemspec`]: defaultSpec,
    [`${HOME}/gems/rack-2.2.8/rack.gemspec`]: rackSpec,
  });
  assert.deepEqual(r.warnings, []);
  const ids = (r.packages ?? []).map((p) => `${p.name}@${p.version}`);
  assert.deepEqual(ids, ['json@2.6.1', 'nokogiri@1.15.4']);
  const json = r.packages?.[0];
  assert.equal(json?.metadata?.defaultGem, true);
  assert.equal(json?.files, undefined);
  assert.deepEqual(json?.licenses, ['Ruby', 'BSD-2-Clause']);
  assert.equal(r.packages?.[1]?.metadata?.platform, 'x86_64-linux');
});

test('a gemspec that is not one warns and is skipped', async () => {
  const r = await runAnalyzer(gemAnalyzer, {
    [`${HOME}/specifications/junk-1.0.gemspec`]: '\u0000\u0001binary junk',
    [`${HOME}/specifications/noname-1.0.gemspec`]: 'Gem::Specification.new do |s|\n  s.summary = "x"\nend\n',
  });
  assert.deepEqual(r.packages, []);
  assert.equal(r.warnings.length, 2);
  assert.match(r.warnings[0] ?? '', /junk-1\.0\.gemspec: no Gem::Specification\.new block/);
  assert.match(r.warnings[1] ?? '', /noname-1\.0\.gemspec: gemspec has no readable name/);
});

test('readRubyValue literal forms', () => {
  const cases: [string, unknown][] = [
    ['"rack".freeze', 'rack'],
    ["'it\\'s'", "it's"],
    ['"a\\"b"', 'a"b'],
    ['%q{x{y}z}', 'x{y}z'],
    ['%Q(abc)', 'abc'],
    ['%q<minitest>', 'minitest'],
    ['["MIT".freeze, "Apache-2.0".freeze]', ['MIT', 'Apache-2.0']],
    ['[%q{GPL}, "MIT"]', ['GPL', 'MIT']],
    ['%w[MIT Ruby]', ['MIT', 'Ruby']],
    ['[]', []],
    ['Gem::Version.new("1.2.3")', '1.2.3'],
    ['Gem::Requirement.new(">= 0")', undefined],
    ['4', undefined],
  ];
  for (const [src, want] of cases) assert.deepEqual(readRubyValue(src, 0), want, src);
});

test('parseGemspec keeps the first assignment and ignores comparisons', () => {
  const f = parseGemspec('Gem::Specification.new do |g|\n  g.name = "a"\n  g.name == "b"\n  g.name = "c"\nend\n');
  assert.equal(f?.get('name'), 'a');
  assert.equal(parseGemspec('puts 1'), undefined);
});
