/**
 * End to end on a real Debian root filesystem: mmdebstrap (minbase, bookworm) builds it from
 * Debian's archive, a second layer removes a package, whiteouts a file and plants language
 * packages, the image goes through a real registry, and Lading's SBOM and file list must equal
 * what dpkg-query and find say about the same root unpacked by tar. Needs root, mmdebstrap,
 * dpkg-query, tar and docker-registry (scripts/test.sh installs them); skipped otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage } from '../testkit/images.js';
import { whiteout } from '../testkit/tar.js';
import { registryAvailable, startRegistry, pushImage } from '../testkit/registry.js';
import { openSource } from '../image/sources/index.js';
import { analyzeImage } from './analyze.js';
import { parseControl } from './paragraphs.js';
import { debianRootSkipReason, debianRootTar } from '../testkit/debian-root.js';

function why(): string | false {
  if (!registryAvailable()) return 'docker-registry is not installed';
  return debianRootSkipReason();
}

const REMOVED = 'hostname';

test('SBOM of a real Debian image equals dpkg-query; file list equals the unpacked root', { skip: why() }, async () => {
  const tarFile = debianRootTar();
  const work = await mkdtemp(join(tmpdir(), 'lading-e2e-'));
  const root = join(work, 'root');
  const reg = await startRegistry();
  try {
    mkdirSync(root);
    const x = spawnSync('tar', ['-C', root, '--numeric-owner', '-xpf', tarFile], { encoding: 'utf8' });
    assert.equal(x.status, 0, x.stderr);

    // Layer 2, like `apt-get remove hostname && rm /etc/issue.net` plus planted language packages.
    const status = await readFile(join(root, 'var/lib/dpkg/status'), 'utf8');
    const kept = status.split(/\n(?=Package: )/).filter((p) => !p.startsWith(`Package: ${REMOVED}\n`)).join('\n');
    assert.notEqual(kept, status, `${REMOVED} is in the base image`);
    // The package's own files (not the directories it shares with others).
    const removedRegular = (await readFile(join(root, `var/lib/dpkg/info/${REMOVED}.list`), 'utf8')).split('\n')
      .filter((p) => p && existsSync(join(root, p)) && !statSync(join(root, p)).isDirectory());
    const pkgJson = JSON.stringify({ name: 'left-pad', version: '1.3.0', license: 'WTFPL' });
    const metadata = 'Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nLicense: Apache 2.0\n';
    const image = buildImage({
      layers: [
        { entries: [], tar: await readFile(tarFile), compression: 'gzip' },
        { entries: [
          { type: 'file', path: 'var/lib/dpkg/status', content: kept },
          whiteout(`var/lib/dpkg/info/${REMOVED}.list`),
          whiteout(`var/lib/dpkg/info/${REMOVED}.md5sums`),
          ...removedRegular.map((p) => whiteout(p.replace(/^\//, ''))),
          whiteout('etc/issue.net'),
          { type: 'file', path: 'usr/lib/node_modules/left-pad/package.json', content: pkgJson },
          { type: 'file', path: 'usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA', content: metadata },
        ] },
      ],
    });
    // The same change on the reference root.
    await writeFile(join(root, 'var/lib/dpkg/status'), kept);
    for (const p of [`/var/lib/dpkg/info/${REMOVED}.list`, `/var/lib/dpkg/info/${REMOVED}.md5sums`, ...removedRegular, '/etc/issue.net']) {
      await unlink(join(root, p)).catch(() => {});
    }
    mkdirSync(join(root, 'usr/lib/node_modules/left-pad'), { recursive: true });
    await writeFile(join(root, 'usr/lib/node_modules/left-pad/package.json'), pkgJson);
    mkdirSync(join(root, 'usr/lib/python3/dist-packages/requests-2.31.0.dist-info'), { recursive: true });
    await writeFile(join(root, 'usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA'), metadata);

    await pushImage(reg.host, 'e2e/debian', 'v1', image);
    const source = await openSource(`${reg.host}/e2e/debian:v1`);
    const sbom = await analyzeImage(await source.resolve({}));
    await source.close();

    const q = spawnSync('dpkg-query', [`--admindir=${join(root, 'var/lib/dpkg')}`, '-W', '-f', '${Package}\\t${Version}\\t${Architecture}\\t${source:Package}\\t${source:Version}\\n'], { encoding: 'utf8' });
    assert.equal(q.status, 0, q.stderr);
    const want = q.stdout.trim().split('\n').sort();
    const got = sbom.packages.filter((p) => p.type === 'deb').map((p) => [p.name, p.version, p.arch, p.sourceName, p.sourceVersion].join('\t')).sort();
    assert.ok(want.length > 80, `minbase has ${want.length} packages`);
    assert.deepEqual(got, want);
    assert.ok(!got.some((l) => l.startsWith(`${REMOVED}\t`)));
    assert.equal(parseControl(kept).length, want.length);

    const f = spawnSync('find', [root, '-mindepth', '1', '-printf', '/%P\\n'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const wantFiles = f.stdout.trim().split('\n').sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.deepEqual(sbom.files.map((e) => e.path), wantFiles);

    assert.equal(sbom.distro?.id, 'debian');
    assert.equal(sbom.distro?.versionId, '12');
    const lang = sbom.packages.filter((p) => p.type !== 'deb').map((p) => `${p.purl} ${p.locations[0]?.layer}`).sort();
    assert.deepEqual(lang, ['pkg:npm/left-pad@1.3.0 1', 'pkg:pypi/requests@2.31.0 1']);
    const setuid = sbom.files.filter((e) => e.setuid).map((e) => e.path);
    const findSuid = spawnSync('find', [root, '-type', 'f', '-perm', '-4000', '-printf', '/%P\\n'], { encoding: 'utf8' }).stdout.trim().split('\n').sort();
    assert.deepEqual(setuid.sort(), findSuid);
  } finally {
    await reg.stop();
    await rm(work, { recursive: true, force: true });
  }
});
