/**
 * Each table is read and written only by its owners (issue 16): every query in src/ that names a
 * table (kysely's selectFrom/insertInto/updateTable/deleteFrom/joins, and raw SQL's from/join/
 * into/update) must be in a file store/schema.ts's owner list gives that table. Tests, test
 * helpers (testing*.ts), migrations and benches (which seed and inspect tables directly) are left
 * out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..');

/** table → the files and folders (ending in /) that own it, from the comment of store/schema.ts. */
export function ownerList(schemaText: string): Map<string, string[]> {
  const comment = schemaText.slice(schemaText.indexOf(' * Owners'), schemaText.indexOf('*/'));
  const bullets = comment.split(/\n \* - /).slice(1).map((b) => b.replace(/\n \*\s+/g, ' '));
  const owners = new Map<string, string[]>();
  for (const bullet of bullets) {
    const colon = bullet.indexOf(': ');
    assert.ok(colon > 0, `an owner line of store/schema.ts has no "tables: owners" form: ${bullet}`);
    const tables = bullet.slice(0, colon).split(',').map((t) => t.trim());
    const owned = bullet.slice(colon + 2).replace(/\([^)]*\)/g, '').split(/,\s*/).map((o) => o.trim()).filter(Boolean);
    for (const t of tables) owners.set(t, [...(owners.get(t) ?? []), ...owned]);
  }
  return owners;
}

/** The tables a source text queries (comments left out). */
export function tablesQueried(text: string, tables: Iterable<string>): Set<string> {
  // Block comments, and line comments (`//` at a line's start or after a space: not a URL's).
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');
  const found = new Set<string>();
  for (const t of tables) {
    const builder = new RegExp(`\\b(selectFrom|insertInto|updateTable|deleteFrom|innerJoin|leftJoin|rightJoin|fullJoin|replaceInto|mergeInto)\\(\\s*\\[?\\s*['"\`]${t}\\b`);
    const raw = new RegExp(`\\b(from|join|into|update)\\s+${t}\\b`, 'i');
    if (builder.test(code) || raw.test(code)) found.add(t);
  }
  return found;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'migrations' || e.name === 'bench' ? [] : sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.startsWith('testing') ? [path] : [];
  });
}

const owns = (owners: string[], file: string) => owners.some((o) => (o.endsWith('/') ? file.startsWith(o) : file === o));

test('the owner list parses and names every table of the schema', () => {
  const schema = readFileSync(join(SRC, 'store/schema.ts'), 'utf8') + readFileSync(join(SRC, 'feeds/tables.ts'), 'utf8');
  const owners = ownerList(readFileSync(join(SRC, 'store/schema.ts'), 'utf8'));
  const declared = [...schema.matchAll(/^\s+([a-z_]+): [A-Z]\w*Table;/gm)].map((m) => m[1]!);
  assert.ok(declared.length > 30, `expected the Database interfaces' tables, found ${declared.length}`);
  assert.deepEqual(declared.filter((t) => !owners.has(t)), [], 'tables without an owner in store/schema.ts');
});

test('the scanner sees builder and raw SQL table names, not comments', () => {
  const seen = tablesQueried("db.selectFrom('events as e'); sql`update jobs set x = 1`; // from users\n/* join accounts */", ['events', 'jobs', 'users', 'accounts']);
  assert.deepEqual([...seen].sort(), ['events', 'jobs']);
});

test('every table is queried only by its owners', () => {
  const owners = ownerList(readFileSync(join(SRC, 'store/schema.ts'), 'utf8'));
  const strays: string[] = [];
  for (const path of sources(SRC)) {
    const file = relative(SRC, path).split('\\').join('/');
    for (const t of tablesQueried(readFileSync(path, 'utf8'), owners.keys())) {
      if (!owns(owners.get(t)!, file)) strays.push(`${file} queries ${t} (owners: ${owners.get(t)!.join(', ')})`);
    }
  }
  assert.deepEqual(strays, []);
});
