/** `npms`: forbidden npm packages, and the checks that needed Anchore's legacy npm feed. */
import { defineGate, defineTrigger } from '../gate.js';
import { param } from '../params.js';
import { requireFeed, versionsByName } from './package-feed.js';

const feedTrigger = (name: string, description: string) => defineTrigger({
  name, description, state: 'active', params: {},
  evaluate(subject) {
    requireFeed(subject, 'npm', 'npm', 'npm package name(s)');
  },
});

const blacklisted = defineTrigger({
  name: 'blacklisted_name_version',
  description: 'Fires when an npm package with the name (and, when given, the version) is installed.',
  state: 'active',
  params: {
    name: param.str('name', { description: 'Name of the npm package to forbid.', example: 'time_diff', required: true }),
    version: param.str('version', { description: 'Forbid only this version of it.', example: '0.2.9' }),
  },
  evaluate(subject, p, ctx) {
    const versions = versionsByName(subject, 'npm').get(p.name);
    if (!versions) return;
    if (p.version && versions.includes(p.version)) ctx.fire(`NPM Package is blacklisted: ${p.name}-${p.version}`);
    else if (p.version === undefined) ctx.fire(`NPM Package is blacklisted: ${p.name}`);
  },
});

const noFeed = defineTrigger({
  name: 'feed_data_unavailable',
  description: 'Fires when the npm feed is not available (always, in Lading).',
  state: 'active',
  params: {},
  msg: 'NPM packages are present but the anchore npm feed is not available - will be unable to perform checks that require feed data',
  evaluate(_subject, _p, ctx) {
    ctx.fire();
  },
});

export const npmsGate = defineGate({
  name: 'npms',
  description: 'Checks on installed npm packages.',
  state: 'active',
  triggers: {
    newer_version_in_feed: feedTrigger('newer_version_in_feed', 'Fires for each installed npm package that is not the latest version in the npm feed. Needs the npm feed, which Lading does not have: reported as not evaluated when npm packages are installed.'),
    unknown_in_feeds: feedTrigger('unknown_in_feeds', 'Fires for each installed npm package that is not in the npm feed. Needs the npm feed, which Lading does not have: reported as not evaluated when npm packages are installed.'),
    version_not_in_feeds: feedTrigger('version_not_in_feeds', 'Fires for each installed npm version the npm feed does not list. Needs the npm feed, which Lading does not have: reported as not evaluated when npm packages are installed.'),
    blacklisted_name_version: blacklisted,
    feed_data_unavailable: noFeed,
  },
});
