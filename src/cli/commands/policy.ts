/**
 * `lading policy validate FILE`: check an Anchore-format bundle, naming every problem with its
 * location; `lading policy describe`: the gate, trigger and parameter catalogue; `lading policy
 * default`: print the default bundle (a starting point for your own); `lading policy
 * add|list|get|activate|del`: the bundles stored in a running service.
 */
import { Command, Option } from 'commander';
import { outputOption } from '../options.js';
import { addConnectionOptions } from '../client/connection.js';
import { addServicePolicyCommands } from '../client/policy-commands.js';
import type { DescribeOptions, ValidateOptions } from './policy-run.js';

export function policyCommand(): Command {
  const policy = new Command('policy').description('policy bundles: validate them, and describe the gates they use');

  policy.command('validate').argument('<file>', 'policy bundle (JSON, Anchore format version 1_0)')
    .description('check a bundle: every problem with its location; exit 0 valid, 1 invalid, 2 error')
    .option('--strict', 'report end-of-life gates as errors (as Anchore did when a bundle was added)')
    .addOption(outputOption(['text', 'json'], 'text'))
    .action(async (file: string, o: ValidateOptions) => {
      await (await import('./policy-run.js')).runValidate(file, o);
    });

  addConnectionOptions(policy.command('describe'))
    .description('the gates, triggers and parameters bundles can use (Anchore\'s policy_spec); a running service\'s when --url or LADING_URL names one')
    .option('--gate <name>', 'one gate and its triggers')
    .option('--trigger <name>', 'with --gate: one trigger and its parameters')
    .option('--all', 'include end-of-life gates')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (o: DescribeOptions, cmd: Command) => {
      await (await import('./policy-run.js')).runDescribe(o, cmd);
    });

  policy.command('default')
    .description('print the default bundle (JSON), a starting point for your own')
    .action(async () => {
      (await import('./policy-run.js')).runDefault();
    });

  addServicePolicyCommands(policy);
  return policy;
}
