/**
 * The evaluate and policy commands in a program of their own, as src/cli/main.ts runs commands
 * (errors print one line and exit 2), for the CLI tests. LADING_TEST_SCAN=app: the scan holds the
 * application test image's known vulnerabilities; =none-found: a scan that found none; unset: no
 * vulnerability database exists.
 */
import { Command, CommanderError } from 'commander';
import { describeError } from '../../errors.js';
import { evaluateCommand } from '../commands/evaluate.js';
import { policyCommand } from '../commands/policy.js';
import { appScan } from '../../policy/e2e-images.js';
import type { Sbom } from '../../sbom/model.js';
import type { ScanResult } from '../../vulns/model.js';

const program = new Command('lading').exitOverride();
const scans: Record<string, (sbom: Sbom) => ScanResult> = {
  app: (sbom) => appScan(sbom),
  'none-found': (sbom) => ({ ...appScan(sbom, new Date().toISOString(), false) }),
};
program.addCommand(evaluateCommand({ scan: async (sbom) => scans[process.env.LADING_TEST_SCAN ?? '']?.(sbom) }));
program.addCommand(policyCommand());
for (const c of program.commands) {
  c.exitOverride();
  for (const s of c.commands) s.exitOverride();
}

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
    return;
  }
  process.stderr.write(`lading: error: ${describeError(e)}\n`);
  process.exitCode = 2;
});
