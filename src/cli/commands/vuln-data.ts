/**
 * The local vulnerability database as `scan` and `evaluate` read it, loaded only when one of them
 * runs. Reading commands never create a database (nor its directory): a missing one is named.
 */
import { LadingError } from '../../errors.js';
import type { Sbom } from '../../sbom/model.js';
import { existsSync } from 'node:fs';
import { openVulnDb, parseDatabaseUrl } from '../../store/db.js';
import { scanSbom } from '../../vulns/scan.js';
import { resolveDbLocation } from './db-common.js';
import { describeLocation } from './db-run.js';

const HOW_TO_CREATE = 'create it with `lading db update` (online) or `lading db import PATH` (offline)';

/** The database file named by a location, when it is a SQLite file that does not exist (reading commands never create one). */
function missingFile(location: string): string | undefined {
  const p = parseDatabaseUrl(location);
  return p.dialect === 'sqlite' && p.path !== ':memory:' && !existsSync(p.path) ? p.path : undefined;
}

/** The vulnerability database for a scan; a missing or empty one is an error, never a silent "no findings". */
export async function openVulnData(db?: string) {
  const location = resolveDbLocation(db);
  const missing = missingFile(location);
  if (missing) throw new LadingError('NOT_FOUND', `the vulnerability database ${missing} does not exist: ${HOW_TO_CREATE}`);
  const vulndb = await openVulnDb(location, { create: false });
  if (!(await vulndb.status()).some((s) => s.records > 0)) {
    await vulndb.close();
    throw new LadingError('NOT_FOUND', `the vulnerability database ${describeLocation(location)} has no data: run \`lading db update\` (online) or \`lading db import PATH\` (offline) first`);
  }
  return vulndb;
}

/** Vulnerabilities for `evaluate`: undefined when there is no data, so the vulnerability gate says so instead of passing. */
export async function scanIfData(sbom: Sbom, warn: (m: string) => void = (m) => void process.stderr.write(`warning: ${m}\n`)) {
  const location = resolveDbLocation(undefined);
  const missing = missingFile(location);
  if (missing) {
    warn(`the vulnerability database ${missing} does not exist: ${HOW_TO_CREATE}`);
    return undefined;
  }
  const vulndb = await openVulnDb(location, { create: false });
  try {
    if (!(await vulndb.status()).some((s) => s.records > 0)) return undefined;
    return await scanSbom(sbom, vulndb, { input: sbom.source.tags[0] ?? sbom.source.imageId });
  } finally {
    await vulndb.close();
  }
}

/** The database for commands where vulnerabilities are optional (`diff`): undefined, after a warning, when there is none or it is empty. */
export async function openVulnDataIfAny(db?: string, warn: (m: string) => void = (m) => void process.stderr.write(`warning: ${m}\n`)) {
  const location = resolveDbLocation(db);
  const missing = missingFile(location);
  if (missing) {
    warn(`the vulnerability database ${missing} does not exist (${HOW_TO_CREATE}): vulnerabilities are left out`);
    return undefined;
  }
  const vulndb = await openVulnDb(location, { create: false });
  if (!(await vulndb.status()).some((s) => s.records > 0)) {
    await vulndb.close();
    warn(`the vulnerability database ${describeLocation(location)} has no data: vulnerabilities are left out`);
    return undefined;
  }
  return vulndb;
}
