/** Package identities: package URLs (via packageurl-js) and CPE 2.3 names. */
import { PackageURL } from 'packageurl-js';

export function purl(type: string, namespace: string | undefined, name: string, version: string | undefined,
  qualifiers?: Record<string, string | undefined>, subpath?: string): string {
  const q: Record<string, string> = {};
  for (const [k, v] of Object.entries(qualifiers ?? {})) if (v) q[k] = v;
  return new PackageURL(type, namespace || undefined, name, version || undefined, Object.keys(q).length ? q : undefined, subpath).toString();
}

/** Escape one CPE 2.3 formatted-string component. */
function cpeComponent(v: string | undefined): string {
  if (v === undefined || v === '') return '*';
  return v.toLowerCase().replace(/\s+/g, '_').replace(/([\\!"#$%&'()+,/:;<=>@[\]^`{|}~?*])/g, '\\$1');
}

/** `cpe:2.3:a:vendor:product:version:*:*:*:*:target_sw:*:*` */
export function cpe(vendor: string, product: string, version: string, targetSw?: string, part: 'a' | 'o' = 'a'): string {
  return `cpe:2.3:${part}:${cpeComponent(vendor)}:${cpeComponent(product)}:${cpeComponent(version)}:*:*:*:*:${cpeComponent(targetSw)}:*:*`;
}

/** A small candidate set like syft's: vendor guesses × product, deduplicated. */
export function cpeCandidates(vendors: (string | undefined)[], products: (string | undefined)[], version: string, targetSw?: string): string[] {
  const out = new Set<string>();
  for (const v of vendors) for (const p of products) if (v && p) out.add(cpe(v, p, version, targetSw));
  return [...out];
}
