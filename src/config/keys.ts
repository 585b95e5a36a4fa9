/**
 * Which keys encrypt registry credentials at rest (store/secrets.ts SecretBox takes the list):
 * - `encryption_key` set (file or LADING_ENCRYPTION_KEY): it, then `previous_encryption_keys`.
 * - not set, development mode (the default): a random key generated once into
 *   `<data_dir>/encryption.key` with mode 0600 and reused on every start; a key file readable by
 *   other users is refused.
 * - not set, production mode: nothing is generated or read from the data directory; there are no
 *   keys (source 'none'), so storing a registry credential fails naming `encryption_key`.
 *   Everything else runs.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { LadingError, describeError } from '../errors.js';
import type { LadingConfig } from './schema.js';

export const KEY_FILE = 'encryption.key';

export interface EncryptionKeys {
  /** Newest first: encrypt with keys[0], decrypt with any. Empty when source is 'none'. */
  keys: string[];
  source: 'config' | 'file' | 'generated' | 'none';
  /** The key file, for sources 'file' and 'generated'. */
  file?: string;
}

function readKeyFile(file: string): string {
  const st = statSync(file);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
    throw new LadingError('BAD_INPUT', `the encryption key file ${file} is readable by other users (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}): chmod 600 it`);
  }
  const key = readFileSync(file, 'utf8').trim();
  if (key.length < 16) throw new LadingError('BAD_INPUT', `the encryption key file ${file} holds no key of at least 16 characters`);
  return key;
}

/** Resolve the encryption keys as described above (may create the key file). */
export function resolveEncryptionKeys(config: Pick<LadingConfig, 'encryption_key' | 'previous_encryption_keys' | 'production_mode' | 'data_dir'>): EncryptionKeys {
  const previous = config.previous_encryption_keys;
  if (config.encryption_key !== undefined) return { keys: [config.encryption_key, ...previous], source: 'config' };
  if (config.production_mode) return { keys: [], source: 'none' };
  const file = join(config.data_dir, KEY_FILE);
  try {
    return { keys: [readKeyFile(file), ...previous], source: 'file', file };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e instanceof LadingError ? e : new LadingError('BAD_INPUT', `cannot read the encryption key file ${file}: ${describeError(e)}`, { cause: e });
  }
  const key = randomBytes(32).toString('base64url');
  try {
    mkdirSync(config.data_dir, { recursive: true, mode: 0o700 });
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, `${key}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    // Another process made it first: use theirs.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return { keys: [readKeyFile(file), ...previous], source: 'file', file };
    throw new LadingError('BAD_INPUT', `cannot create the encryption key file ${file}: ${describeError(e)}`, { cause: e });
  }
  return { keys: [key, ...previous], source: 'generated', file };
}
