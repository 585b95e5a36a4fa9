/**
 * `lading account whoami|add|list|get|del|enable|disable` and `lading account user
 * add|del|get|list|setpassword`: accounts and users of a Lading service (`/accounts`, `/account`,
 * `/user`; admin rights for everything but whoami and one's own password).
 */
import { Command } from 'commander';
import { addConnectionOptions } from '../client/connection.js';
import { seg, type ServiceClient } from '../client/http.js';
import { block, sortedTable, success, withService } from '../client/output.js';
import type { Account, User } from '../client/shapes.js';

function accountText(a: Account): string {
  return block([['Name', a.name], ['Email', a.email ?? 'N/A'], ['Type', a.type], ['State', a.state], ['Created', a.created_at]]);
}

function userText(u: User): string {
  return block([['Name', u.username], ['Type', u.type], ['Source', u.source ?? 'N/A'], ['Created', u.created_at]]);
}

/** The account a user command works in: --account, else the caller's own. */
async function accountName(client: ServiceClient, given: string | undefined): Promise<string> {
  return given ?? (await client.get<Account>('/account')).name;
}

function userCommands(): Command {
  const user = new Command('user').description('users of an account (default: your own account)');

  addConnectionOptions(user.command('add').argument('<username>').argument('<password>'))
    .description('add a user to an account')
    .option('--account <name>', 'the account (default: yours)')
    .action(async (username: string, password: string, o: { account?: string }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const a = await accountName(svc.client, o.account);
        const u = await svc.client.post<User>(`/accounts/${seg(a)}/users`, { username, password });
        svc.print(u, () => userText(u));
      });
    });

  addConnectionOptions(user.command('del').argument('<username>'))
    .description('delete a user')
    .option('--account <name>', 'the account (default: yours)')
    .action(async (username: string, o: { account?: string }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const a = await accountName(svc.client, o.account);
        const r = await svc.client.delete<unknown>(`/accounts/${seg(a)}/users/${seg(username)}`);
        svc.print(r, () => success());
      });
    });

  addConnectionOptions(user.command('get').argument('<username>'))
    .description('one user')
    .option('--account <name>', 'the account (default: yours)')
    .action(async (username: string, o: { account?: string }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const a = await accountName(svc.client, o.account);
        const u = await svc.client.get<User>(`/accounts/${seg(a)}/users/${seg(username)}`);
        svc.print(u, () => userText(u));
      });
    });

  addConnectionOptions(user.command('list'))
    .description('the users of an account')
    .option('--account <name>', 'the account (default: yours)')
    .action(async (o: { account?: string }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const a = await accountName(svc.client, o.account);
        const users = await svc.client.get<User[]>(`/accounts/${seg(a)}/users`);
        svc.print(users, () => sortedTable(['Name', 'Type', 'Source', 'Created'], users.map((u) => [u.username, u.type, u.source ?? 'N/A', u.created_at]), 'Created'));
      });
    });

  addConnectionOptions(user.command('setpassword').argument('<password>', 'the new password'))
    .description('set a user\'s password (default: your own)')
    .option('--username <name>', 'the user (default: you)')
    .option('--account <name>', 'the user\'s account (default: yours)')
    .action(async (password: string, o: { username?: string; account?: string }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const a = await accountName(svc.client, o.account);
        const username = o.username ?? (await svc.client.get<User>('/user')).username;
        const r = await svc.client.post<User>(`/accounts/${seg(a)}/users/${seg(username)}/credentials`, { type: 'password', value: password });
        svc.print(r, () => 'Password (re)set success\n');
      });
    });
  return user;
}

export function accountCommand(): Command {
  const group = new Command('account').description('accounts and users of a Lading service');

  addConnectionOptions(group.command('whoami'))
    .description('the user and account you are logged in as')
    .action(async (_o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const account = await svc.client.get<Account>('/account');
        const user = await svc.client.get<User>('/user');
        svc.print({ account, user }, () => block([['Username', user.username], ['AccountName', account.name], ['AccountEmail', account.email ?? 'N/A'], ['AccountType', account.type]]));
      });
    });

  addConnectionOptions(group.command('add').argument('<name>', 'account name'))
    .description('create an account (admin)')
    .option('--email <address>', 'contact email')
    .action(async (name: string, o: { email?: string }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const a = await svc.client.post<Account>('/accounts', { name, ...(o.email ? { email: o.email } : {}) });
        svc.print(a, () => accountText(a));
      });
    });

  addConnectionOptions(group.command('list'))
    .description('every account (admin)')
    .action(async (_o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const list = await svc.client.get<Account[]>('/accounts');
        svc.print(list, () => sortedTable(['Name', 'Email', 'Type', 'State', 'Created'], list.map((a) => [a.name, a.email ?? 'N/A', a.type, a.state, a.created_at]), 'Created'));
      });
    });

  addConnectionOptions(group.command('get').argument('<name>', 'account name'))
    .description('one account')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const a = await svc.client.get<Account>(`/accounts/${seg(name)}`);
        svc.print(a, () => accountText(a));
      });
    });

  addConnectionOptions(group.command('del').argument('<name>', 'account name'))
    .description('delete an account and everything in it (disable it first)')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const r = await svc.client.delete<unknown>(`/accounts/${seg(name)}`);
        svc.print(r, () => success());
      });
    });

  for (const [verb, state] of [['enable', 'enabled'], ['disable', 'disabled']] as const) {
    addConnectionOptions(group.command(verb).argument('<name>', 'account name'))
      .description(`${verb} an account (admin)`)
      .action(async (name: string, _o: unknown, cmd: Command) => {
        await withService(cmd, async (svc) => {
          const r = await svc.client.put<unknown>(`/accounts/${seg(name)}/state`, { state });
          svc.print(r, () => success());
        });
      });
  }

  group.addCommand(userCommands());
  return group;
}
