/**
 * Fixture images for base-image tests (sbom/base.test.ts, store/bases.test.ts): an OS layer, a tools
 * layer and an app layer, each image the one before plus a layer, so `os` is a prefix of `tools`,
 * which is a prefix of `app`. The app layer upgrades zlib1g (the dpkg status and zlib1g's info list
 * rewritten) and adds a second copy of lodash 4.17.20 of its own; `other` shares no layer.
 */
import { buildImage, type BuiltImage } from '../testkit/images.js';
import { memoryImage } from '../testkit/memory-image.js';
import type { TarEntry } from '../testkit/tar.js';
import type { Sbom } from '../sbom/model.js';
import { analyzeImage } from './analyze.js';
import { affected, vuln } from '../vulns/testing.js';

const file = (path: string, content: string): TarEntry => ({ type: 'file', path, content });
const dir = (path: string): TarEntry => ({ type: 'dir', path });
const pkg = (name: string, version: string) =>
  `Package: ${name}\nStatus: install ok installed\nPriority: optional\nSection: misc\nMaintainer: x <x@example.org>\nArchitecture: amd64\nVersion: ${version}\nDescription: ${name}\n`;
const status = (...p: string[]) => p.join('\n');
const npm = (name: string, version: string) => JSON.stringify({ name, version });

const OS = [pkg('libc6', '2.36-9'), pkg('zlib1g', '1:1.2.13.dfsg-1'), pkg('bash', '5.2.15-2')];
/** A newer build of the OS layer: libc6 and zlib1g fixed. */
const OS_NEWER = [pkg('libc6', '2.36-10'), pkg('zlib1g', '1:1.2.13.dfsg-3'), pkg('bash', '5.2.15-2')];
const TOOLS = [...OS, pkg('curl', '7.88.1-10')];
const APP = [pkg('libc6', '2.36-9'), pkg('zlib1g', '1:1.2.13.dfsg-2'), pkg('bash', '5.2.15-2'), pkg('curl', '7.88.1-10')];

const osLayer: TarEntry[] = [
  dir('etc'), file('etc/os-release', 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'),
  dir('var'), dir('var/lib'), dir('var/lib/dpkg'), dir('var/lib/dpkg/info'),
  file('var/lib/dpkg/status', status(...OS)),
  file('var/lib/dpkg/info/libc6:amd64.list', '/usr/lib/x86_64-linux-gnu/libc.so.6\n'),
  file('var/lib/dpkg/info/zlib1g:amd64.list', '/usr/lib/x86_64-linux-gnu/libz.so.1\n'),
  file('var/lib/dpkg/info/bash.list', '/bin/bash\n'),
  dir('usr'), dir('usr/lib'), dir('usr/lib/node_modules'), dir('usr/lib/node_modules/lodash'),
  file('usr/lib/node_modules/lodash/package.json', npm('lodash', '4.17.20')),
];
const osNewerLayer: TarEntry[] = osLayer.map((e) => ('path' in e && e.path === 'var/lib/dpkg/status' ? file(e.path, status(...OS_NEWER)) : e));
const toolsLayer: TarEntry[] = [
  dir('var'), dir('var/lib'), dir('var/lib/dpkg'), dir('var/lib/dpkg/info'),
  file('var/lib/dpkg/status', status(...TOOLS)), file('var/lib/dpkg/info/curl.list', '/usr/bin/curl\n'),
];
const appLayer: TarEntry[] = [
  dir('var'), dir('var/lib'), dir('var/lib/dpkg'), dir('var/lib/dpkg/info'),
  file('var/lib/dpkg/status', status(...APP)), file('var/lib/dpkg/info/zlib1g:amd64.list', '/usr/lib/x86_64-linux-gnu/libz.so.1\n'),
  dir('app'), dir('app/node_modules'), dir('app/node_modules/lodash'), file('app/node_modules/lodash/package.json', npm('lodash', '4.17.20')),
];
const otherLayer: TarEntry[] = [dir('etc'), file('etc/os-release', 'ID=debian\nVERSION_ID="12"\n'), dir('var'), dir('var/lib'), dir('var/lib/dpkg'), file('var/lib/dpkg/status', status(pkg('libc6', '2.36-9')))];

export interface BaseFixtures {
  os: BuiltImage;
  tools: BuiltImage;
  app: BuiltImage;
  other: BuiltImage;
  /** A newer digest of `os` (its packages fixed), sharing no layer with the others. */
  osNewer: BuiltImage;
}

/** The fixture images; `annotations` go on the app image's manifest. */
export function baseFixtures(annotations?: Record<string, string>): BaseFixtures {
  return {
    os: buildImage({ layers: [{ entries: osLayer }] }),
    tools: buildImage({ layers: [{ entries: osLayer }, { entries: toolsLayer }] }),
    app: buildImage({ layers: [{ entries: osLayer }, { entries: toolsLayer }, { entries: appLayer }], ...(annotations ? { annotations } : {}) }),
    other: buildImage({ layers: [{ entries: otherLayer }] }),
    osNewer: buildImage({ layers: [{ entries: osNewerLayer }] }),
  };
}

/** The SBOM of a fixture image, analyzed for real (tagged `reg.test/<name>:1`). */
export async function analyzed(img: BuiltImage, name: string): Promise<Sbom> {
  return analyzeImage(memoryImage(img, { origin: { kind: 'registry', registry: 'reg.test', repository: name, tag: '1', tags: ['1'] } }), { secrets: false });
}

/** The Debian data the base fixtures are tested against: a High CVE in zlib1g (which the app upgrades past its fix) and one in libc6 (which the app inherits). */
export function baseFixtureVulnData() {
  return {
    vulnerabilities: [vuln({ id: 'CVE-2024-1', source: 'debian', severity: 'High' }), vuln({ id: 'CVE-2024-2', source: 'debian', severity: 'High' })],
    affected: [
      affected({ vulnId: 'CVE-2024-1', name: 'zlib1g', ranges: [{ introduced: '0', fixed: '1:1.2.13.dfsg-3' }], fixedVersions: ['1:1.2.13.dfsg-3'], severity: 'High' }),
      affected({ vulnId: 'CVE-2024-2', name: 'libc6', ranges: [{ introduced: '0', fixed: '2.36-10' }], fixedVersions: ['2.36-10'], severity: 'High' }),
    ],
  };
}
