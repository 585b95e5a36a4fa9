/**
 * Which mapping (and which whitelisted or blacklisted image entry) applies to an image: the first
 * whose registry and repository patterns match the tag and whose image selector matches (a tag
 * pattern, or the image's exact id or digest).
 */
import { wildcardMatch } from './wildcard.js';
import { parseTag } from './tag.js';
import type { ImageSelector } from './model.js';

export interface ImageIdentity {
  /** Image id, 64 hex characters. */
  id: string;
  /** Manifest digest `sha256:...`, when known. */
  digest: string | undefined;
}

const bareId = (s: string) => s.replace(/^sha256:/, '');

export function selectorMatches(sel: ImageSelector, image: ImageIdentity, tag: string): boolean {
  const t = parseTag(tag);
  if (!wildcardMatch(sel.registry, t.registry) || !wildcardMatch(sel.repository, t.repo)) return false;
  const idMatch = bareId(sel.image.value) === image.id;
  const digestMatch = image.digest !== undefined && sel.image.value === image.digest;
  switch (sel.image.type) {
    case 'digest': return digestMatch;
    case 'id': return idMatch;
    case 'tag': return wildcardMatch(sel.image.value, t.tag ?? '') || idMatch || digestMatch;
  }
}

/** The first rule that selects the image, in bundle order. */
export function firstMatch<T extends ImageSelector>(rules: T[], image: ImageIdentity, tag: string): T | undefined {
  return rules.find((r) => selectorMatches(r, image, tag));
}
