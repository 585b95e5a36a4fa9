/**
 * A service restarted after its predecessor on the same host was killed (-9) takes that worker's
 * job back at once instead of waiting out its lease; and its data files are private.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage } from '../testkit/images.js';
import { pushImage, registryAvailable, registrySkipReason, startRegistry, type RunningServer } from '../testkit/registry.js';
import { ADMIN, apiClient, startTestService, waitAnalyzed } from '../testkit/service.js';
import { ANALYZE_JOB } from './analyzer.js';

const image = buildImage({ layers: [{ entries: [{ type: 'file', path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.19.0\n' }] }] });
const skip = registryAvailable() ? false : registrySkipReason;
let dir: string;
let registry: (RunningServer & { dir: string }) | undefined;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-restart-'));
  if (skip) return;
  registry = await startRegistry();
  await pushImage(registry.host, 'team/app', 'v1', image);
});
after(async () => {
  await registry?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('a restarted service takes back the analysis job its killed predecessor held, without waiting for the lease', { skip }, async () => {
  const dbUrl = join(dir, 'lading.db');
  // The first process: the API queues the analysis; a worker of a process now dead holds it for an hour.
  const first = await startTestService(dbUrl, dir, { start: { roles: ['api'], log: () => {} } });
  try {
    const added = await apiClient(first.svc.url!)('POST', '/v1/images', { ...ADMIN, body: { tag: `${registry!.host}/team/app:v1` } });
    assert.equal(added.status, 200, added.text);
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await once(child, 'exit');
    const job = await first.svc.queue.claim(`${hostname()}:${child.pid}:0badc0de:analyzer-0`, [ANALYZE_JOB], 3_600_000);
    assert.ok(job, 'the analysis job was queued');
  } finally {
    await first.svc.close();
  }
  const second = await startTestService(dbUrl, dir, { start: { log: () => {} } });
  try {
    const img = await waitAnalyzed(apiClient(second.svc.url!), image.manifestDigest, ADMIN, 20_000);
    assert.equal(img.analysis_status, 'analyzed');
    // The data directory and the database files are the service user's only.
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    for (const f of ['lading.db', 'lading.db-wal', 'lading.db-shm']) assert.equal((await stat(join(dir, f))).mode & 0o777, 0o600, f);
  } finally {
    await second.svc.close();
  }
});
