import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
import type { Command } from 'commander';

// Every URL the module loader loads from here on, sent by a loader hook (registered before program.ts is imported).
const loaded: string[] = [];
const { port1, port2 } = new MessageChannel();
port1.on('message', (url: string) => loaded.push(url));
port1.unref();
const HOOK = `let port;
export function initialize(data) { port = data.port; }
export async function load(url, context, next) { port.postMessage(url); return next(url, context); }`;
register(`data:text/javascript,${encodeURIComponent(HOOK)}`, { data: { port: port2 }, transferList: [port2] });

const { commandOf, program } = await import('./program.js');
const { COMMAND_WORDS, ROOT_VALUE_OPTIONS, versionOnly } = await import('./argv.js');

/** The help of every command and subcommand, as `lading ... --help` prints it (80 columns, no colour). */
function allHelp(root: Command): string {
  const out: string[] = [];
  const walk = (c: Command, path: string[]) => {
    c.configureOutput({ getOutHelpWidth: () => 80, getOutHasColors: () => false });
    out.push(`=== ${path.join(' ')}\n${c.helpInformation()}`);
    for (const sub of c.commands) walk(sub, [...path, sub.name()]);
  };
  walk(root, ['lading']);
  return out.join('');
}

// A command whose help changes on purpose: LADING_UPDATE_HELP=1 node --import tsx --test src/cli/program.test.ts rewrites the file.
test('--help of every command is what it was before the commands loaded lazily (testdata/help.txt)', async () => {
  const file = new URL('./testdata/help.txt', import.meta.url);
  if (process.env.LADING_UPDATE_HELP) await writeFile(file, allHelp(await program()));
  assert.equal(allHelp(await program()), await readFile(file, 'utf8'));
});

test('defining the commands loads no server, database, registry, analyzer or matcher code', async () => {
  await program();
  await new Promise((r) => setImmediate(r));
  assert.ok(loaded.some((u) => u.includes('/cli/program.')), 'the hook saw program.ts load');
  const heavy = /node_modules\/(fastify|@fastify|@aws-sdk|kysely|better-sqlite3|pg|undici|yaml|ajv|cli-table3|tar|zod)\/|\/src\/(api|services|store|analyze|k8s|ui|image\/sources|image\/registry|feeds\/drivers|vulns\/match|sbom\/formats)\//;
  assert.deepEqual(loaded.filter((u) => heavy.test(u)), []);
});

test('the format and role lists the definitions carry are the ones the code has', async () => {
  const { SBOM_FORMATS } = await import('./commands/sbom.js');
  const { sbomFormats } = await import('../sbom/formats/index.js');
  assert.deepEqual([...SBOM_FORMATS], sbomFormats);
  const { SERVE_ROLE_NAMES } = await import('./commands/serve.js');
  const { SERVE_ROLES } = await import('../services/server.js');
  assert.deepEqual([...SERVE_ROLE_NAMES], [...SERVE_ROLES]);
});

test('`lading CMD ...` defines only CMD, with the same help as in the whole tree', async () => {
  const whole = await program();
  for (const sub of whole.commands) {
    const name = sub.name();
    if (name === 'help') continue;
    assert.equal(commandOf(['node', 'lading', name, '--help']), name);
    const alone = await program(name);
    assert.deepEqual(alone.commands.map((c) => c.name()), [name]);
    const own = (root: Command) => allHelp(root.commands.find((c) => c.name() === name)!);
    assert.equal(own(alone), own(whole), name);
  }
  for (const argv of [['--help'], ['help', 'sbom'], ['nonesuch'], ['--', 'sbom'], []]) {
    assert.equal(commandOf(['node', 'lading', ...argv]), undefined, argv.join(' '));
  }
  // The command word after root options, their values skipped (a value may itself be a command's name).
  assert.equal(commandOf(['node', 'lading', '--url', 'http://x', 'image', 'list']), 'image');
  assert.equal(commandOf(['node', 'lading', '--user', 'serve', '--json', 'image', 'list']), 'image');
  assert.equal(commandOf(['node', 'lading', '--config', 'x.yaml', 'serve']), 'serve');
  assert.equal(commandOf(['node', 'lading', 'sbom', 'serve']), 'sbom');
  // what the launcher answers by itself
  assert.equal(versionOnly(['node', 'lading', '--version']), true);
  assert.equal(versionOnly(['node', 'lading', '-V']), true);
  assert.equal(versionOnly(['node', 'lading', 'sbom', '--version']), false);
  assert.equal(versionOnly(['node', 'lading', '--version', '--help']), false);
});

test('argv.ts knows every command and every root option that takes a value', async () => {
  const whole = await program();
  assert.deepEqual([...COMMAND_WORDS], whole.commands.map((c) => c.name()).filter((n) => n !== 'help'));
  const valued = whole.options.filter((o) => o.required || o.optional).map((o) => o.long ?? o.short);
  assert.deepEqual([...ROOT_VALUE_OPTIONS].sort(), valued.sort());
});
