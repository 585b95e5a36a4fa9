import { test } from 'node:test';
import assert from 'node:assert/strict';
import { file, fire, makeSbom, retrieved } from '../testing.js';
import { DataUnavailableError } from '../subject.js';
import { md5TriggerId } from '../gate.js';

const NOT_AVAILABLE = 'Cannot locate file in the image analysis';

const sbom = makeSbom({
  files: [file('/etc/app.conf'), file('/etc/nginx/nginx.conf')],
  retrievedFiles: [retrieved('/etc/app.conf', 'Port=8080\nSSLEnabled=false  # set by ops\n')],
});

const cases: { name: string; trigger: string; params: Record<string, string>; want: [string, string][] }[] = [
  { name: 'a file not retrieved', trigger: 'content_not_available', params: { path: '/etc/nginx/nginx.conf' },
    want: [[md5TriggerId('retrieved_files', 'content_not_available', NOT_AVAILABLE), NOT_AVAILABLE]] },
  { name: 'a retrieved file', trigger: 'content_not_available', params: { path: '/etc/app.conf' }, want: [] },
  { name: 'match: each word is tested from its start', trigger: 'content_regex', params: { path: '/etc/app.conf', regex: 'SSLEnabled=false', check: 'match' },
    want: [['rule-1+file:///etc/app.conf', "Content regex 'SSLEnabled=false' check 'match' found in retrieved file '/etc/app.conf'"]] },
  { name: 'match needs the word to start with it', trigger: 'content_regex', params: { path: '/etc/app.conf', regex: 'Enabled', check: 'match' }, want: [] },
  { name: 'no_match when absent', trigger: 'content_regex', params: { path: '/etc/app.conf', regex: 'SSLEnabled=true', check: 'no_match' },
    want: [['rule-1+file:///etc/app.conf', "Content regex 'SSLEnabled=true' check 'no_match' found in retrieved file '/etc/app.conf'"]] },
  { name: 'no_match when present', trigger: 'content_regex', params: { path: '/etc/app.conf', regex: '.*8080', check: 'no_match' }, want: [] },
  { name: 'a file absent from the image', trigger: 'content_regex', params: { path: '/etc/none.conf', regex: 'x', check: 'match' }, want: [] },
];
for (const c of cases) {
  test(`retrieved_files/${c.trigger}: ${c.name}`, () => {
    assert.deepEqual(fire('retrieved_files', c.trigger, c.params, { sbom }).map((f) => [f.id, f.msg]), c.want);
  });
}

test('retrieved_files/content_regex: a file in the image but not retrieved says how to retrieve it', () => {
  assert.throws(() => fire('retrieved_files', 'content_regex', { path: '/etc/nginx/nginx.conf', regex: 'x', check: 'match' }, { sbom }),
    (e: Error) => e instanceof DataUnavailableError && /--retrieve-file \/etc\/nginx\/nginx.conf/.test(e.message));
});
