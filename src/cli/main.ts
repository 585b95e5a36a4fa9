#!/usr/bin/env node
/** The `lading` command line. Errors print one line to stderr and exit 2. */
import { Command, CommanderError } from 'commander';
import { describeError, LadingError } from '../errors.js';
import { imageCommand } from './commands/image.js';
import { sbomCommand } from './commands/sbom.js';
import { scanCommand } from './commands/scan.js';
import { evaluateCommand } from './commands/evaluate.js';
import { policyCommand } from './commands/policy.js';
import { serveCommand } from './commands/serve.js';
import type { Sbom } from '../sbom/model.js';
import { dbCommand, describeLocation, resolveDbLocation } from './commands/db.js';
import { VERSION } from '../version.js';
import { addConnectionOptions } from './client/connection.js';
import { subscriptionCommand } from './commands/subscription.js';
import { repoCommand } from './commands/repo.js';
import { registryCommand } from './commands/registry.js';
import { eventCommand } from './commands/event.js';
import { systemCommand } from './commands/system.js';
import { accountCommand } from './commands/account.js';
import { queryCommand } from './commands/query.js';
import { cacheCommand } from './commands/cache.js';


/** The vulnerability database for a scan; an empty one is an error, never a silent "no findings". */
async function openVulnData(db?: string) {
  const { openVulnDb } = await import('../store/db.js');
  const location = resolveDbLocation(db);
  const vulndb = await openVulnDb(location);
  if (!(await vulndb.status()).some((s) => s.records > 0)) {
    await vulndb.close();
    throw new LadingError('NOT_FOUND', `the vulnerability database ${describeLocation(location)} has no data: run \`lading db update\` (online) or \`lading db import PATH\` (offline) first`);
  }
  return vulndb;
}

/** Vulnerabilities for `evaluate`: undefined when there is no data, so the vulnerability gate says so instead of passing. */
async function scanIfData(sbom: Sbom) {
  const { openVulnDb } = await import('../store/db.js');
  const { scanSbom } = await import('../vulns/scan.js');
  const vulndb = await openVulnDb(resolveDbLocation(undefined));
  try {
    if (!(await vulndb.status()).some((s) => s.records > 0)) return undefined;
    return await scanSbom(sbom, vulndb, { input: sbom.source.tags[0] ?? sbom.source.imageId });
  } finally {
    await vulndb.close();
  }
}

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
  p.addCommand(scanCommand(openVulnData));
  p.addCommand(evaluateCommand({ scan: scanIfData }));
  p.addCommand(policyCommand());
  p.addCommand(serveCommand());
  p.addCommand(cacheCommand());
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

export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    // A command may report a result through process.exitCode (scan --fail-on sets 1) without failing.
    return Number(process.exitCode ?? 0) || 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; usage errors were already printed by commander.
      return e.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(`lading: error: ${describeError(e)}\n`);
    if (process.env.LADING_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 2;
  }
}

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

main(process.argv).then((code) => {
  process.exitCode = code;
});
