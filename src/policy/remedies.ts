/**
 * What would need to change for a STOP row to stop firing, per gate: the advice (advice.ts) says
 * this of the rows a package upgrade does not remove. One entry per gate; a gate without one gets
 * the general answer.
 */
import type { ScanResult } from '../vulns/model.js';
import type { Decision } from './evaluate.js';
import { triggerPackage } from './gates/vulnerabilities.js';

const ALLOWLIST = (d: Decision) => `or allowlist trigger id ${d.triggerId} (gate ${d.gate}) once it is assessed`;

function vulnerabilityRemedy(d: Decision, scan: ScanResult | undefined): string {
  if (d.trigger === 'stale_feed_data') return 'update the vulnerability data (lading db update, or the service\'s feed sync)';
  if (d.trigger === 'vulnerability_data_unavailable') return 'provide vulnerability data for the image\'s distribution release (lading db update), or use a supported release';
  const m = scan?.matches.find((x) => d.triggerId === `${x.vulnerability.id}+${triggerPackage(x)}` || d.message.includes(`'${x.vulnerability.id}'`));
  if (!m) return d.message.startsWith('Vulnerability data unavailable') ? 'provide vulnerability data (lading db update) and evaluate again' : `remove the vulnerable package, ${ALLOWLIST(d)}`;
  const state = m.vulnerability.fixState === 'wont-fix' ? 'the vendor will not fix it' : 'no fixed version is known';
  const fix = m.vulnerability.fixedVersions.length ? `even its fix version (${m.vulnerability.fixedVersions.join(', ')}) is affected` : state;
  return `${m.package.name} ${m.package.version} has ${m.vulnerability.id} and ${fix}: remove or replace the package, ${ALLOWLIST(d)}`;
}

const REMEDIES: Record<string, (d: Decision, scan: ScanResult | undefined) => string> = {
  vulnerabilities: vulnerabilityRemedy,
  dockerfile: (d) => `change the Dockerfile (${d.trigger}) and rebuild, or give the real Dockerfile when it was only guessed from the history, ${ALLOWLIST(d)}`,
  secret_scans: (d) => `remove the secret from the image (and rotate it), ${ALLOWLIST(d)}`,
  files: (d) => `change or remove the file the ${d.trigger} check found, ${ALLOWLIST(d)}`,
  retrieved_files: (d) => `change the retrieved file's content, ${ALLOWLIST(d)}`,
  passwd_file: (d) => `change /etc/passwd (the user, id or shell the ${d.trigger} check names), ${ALLOWLIST(d)}`,
  packages: (d) => `change the installed packages as the ${d.trigger} check requires, ${ALLOWLIST(d)}`,
  licenses: (d) => `remove the package with that license, or allow the license in the bundle, ${ALLOWLIST(d)}`,
  npms: (d) => `remove or replace the npm package, ${ALLOWLIST(d)}`,
  ruby_gems: (d) => `remove or replace the gem, ${ALLOWLIST(d)}`,
  metadata: (d) => `change the image's metadata (${d.trigger}) and rebuild, ${ALLOWLIST(d)}`,
  malware: (d) => `remove the flagged file (or run the scan the rule needs), ${ALLOWLIST(d)}`,
  always: () => 'the policy stops every image it is mapped to: change the bundle\'s mapping or rule',
};

export function remedyOf(d: Decision, scan: ScanResult | undefined): string {
  return REMEDIES[d.gate]?.(d, scan) ?? `change what the ${d.gate} gate's ${d.trigger} check found, ${ALLOWLIST(d)}`;
}
