/**
 * Test images with known contents for the policy end-to-end tests: what each holds is written
 * here, so the rows a bundle gives on them can be stated exactly.
 */
import { buildImage, type BuiltImage } from '../testkit/images.js';
import type { Sbom } from '../sbom/model.js';
import type { MatchedVulnerability, ScanResult } from '../vulns/model.js';
import type { Severity } from '../feeds/model.js';

const dpkgStatus = (pkgs: [string, string, string?][]) => pkgs.map(([name, version, source]) =>
  `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\n${source ? `Source: ${source}\n` : ''}`).join('\n');

export const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'ftp:x:14:50:FTP User:/srv/ftp:/usr/sbin/nologin',
].join('\n') + '\n';

/**
 * A Debian 12 application image with something for every gate: openssl, zlib1g and
 * openssh-server (dpkg; openssl's file list names a file that is gone), express and left-pad
 * (npm, left-pad under WTFPL), rake (gem), a setuid /usr/bin/passwd, an ftp user, an AWS key in
 * /srv/.env, a private key file, /etc/app.conf with debug on; EXPOSE 22 and 8080, no USER, no
 * HEALTHCHECK; two layers.
 */
export function appImage(): BuiltImage {
  return buildImage({
    layers: [
      { createdBy: '/bin/sh -c #(nop) ADD file:debian12 in / ', entries: [
        { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' },
        { type: 'file', path: 'etc/passwd', content: PASSWD },
        { type: 'file', path: 'usr/bin/passwd', content: 'ELF', mode: 0o4755 },
        { type: 'file', path: 'var/lib/dpkg/status', content: dpkgStatus([['openssl', '3.0.11-1~deb12u1'], ['zlib1g', '1:1.2.13.dfsg-1', 'zlib'], ['openssh-server', '1:9.2p1-2']]) },
        { type: 'file', path: 'var/lib/dpkg/info/openssl.list', content: '/.\n/usr\n/usr/bin\n/usr/bin/openssl\n/usr/lib/ssl/openssl.cnf\n' },
        { type: 'file', path: 'usr/lib/ssl/openssl.cnf', content: '# config\n' },
      ] },
      { createdBy: '/bin/sh -c #(nop) COPY dir:app in /', entries: [
        { type: 'file', path: 'app/node_modules/express/package.json', content: JSON.stringify({ name: 'express', version: '4.17.1', license: 'MIT' }) },
        { type: 'file', path: 'app/node_modules/left-pad/package.json', content: JSON.stringify({ name: 'left-pad', version: '1.3.0', license: 'WTFPL' }) },
        { type: 'file', path: 'usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.6.gemspec',
          content: 'Gem::Specification.new do |s|\n  s.name = "rake".freeze\n  s.version = "13.0.6"\n  s.licenses = ["MIT".freeze]\nend\n' },
        { type: 'file', path: 'srv/.env', content: 'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n' },
        { type: 'file', path: 'etc/ssl/private/server.key', content: 'not really a key\n', mode: 0o600 },
        { type: 'file', path: 'etc/app.conf', content: 'debug=true\nport=8080\n' },
      ] },
    ],
    config: { ExposedPorts: { '22/tcp': {}, '8080/tcp': {} }, Cmd: ['node', '/app/server.js'] },
    emptyHistory: ['/bin/sh -c #(nop)  EXPOSE 22/tcp 8080/tcp', '/bin/sh -c #(nop)  CMD ["node" "/app/server.js"]'],
  });
}

/** A clean Debian image: one package, no exposed ports, a HEALTHCHECK, a non-root user. */
export function cleanImage(): BuiltImage {
  return buildImage({
    layers: [{ createdBy: '/bin/sh -c #(nop) ADD file:debian12 in / ', entries: [
      { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
      { type: 'file', path: 'etc/passwd', content: 'root:x:0:0:root:/root:/usr/sbin/nologin\napp:x:1000:1000::/home/app:/usr/sbin/nologin\n' },
      { type: 'file', path: 'var/lib/dpkg/status', content: dpkgStatus([['base-files', '12.4+deb12u5']]) },
    ] }],
    config: { User: 'app' },
    emptyHistory: ['HEALTHCHECK &{["CMD-SHELL" "test -f /etc/os-release"] "0s" "0s" "0s" "0s" \'\\x00\'}', 'USER app'],
  });
}

/**
 * Scan results for the app image's SBOM: openssl critical (fixed), zlib1g medium, express high
 * (fixed); with `found` false, a scan of any image that found nothing.
 */
export function appScan(sbom: Sbom, createdAt = new Date().toISOString(), found = true): ScanResult {
  const pkg = (name: string) => {
    const p = sbom.packages.find((x) => x.name === name);
    if (!p) throw new Error(`the test image has no package ${name}`);
    return { name: p.name, version: p.version, type: p.type, purl: p.purl, locations: p.locations };
  };
  const vuln = (id: string, severity: Severity, fixedVersions: string[]): MatchedVulnerability => ({
    id, aliases: [], severity, severitySource: 'test', cvss: [], fixState: fixedVersions.length ? 'fixed' : 'not-fixed', fixedVersions, references: [], sources: [`test:${id}`],
  });
  const details = (name: string, kind: 'distro' | 'language') =>
    ({ kind, namespace: kind === 'distro' ? 'debian:12' : 'npm', name, nameKind: 'binary' as const, version: '', constraint: 'test', record: 'test' });
  return {
    schema: 'lading-scan/1',
    createdAt,
    source: { imageId: sbom.source.imageId, tags: sbom.source.tags, input: 'test' },
    distro: { id: 'debian', versionId: '12' },
    matches: !found ? [] : [
      { vulnerability: vuln('CVE-2024-0001', 'Critical', ['3.0.13-1~deb12u1']), package: pkg('openssl'), match: details('openssl', 'distro') },
      { vulnerability: vuln('CVE-2024-0002', 'Medium', []), package: pkg('zlib1g'), match: details('zlib1g', 'distro') },
      { vulnerability: vuln('GHSA-rv95-896h-c2vc', 'High', ['4.19.2']), package: pkg('express'), match: details('express', 'language') },
    ],
    suppressed: [],
    warnings: [],
    db: { built: createdAt, sources: [{ source: 'test', lastSync: createdAt }] },
  };
}
