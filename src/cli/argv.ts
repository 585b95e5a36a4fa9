/**
 * The command word of a `lading` command line, found without loading commander: the launcher and
 * main.ts decide from it how V8 runs (a one-shot command or the long-running `lading serve`), and
 * program.ts which command to define.
 */

/** The top-level commands, in the order `lading --help` lists them. */
export const COMMAND_WORDS: readonly string[] = [
  'image', 'sbom', 'scan', 'evaluate', 'diff', 'policy', 'serve', 'cache', 'db', 'subscription', 'repo',
  'registry', 'event', 'system', 'account', 'query', 'analysis-archive',
];

/** The root's options that take a value (`lading --url URL image list`); program.test.ts checks this against the command tree. */
export const ROOT_VALUE_OPTIONS: readonly string[] = ['--url', '--user', '--u', '--pass', '--p', '--as-account'];

/**
 * The first word of `argv` (node, script, args...) that names a top-level command, skipping
 * options and the values of the root's value options; undefined when there is none before `--` or
 * `help`.
 * An option the root does not know is taken for a flag, so `lading --config FILE serve` still
 * finds `serve` (FILE names no command).
 */
export function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return undefined;
    if (a.startsWith('-')) {
      if (ROOT_VALUE_OPTIONS.includes(a)) i++; // its value follows (`--url=X` has it inside)
      continue;
    }
    if (a === 'help') return undefined; // `lading help CMD` shows the whole tree's help
    if (COMMAND_WORDS.includes(a)) return a;
  }
  return undefined;
}

/** True when the command line runs the service (`lading serve`, wherever the word sits), which runs for days. */
export function runsService(argv: readonly string[]): boolean {
  return commandWord(argv) === 'serve';
}

/** `lading --version` (or `-V`) and nothing else: answered before any command code is loaded. */
export function versionOnly(argv: readonly string[]): boolean {
  return argv.length === 3 && (argv[2] === '--version' || argv[2] === '-V');
}
