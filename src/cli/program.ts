/**
 * The `lading` command tree. Defining it loads only commander and the command definitions (every
 * action imports its work when it runs); `lading CMD ...` defines only CMD.
 */
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { commandWord } from './argv.js';
import { addConnectionOptions } from './client/connection.js';
const vulnData = () => import('./commands/vuln-data.js');

/** The top-level commands, in the order `lading --help` lists them; each module is loaded only when its command is defined. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  image: async () => (await import('./commands/image.js')).imageCommand(),
  sbom: async () => (await import('./commands/sbom.js')).sbomCommand(),
  scan: async () => (await import('./commands/scan.js')).scanCommand(async (db) => (await vulnData()).openVulnData(db)),
  evaluate: async () => (await import('./commands/evaluate.js')).evaluateCommand({ scan: async (sbom) => (await vulnData()).scanIfData(sbom) }),
  diff: async () => (await import('./commands/diff.js')).diffCommand({ openLookup: async (db) => (await vulnData()).openVulnDataIfAny(db) }),
  policy: async () => (await import('./commands/policy.js')).policyCommand(),
  serve: async () => (await import('./commands/serve.js')).serveCommand(),
  cache: async () => (await import('./commands/cache.js')).cacheCommand(),
  db: async () => (await import('./commands/db.js')).dbCommand(async () => (await import('../feeds/drivers/index.js')).DRIVERS),
  subscription: async () => (await import('./commands/subscription.js')).subscriptionCommand(),
  repo: async () => (await import('./commands/repo.js')).repoCommand(),
  registry: async () => (await import('./commands/registry.js')).registryCommand(),
  event: async () => (await import('./commands/event.js')).eventCommand(),
  system: async () => (await import('./commands/system.js')).systemCommand(),
  account: async () => (await import('./commands/account.js')).accountCommand(),
  query: async () => (await import('./commands/query.js')).queryCommand(),
  'analysis-archive': async () => (await import('./commands/analysis-archive.js')).analysisArchiveCommand(),
};

/** The top-level command names, in `lading --help`'s order (the start-up bench times each one's --help); argv.ts's COMMAND_WORDS. */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);

/** The top-level command `argv` runs (`lading sbom ...`, `lading --url U image list`); undefined when it names none (help, unknown). */
export function commandOf(argv: readonly string[]): string | undefined {
  const word = commandWord(argv);
  return word !== undefined && Object.hasOwn(COMMANDS, word) ? word : undefined;
}

/**
 * The command tree; with `only`, just that top-level command under the root (what `lading sbom
 * ...` needs: the others are neither parsed nor shown).
 */
export async function program(only?: string): Promise<Command> {
  const p = new Command('lading')
    .description('Inspect container images without running them: fetch, analyze, evaluate.')
    .version(VERSION, '-V, --version')
    .exitOverride()
    // Service connection options before the command (`lading --url URL image list`), as anchore-cli;
    // positional, so commands keep their own options of the same names.
    .enablePositionalOptions();
  addConnectionOptions(p);
  const names = only ? [only] : Object.keys(COMMANDS);
  for (const c of await Promise.all(names.map((n) => COMMANDS[n]!()))) p.addCommand(c);
  const inherit = (c: Command, path: string) => {
    oneLineUsageErrors(c, path);
    for (const sub of c.commands) {
      sub.exitOverride();
      inherit(sub, `${path} ${sub.name()}`);
    }
  };
  inherit(p, 'lading');
  return p;
}

/**
 * A usage error is one line, as every other error: `lading: error: missing required argument
 * 'ref' (run lading scan --help)`, not the whole help after it.
 */
function oneLineUsageErrors(c: Command, path: string): void {
  c.configureOutput({
    outputError: (message, write) => write(`lading: ${message.trim().replace(/\s*\n\s*/g, ' ')} (run ${path} --help)\n`),
  });
}
