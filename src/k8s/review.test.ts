import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReviewError, parseReview, reviewResponse } from './review.js';
import { WORKLOAD_KINDS, admissionReview, workloadObject } from './testing.js';

test('every workload kind: the images of containers, init containers and ephemeral containers', () => {
  for (const kind of WORKLOAD_KINDS) {
    const obj = workloadObject(kind, 'web', 'prod', { containers: ['nginx:1.25', 'registry.example.com/team/sidecar@sha256:' + 'a'.repeat(64)], initContainers: ['busybox'], ephemeralContainers: ['debian:12'] }, { app: 'web', tier: 'front' });
    const r = parseReview(admissionReview(obj, { uid: `uid-${kind}` }));
    assert.equal(r.uid, `uid-${kind}`);
    assert.equal(r.kind, kind);
    assert.equal(r.workload, true, kind);
    assert.equal(r.namespace, 'prod');
    assert.equal(r.name, 'web');
    assert.equal(r.user, 'jane@example.com');
    assert.deepEqual(r.labels, { app: 'web', tier: 'front' });
    assert.deepEqual(r.annotations, { 'kubernetes.io/change-cause': 'kubectl apply' });
    assert.deepEqual(r.images, [
      { container: 'init-0', kind: 'initContainer', image: 'busybox' },
      { container: 'app-0', kind: 'container', image: 'nginx:1.25' },
      { container: 'app-1', kind: 'container', image: `registry.example.com/team/sidecar@sha256:${'a'.repeat(64)}` },
      { container: 'debug-0', kind: 'ephemeralContainer', image: 'debian:12' },
    ], kind);
  }
});

test('deletes, connects and kinds without a pod spec carry no images', () => {
  const pod = workloadObject('Pod', 'p', 'default', { containers: ['nginx'] });
  const del = parseReview(admissionReview(pod, { operation: 'DELETE' }));
  assert.equal(del.operation, 'DELETE');
  assert.deepEqual(del.images, []);
  const cm = parseReview(admissionReview({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: 'b' } }));
  assert.equal(cm.workload, false);
  // A Deployment's scale subresource arrives as kind autoscaling/v1 Scale.
  const scale = admissionReview({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'prod' }, spec: { replicas: 3 } });
  assert.equal(parseReview(scale).workload, false);
  // Same kind name in another group is not the workload.
  const other = admissionReview({ apiVersion: 'example.com/v1', kind: 'Deployment', metadata: { name: 'x', namespace: 'prod' }, spec: {} });
  assert.equal(parseReview(other).workload, false);
});

test('an update is checked on the new object; a container without an image is skipped', () => {
  const old = workloadObject('Deployment', 'web', 'prod', { containers: ['nginx:1.24'] });
  const now = workloadObject('Deployment', 'web', 'prod', { containers: ['nginx:1.25'] });
  ((now.spec as any).template.spec.containers as any[]).push({ name: 'no-image' });
  const r = parseReview(admissionReview(now, { operation: 'UPDATE', oldObject: old }));
  assert.deepEqual(r.images.map((i) => i.image), ['nginx:1.25']);
});

test('bad reviews: messages name the problem', () => {
  const msg = (body: unknown) => {
    try {
      parseReview(body);
    } catch (e) {
      assert.ok(e instanceof ReviewError, String(e));
      return e.message;
    }
    assert.fail('no error');
  };
  assert.match(msg([]), /expected an AdmissionReview JSON object/);
  const v1beta1 = admissionReview(workloadObject('Pod', 'p', 'd', { containers: ['nginx'] }));
  v1beta1.apiVersion = 'admission.k8s.io/v1beta1';
  assert.match(msg(v1beta1), /apiVersion "admission.k8s.io\/v1beta1": expected admission.k8s.io\/v1 \(set admissionReviewVersions: \[v1\]/);
  const noUid = admissionReview(workloadObject('Pod', 'p', 'd', { containers: ['nginx'] }));
  delete noUid.request.uid;
  assert.match(msg(noUid), /^invalid AdmissionReview: request\.uid: /);
  const badOp = admissionReview(workloadObject('Pod', 'p', 'd', { containers: ['nginx'] }));
  badOp.request.operation = 'PATCH';
  assert.match(msg(badOp), /request\.operation/);
  const badSpec = admissionReview(workloadObject('Deployment', 'web', 'prod', { containers: ['nginx'] }));
  badSpec.request.object.spec.template.spec.containers = 'nginx';
  assert.match(msg(badSpec), /^invalid Deployment: request\.object\.spec\.template\.spec\.containers: /);
  const badImage = admissionReview(workloadObject('CronJob', 'c', 'prod', { containers: ['nginx'] }));
  badImage.request.object.spec.jobTemplate.spec.template.spec.containers[0].image = 42;
  assert.match(msg(badImage), /request\.object\.spec\.jobTemplate\.spec\.template\.spec\.containers\[0\]\.image/);
  const noObject = admissionReview(workloadObject('Pod', 'p', 'd', { containers: ['nginx'] }));
  noObject.request.object = null;
  assert.match(msg(noObject), /request\.object: required for CREATE of Pod/);
});

test('the response is an admission.k8s.io/v1 AdmissionReview', () => {
  assert.deepEqual(reviewResponse({ uid: 'u1', allowed: false, status: { code: 403, message: 'no' } }), {
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'u1', allowed: false, status: { code: 403, message: 'no' } },
  });
});
