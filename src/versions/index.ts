/**
 * The version schemes, one module each, collected in one map: `getScheme('dpkg').compare(a, b)`.
 * See types.ts for the contract and each module for its ordering, fallback and constraint syntax.
 */
import { apk } from './apk.js';
import { composer } from './composer.js';
import { dpkg } from './dpkg.js';
import { gem } from './gem.js';
import { go } from './go.js';
import { maven } from './maven.js';
import { nuget } from './nuget.js';
import { pep440 } from './pep440.js';
import { rpm } from './rpm.js';
import { semver } from './semver.js';
import type { SchemeId, VersionScheme } from './types.js';

export type { SchemeId, VersionScheme } from './types.js';

export const SCHEMES: Record<SchemeId, VersionScheme> = {
  dpkg,
  rpm,
  apk,
  semver,
  pep440,
  maven,
  gem,
  go,
  nuget,
  composer,
};

export function getScheme(id: SchemeId): VersionScheme {
  return SCHEMES[id];
}

