/**
 * Start-up figures for `npm run bench`: `lading --version`, `lading --help` and every top-level
 * command's `--help` (defining the command loads its module, so this is each command's start)
 * next to bare `node -e 0`, each run alternately (so that a busy machine weighs on all alike),
 * median and best of the runs, and the difference to bare node. Run: node dist/bench/startup.js [RUNS]
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMAND_NAMES } from '../cli/program.js';

// The command users run: the package's bundled bin (npm run bench builds dist/ first).
const cli = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'bin', 'lading.js');

const CASES: [label: string, args: string[]][] = [
  ['node -e 0', ['-e', '0']],
  ['lading --version', [cli, '--version']],
  ['lading --help', [cli, '--help']],
  ...COMMAND_NAMES.map((c): [string, string[]] => [`lading ${c} --help`, [cli, c, '--help']]),
];

function wallMs(args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed:\n${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function startupFigures(runs = 15): string[] {
  const times = CASES.map(() => [] as number[]);
  for (const [, args] of CASES) wallMs(args); // warm the file cache
  for (let i = 0; i < runs; i++) CASES.forEach(([, args], c) => times[c]!.push(wallMs(args)));
  const base = median(times[0]!);
  const out = [`Start-up, ${runs} runs each, alternating (median / best, and the median over bare node):`];
  CASES.forEach(([label], c) => {
    const m = median(times[c]!);
    const over = c === 0 ? '' : `  +${Math.round(m - base)} ms over node`;
    out.push(`  ${label.padEnd(28)}${String(Math.round(m)).padStart(6)} ms  best ${String(Math.round(Math.min(...times[c]!))).padStart(5)} ms${over}`);
  });
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(startupFigures(process.argv[2] ? Number(process.argv[2]) : undefined).join('\n'));
}
