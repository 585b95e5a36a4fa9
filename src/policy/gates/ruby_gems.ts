/** `ruby_gems`: forbidden gems, and the checks that needed Anchore's legacy gem feed. */
import { defineGate, defineTrigger } from '../gate.js';
import { param } from '../params.js';
import { requireFeed, versionsByName } from './package-feed.js';

const feedTrigger = (name: string, description: string) => defineTrigger({
  name, description, state: 'active', params: {},
  evaluate(subject) {
    requireFeed(subject, 'gem', 'gem', 'gem package name(s)');
  },
});

const blacklist = defineTrigger({
  name: 'blacklist',
  description: 'Fires when a gem with the name (and, when given, the version) is installed.',
  state: 'active',
  params: {
    name: param.str('name', { description: 'Name of the gem to forbid.', example: 'time_diff', required: true }),
    version: param.str('version', { description: 'Forbid only this version of it.', example: '0.2.9' }),
  },
  evaluate(subject, p, ctx) {
    const versions = versionsByName(subject, 'gem').get(p.name);
    if (!versions) return;
    if (p.version && versions.includes(p.version)) ctx.fire(`Gem Package is blacklisted: ${p.name}-${p.version}`);
    else if (p.version === undefined) ctx.fire(`Gem Package is blacklisted: ${p.name}`);
  },
});

const noFeed = defineTrigger({
  name: 'feed_data_unavailable',
  description: 'Fires when the gem feed is not available (always, in Lading).',
  state: 'active',
  params: {},
  msg: 'Gem packages are present but the anchore gem feed is not available - will be unable to perform checks that require feed data',
  evaluate(_subject, _p, ctx) {
    ctx.fire();
  },
});

export const rubyGemsGate = defineGate({
  name: 'ruby_gems',
  description: 'Checks on installed Ruby gems.',
  state: 'active',
  triggers: {
    newer_version_found_in_feed: feedTrigger('newer_version_found_in_feed', 'Fires for each installed gem that is not the latest version in the gem feed. Needs the gem feed, which Lading does not have: reported as not evaluated when gems are installed.'),
    not_found_in_feed: feedTrigger('not_found_in_feed', 'Fires for each installed gem that is not in the gem feed. Needs the gem feed, which Lading does not have: reported as not evaluated when gems are installed.'),
    version_not_found_in_feed: feedTrigger('version_not_found_in_feed', 'Fires for each installed gem version the gem feed does not list. Needs the gem feed, which Lading does not have: reported as not evaluated when gems are installed.'),
    blacklist,
    feed_data_unavailable: noFeed,
  },
});
