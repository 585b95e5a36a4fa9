/**
 * SigV4 against AWS's published example (S3 API reference, "Signature Calculations for the
 * Authorization Header", GET Object): the same request must give the same signature.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_SHA256, amzDate, signRequest, uriEncode } from './sigv4.js';

const CREDS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const EXAMPLE = {
  method: 'GET', url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'), headers: { Range: 'bytes=0-9' },
  payloadHash: EMPTY_SHA256, region: 'us-east-1', now: new Date('2013-05-24T00:00:00Z'),
};

test("sigv4: AWS's GET Object example signs to the published signature", () => {
  const h = signRequest(EXAMPLE, CREDS);
  assert.equal(h.authorization, 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, '
    + 'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
  assert.equal(h['x-amz-date'], '20130524T000000Z');
  assert.equal(h.host, 'examplebucket.s3.amazonaws.com');
});

test('sigv4: any change to what is signed changes the signature; a session token is sent and signed', () => {
  const base = signRequest(EXAMPLE, CREDS).authorization;
  for (const changed of [
    { ...EXAMPLE, headers: { Range: 'bytes=0-10' } },
    { ...EXAMPLE, url: new URL('https://examplebucket.s3.amazonaws.com/test.txt2') },
    { ...EXAMPLE, region: 'eu-west-1' },
    { ...EXAMPLE, now: new Date('2013-05-24T00:00:01Z') },
  ]) assert.notEqual(signRequest(changed, CREDS).authorization, base);
  assert.notEqual(signRequest(EXAMPLE, { ...CREDS, secretAccessKey: 'x' }).authorization, base);
  const t = signRequest(EXAMPLE, { ...CREDS, sessionToken: 'tok' });
  assert.equal(t['x-amz-security-token'], 'tok');
  assert.match(t.authorization!, /SignedHeaders=host;range;x-amz-content-sha256;x-amz-date;x-amz-security-token,/);
});

test('sigv4: URI encoding and dates as the specification writes them', () => {
  assert.equal(uriEncode('a b/c~d%e:f', true), 'a%20b/c~d%25e%3Af');
  assert.equal(uriEncode('a/b'), 'a%2Fb');
  assert.equal(uriEncode('é'), '%C3%A9');
  assert.equal(amzDate(new Date('2024-01-02T03:04:05.678Z')), '20240102T030405Z');
});
