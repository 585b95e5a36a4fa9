/**
 * The analysis archive and its transition rules on SQLite and PostgreSQL with a fake clock:
 * archive rules by tag history and age, delete rules on the archive, exclusions, global rules,
 * images with several tags, and a second run that changes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeOnDatabases } from '../testkit/databases.js';
import { deb, sbomOf } from '../vulns/testing.js';
import { archiveCycle } from './archive.js';
import { ArchiveStore, globMatch, type NewRule } from '../store/archive.js';
import { CatalogStore } from '../store/catalog.js';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const DAY = 86_400_000;
const rule = (over: Partial<NewRule>): NewRule => ({
  selector: { registry: '*', repository: '*', tag: '*' }, analysisAgeDays: 0, tagVersionsNewer: 0, transition: 'archive', systemGlobal: false, ...over,
});

test('selector wildcards', () => {
  assert.equal(globMatch('*', 'anything'), true);
  assert.equal(globMatch('team/*', 'team/app'), true);
  assert.equal(globMatch('team/*', 'other/app'), false);
  assert.equal(globMatch('v1.*', 'v1x2'), false, 'a dot is literal');
  assert.equal(globMatch('v1.*', 'v1.2'), true);
});

describeOnDatabases('analysis archive', (t) => {
  let clock = Date.parse('2024-01-01T00:00:00Z');
  const now = () => new Date(clock);

  async function seed(catalog: CatalogStore, account: string, d: string, tag: string, repo = 'team/app', registry = 'reg.test'): Promise<void> {
    await catalog.addImage(account, { imageDigest: d, tag: { registry, repo, tag }, annotations: { who: account } });
    assert.equal(await catalog.saveAnalysis(account, d, sbomOf([deb('bash', '5.2-1')], undefined, d), { schemaVersion: 2 }), true);
  }

  test('archive rule: old digest of a tag with one newer version; newest stays; second run changes nothing', async () => {
    const db = t.db().kysely;
    const catalog = new CatalogStore(db, { now });
    const store = new ArchiveStore(db, catalog, { now });
    await seed(catalog, 'a', digest('1'), 'v1');
    clock += DAY;
    await seed(catalog, 'a', digest('2'), 'v1');
    await seed(catalog, 'a', digest('3'), 'other', 'team/other');
    await seed(catalog, 'b', digest('1'), 'v1'); // another account, same digest, no rules
    clock += 10 * DAY;
    const r = await store.addRule('a', rule({ selector: { registry: '*', repository: 'team/app', tag: '*' }, analysisAgeDays: 5, tagVersionsNewer: 1 }));
    assert.equal(r.transition, 'archive');

    const cycle = archiveCycle(store, 1000);
    assert.equal(await cycle.run(new AbortController().signal), '1 archived, 0 deleted from the archive, 0 failed');
    assert.equal(await catalog.getImage('a', digest('1')), undefined, 'the live image is gone');
    assert.ok(await catalog.getImage('a', digest('2')), 'the newest of the tag stays');
    assert.ok(await catalog.getImage('a', digest('3')), 'another repository stays');
    assert.ok(await catalog.getImage('b', digest('1')), 'account b has no rules');
    const archived = await store.getArchived('a', digest('1'));
    assert.equal(archived?.status, 'archived');
    assert.deepEqual(archived?.tags.map((x) => x.fulltag), ['reg.test/team/app:v1']);
    assert.deepEqual(archived?.annotations, { who: 'a' });
    assert.equal(archived?.archivedAt, now().toISOString());
    assert.equal(archived?.analyzedAt, '2024-01-01T00:00:00.000Z');
    assert.deepEqual((await store.getArchivedSbom('a', digest('1')))?.packages.map((p) => p.name), ['bash']);
    assert.equal(await store.getArchived('b', digest('1')), undefined);

    assert.equal(await cycle.run(new AbortController().signal), '0 archived, 0 deleted from the archive, 0 failed');
    assert.equal((await store.listArchived('a')).length, 1);
    assert.equal((await catalog.listImages('a')).length, 2);
    assert.equal(await store.deleteRule(r.ruleId), true);
  });

  test('delete rule removes old archived records; exclusions and multi-tag images are kept', async () => {
    const db = t.db().kysely;
    const catalog = new CatalogStore(db, { now });
    const store = new ArchiveStore(db, catalog, { now });
    await seed(catalog, 'c', digest('4'), 'keep');
    await seed(catalog, 'c', digest('5'), 'old');
    await seed(catalog, 'c', digest('6'), 'old');
    await seed(catalog, 'c', digest('6'), 'pinned', 'team/app', 'other.test'); // a second tag the rule does not select
    clock += 3 * DAY;
    const archiveRule = await store.addRule('c', rule({
      analysisAgeDays: 1, exclude: { selector: { registry: '*', repository: '*', tag: 'keep' }, expirationDays: -1 },
      selector: { registry: 'reg.test', repository: '*', tag: '*' },
    }));
    assert.deepEqual(await store.applyRules(), { archived: 1, deleted: 0, failed: 0 });
    assert.ok(await catalog.getImage('c', digest('4')), 'excluded');
    assert.ok(await catalog.getImage('c', digest('6')), 'its other tag is not selected, so the image stays');
    assert.ok(await store.getArchived('c', digest('5')));
    await store.deleteRule(archiveRule.ruleId);

    await store.addRule('c', rule({ transition: 'delete', analysisAgeDays: 2 }));
    assert.deepEqual(await store.applyRules(), { archived: 0, deleted: 0, failed: 0 }, 'archived just now: not old enough');
    clock += 3 * DAY;
    assert.deepEqual(await store.applyRules(), { archived: 0, deleted: 1, failed: 0 });
    assert.equal(await store.getArchived('c', digest('5')), undefined);
    assert.ok(await catalog.getImage('c', digest('4')), 'delete rules do not touch the working set');
  });

  test('a system_global rule applies to every account; manual archive of a missing or unanalyzed image fails', async () => {
    const db = t.db().kysely;
    const catalog = new CatalogStore(db, { now });
    const store = new ArchiveStore(db, catalog, { now });
    await seed(catalog, 'd', digest('7'), 'g');
    await seed(catalog, 'e', digest('8'), 'g');
    await catalog.addImage('e', { imageDigest: digest('9'), tag: { registry: 'reg.test', repo: 'team/app', tag: 'new' } });
    assert.deepEqual(await store.archiveImage('e', digest('9')), { digest: digest('9'), status: 'error', detail: `image ${digest('9')} is not_analyzed; only analyzed images can be archived` });
    assert.equal((await store.archiveImage('e', digest('a'))).status, 'error');
    clock += 2 * DAY;
    const g = await store.addRule('admin', rule({ systemGlobal: true, selector: { registry: '*', repository: '*', tag: 'g' }, analysisAgeDays: 1 }));
    assert.deepEqual((await store.listRules('d')).map((r) => r.ruleId).includes(g.ruleId), true);
    await store.applyRules();
    assert.ok(await store.getArchived('d', digest('7')));
    assert.ok(await store.getArchived('e', digest('8')));
    assert.ok(await catalog.getImage('e', digest('9')), 'not analyzed: never archived');
    assert.deepEqual(await store.archiveImage('d', digest('7')), { digest: digest('7'), status: 'archived' }, 'already archived');
    await store.deleteRule(g.ruleId);
  });

  test('a system_global rule with max_images_per_account archives each account\'s oldest analyzed images beyond the count', async () => {
    const db = t.db().kysely;
    const catalog = new CatalogStore(db, { now });
    const store = new ArchiveStore(db, catalog, { now });
    await seed(catalog, 'm', digest('b'), 'one', 'team/x');
    clock += DAY;
    await seed(catalog, 'm', digest('c'), 'two', 'team/y');
    clock += DAY;
    await seed(catalog, 'm', digest('d'), 'three', 'team/z');
    await seed(catalog, 'n', digest('e'), 'only');
    // Its selector selects nothing and its age is far off: the count alone decides, as Anchore's archiver does.
    const r = await store.addRule('admin', rule({ systemGlobal: true, maxImagesPerAccount: 1, analysisAgeDays: 10_000, selector: { registry: 'none', repository: 'none', tag: 'none' } }));
    assert.equal((await store.applyRules()).failed, 0); // (the earlier tests' accounts are held to one image too)
    assert.deepEqual((await catalog.listImages('m')).map((i) => i.imageDigest), [digest('d')], 'the newest analysis stays');
    assert.deepEqual((await store.listArchived('m')).map((a) => a.imageDigest).sort(), [digest('b'), digest('c')]);
    assert.ok(await catalog.getImage('n', digest('e')), 'an account within the count keeps its image');
    assert.deepEqual(await store.applyRules(), { archived: 0, deleted: 0, failed: 0 }, 'a second run changes nothing');
    await store.deleteRule(r.ruleId);
  });
});
