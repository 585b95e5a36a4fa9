/**
 * Ctrl-C and SIGTERM in the middle of `lading sbom REF`: the command says "interrupted", exits with
 * the shell's status for the signal, and leaves no scratch directory behind. The image comes from a
 * registry in this test whose layer blob sends a large dpkg status file (spooled to a scratch
 * directory) and then stalls, so the signal always arrives mid-analysis.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage } from '../testkit/images.js';
import { startHttpServer } from '../testkit/registry.js';
import { repoRoot } from './testing.js';

const stanza = (i: number) => `Package: pkg${i}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-${i}\nDescription: package ${i} ${'x'.repeat(200)}\n`;

function stalledImage() {
  const status = Array.from({ length: 12_000 }, (_, i) => stanza(i)).join('\n');
  return buildImage({
    layers: [{
      compression: 'none',
      entries: [
        { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
        { type: 'file', path: 'var/lib/dpkg/status', content: status },
        { type: 'file', path: 'opt/big.bin', content: Buffer.alloc(8 * 1024 * 1024, 1) },
      ],
    }],
  });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} mid-analysis: "interrupted", status ${signal === 'SIGINT' ? 130 : 143}, no scratch directory left`, async (t) => {
    const img = stalledImage();
    const layer = img.layers[0]!;
    // Everything up to a little past the status file, then nothing more: the analysis waits there.
    const sent = layer.tar.indexOf('opt/big.bin') + 64 * 1024;
    const open = new Set<import('node:http').ServerResponse>();
    const server = await startHttpServer((req, res) => {
      const url = req.url ?? '';
      if (url === '/v2/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      if (url.startsWith('/v2/app/manifests/')) {
        return void res.writeHead(200, { 'content-type': img.manifestMediaType, 'docker-content-digest': img.manifestDigest }).end(img.manifestBytes);
      }
      const digest = url.split('/blobs/')[1] ?? '';
      const blob = img.blobs.get(digest);
      if (!blob) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(blob.length) });
      if (digest !== layer.desc.digest) return void res.end(blob);
      open.add(res);
      res.write(blob.subarray(0, sent));
    });
    const tmp = mkdtempSync(join(tmpdir(), 'lading-interrupt-'));
    t.after(async () => {
      for (const res of open) res.destroy();
      await server.stop();
      rmSync(tmp, { recursive: true, force: true });
    });
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'sbom', '--insecure', `${server.host}/app:v1`, '-o', 'json'], {
      cwd: repoRoot, env: { ...process.env, TMPDIR: join(tmp), LADING_CACHE_DIR: join(tmp, 'cache'), LADING_DATA_DIR: join(tmp, 'data') },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const scratch = () => readdirSync(tmp).filter((n) => n.startsWith('lading-squash-'));
    const deadline = Date.now() + 60_000;
    while (scratch().length === 0) {
      assert.ok(Date.now() < deadline, `no scratch directory appeared; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill(signal);
    const code = await exited;
    assert.equal(code, signal === 'SIGINT' ? 130 : 143, stderr);
    assert.match(stderr, /lading: interrupted/);
    assert.deepEqual(scratch(), [], 'the scratch directory was removed');
  });
}
