/**
 * `lading analysis-archive images ...` against a running service (SQLite, in process): an archive
 * Anchore Engine wrote is imported from a file, archived (add), listed, shown, exported to a file,
 * deleted from the archive and imported again from the exported file, keeping its times and
 * evaluation history; a missing file, a file that is not an archive, a bad digest and an export
 * of what is not archived are clear errors with anchore-cli's exit codes.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ADMIN, describeService, seedOpensslAdvisory } from '../../testkit/service.js';
import { anchoreArchive } from '../../services/testing-anchore-archive.js';
import { lading, type CliRun } from '../testing.js';

const d = `sha256:${'7'.repeat(64)}`;
const T0 = Date.parse('2022-02-02T02:02:02Z') / 1000;

function ok(r: CliRun): CliRun {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

describeService('lading analysis-archive', { seed: seedOpensslAdvisory, dialects: ['sqlite'] }, (h) => {
  let env: Record<string, string>;
  let dir: string;
  const cli = (...args: string[]) => lading(args, env);

  before(async () => {
    env = { COLUMNS: '1000', LADING_URL: h().svc.url!, LADING_USER: ADMIN.user, LADING_PASS: ADMIN.pass, LADING_ACCOUNT: '', ANCHORE_CLI_URL: '', ANCHORE_CLI_USER: '', ANCHORE_CLI_PASS: '' };
    dir = await mkdtemp(join(tmpdir(), 'lading-archive-cli-'));
  });

  test('import an Anchore archive, archive it, export, delete, import the export', async () => {
    const anchoreFile = join(dir, 'anchore.tar.gz');
    const fulltag = 'registry.example.com/team/app:v2';
    await writeFile(anchoreFile, anchoreArchive({
      account: 'someone-else', imageDigest: d, imageId: 'c'.repeat(64), tag: { registry: 'registry.example.com', repo: 'team/app', tag: 'v2' },
      createdAt: T0, analyzedAt: T0 + 60, tagCreatedAt: T0, tagLastUpdated: T0 + 60,
      debs: { libssl3: { version: '3.0.11-1~deb12u1', sourcepkg: 'openssl', arch: 'amd64' } }, distro: { id: 'debian', version: '12' },
      evaluations: [{ evalId: 'x1', policyId: 'p', finalAction: 'WARN', createdAt: T0 + 90, doc: { result: {}, final_action: 'warn', bundle: {}, tag: fulltag } }],
    }));
    const imported = ok(await cli('analysis-archive', 'images', 'import', anchoreFile));
    assert.match(imported.stdout, new RegExp(`^Image Digest: ${d}$`, 'm'));
    assert.match(imported.stdout, /^Analysis Status: analyzed$/m);
    assert.match(imported.stdout, new RegExp(`^Full Tag: ${fulltag}$`, 'm'));

    const added = ok(await cli('analysis-archive', 'images', 'add', d));
    assert.match(added.stdout, new RegExp(`${d}\\s+archived`));
    const listed = ok(await cli('analysis-archive', 'images', 'list'));
    assert.match(listed.stdout, new RegExp(`${d}\\s+${fulltag.replace(/\./g, '\\.')}\\s+2022-02-02T02:03:02Z`));
    assert.match(ok(await cli('analysis-archive', 'images', 'get', d)).stdout, /^Status: archived$/m);

    const exported = join(dir, 'export.tar.gz');
    assert.match(ok(await cli('analysis-archive', 'images', 'export', d, '--file', exported)).stdout, /^Success: /);
    const tar = gunzipSync(await readFile(exported)).toString('latin1');
    assert.ok(tar.includes('archive_manifest') && tar.includes('policy_evaluation-'), 'an archive with its evaluation history');
    ok(await cli('analysis-archive', 'images', 'del', d));
    assert.equal((await cli('analysis-archive', 'images', 'get', d)).code, 1);

    ok(await cli('analysis-archive', 'images', 'import', exported));
    const image = JSON.parse(ok(await cli('--json', 'image', 'get', d)).stdout)[0];
    assert.equal(image.analyzed_at, '2022-02-02T02:03:02Z', 'the time Anchore analyzed it, through both archives');
    const history = await h().svc.root.policies.listEvaluations('admin', d, fulltag);
    assert.ok(history.some((e) => e.createdAt === '2022-02-02T02:03:32.000Z' && e.finalAction === 'warn'), JSON.stringify(history.map((e) => e.createdAt)));
  });

  test('errors', async () => {
    const missing = await cli('analysis-archive', 'images', 'import', join(dir, 'nope.tar.gz'));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read the archive .*nope\.tar\.gz/);
    const text = join(dir, 'text.tar.gz');
    await writeFile(text, 'PK\x03\x04 a zip, not an archive');
    const refused = await cli('analysis-archive', 'images', 'import', text);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^lading: error: the analysis archive: this is a zip file/m);
    assert.equal((await cli('analysis-archive', 'images', 'export', 'sha256:abc', '--file', join(dir, 'x'))).code, 2);
    const notArchived = await cli('analysis-archive', 'images', 'export', `sha256:${'9'.repeat(64)}`, '--file', join(dir, 'x'));
    assert.equal(notArchived.code, 1);
    assert.match(notArchived.stderr, /no archived analysis of sha256:9{64}/);
  });
});
