/** Every gate by name: the active ones, then the end-of-life ones old bundles may still name. */
import type { GateDef } from '../gate.js';
import { alwaysGate } from './always.js';
import { dockerfileGate } from './dockerfile.js';
import { filesGate } from './files.js';
import { passwdFileGate } from './passwd_file.js';
import { packagesGate } from './packages.js';
import { vulnerabilitiesGate } from './vulnerabilities.js';
import { licensesGate } from './licenses.js';
import { rubyGemsGate } from './ruby_gems.js';
import { npmsGate } from './npms.js';
import { secretScansGate } from './secret_scans.js';
import { metadataGate } from './metadata.js';
import { retrievedFilesGate } from './retrieved_files.js';
import { malwareGate } from './malware.js';
import { eolGates } from './eol.js';

export const GATES: Record<string, GateDef> = Object.fromEntries([
  alwaysGate,
  dockerfileGate,
  filesGate,
  passwdFileGate,
  packagesGate,
  vulnerabilitiesGate,
  licensesGate,
  rubyGemsGate,
  npmsGate,
  secretScansGate,
  metadataGate,
  retrievedFilesGate,
  malwareGate,
  ...eolGates,
].map((g) => [g.name, g]));

/** The gate with this name, matched case-insensitively. */
export function gateNamed(name: string): GateDef | undefined {
  return Object.hasOwn(GATES, name.toLowerCase()) ? GATES[name.toLowerCase()] : undefined;
}
