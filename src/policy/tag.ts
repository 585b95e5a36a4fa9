/**
 * Image tags as Anchore reads them for mapping rules: `registry/repo:tag`, Docker Hub as
 * `docker.io` (`dockerhub/` rewritten), no implicit `library/`.
 */

export interface ParsedTag {
  registry: string;
  repo: string;
  tag?: string;
  digest?: string;
  /** 64 hex characters given alone: an image id. */
  imageId?: string;
}

/** Anchore's parse of a pull string (non-strict): host and port, repository, tag or digest. */
export function parseTag(input: string): ParsedTag {
  const s = input.trim();
  if (/^sha256:/.test(s)) return { registry: 'docker.io', repo: '', digest: s };
  if (s.length === 64 && /^[0-9a-fA-F]+$/.test(s)) return { registry: '', repo: '', imageId: s };
  let registry: string;
  let remain: string;
  const slash = s.indexOf('/');
  if (slash >= 0) {
    const head = s.slice(0, slash);
    remain = s.slice(slash + 1);
    if (head.includes(':')) registry = head;
    else if (head === 'docker.io' || head === 'localhost' || head === 'localhost.localdomain' || head === 'localbuild') registry = head;
    else if (head.includes('.')) registry = head;
    else {
      registry = 'docker.io';
      remain = s;
    }
  } else {
    registry = 'docker.io';
    remain = s;
  }
  const at = remain.lastIndexOf('@');
  if (at >= 0) return { registry, repo: remain.slice(0, at), digest: remain.slice(at + 1) };
  const colon = remain.lastIndexOf(':');
  if (colon >= 0) return { registry, repo: remain.slice(0, colon), tag: remain.slice(colon + 1) || 'latest' };
  return { registry, repo: remain, tag: 'latest' };
}

/** `registry/repo:tag` (or `@digest`). */
export function formatTag(t: ParsedTag): string {
  if (t.imageId) return t.imageId;
  return `${t.registry}/${t.repo}${t.digest ? `@${t.digest}` : `:${t.tag ?? 'latest'}`}`;
}

/** A tag as the evaluation uses it: `dockerhub/` → `docker.io/`. */
export function evaluationTag(tag: string): string {
  return tag.startsWith('dockerhub/') ? `docker.io/${tag.slice('dockerhub/'.length)}` : tag;
}

/**
 * Lading's normalised tags (`docker.io/library/debian:12`) in the form Anchore stored for the same
 * image (`docker.io/debian:12`), so mappings written against Anchore's tags match.
 */
export function anchoreTag(ladingTag: string): string {
  const t = parseTag(ladingTag);
  if (t.registry === 'docker.io' && /^library\/[^/]+$/.test(t.repo)) t.repo = t.repo.slice('library/'.length);
  return formatTag(t);
}
