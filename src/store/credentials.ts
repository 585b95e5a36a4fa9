/**
 * Password hashing and the password rules of the account store (store/accounts.ts).
 *
 * Passwords are stored as scrypt hashes with a per-user salt, the parameters inside the string:
 * `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (base64). Verification compares in constant time; a dummy
 * hash per parameter set lets an unknown user cost the same work as a known one.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { LadingError } from '../errors.js';

const PASSWORD_MIN = 6;
const PASSWORD_MAX = 128;
/** Longer input is not hashed at all (still spending the same time). */
export const VERIFY_INPUT_MAX = 1024;

export interface HashParams {
  /** log2 of scrypt's N (cost). */
  ln: number;
  r: number;
  p: number;
}

/** 32 MiB and about 0.1 s per hash. */
export const DEFAULT_HASH_PARAMS: HashParams = { ln: 15, r: 8, p: 1 };
const SALT_BYTES = 16;
const HASH_BYTES = 32;

function scryptAsync(password: string, salt: Buffer, params: HashParams): Promise<Buffer> {
  const N = 2 ** params.ln;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, HASH_BYTES, { N, r: params.r, p: params.p, maxmem: 256 * N * params.r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export function checkParams(p: HashParams): void {
  if (!(Number.isInteger(p.ln) && p.ln >= 10 && p.ln <= 22 && Number.isInteger(p.r) && p.r >= 1 && p.r <= 32 && Number.isInteger(p.p) && p.p >= 1 && p.p <= 16)) {
    throw new LadingError('BAD_INPUT', `scrypt parameters out of range (ln=${p.ln}, r=${p.r}, p=${p.p})`);
  }
}

/** `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` for a password, with a fresh random salt. */
export async function hashPassword(password: string, params: HashParams = DEFAULT_HASH_PARAMS): Promise<string> {
  checkParams(params);
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptAsync(password, salt, params);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export interface ParsedHash { params: HashParams; salt: Buffer; key: Buffer }

export function parseHash(hash: string): ParsedHash | undefined {
  const m = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+=*)\$([A-Za-z0-9+/]+=*)$/.exec(hash);
  if (!m) return undefined;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  try {
    checkParams(params);
  } catch {
    return undefined;
  }
  const key = Buffer.from(m[5]!, 'base64');
  return key.length >= 16 ? { params, salt: Buffer.from(m[4]!, 'base64'), key } : undefined;
}

/** Whether a password matches a stored hash (constant-time compare); false for a malformed hash. */
export async function checkPassword(password: string, hash: string): Promise<boolean> {
  const h = parseHash(hash);
  if (!h) return false;
  const key = await scryptAsync(password, h.salt, h.params);
  return key.length === h.key.length && timingSafeEqual(key, h.key);
}

export function sameParams(a: HashParams, b: HashParams): boolean {
  return a.ln === b.ln && a.r === b.r && a.p === b.p;
}

/** One hash per parameter set to verify against when the user does not exist (same work either way). */
const dummyHashes = new Map<string, Promise<string>>();
export function dummyHash(params: HashParams): Promise<string> {
  const k = `${params.ln},${params.r},${params.p}`;
  let h = dummyHashes.get(k);
  if (!h) {
    h = hashPassword(randomBytes(16).toString('hex'), params);
    dummyHashes.set(k, h);
  }
  return h;
}

export function checkPasswordPolicy(password: unknown): asserts password is string {
  if (typeof password !== 'string' || password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) {
    throw new LadingError('BAD_INPUT', `a password must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters long`);
  }
}

/** The stored hash of a user without a password: matches nothing. */
export const NO_PASSWORD = '!';

/** Hex sha256: how API tokens are kept, and a fingerprint of a password hash. */
export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
