/**
 * A small tar writer for test fixtures and the built-in example: ustar headers, PAX records for
 * long names, GNU long-name records on request, and raw headers for hostile cases.
 */
import { createHash } from 'node:crypto';

export type TarEntry =
  | { type: 'file'; path: string; content: string | Buffer; mode?: number; uid?: number; gid?: number; mtime?: number; pax?: Record<string, string> }
  | { type: 'dir'; path: string; mode?: number; uid?: number; gid?: number; mtime?: number }
  | { type: 'symlink'; path: string; target: string; mtime?: number }
  | { type: 'hardlink'; path: string; target: string; mtime?: number }
  | { type: 'char' | 'block'; path: string; major: number; minor: number; mode?: number }
  | { type: 'fifo'; path: string; mode?: number }
  /** Bytes written as they are: a hand-made header, or garbage. */
  | { type: 'raw'; bytes: Buffer };

export interface TarOptions {
  /** Write long names as GNU `L`/`K` records instead of PAX. */
  gnuLongNames?: boolean;
  /** Leave out the two zero blocks at the end. */
  noTrailer?: boolean;
}

const TYPEFLAG: Record<string, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };
const DEFAULT_MTIME = 1700000000;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function pad512(b: Buffer): Buffer {
  const rest = b.length % 512;
  return rest ? Buffer.concat([b, Buffer.alloc(512 - rest)]) : b;
}

export interface HeaderFields {
  name: string;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  mtime?: number;
  typeflag: string;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  prefix?: string;
}

/** One 512-byte ustar header with a correct checksum. Fields too long for ustar are cut. */
export function tarHeader(f: HeaderFields): Buffer {
  const h = Buffer.alloc(512);
  h.write(f.name, 0, 100, 'utf8');
  h.write(octal(f.mode ?? 0o644, 8), 100, 'ascii');
  h.write(octal(f.uid ?? 0, 8), 108, 'ascii');
  h.write(octal(f.gid ?? 0, 8), 116, 'ascii');
  h.write(octal(f.size ?? 0, 12), 124, 'ascii');
  h.write(octal(f.mtime ?? DEFAULT_MTIME, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(f.typeflag, 156, 'ascii');
  h.write(f.linkname ?? '', 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  h.write(octal(f.devmajor ?? 0, 8), 329, 'ascii');
  h.write(octal(f.devminor ?? 0, 8), 337, 'ascii');
  if (f.prefix) h.write(f.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

function paxRecords(records: Record<string, string>): Buffer {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(records)) {
    const body = ` ${k}=${v}\n`;
    let len = Buffer.byteLength(body) + 1;
    while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
    parts.push(`${len}${body}`);
  }
  return Buffer.from(parts.join(''), 'utf8');
}

function longRecord(typeflag: string, body: Buffer, name: string): Buffer[] {
  return [tarHeader({ name, typeflag, size: body.length }), pad512(body)];
}

export function tarBuffer(entries: TarEntry[], options: TarOptions = {}): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    if (e.type === 'raw') {
      out.push(e.bytes);
      continue;
    }
    const content = e.type === 'file' ? (typeof e.content === 'string' ? Buffer.from(e.content) : e.content) : Buffer.alloc(0);
    const linkname = e.type === 'symlink' || e.type === 'hardlink' ? e.target : '';
    const name = e.type === 'dir' && !e.path.endsWith('/') ? `${e.path}/` : e.path;
    const pax: Record<string, string> = { ...(e.type === 'file' ? e.pax : undefined) };
    const longName = Buffer.byteLength(name) > 100;
    const longLink = Buffer.byteLength(linkname) > 100;
    if (options.gnuLongNames) {
      if (longName) out.push(...longRecord('L', Buffer.from(name + '\0'), '././@LongLink'));
      if (longLink) out.push(...longRecord('K', Buffer.from(linkname + '\0'), '././@LongLink'));
    } else {
      if (longName) pax.path = name;
      if (longLink) pax.linkpath = linkname;
    }
    if (Object.keys(pax).length) out.push(...longRecord('x', paxRecords(pax), 'PaxHeader'));
    const defaultMode = e.type === 'dir' ? 0o755 : e.type === 'symlink' ? 0o777 : 0o644;
    out.push(
      tarHeader({
        name: longName ? Buffer.from(name).subarray(0, 100).toString('utf8') : name,
        typeflag: TYPEFLAG[e.type]!,
        mode: 'mode' in e && e.mode !== undefined ? e.mode : defaultMode,
        uid: 'uid' in e ? e.uid : 0,
        gid: 'gid' in e ? e.gid : 0,
        size: content.length,
        mtime: 'mtime' in e ? e.mtime : undefined,
        linkname: longLink ? Buffer.from(linkname).subarray(0, 100).toString('utf8') : linkname,
        devmajor: 'major' in e ? e.major : 0,
        devminor: 'minor' in e ? e.minor : 0,
      }),
    );
    if (content.length) out.push(pad512(content));
  }
  if (!options.noTrailer) out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

/** The whiteout entry that deletes `path` (a file or a whole directory) from lower layers. */
export function whiteout(path: string): TarEntry {
  const i = path.lastIndexOf('/');
  return { type: 'file', path: `${path.slice(0, i + 1)}.wh.${path.slice(i + 1)}`, content: '' };
}

/** The opaque marker: `dir`'s contents from lower layers are hidden. */
export function opaque(dir: string): TarEntry {
  return { type: 'file', path: `${dir.replace(/\/$/, '')}/.wh..wh..opq`, content: '' };
}

export function sha256(b: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}
