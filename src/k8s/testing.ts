/**
 * AdmissionReview requests for tests, in the shapes of the Kubernetes API reference
 * (admission.k8s.io/v1, "Dynamic Admission Control": request with kind, resource, requestKind,
 * requestResource, name, namespace, operation, userInfo, object, oldObject, options, dryRun), and
 * the objects of each workload kind as the API server sends them after defaulting.
 */
import { randomUUID } from 'node:crypto';

export const WORKLOAD_KINDS = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

const RESOURCES: Record<WorkloadKind, { group: string; version: string; resource: string }> = {
  Pod: { group: '', version: 'v1', resource: 'pods' },
  ReplicationController: { group: '', version: 'v1', resource: 'replicationcontrollers' },
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments' },
  StatefulSet: { group: 'apps', version: 'v1', resource: 'statefulsets' },
  DaemonSet: { group: 'apps', version: 'v1', resource: 'daemonsets' },
  ReplicaSet: { group: 'apps', version: 'v1', resource: 'replicasets' },
  Job: { group: 'batch', version: 'v1', resource: 'jobs' },
  CronJob: { group: 'batch', version: 'v1', resource: 'cronjobs' },
};

export interface PodImages {
  containers: string[];
  initContainers?: string[];
  ephemeralContainers?: string[];
}

function container(name: string, image: string): Record<string, unknown> {
  return {
    name,
    image,
    ports: [{ containerPort: 8080, protocol: 'TCP' }],
    resources: { limits: { cpu: '500m', memory: '128Mi' } },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  };
}

function podSpec(images: PodImages, restartPolicy = 'Always'): Record<string, unknown> {
  return {
    containers: images.containers.map((img, i) => container(`app-${i}`, img)),
    ...(images.initContainers ? { initContainers: images.initContainers.map((img, i) => container(`init-${i}`, img)) } : {}),
    ...(images.ephemeralContainers ? { ephemeralContainers: images.ephemeralContainers.map((img, i) => ({ name: `debug-${i}`, image: img, stdin: true, tty: true })) } : {}),
    restartPolicy,
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    securityContext: {},
    schedulerName: 'default-scheduler',
  };
}

/** An object of a workload kind, as the API server passes it to admission. */
export function workloadObject(kind: WorkloadKind, name: string, namespace: string, images: PodImages, labels: Record<string, string> = { app: name }): Record<string, unknown> {
  const r = RESOURCES[kind];
  const metadata = { name, namespace, labels, annotations: { 'kubernetes.io/change-cause': 'kubectl apply' }, creationTimestamp: null };
  const template = { metadata: { creationTimestamp: null, labels: { app: name } }, spec: podSpec(images, kind === 'Job' || kind === 'CronJob' ? 'OnFailure' : 'Always') };
  const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
  const selector = { matchLabels: { app: name } };
  const specs: Record<WorkloadKind, Record<string, unknown>> = {
    Pod: podSpec(images),
    ReplicationController: { replicas: 1, selector: { app: name }, template },
    Deployment: { replicas: 2, selector, template, strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } }, revisionHistoryLimit: 10, progressDeadlineSeconds: 600 },
    StatefulSet: { replicas: 1, selector, template, serviceName: name, podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate' } },
    DaemonSet: { selector, template, updateStrategy: { type: 'RollingUpdate' }, revisionHistoryLimit: 10 },
    ReplicaSet: { replicas: 1, selector, template },
    Job: { parallelism: 1, completions: 1, backoffLimit: 6, template },
    CronJob: { schedule: '*/5 * * * *', concurrencyPolicy: 'Allow', suspend: false, jobTemplate: { metadata: { creationTimestamp: null }, spec: { template } }, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 },
  };
  return { apiVersion, kind, metadata, spec: specs[kind], status: {} };
}

export interface ReviewOptions {
  uid?: string;
  operation?: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  dryRun?: boolean;
  oldObject?: unknown;
}

/** An AdmissionReview request for an object (a workload object, or any object with apiVersion and kind). */
export function admissionReview(object: Record<string, unknown>, options: ReviewOptions = {}): Record<string, any> {
  const kind = String(object.kind);
  const [group, version] = String(object.apiVersion).includes('/') ? String(object.apiVersion).split('/') : ['', String(object.apiVersion)];
  const resource = (RESOURCES as Record<string, { resource: string }>)[kind]?.resource ?? `${kind.toLowerCase()}s`;
  const meta = object.metadata as { name?: string; namespace?: string };
  const operation = options.operation ?? 'CREATE';
  const optionsKind = { CREATE: 'CreateOptions', UPDATE: 'UpdateOptions', DELETE: 'DeleteOptions', CONNECT: 'ConnectOptions' }[operation];
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: options.uid ?? randomUUID(),
      kind: { group, version, kind },
      resource: { group, version, resource },
      requestKind: { group, version, kind },
      requestResource: { group, version, resource },
      name: meta.name ?? '',
      namespace: meta.namespace ?? '',
      operation,
      userInfo: { username: 'jane@example.com', uid: '014fbff9a07c', groups: ['system:authenticated', 'developers'], extra: { 'some-key': ['some-value1', 'some-value2'] } },
      object: operation === 'DELETE' ? null : object,
      oldObject: operation === 'DELETE' || operation === 'UPDATE' ? (options.oldObject ?? object) : null,
      dryRun: options.dryRun ?? false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: optionsKind, ...(operation === 'CREATE' ? { fieldManager: 'kubectl-client-side-apply' } : {}) },
    },
  };
}
