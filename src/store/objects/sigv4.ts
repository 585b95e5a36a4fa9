/**
 * AWS Signature Version 4 for S3 requests (the `s3` object-store driver), written from AWS's
 * specification: the canonical request (method, URI-encoded path, sorted query, the signed headers
 * lower-cased and trimmed, the payload's sha256), the string to sign over the date/region/service
 * scope, and the HMAC-SHA256 key chain. S3 paths are encoded once (no double encoding, unlike the
 * other services). Checked against AWS's published GET Object example (sigv4.test.ts).
 */
import { createHash, createHmac } from 'node:crypto';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignInput {
  method: string;
  url: URL;
  /** Headers to send and sign (host and the x-amz-* ones are added). */
  headers?: Record<string, string>;
  /** Hex sha256 of the body ('UNSIGNED-PAYLOAD' is allowed by S3 but not used here). */
  payloadHash: string;
  region: string;
  service?: string;
  now?: Date;
}

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** RFC 3986 percent-encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ (and '/' when asked). */
export function uriEncode(s: string, keepSlash = false): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();
const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');

/** `20130524T000000Z` */
export function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function canonicalQuery(url: URL): string {
  const pairs = [...url.searchParams.entries()].map(([k, v]) => [uriEncode(k), uriEncode(v)] as const);
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** The canonical request and signed header list of SigV4, for these (lower-cased) headers. */
export function canonicalRequest(method: string, url: URL, headers: Record<string, string>, payloadHash: string): { request: string; signedHeaders: string } {
  const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const canonicalHeaders = names.map((n) => `${n}:${String(lower[n]).trim().replace(/\s+/g, ' ')}\n`).join('');
  const signedHeaders = names.join(';');
  // url.pathname is already encoded (the driver builds it with uriEncode); S3 does not encode it again.
  const request = [method.toUpperCase(), url.pathname || '/', canonicalQuery(url), canonicalHeaders, signedHeaders, payloadHash].join('\n');
  return { request, signedHeaders };
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

/** The headers to send: the given ones plus host, x-amz-date, x-amz-content-sha256, the session token and authorization. */
export function signRequest(input: SignInput, creds: Credentials): Record<string, string> {
  const service = input.service ?? 's3';
  const stamp = amzDate(input.now ?? new Date());
  const date = stamp.slice(0, 8);
  const headers: Record<string, string> = {
    ...Object.fromEntries(Object.entries(input.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    host: input.url.host,
    'x-amz-date': stamp,
    'x-amz-content-sha256': input.payloadHash,
    ...(creds.sessionToken ? { 'x-amz-security-token': creds.sessionToken } : {}),
  };
  const { request, signedHeaders } = canonicalRequest(input.method, input.url, headers, input.payloadHash);
  const scope = `${date}/${input.region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', stamp, scope, sha256(request)].join('\n');
  const signature = createHmac('sha256', signingKey(creds.secretAccessKey, date, input.region, service)).update(toSign, 'utf8').digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}
