/**
 * Registry credentials, looked up per host in the order a user expects:
 * 1. explicit username/password (options), then LADING_REGISTRY_USERNAME / LADING_REGISTRY_PASSWORD;
 * 2. docker's config.json (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`), as docker reads it:
 *    `credHelpers[host]`, else `credsStore`, each through the credential-helper protocol, and the
 *    `auths` entry (`auth` base64, `username`/`password`, `identitytoken`, `registrytoken`) when no
 *    helper applies or the helper has nothing for the host;
 * 3. Amazon ECR hosts: a token from GetAuthorizationToken (see ecr.ts);
 * 4. nothing: anonymous.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LadingError } from '../../errors.js';
import { ecrCredentials, parseEcrHost, type EcrOptions } from './ecr.js';

import { lazyRequire } from '../../util/lazy.js';

/** child_process, loaded when a credential helper runs (most pulls never start one). */
const childProcess = lazyRequire<typeof import('node:child_process')>('node:child_process');

export interface RegistryCredentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (docker's `identitytoken`, a helper's `<token>` user). */
  identityToken?: string;
  /** A bearer token sent as it is (docker's `registrytoken`). */
  registryToken?: string;
}

export interface CredentialLookupOptions {
  /** Explicit credentials: used for every registry, before anything else. */
  username?: string;
  password?: string;
  /** Directory holding config.json; default $DOCKER_CONFIG, else ~/.docker. */
  dockerConfigDir?: string;
  /** Environment for the variables above and for credential helpers (PATH). Default process.env. */
  env?: NodeJS.ProcessEnv;
  helperTimeoutMs?: number;
  /** Set false to skip the Amazon ECR lookup. */
  ecr?: EcrOptions | false;
}

/** Docker Hub's key in config.json and its name in the helper protocol. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';
const DOCKER_HUB_NAMES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** The host part of a config.json key: `https://host/v1/` -> `host`; Docker Hub names -> `docker.io`. */
export function normaliseAuthKey(key: string): string {
  const host = key.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
  return DOCKER_HUB_NAMES.has(host) ? 'docker.io' : host;
}

/** The server URL docker hands a credential helper for this registry. */
export function helperServerUrl(host: string): string {
  return normaliseAuthKey(host) === 'docker.io' ? DOCKER_HUB_AUTH_KEY : host;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export function dockerConfigPath(options: CredentialLookupOptions = {}): string {
  const env = options.env ?? process.env;
  const dir = options.dockerConfigDir ?? env.DOCKER_CONFIG ?? join(env.HOME || homedir(), '.docker');
  return join(dir, 'config.json');
}

async function readDockerConfig(path: string): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LadingError('BAD_INPUT', `cannot read docker config ${path}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new LadingError('BAD_INPUT', `docker config ${path} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new LadingError('BAD_INPUT', `docker config ${path} is not a JSON object`);
  return doc as DockerConfig;
}

/** An `auths` entry's credentials, or undefined when it holds none (docker leaves `{}` behind a helper). */
export function credentialsFromAuthEntry(entry: NonNullable<DockerConfig['auths']>[string], where: string): RegistryCredentials | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  const out: RegistryCredentials = {};
  if (typeof entry.auth === 'string' && entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new LadingError('BAD_INPUT', `${where}: "auth" is not base64 of "username:password"`);
    out.username = decoded.slice(0, colon);
    out.password = decoded.slice(colon + 1);
  } else if (typeof entry.username === 'string' && typeof entry.password === 'string' && (entry.username || entry.password)) {
    out.username = entry.username;
    out.password = entry.password;
  }
  if (typeof entry.identitytoken === 'string' && entry.identitytoken) out.identityToken = entry.identitytoken;
  if (typeof entry.registrytoken === 'string' && entry.registrytoken) out.registryToken = entry.registrytoken;
  return Object.keys(out).length ? out : undefined;
}

/**
 * Ask `docker-credential-NAME get` for a server's credentials (server URL on stdin, JSON
 * `{ServerURL, Username, Secret}` on stdout). Undefined when the helper has none.
 */
export function runCredentialHelper(name: string, serverUrl: string, options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; where?: string } = {}): Promise<RegistryCredentials | undefined> {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    return Promise.reject(new LadingError('BAD_INPUT', `invalid credential helper name "${name}"${options.where ? ` in ${options.where}` : ''}`));
  }
  const program = `docker-credential-${name}`;
  const timeout = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = childProcess().execFile(program, ['get'], { env: options.env ?? process.env, timeout, maxBuffer: 1024 * 1024, windowsHide: true },
      (err, stdout, stderr) => {
        const out = String(stdout).trim();
        if (err) {
          const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string };
          if (e.code === 'ENOENT') {
            return reject(new LadingError('UNAUTHORIZED',
              `docker credential helper "${program}"${options.where ? ` (named in ${options.where})` : ''} is not installed or not on PATH; install it, or remove it from the docker config`));
          }
          if (e.killed || e.signal) {
            return reject(new LadingError('UNAUTHORIZED', `docker credential helper "${program}" did not answer within ${timeout} ms for ${serverUrl}`));
          }
          const text = `${out} ${String(stderr).trim()}`;
          if (/credentials not found/i.test(text)) return resolve(undefined);
          return reject(new LadingError('UNAUTHORIZED', `docker credential helper "${program}" failed for ${serverUrl}: ${text.trim().slice(0, 300) || e.message}`));
        }
        let doc: unknown;
        try {
          doc = JSON.parse(out);
        } catch {
          return reject(new LadingError('UNAUTHORIZED', `docker credential helper "${program}" printed something that is not JSON for ${serverUrl}`));
        }
        const d = (doc ?? {}) as { Username?: unknown; Secret?: unknown };
        if (typeof d.Secret !== 'string' || !d.Secret) return resolve(undefined);
        const user = typeof d.Username === 'string' ? d.Username : '';
        resolve(user === '<token>' ? { identityToken: d.Secret } : { username: user, password: d.Secret });
      });
    child.stdin?.on('error', () => { /* the helper may exit before reading; its exit status tells */ });
    child.stdin?.end(serverUrl);
  });
}

/** Credentials from docker's config.json for `host`, undefined when it has none. */
export async function dockerConfigCredentials(host: string, options: CredentialLookupOptions = {}): Promise<RegistryCredentials | undefined> {
  const path = dockerConfigPath(options);
  const config = await readDockerConfig(path);
  if (!config) return undefined;
  const want = normaliseAuthKey(host);
  const helperOpts = { env: options.env, timeoutMs: options.helperTimeoutMs };
  const helperEntry = Object.entries(config.credHelpers ?? {}).find(([k]) => normaliseAuthKey(k) === want);
  if (helperEntry) {
    const found = await runCredentialHelper(helperEntry[1], helperServerUrl(host), { ...helperOpts, where: `credHelpers of ${path}` });
    if (found) return found;
  } else if (typeof config.credsStore === 'string' && config.credsStore) {
    const found = await runCredentialHelper(config.credsStore, helperServerUrl(host), { ...helperOpts, where: `credsStore of ${path}` });
    if (found) return found;
  }
  const auths = config.auths ?? {};
  // An exact key first, then any key naming the same host (`https://host/v1/`, `http://host`).
  const keys = Object.keys(auths).sort((a, b) => Number(b === host) - Number(a === host));
  for (const key of keys) {
    if (normaliseAuthKey(key) !== want) continue;
    const found = credentialsFromAuthEntry(auths[key]!, `${path}: auths["${key}"]`);
    if (found) return found;
  }
  return undefined;
}

/** Credentials for a registry host by the order in the module comment; undefined means anonymous. */
export async function lookupCredentials(host: string, options: CredentialLookupOptions = {}): Promise<RegistryCredentials | undefined> {
  const env = options.env ?? process.env;
  if (options.username !== undefined && options.password !== undefined) return { username: options.username, password: options.password };
  if (env.LADING_REGISTRY_USERNAME !== undefined && env.LADING_REGISTRY_PASSWORD !== undefined) {
    return { username: env.LADING_REGISTRY_USERNAME, password: env.LADING_REGISTRY_PASSWORD };
  }
  const fromDocker = await dockerConfigCredentials(host, options);
  if (fromDocker) return fromDocker;
  if (options.ecr !== false && parseEcrHost(host)) return ecrCredentials(host, options.ecr || {});
  return undefined;
}
