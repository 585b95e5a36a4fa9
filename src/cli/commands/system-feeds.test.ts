/**
 * `lading system feeds enable|disable|config|delete` against a real service holding Debian 12
 * data: a group disabled and enabled again both ways (Lading's and anchore-cli's), a feed disabled,
 * the data of a disabled group deleted (refused while enabled), and the errors: no flag, an unknown
 * feed, a user who is not an admin.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, describeService, seedOpensslAdvisory } from '../../testkit/service.js';
import { lading, type CliRun } from '../testing.js';

const row = (text: string, group: string) => text.split('\n').find((l) => l.includes(` ${group}`))?.trim().split(/\s+/);

function ok(r: CliRun): CliRun {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

describeService('lading system feeds enable, disable, config, delete', { seed: seedOpensslAdvisory, dialects: ['sqlite'] }, (h) => {
  let env: Record<string, string>;
  const cli = (...args: string[]) => lading(args, env);

  before(async () => {
    env = { COLUMNS: '1000', LADING_URL: h().svc.url!, LADING_USER: ADMIN.user, LADING_PASS: ADMIN.pass, LADING_ACCOUNT: '', ANCHORE_CLI_URL: '', ANCHORE_CLI_USER: '', ANCHORE_CLI_PASS: '' };
  });

  test('disable and enable a group and a feed; delete a disabled group', async () => {
    const listed = ok(await cli('system', 'feeds', 'list')).stdout;
    assert.deepEqual(row(listed, 'debian:12')?.slice(0, 2), ['vulnerabilities', 'debian:12'], listed);

    const off = ok(await cli('system', 'feeds', 'disable', 'vulnerabilities', 'debian:12')).stdout;
    assert.deepEqual(row(off, 'debian:12(disabled)')?.slice(0, 2), ['vulnerabilities', 'debian:12(disabled)'], off);
    const json = JSON.parse(ok(await cli('system', 'feeds', 'list', '--json')).stdout) as { name: string; groups: { name: string; enabled: boolean }[] }[];
    assert.equal(json.find((f) => f.name === 'vulnerabilities')!.groups.find((g) => g.name === 'debian:12')!.enabled, false);

    const on = ok(await cli('system', 'feeds', 'config', 'vulnerabilities', '--group', 'debian:12', '--enable')).stdout;
    assert.deepEqual(row(on, 'debian:12')?.slice(0, 2), ['vulnerabilities', 'debian:12'], on);

    const feedOff = ok(await cli('system', 'feeds', 'config', 'vulnerabilities', '--disable')).stdout;
    assert.match(feedOff, /^vulnerabilities\(disabled\) +debian:12 /m);
    ok(await cli('system', 'feeds', 'enable', 'vulnerabilities'));
    assert.match(ok(await cli('system', 'feeds', 'list')).stdout, /^vulnerabilities +debian:12 /m);

    const enabledDelete = await cli('system', 'feeds', 'delete', 'vulnerabilities', '--group', 'debian:12');
    assert.equal(enabledDelete.code, 1, enabledDelete.stderr);
    assert.match(enabledDelete.stderr, /group debian:12 is enabled: disable it first/);
    ok(await cli('system', 'feeds', 'disable', 'vulnerabilities', 'debian:12'));
    const deleted = ok(await cli('system', 'feeds', 'delete', 'vulnerabilities', 'debian:12')).stdout;
    assert.doesNotMatch(deleted, /debian:12 .* [1-9]\d*$/m, deleted);
  });

  test('errors: neither flag, an unknown feed, not an admin', async () => {
    const neither = await cli('system', 'feeds', 'config', 'vulnerabilities');
    assert.equal(neither.code, 2);
    assert.match(neither.stderr, /give one of --enable or --disable/);
    const unknown = await cli('system', 'feeds', 'disable', 'nosuchfeed');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /nosuchfeed/);
    const { svc } = h();
    await svc.accounts.createAccount({ name: 'team2' });
    await svc.accounts.createUser('team2', { username: 'bob', password: 'bob-secret-1' });
    const notAdmin = await lading(['system', 'feeds', 'disable', 'vulnerabilities'], { ...env, LADING_USER: 'bob', LADING_PASS: 'bob-secret-1' });
    assert.equal(notAdmin.code, 1, notAdmin.stderr);
    assert.match(notAdmin.stderr, /admin/);
  });
});
