/**
 * The API over HTTPS (listen.tls_cert_file / tls_key_file) with certificates made by openssl here:
 * a request verified against the first certificate works; after the files are replaced and the
 * process gets SIGHUP, the new certificate is served; a file that is no certificate stops start-up
 * with a message naming it.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_PASSWORD, startTestService } from '../testkit/service.js';

const dir = mkdtempSync(join(tmpdir(), 'lading-api-tls-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
const skip = haveOpenssl() ? false : 'openssl is not installed';

/** A self-signed certificate for 127.0.0.1 with this common name: [cert file, key file]. */
function makeCert(name: string): [string, string] {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}`,
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'pipe' });
  return [cert, key];
}

/** GET /v1/system over HTTPS trusting only `ca`: the status and the common name the server presented. */
function get(url: string, ca: Buffer): Promise<{ status: number; cn: string }> {
  return new Promise((resolve, reject) => {
    const auth = Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64');
    const req = request(`${url}/v1/system`, { ca, headers: { authorization: `Basic ${auth}` }, agent: false }, (res) => {
      const cn = String((res.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '');
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, cn }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('HTTPS with the configured certificate; replaced files are served after SIGHUP', { skip }, async () => {
  const [firstCert, firstKey] = makeCert('first');
  const [secondCert, secondKey] = makeCert('second');
  const live = { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key') };
  copyFileSync(firstCert, live.cert);
  copyFileSync(firstKey, live.key);
  const data = mkdtempSync(join(dir, 'data-'));
  const { svc } = await startTestService(join(data, 'lading.db'), data, { config: { listen: { tls_cert_file: live.cert, tls_key_file: live.key } } });
  try {
    assert.match(svc.url!, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(await get(svc.url!, readFileSync(firstCert)), { status: 200, cn: 'first' });

    copyFileSync(secondCert, live.cert);
    copyFileSync(secondKey, live.key);
    process.emit('SIGHUP', 'SIGHUP');
    assert.deepEqual(await get(svc.url!, readFileSync(secondCert)), { status: 200, cn: 'second' });
    await assert.rejects(get(svc.url!, readFileSync(firstCert)), /self[- ]signed|unable to verify|certificate/i, 'the old certificate is no longer served');
  } finally {
    await svc.close();
  }
});

test('a certificate file that is no certificate stops start-up, naming the key and the file', { skip }, async () => {
  const [, key] = makeCert('third');
  const bad = join(dir, 'bad.crt');
  writeFileSync(bad, 'not a certificate\n');
  const data = mkdtempSync(join(dir, 'data-'));
  await assert.rejects(startTestService(join(data, 'lading.db'), data, { config: { listen: { tls_cert_file: bad, tls_key_file: key } } }),
    (e: Error) => e.message.startsWith(`listen: the TLS certificate (listen.tls_cert_file) ${bad} is not a PEM certificate`));
});
