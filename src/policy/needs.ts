/**
 * What an analysis must record for a bundle's rules to be evaluated: the files to retrieve
 * verbatim (retrieved_files paths, /etc/passwd) and whether file checksums are needed
 * (files/attribute_match with a checksum).
 */
import type { CompiledBundle } from './model.js';

export interface AnalysisNeeds {
  retrieveFiles: string[];
  fileDigests: boolean;
}

export function analysisNeeds(bundle: CompiledBundle): AnalysisNeeds {
  const files = new Set<string>();
  let fileDigests = false;
  for (const policy of bundle.policies.values()) {
    for (const rule of policy.rules) {
      if (rule.gate.name === 'retrieved_files' && typeof rule.values.path === 'string') files.add(rule.values.path);
      if (rule.gate.name === 'passwd_file') files.add('/etc/passwd');
      if (rule.gate.name === 'files' && rule.trigger.name === 'attribute_match' && rule.values.checksum !== undefined) fileDigests = true;
    }
  }
  return { retrieveFiles: [...files].sort(), fileDigests };
}

/**
 * Whether a change of vulnerability data can change the bundle's verdicts: only the
 * `vulnerabilities` gate reads the scan (policy/subject.ts); without one, re-evaluating an image
 * after its findings changed gives the verdict it has.
 */
export function vulnerabilityDependent(bundle: CompiledBundle): boolean {
  for (const policy of bundle.policies.values()) if (policy.rules.some((r) => r.gate.name === 'vulnerabilities')) return true;
  return false;
}
