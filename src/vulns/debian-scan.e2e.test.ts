/**
 * Acceptance: `lading scan` on a real Debian image (mmdebstrap minbase bookworm) gives exactly the
 * findings the feed data implies. The feed is a Debian Security Tracker document in the tracker's
 * own JSON format, written here for the image's real source packages with every kind of entry
 * (fixed above and below the installed version, "0", open, end-of-life, undetermined, another
 * release only, epochs). The expected findings are computed independently with
 * `dpkg --compare-versions` on what `dpkg-query` reports for the same root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage } from '../testkit/images.js';
import { memoryImage } from '../testkit/memory-image.js';
import { debianRootSkipReason, debianRootTar } from '../testkit/debian-root.js';
import { analyzeImage } from '../analyze/analyze.js';
import { openVulnDb } from '../store/db.js';
import { importPaths } from '../feeds/import.js';
import { DRIVERS } from '../feeds/drivers/index.js';
import { scanSbom } from './scan.js';

interface Installed { name: string; version: string; source: string; sourceVersion: string }

function dpkgLt(a: string, b: string): boolean {
  return spawnSync('dpkg', ['--compare-versions', a, 'lt', b]).status === 0;
}

/** Bump a Debian version so it sorts after the given one (a security update). */
const above = (v: string) => `${v}+deb12u99`;

test('scan of a real Debian image: exactly the findings the tracker data implies', { skip: debianRootSkipReason(['/usr/bin/dpkg']) }, async () => {
  const work = await mkdtemp(join(tmpdir(), 'lading-scan-e2e-'));
  try {
    const tarFile = debianRootTar();
    // What dpkg itself says is installed (binary and source names and versions).
    const admin = join(work, 'dpkg');
    await mkdir(join(admin, 'info'), { recursive: true });
    await mkdir(join(admin, 'updates'), { recursive: true });
    const x = spawnSync('tar', ['-xOf', tarFile, './var/lib/dpkg/status'], { maxBuffer: 64 << 20 });
    assert.equal(x.status, 0, String(x.stderr));
    await writeFile(join(admin, 'status'), x.stdout);
    const q = spawnSync('dpkg-query', [`--admindir=${admin}`, '-W', '-f', '${Package}\\t${Version}\\t${source:Package}\\t${source:Version}\\n'], { encoding: 'utf8' });
    assert.equal(q.status, 0, q.stderr);
    const installed: Installed[] = q.stdout.trim().split('\n').map((l) => {
      const [name, version, source, sourceVersion] = l.split('\t') as [string, string, string, string];
      return { name, version, source, sourceVersion };
    });
    const sources = [...new Map(installed.map((p) => [p.source, p.sourceVersion])).entries()].sort();
    assert.ok(sources.length > 50);

    // The tracker document: one CVE per source package, cycling through the kinds of entry.
    const tracker: Record<string, Record<string, unknown>> = {};
    const kinds = ['fixed-above', 'fixed-below', 'zero', 'open', 'eol', 'undetermined', 'other-release', 'epoch-above'] as const;
    const expected = new Set<string>();
    const kindOf = new Map<string, string>();
    sources.forEach(([src, ver], i) => {
      const kind = kinds[i % kinds.length]!;
      const cve = `CVE-2099-${String(10000 + i)}`;
      kindOf.set(cve, kind);
      let bookworm: Record<string, unknown> | undefined = { status: 'resolved', repositories: { bookworm: ver }, urgency: 'medium' };
      let fixed: string | undefined;
      switch (kind) {
        case 'fixed-above': fixed = above(ver); bookworm.fixed_version = fixed; break;
        case 'fixed-below': fixed = '0.0.1-1'; bookworm.fixed_version = fixed; break;
        case 'zero': bookworm.fixed_version = '0'; break;
        case 'open': bookworm = { status: 'open', repositories: { bookworm: ver }, urgency: 'low' }; break;
        case 'eol': bookworm = { status: 'open', repositories: { bookworm: ver }, urgency: 'end-of-life' }; break;
        case 'undetermined': bookworm = { status: 'undetermined', repositories: { bookworm: ver }, urgency: 'not yet assigned' }; break;
        case 'other-release': bookworm = undefined; break;
        case 'epoch-above': fixed = `9:${ver.replace(/^\d+:/, '')}`; bookworm.fixed_version = fixed; break;
      }
      const releases: Record<string, unknown> = { bullseye: { status: 'resolved', repositories: { bullseye: '0.1-1' }, fixed_version: '99:9', urgency: 'high' } };
      if (bookworm) releases.bookworm = bookworm;
      tracker[src] = { [cve]: { description: `test entry ${kind} for ${src}`, scope: 'local', releases } };
      // Independent expectation, per binary package built from this source.
      for (const p of installed.filter((b) => b.source === src)) {
        const affected = kind === 'open' || kind === 'eol' || (fixed !== undefined && dpkgLt(p.sourceVersion, fixed));
        if (affected) expected.add(`${cve} ${p.name} ${p.version}`);
      }
    });
    const trackerFile = join(work, 'tracker.json');
    await writeFile(trackerFile, JSON.stringify(tracker));

    const db = await openVulnDb(join(work, 'vulns.db'));
    try {
      const [imported] = await importPaths(db, [trackerFile], DRIVERS, { source: 'debian' });
      assert.ok(imported);
      const image = memoryImage(buildImage({ layers: [{ entries: [], tar: readFileSync(tarFile) }] }));
      const sbom = await analyzeImage(image, { secrets: false });
      const result = await scanSbom(sbom, db, { input: 'debian-minbase' });
      const got = new Set(result.matches.map((m) => `${m.vulnerability.id} ${m.package.name} ${m.package.version}`));
      assert.deepEqual([...got].sort(), [...expected].sort());
      assert.ok(expected.size > 20, `expected ${expected.size} findings`);
      // Every finding names the source package that matched and the fix state the tracker implies.
      for (const m of result.matches) {
        assert.equal(m.match.nameKind, 'source');
        const kind = kindOf.get(m.vulnerability.id);
        const want = kind === 'open' ? 'not-fixed' : kind === 'eol' ? 'wont-fix' : 'fixed';
        assert.equal(m.vulnerability.fixState, want, `${m.vulnerability.id} ${m.package.name}`);
      }
    } finally {
      await db.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
