/**
 * The shared feed samples (`../shared/vulndata` beside the repository) for tests and benches.
 * They are not part of the repository: tests that need one skip with a message saying so.
 */
import { existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const VULNDATA = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared', 'vulndata');

export const sample = (relative: string): string => join(VULNDATA, relative);
export const haveSample = (relative: string): boolean => existsSync(sample(relative));

/** A `skip` value for node:test: false when the sample is there, else the reason. */
export const skipWithoutSample = (relative: string): false | string =>
  haveSample(relative) ? false : `vulndata sample ${relative} not found under ${VULNDATA} (the shared samples are not part of the repository)`;
