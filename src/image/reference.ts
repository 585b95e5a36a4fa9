/**
 * Image references, parsed and normalised the way docker does (distribution/reference):
 * `debian` -> `docker.io/library/debian:latest`, `host:port/ns/name:tag`, `name@sha256:...`.
 */
import { LadingError } from '../errors.js';

export const DEFAULT_REGISTRY = 'docker.io';
export const DEFAULT_TAG = 'latest';

export interface ImageReference {
  /** Registry host (and port), normalised: `docker.io` for Docker Hub. */
  registry: string;
  /** Repository path inside the registry, e.g. `library/debian`. */
  repository: string;
  tag?: string;
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$/;

function bad(input: string, why: string): LadingError {
  return new LadingError('BAD_REFERENCE', `invalid image reference "${input}": ${why}`);
}

/** Why the port of a registry `host[:port]` is not one, or undefined (no port, or 1 to 65535). */
export function registryPortProblem(host: string): string | undefined {
  const m = /:(\d+)$/.exec(host.startsWith('[') ? host.slice(host.indexOf(']') + 1) : host);
  if (!m) return undefined;
  const port = Number(m[1]);
  return port >= 1 && port <= 65535 ? undefined : `registry port ${m[1]} is out of range (1 to 65535)`;
}

export function isDigest(s: string): boolean {
  return DIGEST.test(s) && (!s.startsWith('sha256:') || SHA256.test(s));
}

export function parseReference(input: string): ImageReference {
  const text = input.trim();
  if (!text) throw bad(input, 'it is empty');
  if (text.length > 4096) throw bad(input.slice(0, 64) + '...', 'longer than 4096 characters');
  if (/\s/.test(text)) throw bad(input, 'it contains whitespace');

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw bad(input, `"${digest}" is not a digest (expected sha256:<64 hex digits>)`);
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG.test(tag)) throw bad(input, `"${tag}" is not a valid tag`);
  }

  let registry = DEFAULT_REGISTRY;
  let path = rest;
  const firstSlash = rest.indexOf('/');
  if (firstSlash >= 0) {
    const first = rest.slice(0, firstSlash);
    if (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first) {
      if (!HOST.test(first)) throw bad(input, `"${first}" is not a valid registry host`);
      const portProblem = registryPortProblem(first);
      if (portProblem) throw bad(input, portProblem);
      registry = first;
      path = rest.slice(firstSlash + 1);
    }
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DEFAULT_REGISTRY;
  if (!path) throw bad(input, 'the repository name is empty');
  const components = path.split('/');
  for (const c of components) {
    if (!COMPONENT.test(c)) {
      throw bad(input, c.toLowerCase() === c || c === ''
        ? `repository component "${c}" is not valid`
        : `repository name must be lowercase ("${c}")`);
    }
  }
  if (path.length > 255) throw bad(input, 'the repository name is longer than 255 characters');
  if (registry === DEFAULT_REGISTRY && components.length === 1) path = `library/${path}`;
  if (!tag && !digest) tag = DEFAULT_TAG;
  return { registry, repository: path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** The full normalised form: `docker.io/library/debian:latest`, `host/repo:tag@sha256:...`. */
export function formatReference(ref: ImageReference): string {
  let s = `${ref.registry}/${ref.repository}`;
  if (ref.tag) s += `:${ref.tag}`;
  if (ref.digest) s += `@${ref.digest}`;
  return s;
}

/** The short form docker prints: `debian:latest`, `127.0.0.1:5000/app:v1`. */
export function familiarName(ref: ImageReference): string {
  let repo = `${ref.registry}/${ref.repository}`;
  if (ref.registry === DEFAULT_REGISTRY) {
    repo = ref.repository.startsWith('library/') ? ref.repository.slice('library/'.length) : ref.repository;
  }
  return repo;
}
