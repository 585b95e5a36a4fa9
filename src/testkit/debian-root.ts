/**
 * A real Debian root filesystem for end-to-end tests: `mmdebstrap --variant=minbase bookworm` from
 * Debian's archive, as a tar cached per day under the temp dir so reruns do not hit the archive.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SOURCES = '/etc/apt/sources.list.d/debian.sources';

/** Why the Debian end-to-end tests cannot run here, or false when they can. */
export function debianRootSkipReason(extraTools: string[] = []): string | false {
  if (process.getuid?.() !== 0) return 'needs root (mmdebstrap, and unpacking a root filesystem with owners and devices)';
  for (const tool of ['/usr/bin/mmdebstrap', '/usr/bin/dpkg-query', '/usr/bin/tar', ...extraTools]) if (!existsSync(tool)) return `${tool} is not installed`;
  return false;
}

export function debianRootTar(): string {
  const dir = join(tmpdir(), 'lading-e2e-cache');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bookworm-minbase-${new Date().toISOString().slice(0, 10)}.tar`);
  if (!existsSync(file)) {
    const args = ['--quiet', '--variant=minbase', '--format=tar', 'bookworm', `${file}.part`, ...(existsSync(SOURCES) ? [SOURCES] : [])];
    const r = spawnSync('mmdebstrap', args, { encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } });
    if (r.status !== 0) throw new Error(`mmdebstrap failed (${r.status}): ${r.stderr.slice(-2000)}`);
    spawnSync('mv', [`${file}.part`, file]);
  }
  return file;
}
