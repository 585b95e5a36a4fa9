import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clearEcrCache, ecrCredentials, parseEcrHost } from './ecr.js';
import { lookupCredentials } from './credentials.js';
import { startHttpServer } from '../../testkit/registry.js';

test('Amazon ECR host names', () => {
  assert.deepEqual(parseEcrHost('123456789012.dkr.ecr.us-east-1.amazonaws.com'), { accountId: '123456789012', region: 'us-east-1', fips: false });
  assert.deepEqual(parseEcrHost('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn'), { accountId: '123456789012', region: 'cn-north-1', fips: false });
  assert.deepEqual(parseEcrHost('123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com'), { accountId: '123456789012', region: 'us-gov-west-1', fips: true });
  assert.equal(parseEcrHost('12345.dkr.ecr.us-east-1.amazonaws.com'), undefined);
  assert.equal(parseEcrHost('123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com'), undefined);
  assert.equal(parseEcrHost('public.ecr.aws'), undefined);
  assert.equal(parseEcrHost('registry.example.com'), undefined);
});

/**
 * The real AWS SDK against a local endpoint speaking the ECR JSON protocol, with keys from the
 * environment (the default credential chain's first link).
 */
test('GetAuthorizationToken through the SDK: basic credentials, cached until near expiry, errors named', async () => {
  const keys = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_EC2_METADATA_DISABLED', 'AWS_PROFILE', 'AWS_SESSION_TOKEN'];
  const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
  process.env.AWS_ACCESS_KEY_ID = 'AKIAEXAMPLEEXAMPLE00';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret-example';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  const expiresAt = Math.floor(Date.now() / 1000) + 3600;
  const calls: { target?: string; auth?: string }[] = [];
  let deny = false;
  const srv = await startHttpServer(async (req, res) => {
    for await (const _ of req) { /* drain */ }
    calls.push({ target: req.headers['x-amz-target'] as string | undefined, auth: req.headers.authorization });
    if (deny) {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      return void res.end(JSON.stringify({ __type: 'AccessDeniedException', message: 'User is not authorized to perform ecr:GetAuthorizationToken' }));
    }
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify({ authorizationData: [{ authorizationToken: Buffer.from('AWS:ecr-password').toString('base64'), expiresAt, proxyEndpoint: 'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com' }] }));
  });
  const host = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
  const endpoint = `http://${srv.host}`;
  try {
    clearEcrCache();
    assert.deepEqual(await ecrCredentials(host, { endpoint }), { username: 'AWS', password: 'ecr-password' });
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.target, 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken');
    assert.match(calls[0]!.auth ?? '', /^AWS4-HMAC-SHA256 Credential=AKIAEXAMPLEEXAMPLE00\/\d{8}\/eu-west-1\/ecr\/aws4_request/);
    // cached, also through the general lookup (no docker config: an empty HOME)
    assert.deepEqual(await lookupCredentials(host, { env: { HOME: '/nonexistent' }, ecr: { endpoint } }), { username: 'AWS', password: 'ecr-password' });
    assert.equal(calls.length, 1);
    // five minutes before expiry it is fetched again
    await ecrCredentials(host, { endpoint, now: () => (expiresAt - 200) * 1000 });
    assert.equal(calls.length, 2);

    clearEcrCache();
    deny = true;
    await assert.rejects(ecrCredentials(host, { endpoint }), {
      code: 'UNAUTHORIZED',
      message: /cannot get an Amazon ECR token for 123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com \(account 123456789012, region eu-west-1\): AccessDeniedException: User is not authorized/,
    });
  } finally {
    clearEcrCache();
    for (const k of keys) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await srv.stop();
  }
});
