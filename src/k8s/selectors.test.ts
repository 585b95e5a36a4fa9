import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../config/load.js';
import { formatReference, parseReference } from '../image/reference.js';
import { ModeSelector } from './selectors.js';

const config = loadConfig({
  yaml: `
admission:
  mode: policy
  bundle_id: prod-bundle
  unknown_images: deny
  rules:
    - { labels: { lading.io/breakglass: '^true$' }, mode: breakglass }
    - { namespace: '^dev-', mode: analysis, unknown_images: allow }
    - { namespace: '^payments$', image: '^docker\\.io/library/', mode: policy, bundle_id: strict }
    - { image: '^registry\\.internal/infra/', mode: breakglass }
`,
  env: {},
});
const selector = new ModeSelector(config.admission);
const subject = (namespace: string, image: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}) =>
  ({ namespace, labels, annotations, image: formatReference(parseReference(image)) });

test('the first matching rule chooses mode, bundle and unknown_images; else the defaults', () => {
  assert.deepEqual(selector.select(subject('prod', 'nginx:1.25')), { mode: 'policy', unknownImages: 'deny', bundleId: 'prod-bundle' });
  assert.deepEqual(selector.select(subject('dev-alice', 'nginx')), { mode: 'analysis', unknownImages: 'allow', bundleId: 'prod-bundle', rule: 1 });
  // Docker Hub names are matched in their normalised form.
  assert.deepEqual(selector.select(subject('payments', 'nginx')), { mode: 'policy', unknownImages: 'deny', bundleId: 'strict', rule: 2 });
  assert.equal(selector.select(subject('payments', 'quay.io/team/app:1')).rule, undefined);
  assert.deepEqual(selector.select(subject('prod', 'registry.internal/infra/proxy:2')), { mode: 'breakglass', unknownImages: 'deny', bundleId: 'prod-bundle', rule: 3 });
});

test('labels match the object labels, then its annotations; every condition must hold', () => {
  assert.equal(selector.select(subject('dev-x', 'nginx', { 'lading.io/breakglass': 'true' })).mode, 'breakglass');
  assert.equal(selector.select(subject('prod', 'nginx', {}, { 'lading.io/breakglass': 'true' })).mode, 'breakglass');
  assert.equal(selector.select(subject('prod', 'nginx', { 'lading.io/breakglass': 'truer' })).mode, 'policy');
  assert.equal(selector.select(subject('prod', 'nginx', { 'lading.io/breakglass': 'false' }, { 'lading.io/breakglass': 'true' })).mode, 'policy');
});

test('bad rules are refused when the configuration is loaded, naming the key', () => {
  assert.throws(() => loadConfig({ yaml: 'admission:\n  rules:\n    - { namespace: "(", mode: policy }\n', env: {} }), /admission\.rules\[0\]\.namespace: expected a regular expression: Invalid regular expression/);
  assert.throws(() => loadConfig({ yaml: 'admission:\n  rules:\n    - { namespace: prod, mode: audit }\n', env: {} }), /admission\.rules\[0\]\.mode: expected one of policy, analysis, breakglass/);
  assert.throws(() => loadConfig({ yaml: 'admission:\n  enabled: true\n', env: {} }), /admission\.tls_cert_file: required when admission\.enabled is true/);
});
