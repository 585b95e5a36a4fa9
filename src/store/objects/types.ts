/**
 * The object-store contract (store/objects/): where analysis documents are kept, as Anchore
 * Engine's object store drivers did. A driver keeps bytes under a key (`analyses/<account>/
 * <image>/<sha256>`, see documents.ts); keys are named by their content, so writing one again
 * writes the same bytes. The `db` driver is the exception: it keeps the bytes in the database row
 * that names the document (`inline`), and is never asked to put or get.
 */
export const OBJECT_STORE_DRIVERS = ['db', 'dir', 's3'] as const;
export type ObjectStoreName = (typeof OBJECT_STORE_DRIVERS)[number];

export interface ObjectStore {
  readonly name: ObjectStoreName;
  /** true for the db driver: the bytes stay in the row. */
  readonly inline: boolean;
  /** Where it keeps things, for messages (a directory, an endpoint and bucket). */
  readonly location: string;
  /** Store bytes under key, replacing what was there; resolves once they are durable. */
  put(key: string, bytes: Buffer): Promise<void>;
  /** The bytes under key, or undefined when there are none. */
  get(key: string): Promise<Buffer | undefined>;
  /** Remove key; nothing when it is absent. */
  delete(key: string): Promise<void>;
  /** Release what the driver holds open (the s3 driver's connection pool); the store is not used after. */
  close?(): Promise<void>;
}

/** The object_store section of the configuration (config/schema.ts), as the drivers read it. */
export interface ObjectStoreConfig {
  driver: ObjectStoreName;
  compression: 'zstd' | 'gzip' | 'none';
  compression_level?: number | undefined;
  dir: { path?: string | undefined };
  s3: S3Config;
}

export interface S3Config {
  /** The endpoint; default https://s3.<region>.amazonaws.com. */
  url?: string | undefined;
  bucket?: string | undefined;
  /** Default AWS_REGION, AWS_DEFAULT_REGION, else us-east-1. */
  region?: string | undefined;
  /** Prepended to every key. */
  prefix: string;
  /** https://endpoint/bucket/key instead of https://bucket.endpoint/key. */
  path_style: boolean;
  access_key?: string | undefined;
  secret_key?: string | undefined;
  session_token?: string | undefined;
  /** Seconds one request may take. */
  timeout: number;
}

/** What opening a driver needs besides its section: where the service keeps its data, the environment. */
export interface DriverContext {
  dataDir: string;
  env: NodeJS.ProcessEnv;
}

/** One entry of the registry map (index.ts): open the driver from the configuration. */
export type DriverFactory = (config: ObjectStoreConfig, context: DriverContext) => ObjectStore;
