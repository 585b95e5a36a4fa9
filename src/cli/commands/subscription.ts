/**
 * `lading subscription list|activate|deactivate`: what the service watches and notifies about
 * (`/subscriptions`; types tag_update, policy_eval, vuln_update, analysis_update, repo_update).
 */
import { Argument, Command } from 'commander';
import { addConnectionOptions } from '../client/connection.js';
import { ServiceError, seg, type ServiceClient } from '../client/http.js';
import { normalTag } from '../client/images.js';
import { sortedTable, success, withService } from '../client/output.js';
import type { Subscription } from '../client/shapes.js';

export const SUBSCRIPTION_TYPES = ['tag_update', 'policy_eval', 'vuln_update', 'analysis_update', 'repo_update'] as const;

/** The key as the service stores it: a full tag, or registry/repo for repo_update. */
export function subscriptionKey(type: string, key: string): string {
  if (type !== 'repo_update') return normalTag(key);
  const tag = normalTag(key);
  return tag.slice(0, tag.lastIndexOf(':'));
}

/** The one subscription of this type and key. */
export async function findSubscription(client: ServiceClient, type: string, key: string): Promise<Subscription> {
  const found = await client.get<Subscription[]>('/subscriptions', { subscription_type: type, subscription_key: key });
  const sub = found.find((s) => s.subscription_type === type && s.subscription_key === key);
  if (!sub) throw new ServiceError(1, 'NOT_FOUND', `no ${type} subscription for ${key}`);
  return sub;
}

/** Set a subscription active or not (PUT /subscriptions/{id}). */
export async function setActive(client: ServiceClient, type: string, key: string, active: boolean): Promise<Subscription[]> {
  const sub = await findSubscription(client, type, key);
  return client.put<Subscription[]>(`/subscriptions/${seg(sub.subscription_id)}`, { active, subscription_type: type, subscription_key: key });
}

export function subscriptionsText(subs: Subscription[], full: boolean): string {
  return sortedTable(
    ['Tag', 'Subscription Type', 'Active', ...(full ? ['Subscription ID'] : [])],
    subs.map((s) => [s.subscription_key, s.subscription_type, s.active, ...(full ? [s.subscription_id] : [])]),
    'Tag',
  );
}

export function subscriptionCommand(): Command {
  const group = new Command('subscription').description('subscriptions of a Lading service: which tags are watched and notified about');

  addConnectionOptions(group.command('list'))
    .description('list subscriptions')
    .option('--full', 'also show subscription ids')
    .action(async (o: { full?: boolean }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const subs = await svc.client.get<Subscription[]>('/subscriptions');
        svc.print(subs, () => subscriptionsText(subs, o.full === true));
      });
    });

  for (const [name, active] of [['activate', true], ['deactivate', false]] as const) {
    addConnectionOptions(group.command(name)
      .addArgument(new Argument('<type>', 'subscription type').choices(SUBSCRIPTION_TYPES))
      .argument('<key>', 'the full tag (registry/repo for repo_update)'))
      .description(`${active ? 'turn on' : 'turn off'} a subscription`)
      .action(async (type: string, key: string, _o: unknown, cmd: Command) => {
        await withService(cmd, async (svc) => {
          const r = await setActive(svc.client, type, subscriptionKey(type, key), active);
          svc.print(r, () => success());
        });
      });
  }
  return group;
}
