/** `passwd_file`: checks on the image's /etc/passwd, as retrieved at analysis. */
import { defineGate, defineTrigger, type TriggerContext } from '../gate.js';
import { param } from '../params.js';
import type { Subject } from '../subject.js';

/**
 * Each passwd entry whose field (undefined = the whole line, -1 = the user name, else the index
 * after the user name: 1 uid, 2 gid, 5 shell) is one of `wanted`, with its full line.
 */
function blacklisted(entries: Map<string, string[]>, wanted: Set<string>, field: number | undefined): [string, string][] {
  const out: [string, string][] = [];
  for (const [user, rest] of entries) {
    const line = [user, ...rest].join(':');
    const candidate = field === undefined ? line : field < 0 ? user : rest[field];
    if (candidate !== undefined && wanted.has(candidate)) out.push([candidate, line]);
  }
  return out;
}

function check(subject: Subject, wanted: string[], field: number | undefined, ctx: TriggerContext, message: (value: string, line: string) => string) {
  const entries = subject.passwd();
  if (!entries) return;
  for (const [value, line] of blacklisted(entries, new Set(wanted), field)) ctx.fire(message(value, line));
}

const contentNotAvailable = defineTrigger({
  name: 'content_not_available',
  description: 'Fires when /etc/passwd was not retrieved at analysis (absent from the image, or empty).',
  state: 'active',
  params: {},
  msg: 'Cannot locate /etc/passwd in image stored files archive: check analyzer settings.',
  evaluate(subject, _p, ctx) {
    if (!subject.passwd()) ctx.fire();
  },
});

const usernames = defineTrigger({
  name: 'blacklist_usernames',
  description: 'Fires for each listed user name found in /etc/passwd.',
  state: 'active',
  params: {
    user_names: param.csv('user_names', { description: 'User names that must not be in /etc/passwd.', example: 'daemon,ftp', required: true, aliases: ['usernameblacklist'] }),
  },
  evaluate(subject, p, ctx) {
    check(subject, p.user_names, -1, ctx, (u, line) => `Blacklisted user '${u}' found in image's /etc/passwd: pentry=${line}`);
  },
});

const userids = defineTrigger({
  name: 'blacklist_userids',
  description: 'Fires for each listed numeric user id found in /etc/passwd.',
  state: 'active',
  params: {
    user_ids: param.csvInt('user_ids', { description: 'User ids that must not be in /etc/passwd.', example: '0,1', required: true, aliases: ['useridblacklist'] }),
  },
  evaluate(subject, p, ctx) {
    check(subject, p.user_ids.map(String), 1, ctx, (u, line) => `Blacklisted uid '${u}' found in image's /etc/passwd: pentry=${line}`);
  },
});

const groupids = defineTrigger({
  name: 'blacklist_groupids',
  description: 'Fires for each listed numeric group id found as a primary group in /etc/passwd.',
  state: 'active',
  params: {
    group_ids: param.csvInt('group_ids', { description: 'Group ids that must not be in /etc/passwd.', example: '999,20', required: true }),
  },
  evaluate(subject, p, ctx) {
    check(subject, p.group_ids.map(String), 2, ctx, (g, line) => `Blacklisted gid '${g}' found in image's /etc/passwd: pentry=${line}`);
  },
});

const shells = defineTrigger({
  name: 'blacklist_shells',
  description: 'Fires for each /etc/passwd entry whose login shell is listed.',
  state: 'active',
  params: {
    shells: param.csv('shells', { description: 'Login shells that must not be used.', example: '/bin/bash,/bin/zsh', required: true }),
  },
  evaluate(subject, p, ctx) {
    check(subject, p.shells, 5, ctx, (s, line) => `Blacklisted shell '${s}' found in image's /etc/passwd: pentry=${line}`);
  },
});

const fullEntry = defineTrigger({
  name: 'blacklist_full_entry',
  description: 'Fires when the exact /etc/passwd line is present.',
  state: 'active',
  params: {
    entry: param.str('entry', { description: 'A complete /etc/passwd line.', example: 'ftp:x:14:50:FTP User:/var/ftp:/sbin/nologin', required: true }),
  },
  evaluate(subject, p, ctx) {
    check(subject, [p.entry.trim()], undefined, ctx, (e, line) => `Blacklisted pentry '${e}' found in image's /etc/passwd: pentry=${line}`);
  },
});

export const passwdFileGate = defineGate({
  name: 'passwd_file',
  description: 'Checks on /etc/passwd: user names, user and group ids, shells, or whole entries.',
  state: 'active',
  triggers: {
    content_not_available: contentNotAvailable,
    blacklist_usernames: usernames,
    blacklist_userids: userids,
    blacklist_groupids: groupids,
    blacklist_shells: shells,
    blacklist_full_entry: fullEntry,
  },
});
