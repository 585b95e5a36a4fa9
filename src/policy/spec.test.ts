import { test } from 'node:test';
import assert from 'node:assert/strict';
import { policySpec } from './spec.js';

test('policy_spec: active gates first, then end-of-life ones with their successors', () => {
  const spec = policySpec();
  const states = spec.map((g) => g.state);
  assert.deepEqual(states, [...states].sort((a, b) => (a === b ? 0 : a === 'active' ? -1 : 1)));
  assert.equal(spec[0]!.name, 'always');
  const anchoresec = spec.find((g) => g.name === 'anchoresec')!;
  assert.deepEqual([anchoresec.state, anchoresec.superceded_by, anchoresec.triggers[0]!.state], ['eol', 'vulnerabilities', 'eol']);
  assert.equal(spec.find((g) => g.name === 'imagecheck')!.superceded_by, null);
});

test('policy_spec: parameters with their validators', () => {
  const pkg = policySpec().find((g) => g.name === 'vulnerabilities')!.triggers.find((t) => t.name === 'package')!;
  const byName = Object.fromEntries(pkg.parameters.map((p) => [p.name, p]));
  assert.deepEqual(byName.package_type, {
    name: 'package_type', description: byName.package_type!.description, example: 'all', required: true, state: 'active', superceded_by: null,
    validator: { type: 'EnumString', description: 'One of: all, os, non-os', criteria: { type: 'string', enum: ['all', 'os', 'non-os'] } },
  });
  assert.deepEqual(byName.fix_available!.validator.criteria, { type: 'string', enum: ['true', 'false'] });
  assert.deepEqual(byName.max_days_since_fix!.validator, { type: 'IntegerString', description: 'A whole number written as a string', criteria: { type: 'string', pattern: '^\\s*[\\d]+\\s*$' } });
  assert.equal(byName.cvss_v3_base_score!.validator.type, 'FloatString');
  const ports = policySpec().find((g) => g.name === 'dockerfile')!.triggers.find((t) => t.name === 'exposed_ports')!.parameters[0]!;
  assert.equal(ports.validator.type, 'CommaDelimitedStringOfNumbers');
  for (const g of policySpec()) for (const t of g.triggers) for (const p of t.parameters) assert.ok(p.description.length > 10, `${g.name}/${t.name}/${p.name}`);
});
