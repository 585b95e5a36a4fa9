/** The feed-driver contract: one module per source in drivers/, collected in drivers/index.ts. */
import type { FeedBatch } from './model.js';

export type SourceId = 'osv' | 'ghsa' | 'alpine' | 'debian' | 'ubuntu' | 'redhat' | 'nvd' | 'kev' | 'epss';

export interface HttpResult {
  status: number;
  /** 304 Not Modified when the conditional request matched. */
  notModified: boolean;
  headers: Record<string, string>;
  body: Buffer;
}

export interface SyncContext {
  /**
   * GET with conditional headers from the stored state for this URL (ETag / Last-Modified),
   * retries and timeouts; the new validators are remembered when the sync commits.
   */
  get(url: string, options?: { headers?: Record<string, string>; conditional?: boolean; maxBytes?: number }): Promise<HttpResult>;
  /** Driver-specific cursor saved by the previous successful sync (e.g. NVD lastModEndDate, OSV last modified id). */
  state: Record<string, string>;
  /** Set a cursor value; saved only if the whole sync commits. */
  setState(key: string, value: string): void;
  /** A bad record: logged and skipped, never aborting the sync. */
  warn(message: string): void;
  /** Base URL overrides for tests and mirrors: driver id → base URL. */
  baseUrl?: string;
  signal?: AbortSignal;
}

export interface ImportContext {
  warn(message: string): void;
}

export interface FeedDriver {
  id: SourceId;
  description: string;
  /**
   * Online sync. `full: true` means the batches replace everything this source had (a full
   * export); otherwise they are upserted (incremental). The store applies all batches of one
   * sync in one transaction.
   */
  sync(ctx: SyncContext): Promise<{ full: boolean; batches: AsyncIterable<FeedBatch> }>;
  /** Whether a local file or directory is this source's native format (used by `db import` without --source). */
  detect(path: string, head: Buffer): Promise<boolean> | boolean;
  /** Read native files (a file, a directory of them, or an archive) offline. Same records as sync. */
  importPath(path: string, ctx: ImportContext): Promise<{ full: boolean; batches: AsyncIterable<FeedBatch> }>;
}
