/**
 * The operating system: /etc/os-release (or /usr/lib/os-release), falling back to the older
 * release files (alpine-release, debian_version, redhat-release and friends).
 */
import { posix } from 'node:path';
import type { Analyzer, AnalyzerContext, InputFile } from '../types.js';
import type { Distro } from '../../sbom/model.js';

const OS_RELEASE = ['/etc/os-release', '/usr/lib/os-release'];
const RELEASE_FILE = /^\/etc\/[a-z]+[-_](?:release|version)$/;

/** Parse os-release: KEY=value with shell-style quoting. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!.trim();
    if ((v.startsWith('"') && v.endsWith('"') && v.length >= 2)) v = v.slice(1, -1).replace(/\\(["\\`$])/g, '$1');
    else if (v.startsWith("'") && v.endsWith("'") && v.length >= 2) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

const DEBIAN_CODENAMES: Record<string, string> = {
  buster: '10', bullseye: '11', bookworm: '12', trixie: '13', forky: '14',
};

/** The legacy release files, each "Name release X.Y (Codename)" or a bare version. */
function fromReleaseFile(path: string, text: string): Distro | undefined {
  const first = text.split('\n')[0]!.trim();
  const base = posix.basename(path);
  if (base === 'alpine-release') {
    const v = /^[0-9][0-9a-z._-]*/.exec(first)?.[0];
    return v ? { id: 'alpine', versionId: v, idLike: [], source: path } : undefined;
  }
  if (base === 'debian_version') {
    const num = /^(\d+)(?:\.\d+)*/.exec(first);
    if (num) return { id: 'debian', versionId: num[1]!, idLike: [], source: path };
    const codename = first.split('/')[0]!;
    const versionId = DEBIAN_CODENAMES[codename];
    return { id: 'debian', ...(versionId ? { versionId } : {}), versionCodename: codename, idLike: [], source: path };
  }
  const m = /^(.*?)\s+release\s+([0-9][0-9.]*)\s*(?:\((.*)\))?/i.exec(first);
  if (!m) return undefined;
  const name = m[1]!.toLowerCase();
  const id = name.includes('red hat') ? 'rhel' : name.includes('centos') ? 'centos' : name.includes('fedora') ? 'fedora'
    : name.includes('rocky') ? 'rocky' : name.includes('alma') ? 'almalinux' : name.includes('oracle') ? 'ol'
    : name.includes('amazon') ? 'amzn' : name.split(/\s+/)[0]!;
  return { id, versionId: m[2]!, ...(m[3] ? { versionCodename: m[3].toLowerCase() } : {}), idLike: id === 'rhel' ? [] : ['rhel', 'fedora'].filter((x) => x !== id), prettyName: first, source: path };
}

/** Follow /etc/os-release -> ../usr/lib/os-release style links within the image (a few hops). */
function resolveLink(ctx: AnalyzerContext, path: string): string {
  let p = path;
  for (let i = 0; i < 8; i++) {
    const e = ctx.fs.get(p);
    if (e?.type !== 'symlink' || e.linkTarget === undefined) return p;
    p = posix.resolve(posix.dirname(p), e.linkTarget);
  }
  return p;
}

async function detect(ctx: AnalyzerContext): Promise<Distro | undefined> {
  const byPath = new Map<string, InputFile>(ctx.files.map((f) => [f.path, f]));
  for (const p of OS_RELEASE) {
    const f = byPath.get(resolveLink(ctx, p));
    if (!f) continue;
    const kv = parseOsRelease((await f.read()).toString('utf8'));
    if (!kv.ID) {
      ctx.warn(`${f.path}: no ID= line; ignored`);
      continue;
    }
    const id = kv.ID.toLowerCase();
    let versionId = kv.VERSION_ID;
    let codename = kv.VERSION_CODENAME || undefined;
    // Debian testing/sid images have no VERSION_ID: take it from debian_version when that has a number.
    if (!versionId && id === 'debian') {
      const dv = byPath.get('/etc/debian_version');
      const fb = dv ? fromReleaseFile(dv.path, (await dv.read()).toString('utf8')) : undefined;
      versionId = fb?.versionId;
      codename ??= fb?.versionCodename;
    }
    return {
      id,
      ...(versionId ? { versionId } : {}),
      ...(codename ? { versionCodename: codename } : {}),
      idLike: (kv.ID_LIKE ?? '').split(/\s+/).filter(Boolean),
      ...(kv.PRETTY_NAME ? { prettyName: kv.PRETTY_NAME } : {}),
      source: f.path,
    };
  }
  const order = ['alpine-release', 'redhat-release', 'centos-release', 'rocky-release', 'almalinux-release', 'fedora-release', 'system-release', 'debian_version'];
  for (const name of order) {
    const f = byPath.get(resolveLink(ctx, `/etc/${name}`));
    if (!f) continue;
    const d = fromReleaseFile(`/etc/${name}`, (await f.read()).toString('utf8'));
    if (d) return d;
  }
  return undefined;
}

export const distroAnalyzer: Analyzer = {
  name: 'distro',
  wants: { paths: OS_RELEASE, match: (p) => RELEASE_FILE.test(p), maxBytes: 64 * 1024 },
  async analyze(ctx) {
    const distro = await detect(ctx);
    return distro ? { distro } : {};
  },
};
