/**
 * A registry whose certificate the service does not trust (an https front with an openssl-made
 * certificate before a real registry): the login check names the TLS problem,
 * not the credentials; a record's `registry_ca_cert` (PEM) makes the login, the tag lookup and the
 * analysis trust it; removing it (null) brings the TLS error back.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { buildImage } from '../../testkit/images.js';
import { opensslAvailable, pushImage, selfSignedCert, startTlsFront, type RunningServer } from '../../testkit/registry.js';
import { ADMIN as admin, assertErrorBody, describeService, waitAnalyzed } from '../../testkit/service.js';

const CREDS = { user: 'puller', pass: 'pull-pass-s3cret' };
const image = buildImage({ layers: [{ entries: [{ type: 'file', path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' }] }] });

describeService('registries with their own CA', { dialects: ['sqlite'], registry: true }, (h) => {
  let front: RunningServer;
  let tls: Awaited<ReturnType<typeof selfSignedCert>>;
  const body = (extra: Record<string, unknown> = {}) => ({ registry: front.host, registry_user: CREDS.user, registry_pass: CREDS.pass, ...extra });

  before(async () => {
    if (!opensslAvailable()) return;
    await pushImage(h().registry!.host, 'team/app', 'v1', image);
    tls = await selfSignedCert();
    front = await startTlsFront(h().registry!.host, tls);
  });
  after(async () => {
    await front?.stop();
    if (tls) await rm(tls.dir, { recursive: true, force: true });
  });

  test('untrusted certificate: the login check names the TLS problem and the way out, not the credentials', { skip: !opensslAvailable() && 'openssl is not installed' }, async () => {
    const r = await h().api('POST', '/v1/registries', { ...admin, body: body() });
    assertErrorBody(r, 406, /TLS: certificate signed by unknown authority for 127\.0\.0\.1 .*--ca-cert FILE or --insecure.*registry_ca_cert/);
    assert.doesNotMatch(r.body.message, /supplied credentials/);
    assert.equal(r.body.detail.error_code, 'TLS');
  });

  test('registry_ca_cert that is not PEM certificates is a 400 naming it', { skip: !opensslAvailable() && 'openssl is not installed' }, async () => {
    for (const [pem, message] of [['hello', /registry_ca_cert holds no PEM certificate/], ['-----BEGIN CERTIFICATE-----\nnot base64 der\n-----END CERTIFICATE-----', /registry_ca_cert: certificate 1 of 1 cannot be read/]] as const) {
      assertErrorBody(await h().api('POST', '/v1/registries?validate=false', { ...admin, body: body({ registry_ca_cert: pem }) }), 400, message);
    }
  });

  test('with the CA on the record: login, tag lookup and analysis trust the registry', { skip: !opensslAvailable() && 'openssl is not installed' }, async () => {
    const { api } = h();
    const pem = tls.cert.toString('utf8');
    const ok = await api('POST', '/v1/registries', { ...admin, body: body({ registry_ca_cert: pem }) });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body[0].registry_ca_cert, pem);
    const added = await api('POST', '/v1/images', { ...admin, body: { tag: `${front.host}/team/app:v1` } });
    assert.equal(added.status, 200, added.text);
    assert.equal(added.body[0].imageDigest, image.manifestDigest);
    const img = await waitAnalyzed(api, image.manifestDigest);
    assert.equal(img.analysis_status, 'analyzed');
  });

  test('PUT registry_ca_cert: null removes the CA; the next login check fails on TLS again', { skip: !opensslAvailable() && 'openssl is not installed' }, async () => {
    const { api } = h();
    const path = `/v1/registries/${encodeURIComponent(front.host)}`;
    assertErrorBody(await api('PUT', path, { ...admin, body: { registry_ca_cert: null } }), 406, /TLS: certificate signed by unknown authority/);
    const kept = await api('GET', path, admin);
    assert.equal(kept.body[0].registry_ca_cert, tls.cert.toString('utf8'), 'a refused update keeps the CA');
    const removed = await api('PUT', `${path}?validate=false`, { ...admin, body: { registry_ca_cert: null } });
    assert.equal(removed.status, 200, removed.text);
    assert.equal(removed.body[0].registry_ca_cert, null);
  });
});
