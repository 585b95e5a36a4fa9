import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LadingError } from '../../errors.js';
import { encodeHeader, parseHeader, Tag, TagType } from './header.js';
import { applyWal, readSqlite } from './sqlite.js';

function header(name: string): Buffer {
  return encodeHeader([
    { tag: Tag.NAME, type: TagType.STRING, value: name },
    { tag: Tag.VERSION, type: TagType.STRING, value: '1.0' },
    { tag: Tag.RELEASE, type: TagType.STRING, value: '1' },
  ]);
}

/** A database laid out as rpm 4.16+ creates it (WAL mode, Packages(hnum, blob)). */
function createRpmdb(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)');
  db.exec('CREATE TABLE Name (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL, FOREIGN KEY (hnum) REFERENCES Packages(hnum))');
  return db;
}

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'lading-rpmdb-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('reads the header blobs of a WAL-mode rpmdb.sqlite whose -wal is empty', () => withDir((dir) => {
  const path = join(dir, 'rpmdb.sqlite');
  const db = createRpmdb(path);
  const insert = db.prepare('INSERT INTO Packages (blob) VALUES (?)');
  const blobs = ['bash', 'glibc', 'zlib'].map(header);
  for (const b of blobs) insert.run(b);
  db.close(); // checkpoints, leaving the database file complete
  const file = readFileSync(path);
  assert.equal(file[18], 2, 'the file is marked WAL mode, as rpm leaves it');
  const read = readSqlite(file, Buffer.alloc(0));
  assert.deepEqual(read.problems, []);
  assert.deepEqual(read.blobs.map((b) => b.key), [1, 2, 3]);
  assert.deepEqual(read.blobs.map((b) => b.blob), blobs);
  assert.equal(file[18], 2, 'the captured bytes are not modified');
}));

test('applies committed transactions from a non-empty -wal and ignores a torn one', () => withDir((dir) => {
  const path = join(dir, 'rpmdb.sqlite');
  const db = createRpmdb(path);
  const insert = db.prepare('INSERT INTO Packages (blob) VALUES (?)');
  insert.run(header('bash'));
  db.pragma('wal_checkpoint(TRUNCATE)');
  insert.run(header('in-wal-1')); // a transaction only in the WAL
  const walAfterFirst = readFileSync(`${path}-wal`);
  insert.run(header('in-wal-2')); // a second one
  const main = readFileSync(path);
  const wal = readFileSync(`${path}-wal`);
  db.close();

  assert.ok(wal.length > walAfterFirst.length);
  const names = (w?: Buffer): (string | undefined)[] => readSqlite(main, w).blobs.map((b) => parseHeader(b.blob).string(Tag.NAME));
  assert.deepEqual(names(), ['bash'], 'without the WAL: only the checkpointed row');
  assert.deepEqual(names(wal), ['bash', 'in-wal-1', 'in-wal-2'], 'with the WAL: both committed transactions');

  // Corrupt the last frame's page: its checksum fails, so the second transaction is not committed.
  const torn = Buffer.from(wal);
  torn[torn.length - 100] = (torn[torn.length - 100] ?? 0) ^ 0xff;
  assert.deepEqual(names(torn), ['bash', 'in-wal-1']);
  // A truncated WAL (a frame cut short) keeps what was committed before it.
  assert.deepEqual(names(wal.subarray(0, walAfterFirst.length + 50)), ['bash', 'in-wal-1']);
}));

test('a WAL with a bad header is reported and ignored', () => withDir((dir) => {
  const path = join(dir, 'rpmdb.sqlite');
  const db = createRpmdb(path);
  db.prepare('INSERT INTO Packages (blob) VALUES (?)').run(header('bash'));
  db.close();
  const main = readFileSync(path);
  const junk = Buffer.alloc(4096, 0x41);
  const read = readSqlite(main, junk);
  assert.equal(read.blobs.length, 1);
  assert.match(read.problems.join('\n'), /WAL file has bad magic/);
  assert.match(applyWal(main, Buffer.alloc(10)).problem ?? '', /shorter than its header/);
}));

test('not a database, a truncated one, or one without Packages: a clear error', () => withDir((dir) => {
  const path = join(dir, 'other.sqlite');
  const db = new Database(path);
  db.exec('CREATE TABLE Other (x)');
  db.close();
  const isBadInput = (pattern: RegExp) => (e: unknown): boolean => e instanceof LadingError && e.code === 'BAD_INPUT' && pattern.test(e.message);
  assert.throws(() => readSqlite(readFileSync(path)), isBadInput(/Packages/));
  assert.throws(() => readSqlite(Buffer.from('not a database at all, just text that is long enough to pass a length check, surely')), isBadInput(/not an SQLite 3 database/));
  assert.throws(() => readSqlite(Buffer.alloc(0)), isBadInput(/not an SQLite 3 database/));

  const real = join(dir, 'rpmdb.sqlite');
  const rpmdb = createRpmdb(real);
  const insert = rpmdb.prepare('INSERT INTO Packages (blob) VALUES (?)');
  for (let i = 0; i < 50; i++) insert.run(Buffer.alloc(3000, i));
  rpmdb.close();
  const full = readFileSync(real);
  assert.throws(() => readSqlite(full.subarray(0, Math.floor(full.length / 2))), isBadInput(/rpmdb\.sqlite/));
}));

test('a row whose blob is not binary is reported and skipped', () => withDir((dir) => {
  const path = join(dir, 'rpmdb.sqlite');
  const db = new Database(path);
  db.exec('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB)');
  db.prepare('INSERT INTO Packages (blob) VALUES (?)').run('text, not a blob');
  db.prepare('INSERT INTO Packages (blob) VALUES (?)').run(header('ok'));
  db.close();
  const read = readSqlite(readFileSync(path));
  assert.deepEqual(read.blobs.map((b) => b.key), [2]);
  assert.match(read.problems.join('\n'), /package 1: blob is not binary/);
}));
