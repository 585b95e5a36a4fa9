/**
 * `admission.k8s.io/v1` AdmissionReview: the request as the API server sends it, validated, and
 * the container images of the object it carries. Pods and every kind that embeds a pod template
 * (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob) are read;
 * containers, init containers and ephemeral containers all count. Other kinds carry no images.
 */
import { z } from 'zod';

export const REVIEW_API_VERSION = 'admission.k8s.io/v1';

const str = z.string();
const stringMap = z.record(z.string(), z.string());

const groupVersionKind = z.looseObject({ group: str, version: str, kind: str });

const metadata = z.looseObject({
  name: str.optional(),
  generateName: str.optional(),
  namespace: str.optional(),
  labels: stringMap.nullish(),
  annotations: stringMap.nullish(),
});

const container = z.looseObject({ name: str, image: str.optional() });
const containers = z.array(container).nullish();
const podSpec = z.looseObject({ containers, initContainers: containers, ephemeralContainers: containers });
const podTemplate = z.looseObject({ metadata: metadata.nullish(), spec: podSpec });
const objectMeta = metadata.optional();

const requestSchema = z.looseObject({
  uid: str.min(1),
  kind: groupVersionKind,
  resource: z.looseObject({ group: str, version: str, resource: str }),
  subResource: str.optional(),
  name: str.optional(),
  namespace: str.optional(),
  operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']),
  userInfo: z.looseObject({ username: str.optional(), uid: str.optional(), groups: z.array(str).nullish() }),
  object: z.unknown().optional(),
  oldObject: z.unknown().optional(),
  dryRun: z.boolean().optional(),
  options: z.unknown().optional(),
});

const reviewSchema = z.looseObject({
  apiVersion: str,
  kind: z.literal('AdmissionReview'),
  request: requestSchema,
});

type PodSpec = z.infer<typeof podSpec>;

/** Where each kind keeps its pod spec. */
const WORKLOADS: Record<string, { group: string; spec: z.ZodType<{ spec: PodSpec; metadata?: z.infer<typeof metadata> }> }> = {
  Pod: { group: '', spec: z.looseObject({ metadata: objectMeta, spec: podSpec }) },
  ReplicationController: { group: '', spec: templated() },
  Deployment: { group: 'apps', spec: templated() },
  StatefulSet: { group: 'apps', spec: templated() },
  DaemonSet: { group: 'apps', spec: templated() },
  ReplicaSet: { group: 'apps', spec: templated() },
  Job: { group: 'batch', spec: templated() },
  CronJob: {
    group: 'batch',
    spec: z.looseObject({ metadata: objectMeta, spec: z.looseObject({ jobTemplate: z.looseObject({ spec: z.looseObject({ template: podTemplate }) }) }) })
      .transform((o) => ({ metadata: o.metadata, spec: o.spec.jobTemplate.spec.template.spec })),
  },
};

/** An object whose spec.template is a pod template, read as {metadata, spec: the pod spec}. */
function templated() {
  return z.looseObject({ metadata: objectMeta, spec: z.looseObject({ template: podTemplate }) }).transform((o) => ({ metadata: o.metadata, spec: o.spec.template.spec }));
}

export type ContainerKind = 'container' | 'initContainer' | 'ephemeralContainer';

export interface ContainerImage {
  container: string;
  kind: ContainerKind;
  /** The image exactly as the object names it. */
  image: string;
}

export interface AdmissionRequest {
  uid: string;
  /** The object's kind, e.g. `Deployment`. */
  kind: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  namespace: string;
  /** The object's name (generateName when it has none yet). */
  name: string;
  user: string;
  dryRun: boolean;
  /** The object's own labels and annotations. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Whether the kind carries a pod spec; false for kinds this webhook does not read. */
  workload: boolean;
  images: ContainerImage[];
}

export class ReviewError extends Error {}

/** Zod issues as `path: message; path: message`, paths written the JSON way (`request.object.spec.containers[0].name`). */
function describeIssues(error: z.ZodError, prefix: string): string {
  return error.issues.slice(0, 5).map((i) => {
    const path = i.path.reduce<string>((p, seg) => (typeof seg === 'number' ? `${p}[${seg}]` : `${p}.${String(seg)}`), prefix);
    return `${path}: ${i.message}`;
  }).join('; ');
}

/** Validate an AdmissionReview and read the images of its object; ReviewError says what is wrong. */
export function parseReview(body: unknown): AdmissionRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ReviewError('expected an AdmissionReview JSON object');
  const apiVersion = (body as { apiVersion?: unknown }).apiVersion;
  if (apiVersion !== REVIEW_API_VERSION) {
    throw new ReviewError(`apiVersion ${JSON.stringify(apiVersion)}: expected ${REVIEW_API_VERSION} (set admissionReviewVersions: [v1] in the ValidatingWebhookConfiguration)`);
  }
  const parsed = reviewSchema.safeParse(body);
  if (!parsed.success) throw new ReviewError(`invalid AdmissionReview: ${describeIssues(parsed.error, '')}`.replace(': .', ': '));
  const r = parsed.data.request;
  const base: AdmissionRequest = {
    uid: r.uid,
    kind: r.kind.kind,
    operation: r.operation,
    namespace: r.namespace ?? '',
    name: r.name ?? '',
    user: r.userInfo.username ?? '',
    dryRun: r.dryRun === true,
    labels: {},
    annotations: {},
    workload: false,
    images: [],
  };
  const workload = Object.hasOwn(WORKLOADS, r.kind.kind) ? WORKLOADS[r.kind.kind] : undefined;
  // Deletes and connects carry no new object to check; other kinds (or a scale subresource) no pod spec.
  if (!workload || workload.group !== r.kind.group || r.operation === 'DELETE' || r.operation === 'CONNECT') return base;
  if (r.object === undefined || r.object === null) throw new ReviewError(`request.object: required for ${r.operation} of ${r.kind.kind}`);
  const obj = workload.spec.safeParse(r.object);
  if (!obj.success) throw new ReviewError(`invalid ${r.kind.kind}: ${describeIssues(obj.error, 'request.object')}`);
  const meta = obj.data.metadata;
  const spec = obj.data.spec;
  const images: ContainerImage[] = [];
  const add = (list: z.infer<typeof containers>, kind: ContainerKind) => {
    for (const c of list ?? []) if (c.image !== undefined && c.image !== '') images.push({ container: c.name, kind, image: c.image });
  };
  add(spec.initContainers, 'initContainer');
  add(spec.containers, 'container');
  add(spec.ephemeralContainers, 'ephemeralContainer');
  return {
    ...base,
    namespace: base.namespace || (meta?.namespace ?? ''),
    name: base.name || (meta?.name ?? meta?.generateName ?? ''),
    labels: meta?.labels ?? {},
    annotations: meta?.annotations ?? {},
    workload: true,
    images,
  };
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string };
  warnings?: string[];
}

/** The AdmissionReview the API server expects back. */
export function reviewResponse(response: AdmissionResponse): { apiVersion: string; kind: 'AdmissionReview'; response: AdmissionResponse } {
  return { apiVersion: REVIEW_API_VERSION, kind: 'AdmissionReview', response };
}
