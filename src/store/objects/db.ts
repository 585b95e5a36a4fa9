/**
 * The `db` driver (the default): an analysis document stays in its database row
 * (catalog_analyses.sbom_gz), as it always did. It is `inline`: documents.ts writes and reads the
 * row itself and never asks this driver to put or get.
 */
import { LadingError } from '../../errors.js';
import type { DriverFactory, ObjectStore } from './types.js';

const inlineOnly = (): never => {
  throw new LadingError('INTERNAL', 'the db object store keeps documents in their database rows: nothing is put or got by key');
};

export const DB_STORE: ObjectStore = {
  name: 'db',
  inline: true,
  location: 'the database',
  put: async () => inlineOnly(),
  get: async () => inlineOnly(),
  delete: async () => {},
};

export const openDbStore: DriverFactory = () => DB_STORE;
