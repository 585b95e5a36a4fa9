/**
 * Secrets at rest (registry passwords and tokens): AES-256-GCM with a 256-bit key derived by
 * scrypt from each configured key string (config/keys.ts resolves them), stored as the envelope
 * `v1:<base64 iv>:<base64 tag>:<base64 ciphertext>`. Encryption uses the first key; decryption
 * tries every key, so rotating is: put the new key first, the old one in previous_encryption_keys,
 * and re-encrypt (`needsReencrypt` / `reencrypt`) at leisure. An optional context string (say
 * `registry:acme/ghcr.io`) is bound as associated data, so a ciphertext copied to another row does
 * not open there. Error messages never carry plaintext, keys or ciphertext.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, scryptSync } from 'node:crypto';
import { LadingError } from '../errors.js';

export const ENVELOPE_VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Fixed salt: key strings are secrets chosen per installation; the salt only separates this use of them. */
const KDF_SALT = 'lading/secretbox/v1';
const KDF = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Derived keys by sha256 of the key string, so several boxes over the same keys derive once. */
const derived = new Map<string, Buffer>();

function deriveKey(key: string): Buffer {
  const id = createHash('sha256').update(key).digest('hex');
  let k = derived.get(id);
  if (!k) {
    k = scryptSync(key.normalize('NFC'), KDF_SALT, 32, KDF);
    derived.set(id, k);
  }
  return k;
}

interface Envelope { iv: Buffer; tag: Buffer; ciphertext: Buffer }

function parseEnvelope(envelope: string): Envelope {
  const parts = typeof envelope === 'string' ? envelope.split(':') : [];
  const bad = (why: string) => new LadingError('BAD_INPUT', `a stored secret is not a valid ${ENVELOPE_VERSION} envelope (${why})`);
  if (parts.length !== 4) throw bad(parts.length ? `${parts.length} fields instead of 4` : 'not a string');
  const [version, iv64, tag64, ct64] = parts as [string, string, string, string];
  if (version !== ENVELOPE_VERSION) throw bad(/^v\d+$/.test(version) ? `unsupported version ${version}` : 'no version prefix');
  for (const [name, v] of [['iv', iv64], ['tag', tag64], ['ciphertext', ct64]] as const) {
    if (!BASE64.test(v) || v.length % 4 !== 0) throw bad(`${name} is not base64`);
  }
  const iv = Buffer.from(iv64, 'base64');
  const tag = Buffer.from(tag64, 'base64');
  if (iv.length !== IV_BYTES) throw bad(`iv is ${iv.length} bytes, not ${IV_BYTES}`);
  if (tag.length !== TAG_BYTES) throw bad(`tag is ${tag.length} bytes, not ${TAG_BYTES}`);
  return { iv, tag, ciphertext: Buffer.from(ct64, 'base64') };
}

function open(key: Buffer, env: Envelope, context: string | undefined): string | undefined {
  try {
    const d = createDecipheriv('aes-256-gcm', key, env.iv, { authTagLength: TAG_BYTES });
    if (context !== undefined) d.setAAD(Buffer.from(context, 'utf8'));
    d.setAuthTag(env.tag);
    return Buffer.concat([d.update(env.ciphertext), d.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

export class SecretBox {
  private readonly keys: Buffer[];

  /** `keys`: newest first (the first encrypts); each a string of at least 16 characters. */
  constructor(keys: string | readonly string[]) {
    const list = typeof keys === 'string' ? [keys] : [...keys];
    if (!list.length) {
      throw new LadingError('BAD_INPUT', 'no encryption key is configured: set encryption_key (LADING_ENCRYPTION_KEY) to store registry credentials');
    }
    list.forEach((k, i) => {
      if (typeof k !== 'string' || k.length < 16) throw new LadingError('BAD_INPUT', `encryption key ${i + 1} of ${list.length} is shorter than 16 characters`);
    });
    this.keys = list.map(deriveKey);
  }

  /** Whether a string looks like an envelope this class writes (it may still not open). */
  static isEnvelope(value: unknown): value is string {
    return typeof value === 'string' && value.startsWith(`${ENVELOPE_VERSION}:`) && value.split(':').length === 4;
  }

  encrypt(plaintext: string, context?: string): string {
    if (typeof plaintext !== 'string') throw new LadingError('BAD_INPUT', 'only strings can be encrypted');
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', this.keys[0]!, iv, { authTagLength: TAG_BYTES });
    if (context !== undefined) c.setAAD(Buffer.from(context, 'utf8'));
    const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
    return `${ENVELOPE_VERSION}:${iv.toString('base64')}:${c.getAuthTag().toString('base64')}:${ct.toString('base64')}`;
  }

  /** The plaintext; LadingError('BAD_INPUT') if no key opens it (wrong key, other context, or altered). */
  decrypt(envelope: string, context?: string): string {
    return this.openWith(envelope, context).plaintext;
  }

  /** Whether a secret was encrypted with an older key (or another context) and should be rewritten. */
  needsReencrypt(envelope: string, context?: string): boolean {
    return this.openWith(envelope, context).keyIndex !== 0;
  }

  /** The same secret encrypted with the current key (a fresh IV even if it was current). */
  reencrypt(envelope: string, context?: string): string {
    return this.encrypt(this.decrypt(envelope, context), context);
  }

  private openWith(envelope: string, context: string | undefined): { plaintext: string; keyIndex: number } {
    const env = parseEnvelope(envelope);
    for (let i = 0; i < this.keys.length; i++) {
      const plaintext = open(this.keys[i]!, env, context);
      if (plaintext !== undefined) return { plaintext, keyIndex: i };
    }
    const n = this.keys.length;
    throw new LadingError('BAD_INPUT',
      `cannot decrypt a stored secret: ${n === 1 ? 'the configured encryption key does not open it' : `none of the ${n} configured encryption keys opens it`}. ` +
      'If encryption_key was changed, list the old key under previous_encryption_keys; otherwise the stored value was altered or belongs to another record');
  }
}

export const REDACTED = '***';

const SENSITIVE_KEY = /(^|[_-])pass(wd)?$|password|secret|token|credential|authorization|api[_-]?key|private[_-]?key|encryption[_-]?key|^cookie$/i;
/** camelCase `registryPass`, `webhookPasswd`. */
const SENSITIVE_CAMEL = /[a-z0-9]Pass(wd)?$/;

function sensitiveKey(k: string): boolean {
  return SENSITIVE_KEY.test(k) || SENSITIVE_CAMEL.test(k);
}

/** Mask `user:password@` in URLs within a string. */
export function redactUrlPasswords(s: string): string {
  return s.replace(/(\/\/[^:/@\s]+:)[^@/\s]*@/g, `$1${REDACTED}@`);
}

/**
 * A copy safe to log or return: a string becomes '***' (empty and undefined stay as they are);
 * in objects and arrays, values under sensitive keys (password, registry_pass, secret, token,
 * credential, authorization, api_key, encryption_key…) become '***', and URL passwords in other
 * strings are masked. Envelopes are masked too, wherever they are.
 */
export function redact<T>(value: T): T;
export function redact(value: unknown): unknown {
  if (typeof value === 'string') return value === '' ? value : REDACTED;
  const seen = new WeakSet<object>();
  const walk = (v: unknown, sensitive: boolean): unknown => {
    if (v === undefined || v === null) return v;
    if (sensitive && typeof v !== 'object') return v === '' ? v : REDACTED;
    if (typeof v === 'string') return SecretBox.isEnvelope(v) ? REDACTED : redactUrlPasswords(v);
    if (typeof v !== 'object') return v;
    if (seen.has(v)) return '[circular]';
    seen.add(v);
    if (Array.isArray(v)) return v.map((x) => walk(x, sensitive));
    if (v instanceof Date) return v;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, sensitive || sensitiveKey(k))]));
  };
  return walk(value, false);
}
