/**
 * The `lading` command tree. Defining it loads only commander and the command definitions: every
 * action imports its work when it runs, so `lading --version` and `--help` start fast.
 */
import { Command } from 'commander';
import { VERSION } from '../version.js';
import { addConnectionOptions } from './client/connection.js';
import { accountCommand } from './commands/account.js';
import { dbCommand } from './commands/db.js';
import { evaluateCommand } from './commands/evaluate.js';
import { eventCommand } from './commands/event.js';
import { imageCommand } from './commands/image.js';
import { policyCommand } from './commands/policy.js';
import { queryCommand } from './commands/query.js';
import { registryCommand } from './commands/registry.js';
import { repoCommand } from './commands/repo.js';
import { sbomCommand } from './commands/sbom.js';
import { scanCommand } from './commands/scan.js';
import { serveCommand } from './commands/serve.js';
import { subscriptionCommand } from './commands/subscription.js';
import { systemCommand } from './commands/system.js';

const vulnData = () => import('./commands/vuln-data.js');

export function program(): Command {
  const p = new Command('lading')
    .description('Inspect container images without running them: fetch, analyze, evaluate.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError()
    .exitOverride()
    // Service connection options before the command (`lading --url URL image list`), as anchore-cli;
    // positional, so commands keep their own options of the same names.
    .enablePositionalOptions();
  addConnectionOptions(p);
  p.addCommand(imageCommand());
  p.addCommand(sbomCommand());
  p.addCommand(scanCommand(async (db) => (await vulnData()).openVulnData(db)));
  p.addCommand(evaluateCommand({ scan: async (sbom) => (await vulnData()).scanIfData(sbom) }));
  p.addCommand(policyCommand());
  p.addCommand(serveCommand());
  p.addCommand(dbCommand(async () => (await import('../feeds/drivers/index.js')).DRIVERS));
  for (const c of [subscriptionCommand(), repoCommand(), registryCommand(), eventCommand(), systemCommand(), accountCommand(), queryCommand()]) p.addCommand(c);
  const inherit = (c: Command) => {
    for (const sub of c.commands) {
      sub.exitOverride().showHelpAfterError();
      inherit(sub);
    }
  };
  inherit(p);
  return p;
}
