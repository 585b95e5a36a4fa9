/**
 * rpm's sqlite backend (rpm >= 4.16: Fedora 33+, EL9): `rpmdb.sqlite`, table Packages(hnum, blob)
 * with one header blob per installed package.
 *
 * The captured bytes are opened in memory with better-sqlite3 (it deserializes a Buffer), read-only.
 * rpm keeps the database in WAL mode: the in-memory VFS cannot open a WAL-mode file, so the copy is
 * switched to rollback mode in its header (bytes 18-19) after the committed frames of the
 * `rpmdb.sqlite-wal` file, when there is one, have been applied, as sqlite itself would on open.
 */
import type Database from 'better-sqlite3';
import { lazyRequire } from '../../util/lazy.js';

const sqlite = lazyRequire<typeof Database>('better-sqlite3');
import { LadingError } from '../../errors.js';
import type { DatabaseRead, HeaderBlob } from './header.js';

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
const WAL_HEADER = 32;
const FRAME_HEADER = 24;

function bad(message: string): LadingError {
  return new LadingError('BAD_INPUT', `rpmdb.sqlite: ${message}`);
}

function pageSizeOf(db: Buffer): number {
  const raw = db.readUInt16BE(16);
  return raw === 1 ? 65536 : raw;
}

/** sqlite's WAL checksum over 8-byte steps of `buf`, continuing from (s0, s1). */
function walChecksum(buf: Buffer, bigEndian: boolean, s0: number, s1: number): [number, number] {
  for (let i = 0; i + 8 <= buf.length; i += 8) {
    const x0 = bigEndian ? buf.readUInt32BE(i) : buf.readUInt32LE(i);
    const x1 = bigEndian ? buf.readUInt32BE(i + 4) : buf.readUInt32LE(i + 4);
    s0 = (s0 + x0 + s1) >>> 0;
    s1 = (s1 + x1 + s0) >>> 0;
  }
  return [s0, s1];
}

/**
 * Apply the committed transactions of a WAL file to a copy of the database. Frames after the last
 * valid commit frame (or after the first frame with a bad salt or checksum) are ignored, exactly as
 * sqlite's recovery does. Returns the new database bytes and any problem worth reporting.
 */
export function applyWal(db: Buffer, wal: Buffer): { db: Buffer; problem?: string } {
  if (wal.length === 0) return { db };
  if (wal.length < WAL_HEADER) return { db, problem: `WAL file of ${wal.length} bytes is shorter than its header; ignored` };
  const magic = wal.readUInt32BE(0);
  if (magic !== 0x377f0682 && magic !== 0x377f0683) return { db, problem: `WAL file has bad magic 0x${magic.toString(16)}; ignored` };
  const bigEndian = (magic & 1) === 1;
  const pageSize = wal.readUInt32BE(8);
  if (pageSize !== pageSizeOf(db)) return { db, problem: `WAL page size ${pageSize} differs from the database's ${pageSizeOf(db)}; ignored` };
  const salt1 = wal.readUInt32BE(16);
  const salt2 = wal.readUInt32BE(20);
  let [s0, s1] = walChecksum(wal.subarray(0, 24), bigEndian, 0, 0);
  if (s0 !== wal.readUInt32BE(24) || s1 !== wal.readUInt32BE(28)) return { db, problem: 'WAL header checksum mismatch; ignored' };

  const frameSize = FRAME_HEADER + pageSize;
  const pending = new Map<number, Buffer>();
  const committed = new Map<number, Buffer>();
  let committedPages = 0;
  for (let at = WAL_HEADER; at + frameSize <= wal.length; at += frameSize) {
    const pgno = wal.readUInt32BE(at);
    const commitSize = wal.readUInt32BE(at + 4);
    if (pgno === 0 || wal.readUInt32BE(at + 8) !== salt1 || wal.readUInt32BE(at + 12) !== salt2) break;
    [s0, s1] = walChecksum(wal.subarray(at, at + 8), bigEndian, s0, s1);
    [s0, s1] = walChecksum(wal.subarray(at + FRAME_HEADER, at + frameSize), bigEndian, s0, s1);
    if (s0 !== wal.readUInt32BE(at + 16) || s1 !== wal.readUInt32BE(at + 20)) break;
    pending.set(pgno, wal.subarray(at + FRAME_HEADER, at + frameSize));
    if (commitSize > 0) {
      for (const [k, v] of pending) committed.set(k, v);
      pending.clear();
      committedPages = commitSize;
    }
  }
  if (committed.size === 0) return { db };
  const out = Buffer.alloc(committedPages * pageSize);
  db.copy(out, 0, 0, Math.min(db.length, out.length));
  for (const [pgno, page] of committed) {
    if (pgno <= committedPages) page.copy(out, (pgno - 1) * pageSize);
  }
  // The commit frame's size is authoritative; keep the in-header size in step with it.
  out.writeUInt32BE(committedPages, 28);
  return { db: out };
}

/** Read every header blob from rpmdb.sqlite (and its -wal file when given). Throws on an unreadable database. */
export function readSqlite(file: Buffer, wal?: Buffer): DatabaseRead {
  const problems: string[] = [];
  if (file.length < 100 || !file.subarray(0, 16).equals(SQLITE_MAGIC)) throw bad('not an SQLite 3 database (bad magic)');
  let bytes: Buffer = Buffer.from(file);
  if (wal && wal.length > 0) {
    const applied = applyWal(bytes, wal);
    bytes = applied.db;
    if (applied.problem) problems.push(applied.problem);
  }
  // 2/2 = WAL mode: not openable from memory; 1/1 = rollback journal, same page format.
  if (bytes[18] === 2) bytes[18] = 1;
  if (bytes[19] === 2) bytes[19] = 1;

  let db: Database.Database;
  try {
    db = new (sqlite())(bytes, { readonly: true });
  } catch (e) {
    throw bad(`cannot open: ${(e as Error).message}`);
  }
  try {
    const rows = db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum').all() as { hnum: unknown; blob: unknown }[];
    const blobs: HeaderBlob[] = [];
    for (const row of rows) {
      const key = Number(row.hnum);
      if (!Buffer.isBuffer(row.blob)) {
        problems.push(`package ${key}: blob is not binary data; skipped`);
        continue;
      }
      blobs.push({ key, blob: row.blob });
    }
    return { blobs, problems };
  } catch (e) {
    throw bad(`cannot read table Packages: ${(e as Error).message}`);
  } finally {
    db.close();
  }
}
