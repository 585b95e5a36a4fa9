/**
 * The strict bundle shipped in docs/bundles/strict.json, on an image with the public CA
 * certificates every Debian or RHEL image has and one real private key: the certificates are
 * not reported, the key is (by name, and by its content as a secret).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, writeOciLayout } from '../testkit/images.js';
import { openSource } from '../image/sources/index.js';
import { analyzeImage } from '../analyze/analyze.js';
import type { Sbom } from '../sbom/model.js';
import { loadBundle } from './bundle.js';
import { evaluateBundle } from './evaluate.js';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIFazCCA1OgAwIBAgIRAIIQz7DSQONZRGPgu2OCiwAwDQYJKoZIhvcNAQELBQAw\nTzELMAkGA1UEBhMCVVMxKTAnBgNVBAoTIEludGVybmV0IFNlY3VyaXR5IFJlc2Vh\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\nMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu\n-----END PRIVATE KEY-----\n';

let dir: string;
let sbom: Sbom;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lading-strict-'));
  const image = buildImage({ layers: [{ entries: [
    { type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
    { type: 'file', path: 'usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt', content: CERT },
    { type: 'symlink', path: 'etc/ssl/certs/ISRG_Root_X1.pem', target: '/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt' },
    { type: 'file', path: 'etc/ssl/certs/ca-certificates.crt', content: CERT },
    { type: 'symlink', path: 'usr/lib/ssl/cert.pem', target: '/etc/ssl/certs/ca-certificates.crt' },
    { type: 'file', path: 'etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', content: CERT },
    { type: 'file', path: 'usr/lib/python3/dist-packages/certifi/cacert.pem', content: CERT },
    { type: 'file', path: 'etc/ssl/private/server.pem', content: KEY },
    { type: 'file', path: 'opt/app/tls/client.pem', content: CERT },
  ] }] });
  await writeOciLayout(join(dir, 'layout'), { v1: image });
  const source = await openSource(`oci-dir:${join(dir, 'layout')}:v1`);
  try {
    sbom = await analyzeImage(await source.resolve({}));
  } finally {
    await source.close();
  }
});
after(async () => rm(dir, { recursive: true, force: true }));

test('the shipped strict bundle: public CA certificates are not findings, a private key and an application certificate are', async () => {
  const doc: unknown = JSON.parse(await readFile(new URL('../../docs/bundles/strict.json', import.meta.url), 'utf8'));
  const e = evaluateBundle(loadBundle(doc), { sbom, scan: undefined }, { tag: 'docker.io/team/app:1' });
  const rows = (trigger: string) => e.decisions.filter((d) => d.trigger === trigger).map((d) => d.message);
  assert.deepEqual(rows('name_match').map((m) => /file=(\S+)/.exec(m)?.[1]).sort(), ['/etc/ssl/private/server.pem', '/opt/app/tls/client.pem']);
  assert.deepEqual(rows('content_regex_checks').map((m) => /file=(\S+) regexp=(\w+)/.exec(m)?.slice(1)), [['/etc/ssl/private/server.pem', 'PRIV_KEY']]);
  assert.equal(e.decisions.find((d) => d.trigger === 'content_regex_checks')?.action, 'stop');
});
