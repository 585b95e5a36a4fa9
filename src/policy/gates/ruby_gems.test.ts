import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fire, makeSbom, pkg } from '../testing.js';
import { md5TriggerId } from '../gate.js';
import { DataUnavailableError } from '../subject.js';

const gems = makeSbom({ packages: [pkg('rake', '13.0.1', { type: 'gem' }), pkg('rack', '2.2.3', { type: 'gem' }), pkg('rake', '12.3.2', { type: 'gem' })] });
const none = makeSbom({ packages: [pkg('curl', '7.88.1')] });
const NO_FEED = 'Gem packages are present but the anchore gem feed is not available - will be unable to perform checks that require feed data';

const cases: { name: string; trigger: string; params: Record<string, string>; sbom: typeof gems; want: string[] }[] = [
  { name: 'by name', trigger: 'blacklist', params: { name: 'rake' }, sbom: gems, want: ['Gem Package is blacklisted: rake'] },
  { name: 'by name and one of its installed versions', trigger: 'blacklist', params: { name: 'rake', version: '12.3.2' }, sbom: gems, want: ['Gem Package is blacklisted: rake-12.3.2'] },
  { name: 'a version not installed', trigger: 'blacklist', params: { name: 'rake', version: '10.0.0' }, sbom: gems, want: [] },
  { name: 'not a gem', trigger: 'blacklist', params: { name: 'curl' }, sbom: none, want: [] },
  { name: 'the gem feed is never available', trigger: 'feed_data_unavailable', params: {}, sbom: gems, want: [NO_FEED] },
];
for (const c of cases) {
  test(`ruby_gems/${c.trigger}: ${c.name}`, () => {
    assert.deepEqual(fire('ruby_gems', c.trigger, c.params, { sbom: c.sbom }).map((f) => f.msg), c.want);
  });
}

test('ruby_gems/feed_data_unavailable keeps Anchore\'s message and so its trigger id', () => {
  assert.equal(fire('ruby_gems', 'feed_data_unavailable', {})[0]!.id, md5TriggerId('ruby_gems', 'feed_data_unavailable', NO_FEED));
});

for (const trigger of ['newer_version_found_in_feed', 'not_found_in_feed', 'version_not_found_in_feed']) {
  test(`ruby_gems/${trigger}: reported as not evaluated when gems are installed, silent when none are`, () => {
    assert.throws(() => fire('ruby_gems', trigger, {}, { sbom: gems }), (e: Error) => e instanceof DataUnavailableError && /2 gem package name/.test(e.message));
    assert.deepEqual(fire('ruby_gems', trigger, {}, { sbom: none }), []);
  });
}
