/** The work of `lading policy validate|describe|default`, loaded only when one of them runs. */
import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { LadingError, unreadable } from '../../errors.js';
import { loadBundle } from '../../policy/bundle.js';
import { DEFAULT_BUNDLE } from '../../policy/default-bundle.js';
import { describeProblem, didYouMean } from '../../policy/problems.js';
import { policySpec, type GateSpecDoc } from '../../policy/spec.js';
import { json, table } from '../render.js';
import { serviceConfigured } from '../client/connection.js';
import { withService } from '../client/output.js';

export interface ValidateOptions { strict?: boolean; output: 'text' | 'json' }
export interface DescribeOptions { gate?: string; trigger?: string; all?: boolean; output: 'table' | 'json' }

async function readJson(path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch(unreadable(`${path}`));
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new LadingError('BAD_INPUT', `${path} is not JSON: ${(e as Error).message}`);
  }
}

function selectGates(spec: GateSpecDoc[], gate: string | undefined, all: boolean): GateSpecDoc[] {
  if (!gate) return all ? spec : spec.filter((g) => g.state !== 'eol');
  const found = spec.find((g) => g.name === gate.toLowerCase());
  if (!found) throw new LadingError('NOT_FOUND', `unknown gate "${gate}"${didYouMean(gate, spec.map((g) => g.name))}; see lading policy describe --all`);
  return [found];
}

function describeText(gates: GateSpecDoc[], gate: string | undefined, trigger: string | undefined): string {
  if (!gate) {
    return table(['GATE', 'STATE', 'DESCRIPTION'], gates.map((g) => [g.name, g.state + (g.superceded_by ? ` (use ${g.superceded_by})` : ''), g.description]));
  }
  const g = gates[0]!;
  if (!trigger) {
    const rows = g.triggers.map((t) => [t.name, t.parameters.map((p) => `${p.name}${p.required ? '*' : ''}`).join(', ') || '-', t.description]);
    return `Gate ${g.name} (${g.state}): ${g.description}\n\n${table(['TRIGGER', 'PARAMETERS (* required)', 'DESCRIPTION'], rows)}`;
  }
  const t = g.triggers.find((x) => x.name === trigger.toLowerCase());
  if (!t) throw new LadingError('NOT_FOUND', `gate ${g.name} has no trigger "${trigger}"${didYouMean(trigger, g.triggers.map((x) => x.name))}`);
  const rows = t.parameters.map((p) => [p.name, p.required ? 'yes' : 'no', p.validator.description, p.example ?? '', p.description]);
  return `Trigger ${g.name}/${t.name} (${t.state}): ${t.description}\n\n${rows.length ? table(['PARAMETER', 'REQUIRED', 'VALUES', 'EXAMPLE', 'DESCRIPTION'], rows) : 'No parameters.\n'}`;
}

export async function runValidate(file: string, o: ValidateOptions): Promise<void> {
  const bundle = loadBundle(await readJson(file), { strict: o.strict === true });
  const errors = bundle.problems.filter((p) => p.severity === 'error');
  if (o.output === 'json') {
    process.stdout.write(json({
      valid: errors.length === 0,
      problems: bundle.problems.map((p) => ({ severity: p.severity, type: p.type, location: p.location, message: p.message })),
    }));
  } else {
    for (const p of bundle.problems) process.stdout.write(`${p.severity}: ${describeProblem(p)}\n`);
    const warnings = bundle.problems.length - errors.length;
    process.stdout.write(errors.length
      ? `${file}: invalid (${errors.length} error(s)${warnings ? `, ${warnings} warning(s)` : ''})\n`
      : `${file}: valid${warnings ? ` (${warnings} warning(s))` : ''}: ${bundle.policies.size} policy(ies), ${bundle.mappings.length} mapping(s), ${bundle.whitelists.size} allowlist(s)\n`);
  }
  if (errors.length) process.exitCode = 1;
}

export async function runDescribe(o: DescribeOptions, cmd: Command): Promise<void> {
  if (o.trigger && !o.gate) throw new LadingError('BAD_INPUT', '--trigger needs --gate');
  const show = (spec: GateSpecDoc[], asJson: boolean) => {
    const gates = selectGates(spec, o.gate, o.all === true);
    if (asJson) {
      const trig = o.trigger?.toLowerCase();
      process.stdout.write(json(trig ? gates.map((g) => ({ ...g, triggers: g.triggers.filter((t) => t.name === trig) })) : gates));
    } else {
      process.stdout.write(describeText(gates, o.gate, o.trigger));
    }
  };
  if (!serviceConfigured(cmd)) return show(policySpec(), o.output === 'json');
  await withService(cmd, async (svc) => show(await svc.client.get<GateSpecDoc[]>('/system/policy_spec'), svc.json || o.output === 'json'));
}

export function runDefault(): void {
  process.stdout.write(json(DEFAULT_BUNDLE));
}
