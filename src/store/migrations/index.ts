/** Every migration, by name; names sort in the order they apply. Add a file and a line. */
import type { Migration } from 'kysely';
import * as vulndb from './0001-vulndb.js';

export const MIGRATIONS: Record<string, Migration> = {
  '0001-vulndb': vulndb,
};
