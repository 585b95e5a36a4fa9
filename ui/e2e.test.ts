/**
 * The web UI end to end in a real browser (Debian's chromium through playwright-core) against a
 * real service (SQLite), a real local registry and images built here: sign in, add an image through
 * the form and watch it get analyzed, filter its vulnerabilities, allowlist the finding from its row
 * (verdict fail → pass), compare it with a newer digest of the same tag; the phone-width layout and
 * keyboard navigation, and switching a feed group off and on from the System page. Screenshots of each step go to LADING_TEST_ARTIFACTS (default ui/test-artifacts/).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ADMIN, apiClient, seedOpensslAdvisory, startTestService, waitAnalyzed, type ApiClient } from '../src/testkit/service.js';
import { pushImage, registryAvailable, registrySkipReason, startRegistry, type RunningServer } from '../src/testkit/registry.js';
import { buildImage, type BuiltImage } from '../src/testkit/images.js';
import { ensureUiBuilt, PACKAGE_ROOT } from '../src/testkit/ui-build.js';
import type { RunningService } from '../src/services/server.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve(process.env.LADING_TEST_ARTIFACTS ?? join(PACKAGE_ROOT, 'ui/test-artifacts'));
const skip = !existsSync(CHROMIUM) ? `${CHROMIUM} is not installed (apt-get install chromium)` : !registryAvailable() ? registrySkipReason : false;

/** A Debian 12 image whose dpkg database holds libssl3 (source openssl) at `version`, plus `extra` packages. */
function debianImage(version: string, extra = ''): BuiltImage {
  return buildImage({
    layers: [
      { entries: [{ type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n' }], createdBy: '/bin/sh -c #(nop) ADD file:4b1be1de1a1e5aa608c688cad2824587262081866180d7368feb79d33ca05953 in / ' },
      {
        entries: [{ type: 'file', path: 'var/lib/dpkg/status', content: `Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: ${version}\nSource: openssl\n${extra}` }],
        createdBy: '/bin/sh -c apt-get update && apt-get install -y libssl3',
      },
    ],
  });
}

describe('web UI in a browser', { skip }, () => {
  let dir: string;
  let registry: RunningServer & { dir: string };
  let svc: RunningService;
  let api: ApiClient;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  let repoTag: string;
  let firstDigest: string;

  const shot = async (name: string) => {
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  };
  const base = () => svc.url!;

  before(async () => {
    ensureUiBuilt();
    await mkdir(ARTIFACTS, { recursive: true });
    dir = await mkdtemp(join(tmpdir(), 'lading-ui-e2e-'));
    const dbUrl = join(dir, 'lading.db');
    await seedOpensslAdvisory(dbUrl);
    registry = await startRegistry();
    repoTag = `${registry.host}/team/app:1.0`;
    await pushImage(registry.host, 'team/app', '1.0', debianImage('3.0.11-1~deb12u1'));
    ({ svc } = await startTestService(dbUrl, dir));
    api = apiClient(svc.url!);
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    // Air-gapped: nothing but the service itself may be requested.
    page.on('request', (r) => { if (!r.url().startsWith(base()) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) problems.push(`external request: ${r.url()}`); });
  });

  after(async () => {
    await browser?.close();
    await svc?.close();
    await registry?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('a browser opening / lands on the sign-in page, and a wrong password is refused', async () => {
    await page.goto(`${base()}/`);
    assert.equal(new URL(page.url()).pathname, '/ui/');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'invalid username or password' }).waitFor();
    await shot('01-sign-in-refused');
  });

  test('sign in: the dashboard', async (t) => {
    await page.getByLabel('Password').fill(ADMIN.pass);
    const started = Date.now();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.getByRole('heading', { name: 'Policy verdicts' }).waitFor();
    // A figure, not a pass/fail: timing belongs to benchmarks.
    t.diagnostic(`sign-in to dashboard: ${Date.now() - started} ms`);
    const token = await page.evaluate(() => sessionStorage.getItem('lading.token'));
    assert.match(token ?? '', /\S{16,}/, 'the bearer token is kept in sessionStorage');
    await shot('02-dashboard-empty');
  });

  test('add an image through the form and watch it go to analyzed', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Images' }).click();
    await page.getByLabel('Image tag').fill(repoTag);
    // The Dockerfile it was built from (with a HEALTHCHECK, so the default policy's only complaint is the vulnerability).
    await page.getByLabel('Dockerfile (optional)').setInputFiles({
      name: 'Dockerfile', mimeType: 'text/plain', buffer: Buffer.from('FROM debian:12\nRUN apt-get update && apt-get install -y libssl3\nHEALTHCHECK CMD true\n'),
    });
    await page.getByRole('button', { name: 'Add image' }).click();
    const watch = page.locator('.watch');
    await watch.waitFor();
    firstDigest = (await watch.getAttribute('data-digest'))!;
    assert.match(firstDigest, /^sha256:[0-9a-f]{64}$/);
    await shot('03-image-added');
    await watch.locator('[data-status="analyzed"]').waitFor({ timeout: 30_000 });
    // The list refreshes too: the image is there, analyzed, failing the default policy's check once evaluated.
    const row = page.locator('.images-table tbody tr', { hasText: repoTag });
    await row.locator('[data-status="analyzed"]').waitFor();
    await shot('04-image-analyzed');
    const listed = await api('GET', `/v1/images/${firstDigest}`, ADMIN);
    assert.equal(listed.body[0].analysis_status, 'analyzed');
    assert.equal(listed.body[0].image_content.metadata.dockerfile_mode, 'Actual', 'the uploaded Dockerfile was kept');
  });

  test('the image page: vulnerabilities, filtered to fixable ones', async () => {
    await page.locator('.watch').getByRole('link', { name: 'Open image' }).click();
    await page.getByRole('heading', { name: repoTag }).waitFor();
    await page.getByText('apt-get update && apt-get install -y libssl3').first().waitFor();
    await shot('05-image-overview');
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Vulnerabilities' }).click();
    const row = page.locator('tr[data-vuln="CVE-2024-0001"]');
    await row.waitFor();
    await page.getByLabel('Fixable only').check();
    await page.waitForFunction(() => location.hash.includes('fixable=true'));
    await row.waitFor();
    const text = await row.innerText();
    assert.match(text, /High/);
    assert.match(text, /libssl3/);
    assert.match(text, /3\.0\.15-1~deb12u1/, 'the fixed version');
    assert.match(text, /apt-get install -y libssl3/, 'the instruction that brought the package');
    await shot('06-vulnerabilities-fixable');
  });

  test('the policy tab shows the failing check with the gate and trigger that fired', async () => {
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Policy' }).click();
    const stop = page.locator('.card', { has: page.locator('.action-stop') });
    await stop.waitFor();
    assert.match(await stop.innerText(), /vulnerabilities \/ package[\s\S]*CVE-2024-0001\+libssl3/);
    assert.equal(await page.locator('.verdict-line [data-verdict]').getAttribute('data-verdict'), 'fail');
    await shot('07-policy-fail');
    await page.goBack();
    await page.locator('tr[data-vuln="CVE-2024-0001"]').waitFor();
  });

  test('allowlist the finding from its row: the verdict changes to pass', async () => {
    const row = page.locator('tr[data-vuln="CVE-2024-0001"]');
    await row.getByRole('button', { name: 'Allowlist…' }).click();
    const expiry = new Date(Date.now() + 14 * 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel(/Allow CVE-2024-0001 in libssl3 until/).fill(expiry);
    await page.getByRole('button', { name: 'Add to allowlist' }).click();
    const outcome = page.getByTestId('allowlist-outcome');
    await outcome.waitFor();
    const verdicts = await outcome.locator('[data-verdict]').evaluateAll((els) => els.map((e) => e.getAttribute('data-verdict')));
    assert.deepEqual(verdicts, ['fail', 'pass']);
    assert.match(await outcome.innerText(), /final action GO/);
    await shot('08-allowlisted-verdict-pass');
    // The active bundle holds the item, with its expiry, and the API's check agrees.
    const policies = await api('GET', '/v1/policies', ADMIN);
    const active = policies.body.find((p: { active: boolean }) => p.active);
    const bundle = (await api('GET', `/v1/policies/${active.policyId}?detail=true`, ADMIN)).body[0].policybundle;
    const items = bundle.whitelists.flatMap((w: { items: unknown[] }) => w.items);
    assert.deepEqual(items.map((i: { trigger_id: string; gate: string; expires_on: string }) => [i.gate, i.trigger_id, i.expires_on]), [['vulnerabilities', 'CVE-2024-0001+libssl3', `${expiry}T23:59:59Z`]]);
    const check = await api('GET', `/v1/images/${firstDigest}/check?tag=${encodeURIComponent(repoTag)}`, ADMIN);
    assert.equal(Object.values(check.body[0][firstDigest] as Record<string, { status: string }[]>)[0]![0]!.status, 'pass');
    // The policy tab marks the row allowlisted.
    await page.getByRole('link', { name: 'See the evaluation' }).click();
    await page.locator('tr.allowlisted', { hasText: 'CVE-2024-0001+libssl3' }).waitFor();
    assert.equal(await page.locator('.verdict-line [data-verdict]').getAttribute('data-verdict'), 'pass');
    await shot('09-policy-allowlisted');
  });

  test('compare two digests of the same tag', async () => {
    // The tag moves to a rebuilt image with libssl3 fixed and curl added.
    await pushImage(registry.host, 'team/app', '1.0', debianImage('3.0.15-1~deb12u1', '\nPackage: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u5\n'));
    const added = await api('POST', '/v1/images', { ...ADMIN, body: { tag: repoTag } });
    assert.equal(added.status, 200, added.text);
    const second = added.body[0].imageDigest as string;
    assert.notEqual(second, firstDigest);
    await waitAnalyzed(api, second);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Images' }).click();
    await page.getByLabel('Tag or digest').fill('team/app');
    await page.getByLabel('Tag or digest').press('Enter');
    await page.locator('.images-table tbody tr').nth(1).waitFor();
    assert.equal(await page.locator('.images-table tbody tr').count(), 2);
    await shot('10-images-list');
    // Oldest first as base: sort ascending by date added.
    await page.getByLabel('Order').selectOption('asc');
    await page.locator('.images-table tbody tr').first().filter({ hasText: firstDigest.slice(7, 19) }).waitFor();
    await page.locator('.images-table tbody tr').first().getByRole('checkbox').check();
    await page.locator('.images-table tbody tr').nth(1).getByRole('checkbox').check();
    await page.getByText('Two images selected').waitFor();
    await page.getByRole('button', { name: 'Compare selected' }).click();
    const change = page.getByTestId('verdict-change');
    await change.waitFor();
    // The new digest was evaluated when it was analyzed (no Dockerfile given: no HEALTHCHECK, a warning).
    await change.locator('[data-verdict="warn"]').waitFor();
    assert.deepEqual(await change.locator('[data-verdict]').evaluateAll((els) => els.map((e) => e.getAttribute('data-verdict'))), ['pass', 'warn']);
    assert.match(await change.innerText(), /\(changed\)/);
    assert.ok(page.url().includes(`base=${encodeURIComponent(firstDigest)}`) || page.url().includes(`base=${firstDigest}`), page.url());
    const fixed = page.locator('.card', { hasText: 'Vulnerabilities fixed' });
    assert.match(await fixed.innerText(), /CVE-2024-0001[\s\S]*libssl3/);
    assert.match(await page.locator('.card', { hasText: 'Vulnerabilities introduced' }).innerText(), /None/);
    const packages = await page.locator('.card', { has: page.getByRole('heading', { name: 'Packages' }) }).innerText();
    assert.match(packages, /upgraded\s+libssl3\s+deb\s+3\.0\.11-1~deb12u1\s+3\.0\.15-1~deb12u1/);
    assert.match(packages, /added\s+curl/);
    await shot('11-compare');
  });

  test('the other pages load: policies with the allowlist, registries, subscriptions, notifications, events, system', async () => {
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Policies' }).click();
    await page.getByRole('link', { name: 'Lading default bundle' }).click();
    await page.getByRole('heading', { name: 'Allowlists' }).waitFor();
    await page.getByText('CVE-2024-0001+libssl3').waitFor();
    await shot('12-policy-bundle');
    for (const [name, heading, file] of [
      ['Registries', 'Registries', '13-registries'], ['Subscriptions', 'Subscriptions', '14-subscriptions'],
      ['Notifications', 'Webhook notifications', '15-notifications'], ['Events', 'Events', '16-events'], ['System', 'System', '17-system'],
    ] as const) {
      await nav.getByRole('link', { name }).click();
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      await page.locator('main p.muted, main table, main ul').first().waitFor();
      await shot(file);
    }
    assert.match(await page.locator('main').innerText(), /debian/, 'the feed is listed');
    await nav.getByRole('link', { name: 'Dashboard' }).click();
    await page.locator('.card', { hasText: 'Worst images' }).locator('table').waitFor();
    await page.locator('canvas').waitFor();
    await shot('18-dashboard');
  });

  test('system page: switch a feed group off and on again; the service agrees', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'System' }).click();
    const group = page.getByRole('switch', { name: 'Group vulnerabilities/debian:12 enabled' });
    await group.waitFor();
    assert.equal(await group.isChecked(), true);
    const groupOf = async () => {
      const feeds = (await api('GET', '/v1/system/feeds', ADMIN)).body as { name: string; groups: { name: string; disabled?: boolean }[] }[];
      return feeds.find((f) => f.name === 'vulnerabilities')!.groups.find((g) => g.name === 'debian:12')!;
    };
    await group.uncheck();
    await page.getByRole('status').filter({ hasText: 'vulnerabilities/debian:12: disabled' }).waitFor();
    assert.equal(await group.isChecked(), false);
    assert.equal((await groupOf()).disabled, true);
    await shot('19-feed-group-disabled');
    await group.check();
    await page.getByRole('status').filter({ hasText: 'vulnerabilities/debian:12: enabled' }).waitFor();
    assert.equal((await groupOf()).disabled, false);
    const feed = page.getByRole('switch', { name: 'Feed vulnerabilities enabled' });
    await feed.uncheck();
    await page.getByRole('status').filter({ hasText: 'vulnerabilities: disabled' }).waitFor();
    assert.equal(((await api('GET', '/v1/system/feeds', ADMIN)).body as { name: string; disabled?: boolean }[]).find((f) => f.name === 'vulnerabilities')!.disabled, true);
    await feed.check();
    await page.getByRole('status').filter({ hasText: 'vulnerabilities: enabled' }).waitFor();
  });

  test('the keyboard reaches the main pages: Tab to a navigation link, Enter', async () => {
    for (const [name, hash, heading] of [['Images', '#/images', 'Images'], ['Policies', '#/policies', 'Policies'], ['Compare', '#/compare', 'Compare images']] as const) {
      // A fresh load, so Tab starts from the top of the page.
      await page.goto(`${base()}/ui/#/`);
      await page.reload();
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
      let reached = false;
      for (let i = 0; i < 25 && !reached; i++) {
        await page.keyboard.press('Tab');
        reached = await page.evaluate((n) => document.activeElement?.tagName === 'A' && document.activeElement.textContent === n && document.activeElement.closest('nav') !== null, name);
      }
      assert.ok(reached, `Tab never reached the ${name} link`);
      // The focused link is visibly outlined.
      const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
      assert.notEqual(outline, 'none');
      await page.keyboard.press('Enter');
      await page.waitForFunction((h) => location.hash.startsWith(h), hash);
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
    }
    await shot('19-keyboard-focus');
  });

  test('at phone width (390 px) the dashboard and the image list do not scroll sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [hash, heading, file] of [['#/', 'Dashboard', '20-phone-dashboard'], ['#/images', 'Images', '21-phone-images']] as const) {
      await page.goto(`${base()}/ui/${hash}`);
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      await page.locator('main table').first().waitFor();
      const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
      assert.ok(scroll <= client, `${hash}: page is ${scroll} px wide in a ${client} px viewport`);
      await shot(file);
    }
    // The navigation folds into a menu button.
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Policies' }).waitFor();
    await shot('22-phone-menu');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test('sign out ends the session and revokes its token on the server', async () => {
    const token = await page.evaluate(() => sessionStorage.getItem('lading.token'));
    assert.ok(token);
    assert.equal((await api('GET', '/v1/user', { token })).status, 200);
    const revoked = page.waitForResponse((r) => r.url().endsWith('/v1/oauth/token') && r.request().method() === 'DELETE');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.equal((await revoked).status(), 204);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('lading.token')), null);
    assert.equal((await api('GET', '/v1/user', { token })).status, 401);
  });

  test('no page errors, console errors or requests outside the service', () => {
    // A refused sign-in logs the 400 response in the console; that is the only expected one.
    assert.deepEqual(problems.filter((p) => !/status of 400/.test(p)), []);
  });
});
