/**
 * The built-in example (`npm run example`): builds a small two-layer image offline, writes it as an
 * OCI layout and a docker-archive under .lading/example/, runs the real CLI on it, then imports the
 * sample feed data in examples/vulndata and scans the image against it.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { buildImage, writeOciLayout, dockerArchiveBuffer } from './images.js';
import { whiteout, type TarEntry } from './tar.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = join(root, '.lading', 'example');
const cli = join(root, 'dist', 'cli', 'main.js');

const base: TarEntry[] = [
  { type: 'dir', path: 'etc' },
  { type: 'file', path: 'etc/os-release', content: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n' },
  { type: 'file', path: 'etc/debian_version', content: '12.8\n' },
  { type: 'file', path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/bash\n' },
  { type: 'file', path: 'etc/issue.net', content: 'Debian GNU/Linux 12\n' },
  { type: 'dir', path: 'usr/bin' },
  { type: 'file', path: 'usr/bin/hello', content: '#!/bin/sh\necho hello\n', mode: 0o755 },
  { type: 'file', path: 'usr/bin/passwd', content: 'not really passwd\n', mode: 0o4755 },
  { type: 'symlink', path: 'bin', target: 'usr/bin' },
  { type: 'file', path: 'var/lib/dpkg/status', content: [
    'Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.4+deb12u8\n',
    'Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl\nVersion: 3.0.15-1~deb12u1\n',
    'Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n',
    'Package: libsope1\nStatus: install ok installed\nArchitecture: amd64\nSource: sope\nVersion: 5.8.0-1\n',
    'Package: chromium\nStatus: install ok installed\nArchitecture: amd64\nVersion: 97.0.4692.99-1\n',
  ].join('\n') },
  { type: 'dir', path: 'tmp', mode: 0o1777 },
];
const app: TarEntry[] = [
  whiteout('etc/issue.net'),
  { type: 'dir', path: 'opt/app' },
  { type: 'file', path: 'opt/app/server.js', content: 'console.log("example")\n' },
  { type: 'file', path: 'opt/app/node_modules/lodash/package.json', content: JSON.stringify({ name: 'lodash', version: '4.17.20', license: 'MIT' }) },
  { type: 'file', path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/bash\napp:x:1000:1000::/opt/app:/bin/sh\n' },
];

async function main(): Promise<void> {
  const image = buildImage({
    layers: [
      { entries: base, createdBy: '/bin/sh -c #(nop) ADD file:rootfs in / ' },
      { entries: app, createdBy: 'COPY opt/app /opt/app # buildkit' },
    ],
    config: { User: 'app', WorkingDir: '/opt/app', Entrypoint: ['/usr/bin/hello'], Cmd: ['--port', '8080'], ExposedPorts: { '8080/tcp': {} }, Labels: { 'org.opencontainers.image.title': 'lading-example' } },
    emptyHistory: ['USER app', 'EXPOSE 8080/tcp'],
  });
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const layout = join(outDir, 'oci');
  await writeOciLayout(layout, { example: image });
  const archive = join(outDir, 'example.tar');
  await writeFile(archive, dockerArchiveBuffer(image, ['lading/example:latest']));

  /** Run the CLI; `expect` lists the exit codes that are a success for the example. */
  const run = (args: string[], expect = [0]) => {
    process.stdout.write(`\n$ lading ${args.join(' ')}\n`);
    const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'inherit', env: { ...process.env, LADING_DATA_DIR: outDir } });
    if (!expect.includes(r.status ?? -1)) process.exit(r.status || 1);
    if (r.status !== 0) process.stdout.write(`(exit ${r.status})\n`);
  };
  run(['image', 'inspect', `oci-dir:${layout}:example`]);
  run(['image', 'files', `docker-archive:${archive}`]);
  run(['sbom', `docker-archive:${archive}`]);
  // Real-format feed records shipped in examples/vulndata, imported offline into the example's data
  // directory's database (LADING_DATA_DIR/lading.db), which scan and evaluate read by default.
  const db = join(outDir, 'lading.db');
  const data = join(root, 'examples', 'vulndata');
  run(['db', 'import', '--db', db, join(data, 'debian', 'tracker.json'), join(data, 'ghsa')]);
  run(['scan', '--db', db, `docker-archive:${archive}`]);
  // Anchore's default policy intent: a High vulnerability with a fix is a STOP, so the verdict is fail (exit 1).
  run(['evaluate', `docker-archive:${archive}`], [1]);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
