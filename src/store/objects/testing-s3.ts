/**
 * A local S3 server for tests: path-style PUT, GET, DELETE and HEAD of objects and HEAD of a
 * bucket, answering as S3 does (XML errors, 404 NoSuchKey / NoSuchBucket), and checking every
 * request's SigV4 signature with its own implementation of the specification (not sigv4.ts), so
 * a request signed wrongly is refused with 403 SignatureDoesNotMatch, as S3 would.
 */
import { createHash, createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface LocalS3 {
  url: string;
  bucket: string;
  region: string;
  accessKey: string;
  secretKey: string;
  /** Objects by key. */
  objects: Map<string, Buffer>;
  /** Requests refused for their signature. */
  refused: number;
  /** Requests served, as `METHOD key`. */
  log: string[];
  /** The client connections open now (a keep-alive pool's idle ones among them). */
  sockets: Set<Socket>;
  close(): Promise<void>;
}

const hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

function encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The signature the request should carry, from its raw path, query and the headers it names. */
function expectedSignature(req: IncomingMessage, signedHeaders: string[], scope: string[], secret: string): string {
  const [rawPath, rawQuery = ''] = (req.url ?? '/').split('?');
  const query = rawQuery ? rawQuery.split('&').map((p) => p.split('=').map((x) => encode(decodeURIComponent(x ?? '')))).map(([k, v]) => `${k}=${v ?? ''}`).sort().join('&') : '';
  const headers = signedHeaders.map((h) => `${h}:${String(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonical = [req.method, rawPath, query, headers, signedHeaders.join(';'), String(req.headers['x-amz-content-sha256'])].join('\n');
  const date = String(req.headers['x-amz-date']);
  const toSign = `AWS4-HMAC-SHA256\n${date}\n${scope.join('/')}\n${hex(canonical)}`;
  let key: Buffer = createHmac('sha256', `AWS4${secret}`).update(scope[0]!).digest();
  for (const part of scope.slice(1)) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(toSign).digest('hex');
}

/** Why the request's signature is wrong, or undefined when it is right. */
function signatureProblem(req: IncomingMessage, body: Buffer, s3: Pick<LocalS3, 'accessKey' | 'secretKey' | 'region'>): string | undefined {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(String(req.headers.authorization ?? ''));
  if (!m) return 'no SigV4 authorization header';
  const [, access, date, region, signed, signature] = m;
  if (access !== s3.accessKey) return 'unknown access key';
  if (region !== s3.region) return `wrong region ${region}`;
  const names = signed!.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date') || !names.includes('x-amz-content-sha256')) return 'host, x-amz-date and x-amz-content-sha256 must be signed';
  if (String(req.headers['x-amz-date']).slice(0, 8) !== date) return 'the date is not the scope date';
  if (req.headers['x-amz-content-sha256'] !== hex(body)) return 'x-amz-content-sha256 is not the hash of the body';
  const want = expectedSignature(req, names, [date!, region!, 's3', 'aws4_request'], s3.secretKey);
  return want === signature ? undefined : 'SignatureDoesNotMatch';
}

function xmlError(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

export async function startLocalS3(options: { bucket?: string; region?: string } = {}): Promise<LocalS3> {
  const s3: Omit<LocalS3, 'url' | 'close' | 'sockets'> = {
    bucket: options.bucket ?? 'lading-test', region: options.region ?? 'eu-central-1',
    accessKey: 'AKIDLOCALTEST', secretKey: 'local/secret+key', objects: new Map(), refused: 0, log: [],
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const send = (status: number, payload?: Buffer | string) => {
        res.writeHead(status, payload !== undefined ? { 'content-type': typeof payload === 'string' ? 'application/xml' : 'application/octet-stream' } : {});
        res.end(req.method === 'HEAD' ? undefined : payload);
      };
      const problem = signatureProblem(req, body, s3);
      if (problem) {
        s3.refused++;
        return send(403, xmlError(problem === 'SignatureDoesNotMatch' ? problem : 'AccessDenied', problem));
      }
      const path = (req.url ?? '/').split('?')[0]!.split('/').slice(1).map(decodeURIComponent);
      if (path[0] !== s3.bucket) return send(404, xmlError('NoSuchBucket', 'The specified bucket does not exist'));
      const key = path.slice(1).join('/');
      s3.log.push(`${req.method} ${key}`);
      if (!key) return req.method === 'HEAD' ? send(200) : send(400, xmlError('InvalidRequest', 'bucket operations other than HEAD are not served'));
      const obj = s3.objects.get(key);
      switch (req.method) {
        case 'PUT':
          s3.objects.set(key, body);
          return send(200, '');
        case 'GET':
        case 'HEAD':
          return obj ? send(200, obj) : send(404, xmlError('NoSuchKey', 'The specified key does not exist.'));
        case 'DELETE':
          s3.objects.delete(key);
          return send(204);
        default:
          return send(405, xmlError('MethodNotAllowed', `${req.method} is not allowed`));
      }
    });
  });
  const sockets = new Set<Socket>();
  server.keepAliveTimeout = 600_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...s3,
    sockets,
    get refused() { return s3.refused; },
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
