/**
 * `lading registry login|logout`: docker's config.json (`$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`, the file credentials.ts reads), written as `docker login` writes it: an
 * `auths` entry `{ "auth": base64("user:password") }` under the host (Docker Hub under
 * `https://index.docker.io/v1/`). Every other entry and key of the file is kept; the file is
 * replaced atomically with mode 0600 (its directory created 0700). A file that is not a JSON object
 * is an error, never overwritten.
 */
import { mkdir, readFile, rename, writeFile, chmod, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LadingError } from '../../errors.js';
import { DOCKER_HUB_AUTH_KEY, dockerConfigPath, normaliseAuthKey, type CredentialLookupOptions } from './credentials.js';

type ConfigDoc = Record<string, unknown> & { auths?: Record<string, unknown>; credHelpers?: Record<string, string>; credsStore?: string };

async function readConfig(path: string): Promise<ConfigDoc> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new LadingError('BAD_INPUT', `cannot read docker config ${path}: ${(e as Error).message}`);
  }
  if (!text.trim()) return {};
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new LadingError('BAD_INPUT', `docker config ${path} is not valid JSON (${(e as Error).message}); fix or remove it, it was left as it is`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new LadingError('BAD_INPUT', `docker config ${path} is not a JSON object; it was left as it is`);
  const auths = (doc as ConfigDoc).auths;
  if (auths !== undefined && (typeof auths !== 'object' || auths === null || Array.isArray(auths))) {
    throw new LadingError('BAD_INPUT', `docker config ${path}: "auths" is not an object; it was left as it is`);
  }
  return doc as ConfigDoc;
}

async function writeConfig(path: string, doc: ConfigDoc): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.lading-${process.pid}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(doc, null, '\t')}\n`, { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new LadingError('BAD_INPUT', `cannot write docker config ${path}: ${(e as Error).message}`);
  }
}

/** The config.json key docker uses for a registry host. */
export function authKey(host: string): string {
  return normaliseAuthKey(host) === 'docker.io' ? DOCKER_HUB_AUTH_KEY : normaliseAuthKey(host);
}

export interface LoginSaved {
  path: string;
  key: string;
  /** A credential helper docker and Lading consult before `auths` for this host, if the file names one. */
  helper?: string;
}

/** Store `username`/`password` for `host` in config.json, keeping everything else in it. */
export async function saveDockerLogin(host: string, creds: { username: string; password: string }, options: CredentialLookupOptions = {}): Promise<LoginSaved> {
  const path = dockerConfigPath(options);
  const doc = await readConfig(path);
  const key = authKey(host);
  doc.auths = { ...(doc.auths ?? {}), [key]: { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') } };
  await writeConfig(path, doc);
  const helper = Object.entries(doc.credHelpers ?? {}).find(([k]) => normaliseAuthKey(k) === normaliseAuthKey(host))?.[1] ?? doc.credsStore;
  return { path, key, ...(typeof helper === 'string' && helper ? { helper } : {}) };
}

/** Remove every `auths` entry for `host`; the keys removed (none: nothing was stored). */
export async function removeDockerLogin(host: string, options: CredentialLookupOptions = {}): Promise<{ path: string; removed: string[] }> {
  const path = dockerConfigPath(options);
  const doc = await readConfig(path);
  const want = normaliseAuthKey(host);
  const removed = Object.keys(doc.auths ?? {}).filter((k) => normaliseAuthKey(k) === want);
  if (removed.length === 0) return { path, removed };
  const auths = { ...doc.auths };
  for (const k of removed) delete auths[k];
  doc.auths = auths;
  await writeConfig(path, doc);
  return { path, removed };
}
