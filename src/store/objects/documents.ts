/**
 * Analysis documents (the stored SBOM of each analyzed image) in their object stores: encoded
 * (codec.ts), put where object_store.driver says before the database transaction that records
 * them, and read back through whichever store their row names, with the stored bytes checked
 * against the sha256 recorded beside them. A document outside the database is named by its image
 * and content, `analyses/<account>/<image digest>/<sha256>`, so writing it again writes the same
 * bytes and two images never share an object. Any failure to read one is an error naming the
 * image, its account, the store and the key: never a crash, never a silently missing analysis.
 */
import { LadingError, describeError } from '../../errors.js';
import { decodeDocument, encodeDocument, sha256Hex } from './codec.js';
import { ObjectStores } from './index.js';
import type { ObjectStore } from './types.js';

/** The columns of catalog_analyses that say where a document is. */
export interface DocumentColumns {
  sbom_gz: Buffer;
  store: string;
  object_key: string | null;
  doc_sha256: string | null;
  doc_bytes: number | null;
}

/** A row's reference to its document, as read. */
export type DocumentRef = Pick<DocumentColumns, 'store' | 'object_key' | 'doc_sha256'> & { sbom_gz: Buffer | Uint8Array };

/** A document encoded and, for an object store, already put there; its columns go in the row. */
export interface PreparedDocument {
  columns: DocumentColumns;
}

/** A key segment: letters, digits, `_` and `-` as they are, anything else %XX (so `.`, `/` and `..` cannot appear). */
export function keySegment(s: string): string {
  return Array.from(Buffer.from(s, 'utf8'), (b) => {
    const c = String.fromCharCode(b);
    return /[A-Za-z0-9_-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

export function analysisKey(account: string, imageDigest: string, sha256: string): string {
  return `analyses/${keySegment(account)}/${keySegment(imageDigest)}/${sha256}`;
}

const describeImage = (account: string, imageDigest: string) => `the stored analysis of image ${imageDigest} (account ${account})`;

export class AnalysisDocuments {
  constructor(readonly stores: ObjectStores = new ObjectStores()) {}

  /** Close the object stores' connections (on shutdown). */
  async close(): Promise<void> {
    await this.stores.close();
  }

  /** Encode a document; for an object store other than db, put it there now. */
  async prepare(account: string, imageDigest: string, document: unknown, store: ObjectStore = this.stores.current): Promise<PreparedDocument> {
    const { compression, compression_level } = this.stores.config;
    return this.place(account, imageDigest, encodeDocument(document, { compression, ...(compression_level !== undefined ? { level: compression_level } : {}) }), store);
  }

  /** Put already encoded bytes in a store (the db store: into the columns). */
  async place(account: string, imageDigest: string, bytes: Buffer, store: ObjectStore): Promise<PreparedDocument> {
    const sha = sha256Hex(bytes);
    if (store.inline) return { columns: { sbom_gz: bytes, store: store.name, object_key: null, doc_sha256: sha, doc_bytes: bytes.length } };
    const key = analysisKey(account, imageDigest, sha);
    try {
      await store.put(key, bytes);
    } catch (e) {
      throw new LadingError('INTERNAL', `cannot store the analysis of image ${imageDigest} (account ${account}) in the ${store.name} object store (${store.location}): ${describeError(e)}`, { cause: e });
    }
    return { columns: { sbom_gz: Buffer.alloc(0), store: store.name, object_key: key, doc_sha256: sha, doc_bytes: bytes.length } };
  }

  /** The stored bytes of a row's document, checked against its recorded sha256. */
  async bytes(account: string, imageDigest: string, ref: DocumentRef): Promise<Buffer> {
    const what = describeImage(account, imageDigest);
    let bytes: Buffer;
    if (ref.store === 'db') bytes = Buffer.from(ref.sbom_gz);
    else {
      if (!ref.object_key) throw new LadingError('INTERNAL', `${what} is in the ${ref.store} object store but its row names no key`);
      let store: ObjectStore;
      let got: Buffer | undefined;
      try {
        store = this.stores.get(ref.store);
        got = await store.get(ref.object_key);
      } catch (e) {
        throw new LadingError('INTERNAL', `${what} cannot be read from the ${ref.store} object store (key ${ref.object_key}): ${describeError(e)}`, { cause: e });
      }
      if (!got) throw new LadingError('INTERNAL', `${what} is missing from the ${ref.store} object store (${store.location}, key ${ref.object_key})`);
      bytes = got;
    }
    if (ref.doc_sha256 && sha256Hex(bytes) !== ref.doc_sha256) {
      throw new LadingError('INTERNAL', `${what} is corrupt in the ${ref.store} object store${ref.object_key ? ` (key ${ref.object_key})` : ''}: its sha256 is ${sha256Hex(bytes)}, ${ref.doc_sha256} was stored`);
    }
    return bytes;
  }

  /** A row's document, decoded. */
  async load<T>(account: string, imageDigest: string, ref: DocumentRef): Promise<T> {
    const bytes = await this.bytes(account, imageDigest, ref);
    try {
      return decodeDocument<T>(bytes);
    } catch (e) {
      throw new LadingError('INTERNAL', `${describeImage(account, imageDigest)} is corrupt in the ${ref.store} object store${ref.object_key ? ` (key ${ref.object_key})` : ''}: ${describeError(e)}`, { cause: e });
    }
  }

  /** Remove a document's object (nothing for db rows); failures are returned, not thrown: the row is already gone. */
  async discard(ref: Pick<DocumentRef, 'store' | 'object_key'>): Promise<Error | undefined> {
    if (ref.store === 'db' || !ref.object_key) return undefined;
    try {
      await this.stores.get(ref.store).delete(ref.object_key);
      return undefined;
    } catch (e) {
      return e instanceof Error ? e : new Error(describeError(e));
    }
  }
}
