/**
 * The GitHub Advisory Database (github/advisory-database), whose records are OSV JSON under
 * `advisories/github-reviewed/YYYY/MM/GHSA-xxxx-xxxx-xxxx/GHSA-xxxx-xxxx-xxxx.json`.
 *
 * Online: the repository archive (`/archive/refs/heads/main.zip`, conditional). A changed archive
 * is a full snapshot (full replace); 304 is a no-op. Only reviewed advisories are read unless
 * `includeUnreviewed` (unreviewed ones rarely name a package). Severity comes from
 * `database_specific.severity` (LOW / MODERATE / HIGH / CRITICAL), CVSS from `severity[]`.
 *
 * Offline: the archive, a checkout of the repository (full replace), or GHSA-*.json files and
 * directories of them (upsert).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FeedDriver, SyncContext } from '../driver.js';
import type { FeedBatch } from '../model.js';
import { openZip } from '../../analyze/zip.js';
import { LadingError } from '../../errors.js';
import { MAX_ARCHIVE_BYTES, entryBaseName, expectOk, osvBatches, osvFilesInPath, osvFilesInZip, osvFlavour, readZipFile, sampleOsvRecord, warnOf } from './osv.js';

export const GHSA_REPOSITORY_URL = 'https://github.com/github/advisory-database';
const ARCHIVE_PATH = '/archive/refs/heads/main.zip';

export interface GhsaDriverOptions {
  /** Also read advisories/unreviewed (default false). */
  includeUnreviewed?: boolean;
  batchSize?: number;
}

/** A record path in the repository layout (inside the archive or a checkout). */
function repositoryRecord(includeUnreviewed: boolean): (name: string) => boolean {
  const kinds = includeUnreviewed ? '(?:github-reviewed|unreviewed)' : 'github-reviewed';
  const re = new RegExp(`(?:^|/)advisories/${kinds}/\\d{4}/\\d{2}/(GHSA-[^/]+)/\\1\\.json$`);
  return (name) => re.test(name.replace(/\\/g, '/'));
}

const ghsaFile = (name: string): boolean => /^GHSA-[^/]+\.json$/i.test(entryBaseName(name));

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

async function* nothing(): AsyncGenerator<FeedBatch> {}

export function createGhsaDriver(options: GhsaDriverOptions = {}): FeedDriver {
  const inRepository = repositoryRecord(options.includeUnreviewed ?? false);
  const convert = (warn: (m: string) => void) => ({ source: 'ghsa', warn, batchSize: options.batchSize });

  return {
    id: 'ghsa',
    description: 'GitHub Advisory Database (reviewed advisories, OSV form)',
    async sync(ctx: SyncContext) {
      const url = `${(ctx.baseUrl ?? GHSA_REPOSITORY_URL).replace(/\/+$/, '')}${ARCHIVE_PATH}`;
      const res = await ctx.get(url, { conditional: true, maxBytes: MAX_ARCHIVE_BYTES });
      if (res.notModified) return { full: false, batches: nothing() };
      expectOk(res, url);
      const zip = openZip(res.body, { maxEntries: 5_000_000 });
      // A full replace from an archive without advisories would empty the source: refuse it.
      if (!zip.entries.some((e) => inRepository(e.name))) {
        throw new LadingError('BAD_INPUT', `${url}: no advisories/github-reviewed records in the archive`);
      }
      return { full: true, batches: osvBatches(osvFilesInZip(zip, url, warnOf(ctx), inRepository), convert(warnOf(ctx))) };
    },
    async detect(path: string) {
      if (await isDirectory(join(path, 'advisories', 'github-reviewed'))) return true;
      return osvFlavour(await sampleOsvRecord(path)) === 'ghsa';
    },
    async importPath(path, ctx) {
      if (await isDirectory(join(path, 'advisories', 'github-reviewed'))) {
        // A checkout of the repository: the whole database.
        return { full: true, batches: osvBatches(osvFilesInPath(path, warnOf(ctx), inRepository), convert(warnOf(ctx))) };
      }
      if (!(await isDirectory(path)) && /\.zip$/i.test(path)) {
        const zip = await readZipFile(path);
        if (zip.entries.some((e) => inRepository(e.name))) {
          return { full: true, batches: osvBatches(osvFilesInZip(zip, path, warnOf(ctx), inRepository), convert(warnOf(ctx))) };
        }
      }
      return { full: false, batches: osvBatches(osvFilesInPath(path, warnOf(ctx), ghsaFile), convert(warnOf(ctx))) };
    },
  };
}

export const ghsaDriver: FeedDriver = createGhsaDriver();
