/**
 * `lading policy add FILE|list|get ID|activate ID|del ID`: the policy bundles stored in a running
 * Lading service (`/policies`), as anchore-cli's `policy` group.
 */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { LadingError, unreadable } from '../../errors.js';
import { json } from '../render.js';
import { addConnectionOptions } from './connection.js';
import { seg } from './http.js';
import { block, sortedTable, success, withService } from './output.js';
import type { PolicyRecord } from './shapes.js';

function recordText(records: PolicyRecord[]): string {
  return records.map((p) => block([['Policy ID', p.policyId], ['Active', p.active], ['Source', p.policy_source], ['Created', p.created_at], ['Updated', p.last_updated]])).join('');
}

async function readBundleFile(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch(unreadable(`${path}`));
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new LadingError('BAD_INPUT', `${path} is not a JSON policy bundle: ${(e as Error).message}`);
  }
}

export function addServicePolicyCommands(policy: Command): void {
  addConnectionOptions(policy.command('add').argument('<file>', 'policy bundle (JSON)'))
    .description('store a policy bundle in the service (it is not activated)')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const bundle = await readBundleFile(file);
      await withService(cmd, async (svc) => {
        const record = await svc.client.post<PolicyRecord>('/policies', bundle);
        svc.print(record, () => recordText([record]));
      });
    });

  addConnectionOptions(policy.command('list'))
    .description('the policy bundles stored in the service')
    .action(async (_o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const records = await svc.client.get<PolicyRecord[]>('/policies', { detail: false });
        svc.print(records, () => sortedTable(['Policy ID', 'Active', 'Created', 'Updated'],
          records.map((p) => [p.policyId, p.active, p.created_at, p.last_updated]), 'Active', true));
      });
    });

  addConnectionOptions(policy.command('get').argument('<id>', 'policy bundle id'))
    .description('a stored policy bundle\'s record; with --detail the bundle itself')
    .option('--detail', 'print the bundle (JSON)')
    .action(async (id: string, o: { detail?: boolean }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const records = await svc.client.get<PolicyRecord[]>(`/policies/${seg(id)}`, { detail: o.detail === true });
        svc.print(records, () => (o.detail ? json(records[0]?.policybundle ?? records) : recordText(records)));
      });
    });

  addConnectionOptions(policy.command('activate').argument('<id>', 'policy bundle id'))
    .description('make a stored bundle the account\'s active one (used by evaluate check)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const [record] = await svc.client.get<PolicyRecord[]>(`/policies/${seg(id)}`, { detail: true });
        const updated = await svc.client.put<PolicyRecord[]>(`/policies/${seg(id)}`, { ...record, policyId: id, active: true });
        svc.print(updated, () => success(`${id} activated`));
      });
    });

  addConnectionOptions(policy.command('del').argument('<id>', 'policy bundle id'))
    .description('delete a stored bundle (not the active one)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const r = await svc.client.delete<unknown>(`/policies/${seg(id)}`);
        svc.print(r, () => success());
      });
    });
}
