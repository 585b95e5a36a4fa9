/**
 * Small hand-made SBOMs, scan results and bundles for the policy tests: only the fields a test
 * cares about are given, the rest default to an empty Debian image.
 */
import type { FileEntry, Package, Sbom } from '../sbom/model.js';
import type { Match, ScanResult } from '../vulns/model.js';
import { loadBundle } from './bundle.js';
import { evaluateBundle, type Evaluation } from './evaluate.js';
import { GATES } from './gates/index.js';
import { runTrigger, type Firing } from './gate.js';
import { Subject, type PolicyInput } from './subject.js';
import type { CompiledBundle } from './model.js';

export const IMAGE_ID = `sha256:${'a'.repeat(64)}`;
export const DIGEST = `sha256:${'d'.repeat(64)}`;
export const NOW = new Date('2024-06-01T12:00:00Z');

type SbomPatch = Partial<Omit<Sbom, 'source'>> & { source?: Partial<Omit<Sbom['source'], 'config'>> & { config?: Partial<Sbom['source']['config']> } };

export function makeSbom(patch: SbomPatch = {}): Sbom {
  const { source, ...rest } = patch;
  const base: Sbom = {
    schema: 'lading-sbom/1',
    createdAt: '2024-06-01T00:00:00Z',
    tool: { name: 'lading', version: 'test' },
    source: {
      imageId: IMAGE_ID,
      manifestDigest: DIGEST,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      tags: ['docker.io/library/app:1.0'],
      platform: { os: 'linux', architecture: 'amd64' },
      config: { env: [], entrypoint: null, cmd: null, user: '', workingDir: '', exposedPorts: [], volumes: [], labels: {} },
      layers: [],
      history: [],
      dockerfile: { mode: 'guessed', text: '' },
    },
    distro: { id: 'debian', versionId: '12', idLike: [], source: '/etc/os-release' },
    packages: [],
    files: [],
    secrets: [],
    contentMatches: [],
    retrievedFiles: [],
    warnings: [],
  };
  return {
    ...base,
    ...rest,
    source: { ...base.source, ...source, config: { ...base.source.config, ...source?.config } },
  };
}

export function pkg(name: string, version: string, p: Partial<Package> = {}): Package {
  const type = p.type ?? 'deb';
  return { name, version, type, purl: `pkg:${type}/${name}@${version}`, cpes: [], licenses: [], locations: [{ path: '/var/lib/dpkg/status' }], foundBy: 'test', ...p };
}

export function file(path: string, f: Partial<FileEntry> = {}): FileEntry {
  return { path, type: 'file', mode: 0o644, uid: 0, gid: 0, size: 10, layer: 0, ...f };
}

export function retrieved(path: string, content: string): Sbom['retrievedFiles'][number] {
  return { path, contentBase64: Buffer.from(content).toString('base64'), size: Buffer.byteLength(content) };
}

type MatchPatch = { vulnerability?: Partial<Match['vulnerability']>; package?: Partial<Match['package']> };

export function match(id: string, severity: Match['vulnerability']['severity'], pkgName: string, patch: MatchPatch = {}): Match {
  return {
    vulnerability: {
      id, aliases: [], severity, severitySource: 'debian', cvss: [], fixState: 'not-fixed', fixedVersions: [], references: [], sources: [],
      ...patch.vulnerability,
    },
    package: { name: pkgName, version: '1.0', type: 'deb', purl: `pkg:deb/debian/${pkgName}@1.0`, locations: [{ path: '/var/lib/dpkg/status' }], ...patch.package },
    match: { kind: 'distro', namespace: 'debian:12', name: pkgName, nameKind: 'binary', version: '1.0', constraint: '< 1.1', record: `debian:${id}` },
  };
}

export function makeScan(matches: Match[], patch: Partial<ScanResult> = {}): ScanResult {
  return {
    schema: 'lading-scan/1',
    createdAt: '2024-06-01T00:00:00Z',
    source: { imageId: IMAGE_ID, tags: [], input: 'test' },
    distro: { id: 'debian', versionId: '12' },
    matches,
    suppressed: [],
    warnings: [],
    db: { built: '2024-06-01T00:00:00Z', sources: [{ source: 'debian', lastSync: '2024-06-01T00:00:00Z' }] },
    ...patch,
  };
}

/** Run one trigger with string parameters (validated as a bundle would be); its firings. */
export function fire(gate: string, trigger: string, params: Record<string, string>, input: Partial<PolicyInput> = {}, ruleId = 'rule-1'): Firing[] {
  const bundle = oneRuleBundle(gate, trigger, params);
  const errors = bundle.problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new Error(`bad test rule: ${errors.map((e) => `${e.location}: ${e.message}`).join('; ')}`);
  const rule = [...bundle.policies.values()][0]!.rules[0]!;
  const subject = new Subject({ sbom: input.sbom ?? makeSbom(), scan: 'scan' in input ? input.scan : makeScan([]), ...input }, NOW);
  return runTrigger(GATES[gate]!, rule.trigger, subject, rule.values, ruleId).firings;
}

export function oneRuleBundle(gate: string, trigger: string, params: Record<string, string>, action = 'STOP'): CompiledBundle {
  return loadBundle({
    id: 'b', version: '1_0',
    policies: [{ id: 'p', version: '1_0', rules: [{ id: 'rule-1', gate, trigger, action, params: Object.entries(params).map(([name, value]) => ({ name, value })) }] }],
    mappings: [{ name: 'all', registry: '*', repository: '*', image: { type: 'tag', value: '*' }, policy_id: 'p' }],
  });
}

export function evaluateDoc(doc: unknown, input: Partial<PolicyInput> = {}, tag = 'docker.io/app:1.0', now = NOW): Evaluation {
  return evaluateBundle(loadBundle(doc), { sbom: input.sbom ?? makeSbom(), scan: 'scan' in input ? input.scan : makeScan([]), ...input }, { tag, now });
}
