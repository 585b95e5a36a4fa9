import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitWidths, textTable, wrapCell } from './text-table.js';

test('a table that fits is left as it is: columns two spaces apart, lines right-trimmed', () => {
  assert.equal(textTable(['A', 'BB', 'C'], [['x', 'yyyy', 'z'], ['longer', '', 'zz']], 100), 'A       BB    C\nx       yyyy  z\nlonger        zz\n');
});

test('a wide table fits the width: the prose column narrows and wraps at spaces, identifier columns stay whole', () => {
  const long = 'Fires when the image has a file whose full path matches the regex, for each such file in the image, listed one per row.';
  const id = '62907b5165d6dbf29c25c4dc419d3874';
  const out = textTable(['GATE', 'TRIGGER ID', 'DESCRIPTION'], [['files', id, long], ['packages', 'x', 'short']], 60);
  const lines = out.trimEnd().split('\n');
  for (const l of lines) assert.ok(l.length <= 70, `${l.length}: ${l}`);
  assert.equal(lines[0], 'GATE      TRIGGER ID                        DESCRIPTION');
  assert.ok(lines[1]!.startsWith(`files     ${id}  Fires when`), lines[1]);
  // the continuation lines sit under the description column, and the words all survive, in order
  const at = lines[0]!.indexOf('DESCRIPTION');
  assert.ok(lines.slice(2, -1).every((l) => l.startsWith(' '.repeat(at))));
  assert.equal(lines.slice(1, -1).map((l) => l.slice(at)).join(' '), long);
  assert.equal(lines.at(-1), `packages  x${' '.repeat(id.length + 1)}short`);
});

test('wrapCell cuts a word longer than the column; fitWidths caps the widest columns first and gives back the room left', () => {
  assert.deepEqual(wrapCell('file=/etc/ssl/certs/ca-certificates.crt ok', 12), ['file=/etc/ss', 'l/certs/ca-c', 'ertificates.', 'crt ok']);
  assert.deepEqual(wrapCell('a\nbb cc', 3), ['a', 'bb', 'cc']);
  assert.deepEqual(fitWidths([5, 40, 30], [5, 8, 8], 60), [5, 28, 27]);
  assert.deepEqual(fitWidths([5, 10], [5, 8], 60), [5, 10]);
  // nothing narrower than the floors, even when that overflows
  assert.deepEqual(fitWidths([20, 20], [10, 10], 10), [10, 10]);
});
