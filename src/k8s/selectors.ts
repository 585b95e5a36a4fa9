/**
 * Which mode (and bundle) applies to one image of one admission request: the first rule of
 * `admission.rules` whose every condition matches, else the configured default. Conditions, as
 * Anchore's admission controller selected on namespace, resource and image:
 *   namespace: regex over the request's namespace name;
 *   labels: key → regex over the value of that label (or annotation) of the object itself;
 *   image: regex over the normalised image reference (`docker.io/library/nginx:1.25`).
 * A rule may also set the bundle (policy mode) and what unknown images get.
 * Regexes are unanchored (JavaScript syntax, as Anchore's Go regexps were); write ^…$ to anchor.
 */
import type { AdmissionConfig, AdmissionMode } from '../config/schema.js';

export interface Selection {
  mode: AdmissionMode;
  /** The bundle of policy mode; undefined: the account's active bundle. */
  bundleId?: string;
  /** What an image Lading has not analyzed gets. */
  unknownImages: 'deny' | 'allow';
  /** Which rule chose it (index in admission.rules), or undefined for the default. */
  rule?: number;
}

export interface SelectionSubject {
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** The normalised reference, or the image as written when it does not parse. */
  image: string;
}

interface CompiledRule {
  namespace?: RegExp;
  labels: [string, RegExp][];
  image?: RegExp;
  selection: Selection;
}

export class ModeSelector {
  private readonly rules: CompiledRule[];
  private readonly fallback: Selection;

  constructor(config: Pick<AdmissionConfig, 'rules' | 'mode' | 'bundle_id' | 'unknown_images'>) {
    const bundle = (id: string | undefined) => (id !== undefined ? { bundleId: id } : config.bundle_id !== undefined ? { bundleId: config.bundle_id } : {});
    this.fallback = { mode: config.mode, unknownImages: config.unknown_images, ...bundle(undefined) };
    this.rules = config.rules.map((r, i) => ({
      ...(r.namespace !== undefined ? { namespace: new RegExp(r.namespace) } : {}),
      labels: Object.entries(r.labels ?? {}).map(([k, v]) => [k, new RegExp(v)] as [string, RegExp]),
      ...(r.image !== undefined ? { image: new RegExp(r.image) } : {}),
      selection: { mode: r.mode, unknownImages: r.unknown_images ?? config.unknown_images, ...bundle(r.bundle_id), rule: i },
    }));
  }

  select(s: SelectionSubject): Selection {
    for (const r of this.rules) {
      if (r.namespace && !r.namespace.test(s.namespace)) continue;
      if (r.image && !r.image.test(s.image)) continue;
      if (!r.labels.every(([k, re]) => {
        const v = Object.hasOwn(s.labels, k) ? s.labels[k] : Object.hasOwn(s.annotations, k) ? s.annotations[k] : undefined;
        return v !== undefined && re.test(v);
      })) continue;
      return r.selection;
    }
    return this.fallback;
  }
}
