import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fire, makeSbom, pkg } from '../testing.js';
import { DataUnavailableError } from '../subject.js';

const npms = makeSbom({ packages: [pkg('lodash', '4.17.15', { type: 'npm' }), pkg('lodash', '4.17.21', { type: 'npm' }), pkg('express', '4.17.1', { type: 'npm' })] });
const none = makeSbom({ packages: [pkg('lodash', '1.0', { type: 'gem' })] });

const cases: { name: string; trigger: string; params: Record<string, string>; sbom: typeof npms; want: string[] }[] = [
  { name: 'by name', trigger: 'blacklisted_name_version', params: { name: 'lodash' }, sbom: npms, want: ['NPM Package is blacklisted: lodash'] },
  { name: 'by name and version', trigger: 'blacklisted_name_version', params: { name: 'lodash', version: '4.17.15' }, sbom: npms, want: ['NPM Package is blacklisted: lodash-4.17.15'] },
  { name: 'a version not installed', trigger: 'blacklisted_name_version', params: { name: 'lodash', version: '3.0.0' }, sbom: npms, want: [] },
  { name: 'only npm packages count', trigger: 'blacklisted_name_version', params: { name: 'lodash' }, sbom: none, want: [] },
  { name: 'the npm feed is never available', trigger: 'feed_data_unavailable', params: {}, sbom: npms,
    want: ['NPM packages are present but the anchore npm feed is not available - will be unable to perform checks that require feed data'] },
];
for (const c of cases) {
  test(`npms/${c.trigger}: ${c.name}`, () => {
    assert.deepEqual(fire('npms', c.trigger, c.params, { sbom: c.sbom }).map((f) => f.msg), c.want);
  });
}

for (const trigger of ['newer_version_in_feed', 'unknown_in_feeds', 'version_not_in_feeds']) {
  test(`npms/${trigger}: reported as not evaluated when npm packages are installed, silent when none are`, () => {
    assert.throws(() => fire('npms', trigger, {}, { sbom: npms }), (e: Error) => e instanceof DataUnavailableError && /2 npm package name/.test(e.message));
    assert.deepEqual(fire('npms', trigger, {}, { sbom: none }), []);
  });
}
