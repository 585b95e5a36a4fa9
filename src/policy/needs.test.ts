import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadBundle } from './bundle.js';
import { analysisNeeds } from './needs.js';
import { DEFAULT_BUNDLE } from './default-bundle.js';

const rule = (gate: string, trigger: string, params: Record<string, string>) =>
  ({ gate, trigger, action: 'WARN', params: Object.entries(params).map(([name, value]) => ({ name, value })) });

test('what an analysis must record for a bundle', () => {
  assert.deepEqual(analysisNeeds(loadBundle(DEFAULT_BUNDLE)), { retrieveFiles: [], fileDigests: false });
  const b = loadBundle({ id: 'b', version: '1_0', mappings: [], policies: [{ id: 'p', version: '1_0', rules: [
    rule('retrieved_files', 'content_regex', { path: '/etc/nginx/nginx.conf', regex: 'ssl', check: 'match' }),
    rule('retrieved_files', 'content_not_available', { path: '/etc/app.conf' }),
    rule('passwd_file', 'blacklist_shells', { shells: '/bin/sh' }),
    rule('files', 'attribute_match', { filename: '/etc/passwd', mode: '0644' }),
  ] }] });
  assert.deepEqual(analysisNeeds(b), { retrieveFiles: ['/etc/app.conf', '/etc/nginx/nginx.conf', '/etc/passwd'], fileDigests: false });
  const digests = loadBundle({ id: 'b', version: '1_0', mappings: [], policies: [{ id: 'p', version: '1_0', rules: [
    rule('files', 'attribute_match', { filename: '/etc/passwd', checksum: 'abc' })] }] });
  assert.equal(analysisNeeds(digests).fileDigests, true);
});
