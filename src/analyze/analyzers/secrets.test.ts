import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAnalyzer } from '../testing.js';
import { secretsAnalyzer, contentSearchAnalyzer, retrievedFilesAnalyzer } from './secrets.js';
import { DEFAULT_SECRET_RULES, type SecretRule } from '../secrets/rules.js';
import { scanText } from '../secrets/scan.js';

const ENV = 'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nAPI_KEY=TESTBEDFAKEAPIKEY0123456789ABCDEF\n'
  + 'DATABASE_URL=postgres://app:not-a-real-password@db.example.invalid:5432/app\n# comment\n-----BEGIN RSA PRIVATE KEY-----\nVEVTVA==\n-----END RSA PRIVATE KEY-----\n';

test('default rules find the planted secrets, redacted, with line numbers', async () => {
  const r = await runAnalyzer(secretsAnalyzer(), {
    '/opt/app/.env': { content: ENV, layer: 1 },
    '/root/.docker/config.json': '{\n  "auths": {\n    "r.example": {\n      "auth": "dGVzdHVzZXI6dGVzdHBhc3M="\n    }\n  }\n}\n',
    '/usr/bin/tool': Buffer.concat([Buffer.from('\x7fELF\0\0'), Buffer.from('AKIAIOSFODNN7EXAMPLE')]),
    '/usr/share/doc/x/README': 'AKIAIOSFODNN7EXAMPLE',
    '/app/clean.txt': 'nothing to see; password = $PASSWORD\napi_key = ${API_KEY}\n',
  });
  const got = r.secrets!.map((s) => `${s.path}:${s.line}:${s.ruleId}`);
  assert.deepEqual(got, [
    '/opt/app/.env:1:AWS_ACCESS_KEY',
    '/opt/app/.env:2:AWS_SECRET_KEY',
    '/opt/app/.env:3:API_KEY',
    '/opt/app/.env:4:URL_PASSWORD',
    '/opt/app/.env:6:PRIV_KEY',
    '/root/.docker/config.json:4:DOCKER_AUTH',
  ]);
  const byRule = Object.fromEntries(r.secrets!.map((s) => [s.ruleId, s]));
  assert.equal(byRule.AWS_ACCESS_KEY!.match, 'AKIA****************');
  assert.ok(!byRule.AWS_SECRET_KEY!.match.includes('wJalrXUtnFEMI/K7MDENG'));
  assert.ok(!byRule.URL_PASSWORD!.match.includes('not-a-real-password'));
  assert.equal(byRule.PRIV_KEY!.match, '-----BEGIN RSA PRIVATE KEY-----');
  assert.equal(byRule.DOCKER_AUTH!.match, '"auth": "dGVz********************"');
  assert.equal(byRule.AWS_ACCESS_KEY!.layer, 1);
});

test('other token kinds', async () => {
  const text = [
    'token: ghp_' + 'a'.repeat(36),
    'GITLAB=glpat-' + 'b'.repeat(20),
    'slack xoxb-1234567890-abcdefghij',
    'key=AIza' + 'c'.repeat(35),
    '{"type": "service_account"}',
    'npm_' + 'd'.repeat(36),
    'password: "hunter2hunter2"',
  ].join('\n');
  const r = await runAnalyzer(secretsAnalyzer(), { '/srv/conf.yml': text });
  assert.deepEqual(r.secrets!.map((s) => s.ruleId), ['GITHUB_TOKEN', 'GITLAB_TOKEN', 'SLACK_TOKEN', 'GOOGLE_API_KEY', 'GCP_SERVICE_ACCOUNT', 'NPM_TOKEN', 'PASSWORD_ASSIGNMENT']);
});

test('files over the size limit are not scanned', async () => {
  const r = await runAnalyzer(secretsAnalyzer({ maxFileBytes: 10 }), { '/a.env': 'AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE' });
  assert.deepEqual(r.secrets, []);
});

test('content search with user rules (Anchore NAME=regex form), unredacted', async () => {
  const r = await runAnalyzer(contentSearchAnalyzer(['TODO=(?i)todo:.*', 'IP=\\b10\\.\\d+\\.\\d+\\.\\d+\\b']), { '/app/main.py': 'x = 1\n# ToDo: fix\nhost = "10.1.2.3"\n' });
  assert.deepEqual(r.contentMatches, [
    { ruleId: 'TODO', path: '/app/main.py', line: 2, match: 'ToDo: fix' },
    { ruleId: 'IP', path: '/app/main.py', line: 3, match: '10.1.2.3' },
  ]);
  assert.throws(() => contentSearchAnalyzer(['broken']), /must look like NAME=regex/);
  assert.throws(() => contentSearchAnalyzer(['X=(']), /content rule X: invalid regex/);
});

test('retrieved files are kept verbatim', async () => {
  const r = await runAnalyzer(retrievedFilesAnalyzer(), { '/etc/passwd': 'root:x:0:0::/root:/bin/sh\n', '/etc/hosts': '127.0.0.1 localhost\n' });
  assert.deepEqual(r.retrievedFiles, [{ path: '/etc/passwd', contentBase64: Buffer.from('root:x:0:0::/root:/bin/sh\n').toString('base64'), size: 26 }]);
});

/** The scanner as it was written first: every line lower-cased and checked against every rule's keywords. */
function naiveScan(text: string, rules: SecretRule[], maxLineLength = 16 * 1024): string[] {
  const out: string[] = [];
  text.split('\n').forEach((whole, i) => {
    const line = whole.length > maxLineLength ? whole.slice(0, maxLineLength) : whole;
    const lower = line.toLowerCase();
    for (const rule of rules) {
      if (rule.keywords && !rule.keywords.some((k) => lower.includes(k))) continue;
      const m = rule.regex.exec(line);
      if (m) out.push(`${i + 1}:${rule.id}:${m[0].slice(0, 200)}`);
    }
  });
  return out;
}

test('the keyword-indexed scanner finds exactly what a line-by-line scan finds', () => {
  const pieces = [
    'AKIAIOSFODNN7EXAMPLE', 'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"', 'API_KEY=TESTBEDFAKEAPIKEY0123456789ABCDEF',
    'postgres://app:s3cret-pw@db.example.invalid/app', '-----BEGIN RSA PRIVATE KEY-----', 'ghp_' + 'a'.repeat(36), 'plain words',
    'password = "hunter22xx"', 'through the night', '\r', '', 'x'.repeat(20_000) + ' AKIAIOSFODNN7EXAMPLE', 'ÅPI_KEY=é', 'xoxb-1234567890-abc',
    // Letters whose lower case is ASCII (the Kelvin sign, dotted I) pass the lower-cased pre-filter but not the keyword regex.
    's\u212a_live_' + 'b'.repeat(24), 'AP\u0130_KEY=' + 'c'.repeat(24), 'SK_LIVE_' + 'd'.repeat(24), 'sk_live_' + 'e'.repeat(24),
    // Keywords of different rules overlapping ('asia' and 'api' share the middle 'a'): both are seen.
    'ASIAPI_KEY=' + 'f'.repeat(24), 'xasiapi-key: ' + 'g'.repeat(30),
  ];
  for (const piece of pieces) {
    const got = scanText(piece, DEFAULT_SECRET_RULES, false).map((m) => `${m.line}:${m.ruleId}:${m.match}`);
    assert.deepEqual(got, naiveScan(piece, DEFAULT_SECRET_RULES), JSON.stringify(piece.slice(0, 300)));
  }
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let round = 0; round < 200; round++) {
    const lines = Array.from({ length: 1 + rand(12) }, () => Array.from({ length: 1 + rand(3) }, () => pieces[rand(pieces.length)]!).join(' '));
    const text = lines.join(rand(2) ? '\n' : '\r\n');
    const got = scanText(text, DEFAULT_SECRET_RULES, false).map((m) => `${m.line}:${m.ruleId}:${m.match}`);
    assert.deepEqual(got, naiveScan(text, DEFAULT_SECRET_RULES), JSON.stringify(text.slice(0, 300)));
  }
});
