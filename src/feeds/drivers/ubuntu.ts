/**
 * Canonical's Ubuntu data in OSV form (the osv.dev bucket's `Ubuntu` folder, also published in
 * canonical/ubuntu-security-notices as osv/cve/YYYY/UBUNTU-CVE-*.json and osv/usn/USN-*.json).
 *
 * Records name source packages per release (`Ubuntu:22.04:LTS`, `Ubuntu:Pro:16.04:LTS` →
 * ubuntu:22.04, ubuntu:16.04); the Ubuntu priority (`severity[]` of type `Ubuntu`) becomes the
 * severity. USN records restate the UBUNTU-CVE records and are kept as advisories only (see
 * feeds/osv.ts). Sync and import work as for the osv driver (all.zip, then modified_id.csv).
 */
import type { FeedDriver } from '../driver.js';
import { createOsvDriver, osvFlavour } from './osv.js';

export interface UbuntuDriverOptions {
  /** More changed records than this since the cursor → download all.zip instead. */
  maxIncremental?: number;
  batchSize?: number;
}

export function createUbuntuDriver(options: UbuntuDriverOptions = {}): FeedDriver {
  return createOsvDriver({
    id: 'ubuntu',
    description: 'Ubuntu CVE data (Canonical OSV: UBUNTU-CVE and USN records)',
    ecosystems: ['Ubuntu'],
    maxIncremental: options.maxIncremental,
    batchSize: options.batchSize,
    accepts: (record) => osvFlavour(record) === 'ubuntu',
  });
}

export const ubuntuDriver: FeedDriver = createUbuntuDriver();
