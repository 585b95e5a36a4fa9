/**
 * The registry map of feed drivers: adding a source is one file in this folder and one line here.
 * Order matters for `db import` detection (first driver whose detect() says yes) and `db update`.
 */
import type { FeedDriver, SourceId } from '../driver.js';
import { osvDriver } from './osv.js';
import { ghsaDriver } from './ghsa.js';
import { alpineDriver } from './alpine.js';
import { debianDriver } from './debian.js';
import { ubuntuDriver } from './ubuntu.js';
import { redhatDriver } from './redhat.js';
import { nvdDriver } from './nvd.js';
import { kevDriver } from './kev.js';
import { epssDriver } from './epss.js';

export const DRIVERS: Record<SourceId, FeedDriver> = {
  debian: debianDriver,
  ubuntu: ubuntuDriver,
  alpine: alpineDriver,
  redhat: redhatDriver,
  ghsa: ghsaDriver,
  osv: osvDriver,
  nvd: nvdDriver,
  kev: kevDriver,
  epss: epssDriver,
};
