/** The local vulnerability database as `scan` and `evaluate` read it, loaded only when one of them runs. */
import { LadingError } from '../../errors.js';
import type { Sbom } from '../../sbom/model.js';
import { openVulnDb } from '../../store/db.js';
import { scanSbom } from '../../vulns/scan.js';
import { resolveDbLocation } from './db-common.js';
import { describeLocation } from './db-run.js';

/** The vulnerability database for a scan; an empty one is an error, never a silent "no findings". */
export async function openVulnData(db?: string) {
  const location = resolveDbLocation(db);
  const vulndb = await openVulnDb(location);
  if (!(await vulndb.status()).some((s) => s.records > 0)) {
    await vulndb.close();
    throw new LadingError('NOT_FOUND', `the vulnerability database ${describeLocation(location)} has no data: run \`lading db update\` (online) or \`lading db import PATH\` (offline) first`);
  }
  return vulndb;
}

/** Vulnerabilities for `evaluate`: undefined when there is no data, so the vulnerability gate says so instead of passing. */
export async function scanIfData(sbom: Sbom) {
  const vulndb = await openVulnDb(resolveDbLocation(undefined));
  try {
    if (!(await vulndb.status()).some((s) => s.records > 0)) return undefined;
    return await scanSbom(sbom, vulndb, { input: sbom.source.tags[0] ?? sbom.source.imageId });
  } finally {
    await vulndb.close();
  }
}
