/** Options shared by every command that reads an image, and turning them into source options. */
import { Command, Option } from 'commander';
import { parsePlatform } from '../image/platform.js';
import type { SourceOptions } from '../image/sources/index.js';
import type { Platform } from '../image/types.js';

export interface ImageCliOptions {
  platform?: string;
  username?: string;
  password?: string;
  /** Every registry: unverified TLS, then plain HTTP (grype's and trivy's --insecure). */
  insecure?: boolean;
  /** These registry hosts only (docker's --insecure-registry). */
  insecureRegistry?: string[];
  caFile?: string;
}

export function addImageOptions(cmd: Command): Command {
  return cmd
    .option('--platform <os/arch[/variant]>', 'platform to pick from a multi-platform image (default linux/amd64)')
    .option('--username <name>', 'registry user name (or LADING_REGISTRY_USERNAME)')
    .option('--password <secret>', 'registry password or token (or LADING_REGISTRY_PASSWORD)')
    .option('--insecure', 'do not verify registries\' TLS certificates, and allow plain HTTP (every registry; see --insecure-registry)')
    .addOption(new Option('--insecure-registry <host>', 'the same for this registry host only (host or host:port; repeatable)')
      .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .option('--ca-file <path>', 'extra CA certificates (PEM) to trust for registries')
    // `lading --insecure sbom REF` (the option before the command, as grype and trivy take it) means the same.
    .hook('preAction', (_self, action) => {
      if (action.optsWithGlobals().insecure === true) action.setOptionValue('insecure', true);
    });
}

export function sourceOptions(o: ImageCliOptions): SourceOptions {
  return {
    ...(o.username || o.password ? { credentialLookup: { ...(o.username ? { username: o.username } : {}), ...(o.password ? { password: o.password } : {}) } } : {}),
    ...(o.insecure || o.insecureRegistry?.length ? { insecureRegistries: [...(o.insecureRegistry ?? []), ...(o.insecure ? ['*'] : [])] } : {}),
    ...(o.caFile ? { caFile: o.caFile } : {}),
  };
}

export function platformOption(o: ImageCliOptions): Platform | undefined {
  return o.platform ? parsePlatform(o.platform) : undefined;
}

export function outputOption(choices: string[], def: string): Option {
  return new Option('-o, --output <format>', 'output format').choices(choices).default(def);
}

/** `--base REF` (repeatable) for sbom, scan and evaluate: see commands/base.ts. */
export function baseOption(): Option {
  return new Option('--base <ref>', 'an image (or SBOM file) the image may be built on; the one whose layers are the longest prefix of the image\'s is its base (repeatable)')
    .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
}
