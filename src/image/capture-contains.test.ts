/**
 * Capture requests with `contains`: a file is kept only when one of the marker byte strings is in
 * its content, wherever it lies (across chunk boundaries too); hardlinks follow their target.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Captures, type CaptureRequest } from './capture.js';
import { withLimits } from './limits.js';
import { MarkerScan } from './markers.js';
import { Tree } from './tree.js';
import { file, hardlink, image, run, text } from './testing-squash.js';

const ELF = Buffer.from('\x7fELF', 'latin1');
const MARK = Buffer.from('\xff Go buildinf:', 'latin1');
const OTHER = Buffer.from('.dep-v0', 'latin1');

describe('MarkerScan', () => {
  test('a marker split across two chunks is found, at every split point', () => {
    const content = Buffer.concat([Buffer.alloc(100, 0xff), MARK, Buffer.alloc(50, 0x20)]);
    for (let cut = 0; cut <= content.length; cut++) {
      const scan = new MarkerScan([MARK]);
      scan.push(content.subarray(0, cut));
      scan.push(content.subarray(cut));
      assert.deepEqual(scan.found, [true], `split at ${cut}`);
    }
  });

  test('a marker spread over one-byte chunks is found; each marker is told apart', () => {
    const content = Buffer.concat([Buffer.from('xx'), OTHER, Buffer.from('yy')]);
    const scan = new MarkerScan([MARK, OTHER]);
    for (const b of content) scan.push(Buffer.from([b]));
    assert.deepEqual(scan.found, [false, true]);
    assert.equal(scan.done, false);
  });

  test('a marker\'s pieces in chunks that do not join up, or a prefix only, is not found', () => {
    const scan = new MarkerScan([MARK]);
    scan.push(MARK.subarray(0, 7));
    scan.push(Buffer.from('-'));
    scan.push(MARK.subarray(7));
    scan.push(MARK.subarray(0, MARK.length - 1));
    assert.deepEqual(scan.found, [false]);
  });
});

/** Feeds a file's content to its capture job in the given chunks, as a tar entry would. */
function feed(captures: Captures, tree: Tree, name: string, chunks: Buffer[]): void {
  const size = chunks.reduce((n, c) => n + c.length, 0);
  const node = tree.place(tree.root, name, 'file', 0);
  node.size = size;
  const job = captures.file(node, `/${name}`, size);
  if (job === null) return;
  const handlers: Record<string, ((c?: Buffer) => void)[]> = {};
  job.attach({
    on(ev: string, fn: (c?: Buffer) => void) {
      (handlers[ev] ??= []).push(fn);
      return this;
    },
    pause() {
      return this;
    },
    resume() {
      for (const c of chunks.splice(0)) for (const f of handlers['data'] ?? []) f(c);
      for (const f of handlers['end'] ?? []) f();
      return this;
    },
  } as unknown as Parameters<NonNullable<typeof job>['attach']>[0]);
}

describe('capture requests with contains', () => {
  const request: CaptureRequest = { id: 'm', magic: [ELF], contains: [MARK] };

  for (const inMemory of [true, false]) {
    test(`a marker split across two chunks keeps the file; one without a marker is not kept (${inMemory ? 'in memory' : 'spooled'})`, async () => {
      const scratch = mkdtempSync(join(tmpdir(), 'lading-contains-'));
      try {
        const captures = new Captures([request], withLimits({ inMemoryCaptureBytes: inMemory ? 1 << 20 : 16 }), scratch);
        const tree = new Tree();
        const body = Buffer.concat([ELF, Buffer.alloc(40, 1), MARK, Buffer.alloc(40, 2)]);
        const cut = ELF.length + 40 + 5;
        feed(captures, tree, 'split', [body.subarray(0, cut), body.subarray(cut)]);
        const plain = Buffer.concat([ELF, Buffer.alloc(40, 1), MARK.subarray(0, 5), Buffer.alloc(40, 2)]);
        feed(captures, tree, 'plain', [plain.subarray(0, cut), plain.subarray(cut)]);
        feed(captures, tree, 'not-elf', [Buffer.concat([Buffer.from('text '), MARK])]);
        await captures.settle();
        const { captured } = captures.collect(tree);
        const got = captured.get('m')!;
        assert.deepEqual(got.map((f) => f.path), ['/split']);
        assert.deepEqual(await got[0]!.read(), body);
        // The unmarked file's spool copy is gone once settled: only the kept one stays.
        const dirs = readdirSync(scratch);
        const spooled = dirs.flatMap((d) => readdirSync(join(scratch, d)));
        assert.equal(spooled.length, inMemory ? 0 : 1, `spool files: ${spooled.join(', ')}`);
        await captures.dispose();
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    });
  }

  test('a large file is stored while it is searched: kept with a late marker, its spool file removed without one', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'lading-contains-'));
    try {
      const captures = new Captures([request], withLimits({ inMemoryCaptureBytes: 1024 }), scratch);
      const tree = new Tree();
      const chunks = (last: Buffer) => [ELF, ...Array.from({ length: 17 }, () => Buffer.alloc(1024 * 1024, 0x90)), last];
      const late = chunks(MARK);
      const whole = Buffer.concat(late);
      feed(captures, tree, 'late', late);
      feed(captures, tree, 'none', chunks(Buffer.from('end')));
      await captures.settle();
      const got = captures.collect(tree).captured.get('m')!;
      assert.deepEqual(got.map((f) => f.path), ['/late']);
      assert.ok((await got[0]!.read()).equals(whole));
      assert.equal(readdirSync(scratch).flatMap((d) => readdirSync(join(scratch, d))).length, 1);
      await captures.dispose();
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  test('through the squash pass: hardlinks to a kept file resolve, those to an unmarked one are not kept', async () => {
    const marked = Buffer.concat([ELF, Buffer.alloc(300 * 1024, 0x90), MARK, Buffer.alloc(1024, 0)]);
    const unmarked = Buffer.concat([ELF, Buffer.alloc(300 * 1024, 0x90)]);
    for (const inMemoryCaptureBytes of [1 << 20, 1024]) {
      const r = await run(image(
        [file('bin-tool', marked, { mode: 0o755 }), hardlink('tool-link', 'bin-tool'), file('plain', unmarked, { mode: 0o755 }), hardlink('plain-link', 'plain'),
          file('notes.txt', Buffer.concat([Buffer.from('docs mention '), MARK]))],
        [hardlink('tool-link2', 'tool-link')],
      ), { captures: [request, { id: 'o', magic: [ELF], contains: [OTHER] }, { id: 'all', magic: [ELF] }], limits: { inMemoryCaptureBytes } });
      try {
        assert.deepEqual(r.captured('m').map((f) => f.path), ['/bin-tool', '/tool-link', '/tool-link2']);
        assert.deepEqual(await r.captured('m')[2]!.read(), marked);
        assert.equal(await text(r, 'm', '/tool-link'), marked.toString());
        assert.deepEqual(r.captured('o'), []);
        assert.deepEqual(r.captured('all').map((f) => f.path), ['/bin-tool', '/plain', '/plain-link', '/tool-link', '/tool-link2']);
        assert.deepEqual(r.skipped('m'), []);
      } finally {
        await r.dispose();
      }
    }
  });

  test('maxBytes is judged first: an oversized file is skipped without being searched', async () => {
    const big = Buffer.concat([ELF, Buffer.alloc(2048), MARK]);
    const r = await run(image([file('big', big), file('small', Buffer.concat([ELF, MARK]))]), { captures: [{ ...request, maxBytes: 1024 }] });
    try {
      assert.deepEqual(r.captured('m').map((f) => f.path), ['/small']);
      assert.deepEqual(r.skipped('m').map((s) => [s.path, s.reason]), [['/big', `${big.length} bytes is larger than maxBytes (1024)`]]);
    } finally {
      await r.dispose();
    }
  });
});
