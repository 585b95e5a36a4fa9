/** Connection resolution (flags before/after the command, environment, defaults) and image arguments. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { addConnectionOptions, apiBase, connectionOf, serviceConfigured, DEFAULT_URL } from './connection.js';
import { classifyImage, normalTag } from './images.js';
import { ServiceError } from './http.js';

function parse(argv: string[], env: NodeJS.ProcessEnv = {}, set: { insecure?: boolean } = {}) {
  let seen: Command | undefined;
  const p = addConnectionOptions(new Command('lading').enablePositionalOptions().exitOverride());
  const group = p.command('image');
  addConnectionOptions(group.command('list'), set).option('--registry-flag').action((_o, cmd: Command) => {
    seen = cmd;
  });
  p.parse(argv, { from: 'user' });
  return { conn: connectionOf(seen!, set, env), configured: serviceConfigured(seen!, env) };
}

test('the API base gets /v1 appended once; trailing slashes go', () => {
  assert.equal(apiBase('http://h:8228'), 'http://h:8228/v1');
  assert.equal(apiBase('http://h:8228/'), 'http://h:8228/v1');
  assert.equal(apiBase('http://h:8228/v1/'), 'http://h:8228/v1');
  assert.equal(apiBase('https://h/anchore/v1'), 'https://h/anchore/v1');
  assert.equal(DEFAULT_URL, 'http://127.0.0.1:8228/v1');
});

test('defaults, environment, fallbacks and flags, nearest flag winning', () => {
  assert.deepEqual(parse(['image', 'list']), { conn: { url: DEFAULT_URL, json: false, insecure: false }, configured: false });
  const env = { ANCHORE_CLI_URL: 'http://a:1', ANCHORE_CLI_USER: 'au', ANCHORE_CLI_PASS: 'ap', ANCHORE_CLI_ACCOUNT: 'acct' };
  assert.deepEqual(parse(['image', 'list'], env).conn, { url: 'http://a:1/v1', user: 'au', pass: 'ap', account: 'acct', json: false, insecure: false });
  const both = { ...env, LADING_URL: 'http://l:2/v1', LADING_USER: 'lu', LADING_PASS: 'lp' };
  assert.deepEqual(parse(['image', 'list'], both).conn, { url: 'http://l:2/v1', user: 'lu', pass: 'lp', account: 'acct', json: false, insecure: false });
  const flags = parse(['--url', 'http://g:3', '--u', 'gu', '--json', 'image', 'list', '--user', 'cu', '--p', 'cp', '--as-account', 'x', '--insecure'], both);
  assert.deepEqual(flags.conn, { url: 'http://g:3/v1', user: 'cu', pass: 'cp', account: 'x', json: true, insecure: true });
  assert.equal(flags.configured, true);
  assert.equal(parse(['image', 'list'], { LADING_URL: 'http://x' }).configured, true);
});

test('a command whose own --insecure means something else takes the connection one from before it', () => {
  const own = (argv: string[]) => {
    let seen: Command | undefined;
    const p = addConnectionOptions(new Command('lading').enablePositionalOptions().exitOverride());
    addConnectionOptions(p.command('add'), { insecure: false }).option('--insecure', 'registry TLS').action((_o, cmd: Command) => {
      seen = cmd;
    });
    p.parse(argv, { from: 'user' });
    return connectionOf(seen!, { insecure: false }, {}).insecure;
  };
  assert.equal(own(['add', '--insecure']), false);
  assert.equal(own(['--insecure', 'add']), true);
});

test('image arguments: digest, repo@digest, image id, tag (normalised as the service stores it)', () => {
  const d = `sha256:${'a'.repeat(64)}`;
  assert.deepEqual(classifyImage(d), { kind: 'digest', digest: d });
  assert.deepEqual(classifyImage(`localhost:5000/team/app@${d}`), { kind: 'digest', digest: d });
  assert.deepEqual(classifyImage('b'.repeat(64)), { kind: 'id', id: 'b'.repeat(64) });
  assert.deepEqual(classifyImage('nginx'), { kind: 'tag', tag: 'docker.io/nginx:latest' });
  assert.deepEqual(classifyImage('library/debian:12'), { kind: 'tag', tag: 'docker.io/debian:12' });
  assert.deepEqual(classifyImage('127.0.0.1:5000/team/app:v1'), { kind: 'tag', tag: '127.0.0.1:5000/team/app:v1' });
  assert.throws(() => normalTag('UPPER/Case:1'), (e: unknown) => e instanceof ServiceError && e.exitCode === 1);
});
