/**
 * What ruby_gems and npms share: Anchore's legacy package feeds (every published gem and npm with
 * its versions) which Lading does not have. Triggers that need them report that they could not be
 * evaluated when the image holds such packages.
 */
import { DataUnavailableError, type Subject } from '../subject.js';
import type { PackageType } from '../../sbom/model.js';

/** name → versions found, in package order. */
export function versionsByName(subject: Subject, type: PackageType): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of subject.packages()) {
    if (p.type !== type) continue;
    const list = out.get(p.name) ?? [];
    list.push(p.version);
    out.set(p.name, list);
  }
  return out;
}

export function requireFeed(subject: Subject, type: PackageType, feed: string, what: string): void {
  const n = versionsByName(subject, type).size;
  if (n) throw new DataUnavailableError(`Lading has no ${feed} package feed (Anchore's legacy feed of published versions), so ${n} ${what} could not be checked`);
}
