import { test } from 'node:test';
import assert from 'node:assert/strict';
import { feedsText } from './system.js';

const row = (text: string, name: string) => text.split('\n').find((l) => l.startsWith(`${name} `))?.trim().split(/\s+/);

test('system feeds list: LastSync is the last success, never a failed attempt; a Status column; the errors below', () => {
  const text = feedsText([
    { name: 'debian', groups: [{ name: 'debian', last_sync: '2025-01-02T00:00:00Z', record_count: 23566, status: 'ok', kind: 'sync', last_attempt: '2025-01-02T00:00:00Z', last_error: null }] },
    { name: 'nvd', groups: [{ name: 'nvd', last_sync: null, record_count: 0, status: 'failed', kind: 'sync', last_attempt: '2025-01-03T00:00:00Z', last_error: 'HTTP 503' }] },
    { name: 'alpine', groups: [{ name: 'alpine', last_sync: '2025-01-01T00:00:00Z', record_count: 1200, status: 'ok', kind: 'import', last_attempt: '2025-01-03T00:00:00Z', last_error: 'connect ECONNREFUSED' }] },
  ]);
  assert.match(text, /^Feed +Group +LastSync +Status +RecordCount$/m);
  assert.deepEqual(row(text, 'debian'), ['debian', 'debian', '2025-01-02T00:00:00Z', 'ok', '23566']);
  assert.deepEqual(row(text, 'nvd'), ['nvd', 'nvd', 'pending', 'failed', '0']);
  assert.deepEqual(row(text, 'alpine'), ['alpine', 'alpine', '2025-01-01T00:00:00Z', 'ok(import,sync-failed)', '1200']);
  assert.match(text, /^alpine\/alpine: last attempt 2025-01-03T00:00:00Z failed: connect ECONNREFUSED$/m);
  assert.match(text, /^nvd\/nvd: last attempt 2025-01-03T00:00:00Z failed: HTTP 503$/m);
  assert.doesNotMatch(text, /^nvd .*2025-01-03/m);
});
