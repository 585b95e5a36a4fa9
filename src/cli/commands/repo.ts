/**
 * `lading repo add|list|get|del|watch|unwatch`: whole repositories watched by the service (a
 * `repo_update` subscription; new tags are added as images).
 */
import { Command } from 'commander';
import { addConnectionOptions } from '../client/connection.js';
import { seg } from '../client/http.js';
import { sortedTable, success, withService } from '../client/output.js';
import type { Subscription } from '../client/shapes.js';
import { findSubscription, setActive, subscriptionKey } from './subscription.js';

function tagCount(s: Subscription): unknown {
  try {
    const v = JSON.parse(s.subscription_value ?? '') as { tagcount?: unknown };
    return v.tagcount ?? 'N/A';
  } catch {
    return 'N/A';
  }
}

export function reposText(subs: Subscription[]): string {
  return sortedTable(['Repository', 'Watched', 'TagCount'], subs.map((s) => [s.subscription_key, s.active, tagCount(s)]), 'Repository');
}

export function repoCommand(): Command {
  const group = new Command('repo').description('repositories a Lading service watches for new tags');

  addConnectionOptions(group.command('add').argument('<repo>', 'registry/repository'))
    .description('watch a repository: every tag is added now, and new tags as they appear')
    .option('--noautosubscribe', 'do not activate tag_update subscriptions for the added tags')
    .option('--lookuptag <tag>', 'the tag used to check the repository exists (default latest)')
    .option('--dryrun', 'list what would be added, add nothing')
    .action(async (repo: string, o: { noautosubscribe?: boolean; lookuptag?: string; dryrun?: boolean }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const subs = await svc.client.post<Subscription[]>('/repositories', undefined, {
          repository: repo,
          autosubscribe: !o.noautosubscribe,
          dryrun: o.dryrun === true,
          ...(o.lookuptag ? { lookuptag: o.lookuptag } : {}),
        });
        svc.print(subs, () => `${o.dryrun ? 'DRY RUN: Repository not added\n\n' : ''}${reposText(subs)}`);
      });
    });

  addConnectionOptions(group.command('list'))
    .description('the watched repositories')
    .action(async (_o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const subs = await svc.client.get<Subscription[]>('/subscriptions', { subscription_type: 'repo_update' });
        const repos = subs.filter((s) => s.subscription_type === 'repo_update');
        svc.print(repos, () => reposText(repos));
      });
    });

  addConnectionOptions(group.command('get').argument('<repo>', 'registry/repository'))
    .description('one watched repository')
    .action(async (repo: string, _o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const sub = await findSubscription(svc.client, 'repo_update', subscriptionKey('repo_update', repo));
        svc.print([sub], () => reposText([sub]));
      });
    });

  addConnectionOptions(group.command('del').argument('<repo>', 'registry/repository'))
    .description('stop watching a repository and forget it (its images stay)')
    .action(async (repo: string, _o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const sub = await findSubscription(svc.client, 'repo_update', subscriptionKey('repo_update', repo));
        const r = await svc.client.delete<unknown>(`/subscriptions/${seg(sub.subscription_id)}`);
        svc.print(r, () => success());
      });
    });

  for (const [name, active] of [['watch', true], ['unwatch', false]] as const) {
    addConnectionOptions(group.command(name).argument('<repo>', 'registry/repository'))
      .description(active ? 'resume watching a repository' : 'pause watching a repository (kept, not polled)')
      .action(async (repo: string, _o: unknown, cmd: Command) => {
        await withService(cmd, async (svc) => {
          const updated = await setActive(svc.client, 'repo_update', subscriptionKey('repo_update', repo), active);
          svc.print(updated, () => reposText(updated));
        });
      });
  }
  return group;
}
