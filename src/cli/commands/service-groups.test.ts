/**
 * The service command groups of the `lading` CLI (system, subscription, repo, registry, event,
 * account, query) run as a child process against a service started in process on SQLite, with a
 * real local registry holding a Debian-like image and seeded vulnerability data.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { buildImage, type BuiltImage } from '../../testkit/images.js';
import { pushImage } from '../../testkit/registry.js';
import { ADMIN, describeService, seedOpensslAdvisory } from '../../testkit/service.js';
import { lading, type CliRun } from '../testing.js';

const image: BuiltImage = buildImage({
  layers: [{ entries: [
    { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' },
    { type: 'file', path: 'var/lib/dpkg/status', content: 'Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u1\nSource: openssl\n' },
  ] }],
});

function ok(r: CliRun): CliRun {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

/** The data rows of a table (header dropped), split on runs of spaces. */
function rows(r: CliRun): string[][] {
  return r.stdout.trimEnd().split('\n').slice(1).filter(Boolean).map((l) => l.split(/\s{2,}/));
}

describeService('lading CLI service groups', { registry: true, seed: seedOpensslAdvisory, dialects: ['sqlite'] }, (h) => {
  let env: Record<string, string>;
  let host: string;
  let tag: string;
  const cli = (...args: string[]) => lading(args, env);

  before(async () => {
    host = h().registry!.host;
    await pushImage(host, 'team/app', 'v1', image);
    tag = `${host}/team/app:v1`;
    // COLUMNS: rows never wrap, the tests read them whole
    env = { COLUMNS: '1000', LADING_URL: `${h().svc.url!}/v1`, LADING_USER: ADMIN.user, LADING_PASS: ADMIN.pass, LADING_ACCOUNT: '', ANCHORE_CLI_URL: '', ANCHORE_CLI_USER: '', ANCHORE_CLI_PASS: '' };
    ok(await cli('image', 'add', tag));
    ok(await cli('image', 'wait', tag, '--interval', '0.2', '--timeout', '60'));
  });

  test('system status, wait and feeds list', async () => {
    const [status, wait, feeds, feedsJson] = await Promise.all([
      cli('system', 'status'),
      cli('system', 'wait', '--interval', '0.2', '--timeout', '30'),
      cli('system', 'feeds', 'list'),
      cli('system', 'feeds', 'list', '--json'),
    ]);
    assert.match(ok(status).stdout, /^Service worker \(.+, http:\/\/127\.0\.0\.1:\d+\/v1\): up$/m);
    assert.match(ok(wait).stdout, /^Engine DB Version: \S+$/m);
    assert.match(ok(feeds).stdout, /^Feed\s+Group\s+LastSync\s+Status\s+RecordCount$/m);
    const debian = rows(feeds).find((r) => r[0] === 'vulnerabilities' && r[1] === 'debian:12');
    assert.ok(debian, feeds.stdout);
    assert.match(debian[2]!, /^\d{4}-\d\d-\d\dT/);
    assert.equal(debian[3], 'ok');
    assert.ok(Number(debian[4]) > 0);
    const json = JSON.parse(ok(feedsJson).stdout) as { name: string; groups: { name: string; record_count: number }[] }[];
    assert.equal(json.find((f) => f.name === 'vulnerabilities')!.groups.find((g) => g.name === 'debian:12')!.record_count, Number(debian[4]));

    const never = await cli('system', 'wait', '--feedsready', 'no-such-feed', '--timeout', '0.5', '--interval', '0.1');
    assert.equal(never.code, 2);
    assert.match(never.stderr, /timed out after 0\.5s waiting for feed no-such-feed/);
  });

  test('subscription list, activate, deactivate', async () => {
    const list = ok(await cli('subscription', 'list'));
    const mine = rows(list).filter((r) => r[0] === tag);
    assert.deepEqual(mine.map((r) => r[1]).sort(), ['analysis_update', 'policy_eval', 'tag_update', 'vuln_update']);
    assert.equal(mine.find((r) => r[1] === 'analysis_update')![2], 'True');

    assert.equal(ok(await cli('subscription', 'activate', 'vuln_update', tag)).stdout, 'Success\n');
    const after = JSON.parse(ok(await cli('subscription', 'list', '--json')).stdout) as { subscription_key: string; subscription_type: string; active: boolean }[];
    assert.equal(after.find((s) => s.subscription_key === tag && s.subscription_type === 'vuln_update')!.active, true);
    ok(await cli('subscription', 'deactivate', 'vuln_update', tag));
    const full = ok(await cli('subscription', 'list', '--full'));
    const row = rows(full).find((r) => r[0] === tag && r[1] === 'vuln_update')!;
    assert.equal(row[2], 'False');
    assert.match(row[3]!, /^[0-9a-f]{32}$/);

    const missing = await cli('subscription', 'activate', 'vuln_update', `${host}/team/other:v1`);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no vuln_update subscription for/);
    const badType = await cli('subscription', 'activate', 'nope', tag);
    assert.notEqual(badType.code, 0);
  });

  test('repo add (dry run, then for real), list, get, unwatch, watch, del', async () => {
    const repo = `${host}/team/app`;
    const dry = ok(await cli('repo', 'add', repo, '--dryrun'));
    assert.match(dry.stdout, /^DRY RUN: Repository not added\n\nRepository\s+Watched\s+TagCount\n/);
    assert.deepEqual(rows({ ...dry, stdout: dry.stdout.split('\n\n')[1]! }), [[repo, 'False', '1']]);
    assert.deepEqual(rows(ok(await cli('repo', 'list'))), []);

    assert.deepEqual(rows(ok(await cli('repo', 'add', repo, '--noautosubscribe'))), [[repo, 'True', '1']]);
    assert.deepEqual(rows(ok(await cli('repo', 'list'))), [[repo, 'True', '1']]);
    assert.deepEqual(rows(ok(await cli('repo', 'unwatch', repo))), [[repo, 'False', '1']]);
    assert.deepEqual(rows(ok(await cli('repo', 'get', repo))), [[repo, 'False', '1']]);
    ok(await cli('repo', 'watch', repo));
    assert.equal(ok(await cli('repo', 'del', repo)).stdout, 'Success\n');
    const gone = await cli('repo', 'get', repo);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /no repo_update subscription/);
  });

  test('registry add, list, get, update, del (host:port URL-encoded in paths)', async () => {
    const added = ok(await cli('registry', 'add', host, 'ci-user', 'ci-pass', '--skip-validate', '--insecure', '--registry-name', 'local'));
    assert.match(added.stdout, new RegExp(`^Registry: ${host}$`, 'm'));
    assert.match(added.stdout, /^User: ci-user$/m);
    assert.match(added.stdout, /^Verify TLS: False$/m);
    assert.ok(!added.stdout.includes('ci-pass'));
    assert.deepEqual(rows(ok(await cli('registry', 'list'))), [[host, 'local', 'docker_v2', 'ci-user']]);
    const updated = ok(await cli('registry', 'update', host, 'other-user', 'other-pass', '--skip-validate'));
    assert.match(updated.stdout, /^User: other-user$/m);
    assert.match(updated.stdout, /^Verify TLS: True$/m);
    const got = JSON.parse(ok(await cli('registry', 'get', host, '--json')).stdout);
    assert.equal(got[0].registry_user, 'other-user');
    assert.equal(ok(await cli('registry', 'del', host)).stdout, 'Success\n');
    const gone = await cli('registry', 'get', host);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /not found/);
  });

  test('event list, get, del', async () => {
    const list = ok(await cli('event', 'list', '--event-type', 'user.image.analysis', '--full'));
    assert.match(list.stdout, /^Timestamp\s+Level\s+Event\s+ResourceType\s+Resource\s+Service\s+Host\s+ID$/m);
    const completed = rows(list).find((r) => r[2] === 'user.image.analysis.completed');
    assert.ok(completed, list.stdout);
    assert.equal(completed[1], 'info');
    const id = completed[7]!;
    const got = ok(await cli('event', 'get', id));
    assert.match(got.stdout, /^type: user\.image\.analysis\.completed$/m);
    const all = JSON.parse(ok(await cli('event', 'list', '--all', '--json')).stdout);
    assert.ok(all.results.some((e: { generated_uuid: string }) => e.generated_uuid === id));
    assert.equal(ok(await cli('event', 'del', id)).stdout, 'Success\n');
    assert.equal((await cli('event', 'get', id)).code, 1);
    const noSelection = await cli('event', 'del');
    assert.equal(noSelection.code, 2);
    assert.match(noSelection.stderr, /give an event id, --since\/--before, or --all/);
  });

  test('account whoami, add, user add, setpassword, list, disable, del', async () => {
    const who = ok(await cli('account', 'whoami'));
    assert.equal(who.stdout, 'Username: admin\nAccountName: admin\nAccountEmail: N/A\nAccountType: admin\n\n');

    const added = ok(await cli('account', 'add', 'team2', '--email', 'team2@example.com'));
    assert.match(added.stdout, /^Name: team2\nEmail: team2@example\.com\nType: user\nState: enabled\n/);
    ok(await cli('account', 'user', 'add', 'bob', 'bob-secret-1', '--account', 'team2'));
    const bob = { ...env, LADING_USER: 'bob', LADING_PASS: 'bob-secret-1' };
    const bobWho = await lading(['account', 'whoami'], bob);
    assert.match(ok(bobWho).stdout, /^Username: bob\nAccountName: team2\n/);
    // bob changes his own password (account and user default to the caller's)
    assert.equal(ok(await lading(['account', 'user', 'setpassword', 'bob-secret-2'], bob)).stdout, 'Password (re)set success\n');
    assert.equal((await lading(['account', 'whoami'], bob)).code, 2);
    ok(await lading(['account', 'whoami'], { ...bob, LADING_PASS: 'bob-secret-2' }));

    const [accounts, users, user] = await Promise.all([cli('account', 'list'), cli('account', 'user', 'list', '--account', 'team2'), cli('account', 'user', 'get', 'bob', '--account', 'team2', '--json')]);
    assert.deepEqual(rows(ok(accounts)).map((r) => r[0]).sort(), ['admin', 'team2']);
    assert.deepEqual(rows(ok(users)).map((r) => r[0]), ['bob']);
    assert.equal(JSON.parse(ok(user).stdout).username, 'bob');

    const enabled = await cli('account', 'del', 'team2');
    assert.equal(enabled.code, 1);
    assert.match(enabled.stderr, /disable it first/);
    ok(await cli('account', 'disable', 'team2'));
    assert.match(ok(await cli('account', 'get', 'team2')).stdout, /^State: disabled$/m);
    ok(await cli('account', 'del', 'team2'));
    const forbidden = await lading(['account', 'list'], { ...bob, LADING_PASS: 'bob-secret-2' });
    assert.equal(forbidden.code, 2);
  });

  test('query images-by-package and images-by-vulnerability', async () => {
    const [byPkg, byVuln, none] = await Promise.all([
      cli('query', 'images-by-package', '--name', 'libssl3'),
      cli('query', 'images-by-vulnerability', '--vulnerability-id', 'CVE-2024-0001'),
      cli('query', 'images-by-vulnerability', '--vulnerability-id', 'CVE-1999-0000', '--json'),
    ]);
    assert.deepEqual(rows(ok(byPkg)), [[tag, 'libssl3-3.0.11-1~deb12u1', 'dpkg', image.manifestDigest]]);
    assert.deepEqual(rows(ok(byVuln)), [[tag, 'High', 'libssl3-3.0.11-1~deb12u1', 'dpkg', 'debian:12', image.manifestDigest]]);
    assert.deepEqual(JSON.parse(ok(none).stdout).images, []);
    const missing = await cli('query', 'images-by-package');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /--name/);
  });
});
