/**
 * The object-store drivers, one module each, in one registry map; `ObjectStores` opens each on
 * first use, so a deployment configures only the drivers it uses, and a document kept by a driver
 * that is not configured fails with an error naming the missing key (not at start-up).
 */
import { LadingError, describeError } from '../../errors.js';
import { openDbStore } from './db.js';
import { openDirStore } from './dir.js';
import { openS3Store } from './s3.js';
import { OBJECT_STORE_DRIVERS, type DriverContext, type DriverFactory, type ObjectStore, type ObjectStoreConfig, type ObjectStoreName } from './types.js';

export const DRIVERS: Record<ObjectStoreName, DriverFactory> = {
  db: openDbStore,
  dir: openDirStore,
  s3: openS3Store,
};

export function isObjectStoreName(s: string): s is ObjectStoreName {
  return (OBJECT_STORE_DRIVERS as readonly string[]).includes(s);
}

/** The default section: documents in the database, zstd-compressed. */
export const DEFAULT_OBJECT_STORE: ObjectStoreConfig = {
  driver: 'db', compression: 'zstd', dir: {}, s3: { prefix: '', path_style: false, timeout: 30 },
};

/** The drivers of one configuration, each opened once when first asked for. */
export class ObjectStores {
  /** Shared with the withDriver() copies, so that close() closes what any of them opened. */
  private readonly opened: Map<ObjectStoreName, ObjectStore>;

  constructor(readonly config: ObjectStoreConfig = DEFAULT_OBJECT_STORE, private readonly context: DriverContext = { dataDir: '.', env: process.env },
    opened = new Map<ObjectStoreName, ObjectStore>()) {
    this.opened = opened;
  }

  /** The driver new documents go to (object_store.driver). */
  get current(): ObjectStore {
    return this.get(this.config.driver);
  }

  get(name: string): ObjectStore {
    if (!isObjectStoreName(name)) throw new LadingError('INTERNAL', `unknown object store "${name}" (known: ${OBJECT_STORE_DRIVERS.join(', ')})`);
    let store = this.opened.get(name);
    if (!store) {
      try {
        store = DRIVERS[name](this.config, this.context);
      } catch (e) {
        throw e instanceof LadingError ? e : new LadingError('BAD_INPUT', `object store ${name}: ${describeError(e)}`, { cause: e });
      }
      this.opened.set(name, store);
    }
    return store;
  }

  /** Close every opened driver (their connection pools); on shutdown. */
  async close(): Promise<void> {
    const stores = [...this.opened.values()];
    this.opened.clear();
    await Promise.all(stores.map((s) => s.close?.()));
  }

  /** The same configuration writing new documents to another driver (the migration's target). */
  withDriver(driver: ObjectStoreName): ObjectStores {
    return new ObjectStores({ ...this.config, driver }, this.context, this.opened);
  }
}
