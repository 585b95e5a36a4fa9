/** Options shared by every command that reads an image, and turning them into source options. */
import { Command, Option } from 'commander';
import { parsePlatform } from '../image/platform.js';
import type { SourceOptions } from '../image/sources/index.js';
import type { Platform } from '../image/types.js';
import { LadingError } from '../errors.js';

export interface ImageCliOptions {
  platform?: string;
  username?: string;
  password?: string;
  /** Every registry: unverified TLS, then plain HTTP (grype's and trivy's --insecure). */
  insecure?: boolean;
  /** These registry hosts only (docker's --insecure-registry). */
  insecureRegistry?: string[];
  caCert?: string;
  /** --ca-file, the older name of --ca-cert. */
  caFile?: string;
  passwordStdin?: boolean;
}

/** A password piped to the command (`--password-stdin`): all of stdin, without the final line break. */
export async function readPasswordStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new LadingError('BAD_INPUT', '--password-stdin: stdin is a terminal; pipe the password in (echo "$TOKEN" | lading ...)');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (!password) throw new LadingError('BAD_INPUT', '--password-stdin: nothing was read from stdin');
  return password;
}

export function addImageOptions(cmd: Command): Command {
  return cmd
    .option('--platform <os/arch[/variant]>', 'platform to pick from a multi-platform image (default linux/amd64)')
    .option('--username <name>', 'registry user name (or LADING_REGISTRY_USERNAME)')
    .option('--password <secret>', 'registry password or token (or LADING_REGISTRY_PASSWORD)')
    .option('--password-stdin', 'read the registry password or token from stdin')
    .option('--insecure', 'do not verify registries\' TLS certificates, and allow plain HTTP (every registry; see --insecure-registry)')
    .addOption(new Option('--insecure-registry <host>', 'the same for this registry host only (host or host:port; repeatable)')
      .argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .option('--ca-cert <file>', 'extra CA certificates (PEM) to trust for registries')
    .addOption(new Option('--ca-file <file>', 'the older name of --ca-cert').hideHelp())
    // `lading --insecure sbom REF` (the option before the command, as grype and trivy take it) means the same.
    .hook('preAction', async (_self, action) => {
      if (action.optsWithGlobals().insecure === true) action.setOptionValue('insecure', true);
      const o = action.opts<ImageCliOptions>();
      if (o.passwordStdin) {
        if (o.password) throw new LadingError('BAD_INPUT', '--password and --password-stdin are exclusive');
        action.setOptionValue('password', await readPasswordStdin());
      }
    });
}

export function sourceOptions(o: ImageCliOptions): SourceOptions {
  return {
    ...(o.username || o.password ? { credentialLookup: { ...(o.username ? { username: o.username } : {}), ...(o.password ? { password: o.password } : {}) } } : {}),
    ...(o.insecure || o.insecureRegistry?.length ? { insecureRegistries: [...(o.insecureRegistry ?? []), ...(o.insecure ? ['*'] : [])] } : {}),
    ...(o.caCert ?? o.caFile ? { caFile: (o.caCert ?? o.caFile)! } : {}),
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

/**
 * `--base-lookup` for `lading sbom`: an inventory does not fetch a second image unless asked (as
 * syft and trivy do not); scan and evaluate, whose findings it marks, look it up unless `--no-base-lookup`.
 */
export function baseLookupOption(): Option {
  return new Option('--base-lookup', 'also fetch the base image the org.opencontainers.image.base.name/digest annotations name, and record it as the SBOM\'s base').default(false);
}

/** `--no-base-lookup`: see commands/base.ts. */
export function noBaseLookupOption(): Option {
  return new Option('--no-base-lookup', 'do not fetch the base image the org.opencontainers.image.base.name/digest annotations name (nor, with --advise, a newer digest of the base\'s tag)');
}
