/**
 * deploy/kubernetes/: every manifest parsed (multi-document YAML) and validated against the
 * Kubernetes object schemas (kubernetes-models), then cross-checked as a cluster would wire it:
 * Services select pods that declare their target ports, every Secret and ConfigMap reference names
 * an existing key, probes point at declared ports, the kustomizations list every file, the webhook
 * reaches the admission listener the API's configuration file starts. Each Lading container's
 * environment (with the Secret's and ConfigMap's values) loads through Lading's own loadConfig into
 * the roles and ports its Deployment declares.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, parse } from 'yaml';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { ValidatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration';
import { CONFIG_FILE_ENV, ENV_VARS, loadConfig } from '../src/config/load.js';
import { ROLES, kindAt } from '../src/config/schema.js';
import { VALIDATE_PATH } from '../src/k8s/server.js';

const DEPLOY = dirname(fileURLToPath(import.meta.url));
const K8S = join(DEPLOY, 'kubernetes');
const VERSION = (JSON.parse(readFileSync(join(DEPLOY, '..', 'package.json'), 'utf8')) as { version: string }).version;

const MODELS: Record<string, { new (data: any): { validate(): void } }> = {
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration': ValidatingWebhookConfiguration,
};

interface Manifest { file: string; obj: any }

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : e.name.endsWith('.yaml') ? [join(dir, e.name)] : []);
}

const files = yamlFiles(K8S);
const manifests: Manifest[] = [];
const kustomizations: Manifest[] = [];
for (const file of files) {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    assert.deepEqual(doc.errors, [], `${file}: ${doc.errors[0]?.message}`);
    const obj = doc.toJS();
    if (obj === null) continue;
    (obj.kind === 'Kustomization' ? kustomizations : manifests).push({ file: relative(K8S, file), obj });
  }
}

const all = (kind: string) => manifests.filter((m) => m.obj.kind === kind).map((m) => m.obj);
const named = (kind: string, name: string) => {
  const found = all(kind).find((o) => o.metadata.name === name);
  assert.ok(found, `no ${kind} ${name}`);
  return found;
};
const workloads = () => [...all('Deployment'), ...all('StatefulSet')];
const ladingDeployments = () => all('Deployment').filter((d) => d.metadata.labels?.['app.kubernetes.io/name'] === 'lading');
/** A Secret's or ConfigMap's keys and values (stringData and data, base64 decoded). */
const valuesOf = (o: any): Record<string, string> => ({
  ...Object.fromEntries(Object.entries(o.data ?? {}).map(([k, v]) => [k, o.kind === 'Secret' ? Buffer.from(String(v), 'base64').toString() : String(v)])),
  ...(o.stringData ?? {}),
});
const containerPort = (c: any, port: string | number) =>
  (c.ports ?? []).find((p: any) => (typeof port === 'number' ? p.containerPort === port : p.name === port));

describe('deploy/kubernetes manifests', () => {
  test('every object validates against the Kubernetes schemas', () => {
    assert.ok(manifests.length >= 12, `only ${manifests.length} objects`);
    for (const { file, obj } of manifests) {
      const Model = MODELS[`${obj.apiVersion}/${obj.kind}`];
      assert.ok(Model, `${file}: ${obj.apiVersion} ${obj.kind} has no model in this test`);
      assert.doesNotThrow(() => new Model(obj).validate(), `${file}: ${obj.kind} ${obj.metadata?.name}`);
      if (obj.kind !== 'Namespace' && obj.kind !== 'ValidatingWebhookConfiguration') assert.equal(obj.metadata.namespace, 'lading', `${file}: ${obj.kind} ${obj.metadata.name}`);
    }
  });

  test('the validation can fail: a wrongly typed field is refused', () => {
    const api = structuredClone(named('Deployment', 'lading-api'));
    api.spec.template.spec.containers[0].ports[0].containerPort = 'http';
    assert.throws(() => new Deployment(api).validate(), /containerPort must be integer/);
  });

  test('each kustomization lists every manifest of its directory, and only existing ones', () => {
    assert.equal(kustomizations.length, 2);
    for (const { file, obj } of kustomizations) {
      const dir = join(K8S, dirname(file));
      const own = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
      const listed = (obj.resources as string[]).filter((r) => r.endsWith('.yaml')).sort();
      assert.deepEqual(listed, own, file);
      for (const r of (obj.resources as string[]).filter((x) => !x.endsWith('.yaml'))) {
        assert.ok(readdirSync(join(dir, r)).includes('kustomization.yaml'), `${file}: ${r} is no kustomization`);
      }
      assert.equal(obj.namespace, 'lading');
    }
    const base = kustomizations.find((k) => k.file === 'kustomization.yaml')!.obj;
    assert.deepEqual(base.images, [{ name: 'lading', newName: 'lading', newTag: VERSION }]);
    for (const d of ladingDeployments()) for (const c of d.spec.template.spec.containers) assert.equal(c.image, `lading:${VERSION}`, d.metadata.name);
  });

  test('every Service selects the pods of a workload that declares its target port', () => {
    for (const svc of all('Service')) {
      const sel = svc.spec.selector as Record<string, string>;
      const matching = workloads().filter((w) => Object.entries(sel).every(([k, v]) => w.spec.template.metadata.labels?.[k] === v));
      assert.ok(matching.length > 0, `Service ${svc.metadata.name} selects no pods`);
      for (const w of matching) {
        assert.ok(Object.entries(w.spec.selector.matchLabels).every(([k, v]) => w.spec.template.metadata.labels[k] === v), `${w.metadata.name}: selector does not match its template`);
        for (const p of svc.spec.ports) {
          assert.ok(w.spec.template.spec.containers.some((c: any) => containerPort(c, p.targetPort ?? p.port)), `Service ${svc.metadata.name} port ${p.name}: ${w.metadata.name} declares no ${p.targetPort}`);
        }
      }
    }
  });

  test('every Secret, ConfigMap and key a pod refers to exists', () => {
    for (const w of workloads()) {
      const spec = w.spec.template.spec;
      for (const c of spec.containers) {
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
          if (!ref) continue;
          const source = named(e.valueFrom.secretKeyRef ? 'Secret' : 'ConfigMap', ref.name);
          assert.ok(ref.key in valuesOf(source), `${w.metadata.name}: ${e.name}: ${ref.name} has no key ${ref.key}`);
        }
        for (const e of c.envFrom ?? []) {
          if (e.configMapRef) named('ConfigMap', e.configMapRef.name);
          if (e.secretRef) named('Secret', e.secretRef.name);
        }
        for (const m of c.volumeMounts ?? []) assert.ok((spec.volumes ?? []).some((v: any) => v.name === m.name) || (w.spec.volumeClaimTemplates ?? []).some((t: any) => t.metadata.name === m.name), `${w.metadata.name}: no volume ${m.name}`);
      }
      for (const v of spec.volumes ?? []) {
        const source = v.configMap ? named('ConfigMap', v.configMap.name) : v.secret ? named('Secret', v.secret.secretName) : undefined;
        for (const item of (v.configMap ?? v.secret)?.items ?? []) assert.ok(item.key in valuesOf(source), `${w.metadata.name}: volume ${v.name}: no key ${item.key}`);
      }
    }
  });

  test('every probe points at a declared container port', () => {
    for (const w of workloads()) {
      for (const c of w.spec.template.spec.containers) {
        for (const kind of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
          const probe = c[kind];
          if (!probe?.httpGet) continue;
          assert.ok(containerPort(c, probe.httpGet.port), `${w.metadata.name}: ${kind} port ${probe.httpGet.port} is not declared`);
        }
      }
    }
  });

  test('Lading pods: non-root, read-only root with writable data and /tmp, limits, readiness on /ready and liveness on /health', () => {
    const deployments = ladingDeployments();
    assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), ['lading-api', 'lading-periodic', 'lading-worker']);
    for (const d of deployments) {
      const spec = d.spec.template.spec;
      assert.equal(spec.securityContext.runAsNonRoot, true, d.metadata.name);
      assert.ok(spec.securityContext.runAsUser > 0);
      for (const c of spec.containers) {
        assert.equal(c.securityContext.readOnlyRootFilesystem, true);
        assert.equal(c.securityContext.allowPrivilegeEscalation, false);
        assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
        for (const path of ['/var/lib/lading', '/tmp']) {
          const mount = c.volumeMounts.find((m: any) => m.mountPath === path);
          assert.ok(mount, `${d.metadata.name}: nothing writable at ${path}`);
          assert.ok(spec.volumes.find((v: any) => v.name === mount.name).emptyDir, `${d.metadata.name}: ${path} is no emptyDir`);
        }
        for (const r of ['cpu', 'memory']) assert.ok(c.resources.requests[r], `${d.metadata.name}: no ${r} request`);
        assert.ok(c.resources.limits.memory, `${d.metadata.name}: no memory limit`);
        assert.equal(c.readinessProbe.httpGet.path, '/ready');
        assert.equal(c.livenessProbe.httpGet.path, '/health');
        const scrape = d.spec.template.metadata.annotations;
        assert.equal(scrape['prometheus.io/scrape'], 'true');
        assert.equal(scrape['prometheus.io/path'], '/metrics');
        assert.equal(Number(scrape['prometheus.io/port']), containerPort(c, c.readinessProbe.httpGet.port).containerPort, `${d.metadata.name}: scraped port is not the probed one`);
      }
    }
    assert.equal(named('Deployment', 'lading-worker').spec.replicas, 2);
    assert.equal(named('Deployment', 'lading-periodic').spec.replicas, 1);
  });

  /** A Lading container's environment as its process sees it; LADING_CONFIG's file comes back as YAML text. */
  function containerEnv(d: any): { env: Record<string, string>; yaml: string } {
    const c = d.spec.template.spec.containers[0];
    const env: Record<string, string> = {};
    for (const e of c.envFrom ?? []) Object.assign(env, valuesOf(named('ConfigMap', e.configMapRef.name)));
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
      env[e.name] = ref ? valuesOf(named(e.valueFrom.secretKeyRef ? 'Secret' : 'ConfigMap', ref.name))[ref.key]! : String(e.value);
    }
    let yaml = '';
    const file = env[CONFIG_FILE_ENV];
    if (file) {
      const mount = c.volumeMounts.find((m: any) => m.mountPath === file);
      assert.ok(mount?.subPath, `${d.metadata.name}: ${file} is not a mounted file`);
      const volume = d.spec.template.spec.volumes.find((v: any) => v.name === mount.name);
      yaml = valuesOf(named('ConfigMap', volume.configMap.name))[mount.subPath]!;
      delete env[CONFIG_FILE_ENV];
    }
    return { env, yaml };
  }

  test('every LADING_* variable is one Lading reads', () => {
    for (const d of ladingDeployments()) {
      for (const key of Object.keys(containerEnv(d).env)) {
        const generic = /^LADING_(.+__.+)$/.exec(key);
        assert.ok(key in ENV_VARS || (generic !== null && kindAt(generic[1]!.toLowerCase().split('__')) !== undefined), `${d.metadata.name}: ${key} is not a variable of src/config/load.ts`);
      }
    }
  });

  test('each Lading container\'s configuration loads into its roles and the ports it declares', () => {
    const expected: Record<string, string[]> = { 'lading-api': ['api'], 'lading-worker': ['worker'], 'lading-periodic': ['watcher', 'feeds', 'notifier'] };
    for (const d of ladingDeployments()) {
      const { env, yaml } = containerEnv(d);
      const config = loadConfig({ yaml, env });
      const c = d.spec.template.spec.containers[0];
      assert.deepEqual(config.roles, expected[d.metadata.name]);
      for (const r of config.roles) assert.ok(ROLES.includes(r));
      assert.equal(config.production_mode, true);
      assert.equal(config.listen.host, '0.0.0.0');
      assert.match(config.db_url, /^postgres:\/\//);
      const probePort = containerPort(c, c.readinessProbe.httpGet.port).containerPort;
      if (config.roles.includes('api')) assert.equal(config.listen.port, probePort, `${d.metadata.name}: the API does not listen on the probed port`);
      else assert.equal(config.metrics.port, probePort, `${d.metadata.name}: metrics.port is not the probed port`);
      assert.equal(config.admission.enabled, d.metadata.name === 'lading-api');
    }
  });

  test('the webhook configuration reaches the admission listener of the API pods, with a TLS Secret', () => {
    const [hook] = all('ValidatingWebhookConfiguration');
    assert.equal(hook.webhooks.length, 1);
    const w = hook.webhooks[0];
    assert.deepEqual(w.admissionReviewVersions, ['v1']);
    assert.ok(['None', 'NoneOnDryRun'].includes(w.sideEffects));
    assert.equal(w.failurePolicy, 'Fail');
    assert.equal(w.timeoutSeconds, 10);
    assert.deepEqual(w.namespaceSelector.matchExpressions, [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['lading', 'kube-system', 'kube-node-lease'] }]);
    const resources = new Set(w.rules.flatMap((r: any) => r.resources.map((x: string) => `${r.apiGroups[0]}/${x}`)));
    for (const r of ['/pods', 'apps/deployments', 'apps/statefulsets', 'apps/daemonsets', 'apps/replicasets', 'batch/jobs', 'batch/cronjobs']) assert.ok(resources.has(r), `the webhook does not see ${r}`);

    const ref = w.clientConfig.service;
    assert.equal(ref.path, VALIDATE_PATH);
    const svc = named('Service', ref.name);
    assert.equal(svc.metadata.namespace, ref.namespace);
    const port = svc.spec.ports.find((p: any) => p.port === ref.port);
    assert.ok(port, `Service ${ref.name} has no port ${ref.port}`);

    const api = named('Deployment', 'lading-api');
    const c = api.spec.template.spec.containers[0];
    assert.ok(Object.entries(svc.spec.selector).every(([k, v]) => api.spec.template.metadata.labels[k] === v), 'the admission Service does not select the API pods');
    const target = containerPort(c, port.targetPort);
    const { env, yaml } = containerEnv(api);
    const admission = loadConfig({ yaml, env }).admission;
    assert.equal(admission.listen.port, target.containerPort, 'the admission listener is not on the port the Service targets');
    assert.equal(admission.listen.host, '0.0.0.0');

    // The certificate and key files are the TLS Secret's, mounted where the configuration reads them.
    const tls = named('Secret', 'lading-admission-tls');
    assert.equal(tls.type, 'kubernetes.io/tls');
    const volume = api.spec.template.spec.volumes.find((v: any) => v.secret?.secretName === tls.metadata.name);
    const mount = c.volumeMounts.find((m: any) => m.name === volume.name);
    assert.equal(admission.tls_cert_file, `${mount.mountPath}/tls.crt`);
    assert.equal(admission.tls_key_file, `${mount.mountPath}/tls.key`);
    assert.ok('tls.crt' in valuesOf(tls) && 'tls.key' in valuesOf(tls));
  });

  test('placeholders are marked: no real secret is committed', () => {
    for (const name of ['lading-secrets', 'lading-admission-tls']) {
      for (const [k, v] of Object.entries(valuesOf(named('Secret', name)))) assert.match(v, /CHANGE-ME/, `${name}.${k} is not a marked placeholder`);
    }
  });

  test('the demo PostgreSQL: Lading\'s database URL is patched to it, with its demo password', () => {
    const demo = kustomizations.find((k) => k.file === join('demo', 'kustomization.yaml'))!.obj;
    assert.deepEqual(demo.resources, ['..', 'postgres.yaml']);
    const [patch] = demo.patches;
    assert.deepEqual(patch.target, { kind: 'Secret', name: 'lading-secrets' });
    const [op] = parse(patch.patch) as { op: string; path: string; value: string }[];
    assert.equal(op!.op, 'replace');
    assert.equal(op!.path, '/stringData/db-url');
    assert.ok('db-url' in named('Secret', 'lading-secrets').stringData);
    const url = new URL(op!.value);
    const pg = named('StatefulSet', 'postgres');
    const pgEnv = Object.fromEntries(pg.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value ?? valuesOf(named('Secret', e.valueFrom.secretKeyRef.name))[e.valueFrom.secretKeyRef.key]]));
    assert.equal(url.password, pgEnv.POSTGRES_PASSWORD);
    assert.equal(url.username, pgEnv.POSTGRES_USER);
    assert.equal(url.pathname, `/${pgEnv.POSTGRES_DB}`);
    assert.equal(url.hostname, `${named('Service', 'postgres').metadata.name}.lading.svc`);
    assert.equal(Number(url.port), named('Service', 'postgres').spec.ports[0].port);
    assert.match(readFileSync(join(K8S, 'demo', 'postgres.yaml'), 'utf8'), /^# DEMO ONLY/);
  });
});
