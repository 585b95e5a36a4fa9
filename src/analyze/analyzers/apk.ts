/** Alpine packages: /lib/apk/db/installed (name, version, arch, origin, licence, owned files). */
import type { Analyzer, AnalyzerContext } from '../types.js';
import type { Package } from '../../sbom/model.js';
import { purl, cpeCandidates } from '../../sbom/identity.js';
import { normalizeLicense } from '../../sbom/licenses.js';

const INSTALLED = '/lib/apk/db/installed';

interface Record_ { fields: Map<string, string>; files: string[] }

/** The apk database: records separated by blank lines, `X:value` lines; `F:` sets the dir for following `R:` files. */
export function parseApkDb(text: string): Record_[] {
  const out: Record_[] = [];
  let cur: Record_ | undefined;
  let dir = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '') {
      if (cur) out.push(cur);
      cur = undefined;
      dir = '';
      continue;
    }
    if (line.length < 2 || line[1] !== ':') continue;
    cur ??= { fields: new Map(), files: [] };
    const key = line[0]!;
    const value = line.slice(2);
    if (key === 'F') dir = value;
    else if (key === 'R') cur.files.push(`/${dir ? `${dir}/` : ''}${value}`);
    else if (!cur.fields.has(key)) cur.fields.set(key, value);
  }
  if (cur) out.push(cur);
  return out;
}

async function analyze(ctx: AnalyzerContext) {
  const packages: Package[] = [];
  for (const file of ctx.files) {
    if (file.path !== INSTALLED) continue;
    const distro = ctx.distro;
    const distroQ = distro ? (distro.versionId ? `${distro.id}-${distro.versionId}` : distro.id) : undefined;
    for (const r of parseApkDb((await file.read()).toString('utf8'))) {
      const name = r.fields.get('P');
      const version = r.fields.get('V');
      if (!name || !version) {
        ctx.warn(`${file.path}: a record without P: or V: was skipped`);
        continue;
      }
      const arch = r.fields.get('A');
      const origin = r.fields.get('o');
      const license = r.fields.get('L');
      packages.push({
        name,
        version,
        type: 'apk',
        purl: purl('apk', distro?.id === 'wolfi' || distro?.id === 'chainguard' ? distro.id : 'alpine', name, version, { arch, upstream: origin, distro: distroQ }),
        cpes: cpeCandidates([name], [name], version),
        licenses: license ? [normalizeLicense(license)] : [],
        locations: [{ path: file.path, layer: file.entry.layer }],
        sourceName: origin ?? name,
        sourceVersion: version,
        ...(arch ? { arch } : {}),
        files: r.files,
        metadata: {
          ...(r.fields.get('m') ? { maintainer: r.fields.get('m') } : {}),
          ...(r.fields.get('U') ? { url: r.fields.get('U') } : {}),
          ...(r.fields.get('c') ? { commit: r.fields.get('c') } : {}),
          ...(r.fields.get('I') ? { installedSize: Number(r.fields.get('I')) } : {}),
          ...(license ? { license } : {}),
        },
        foundBy: 'apk',
      });
    }
  }
  return { packages };
}

export const apkAnalyzer: Analyzer = { name: 'apk', wants: { paths: [INSTALLED], maxBytes: 256 * 1024 * 1024 }, analyze };
