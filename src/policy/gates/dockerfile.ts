/**
 * `dockerfile`: checks on the Dockerfile the image was built from, or on the one reconstructed
 * from its history when none was supplied.
 */
import { defineGate, defineTrigger, type ParamIssue } from '../gate.js';
import { param } from '../params.js';
import { pyRegex } from '../pyregex.js';
import { DIRECTIVES } from '../dockerfile.js';
import type { Subject } from '../subject.js';

const CHECKS = ['=', '!=', 'exists', 'not_exists', 'like', 'not_like', 'in', 'not_in'] as const;
const NEEDS_VALUE = new Set<string>(['=', '!=', 'like', 'not_like', 'in', 'not_in']);

const inList = (x: string, y: string) => y.split(',').map((z) => z.trim()).includes(x);

const OPS: Record<(typeof CHECKS)[number], (line: string, value: string) => boolean> = {
  '=': (x, y) => x === y,
  '!=': (x, y) => x !== y,
  exists: () => true,
  not_exists: () => false,
  like: (x, y) => pyRegex(y).match(x),
  not_like: (x, y) => !pyRegex(y).match(x),
  in: inList,
  not_in: (x, y) => !inList(x, y),
};

const actualOnly = param.bool('actual_dockerfile_only', {
  description: 'Evaluate only a Dockerfile supplied at analysis, never one reconstructed from the image history. Default false.',
  example: 'true',
});

/** Whether to skip this image: an empty Dockerfile (as Anchore), or a guessed one when only actual ones count. */
function skip(subject: Subject, actualOnly: boolean | undefined): boolean {
  const df = subject.dockerfile();
  return df.directives.size === 0 || (actualOnly === true && df.mode !== 'actual');
}

const instruction = defineTrigger({
  name: 'instruction',
  description: 'Fires for each line of the given instruction that meets the check, or once when not_exists is checked and the instruction is absent.',
  state: 'active',
  params: {
    instruction: param.oneOf('instruction', DIRECTIVES, { description: 'The Dockerfile instruction to check.', example: 'FROM', required: true }),
    check: param.oneOf('check', CHECKS, { description: 'How to compare the instruction\'s arguments with value.', example: '=', required: true }),
    value: param.str('value', { description: 'What to compare the instruction\'s arguments with (a regex for like/not_like, a comma-separated list for in/not_in).', example: 'scratch' }),
    actual_dockerfile_only: actualOnly,
  },
  check(v): ParamIssue[] {
    if (v.check && NEEDS_VALUE.has(v.check) && v.value === undefined) {
      return [{ param: 'value', severity: 'warn', message: `check "${v.check}" compares with a value but none is given: this rule never fires` }];
    }
    if ((v.check === 'like' || v.check === 'not_like') && v.value !== undefined) {
      try { pyRegex(v.value); } catch (e) { return [{ param: 'value', severity: 'warn', message: `${(e as Error).message}; the rule will fail when evaluated` }]; }
    }
    return [];
  },
  evaluate(subject, p, ctx) {
    if (skip(subject, p.actual_dockerfile_only)) return;
    if (NEEDS_VALUE.has(p.check) && p.value === undefined) return;
    const op = OPS[p.check];
    const df = subject.dockerfile().directives;
    for (const line of df.get(p.instruction) ?? []) {
      const args = line.slice(p.instruction.length).trim();
      if (op(args, p.value ?? '')) {
        ctx.fire(`Dockerfile directive '${p.instruction}' check '${p.check}' matched against '${p.value ?? ''}' for line '${args}'`);
      }
    }
    if (p.check === 'not_exists' && !df.has(p.instruction)) {
      ctx.fire(`Dockerfile directive '${p.instruction}' not found, matching condition '${p.check}' check`);
    }
  },
});

const effectiveUser = defineTrigger({
  name: 'effective_user',
  description: 'Checks the user the container runs as (the last USER instruction, root when there is none) against an allowed (whitelist) or forbidden (blacklist) list.',
  state: 'active',
  params: {
    users: param.csv('users', { description: 'User names to check the effective user against.', example: 'root,docker', required: true }),
    type: param.oneOf('type', ['whitelist', 'blacklist'] as const, { description: 'Whether the users are the only ones allowed (whitelist) or forbidden (blacklist).', example: 'blacklist', required: true }),
  },
  evaluate(subject, p, ctx) {
    if (skip(subject, false)) return;
    const df = subject.dockerfile();
    let lines = df.directives.get('USER') ?? [];
    // An image built without history still records its user in the config.
    if (!lines.length && df.mode === 'guessed' && subject.sbom.source.config.user) lines = [`USER ${subject.sbom.source.config.user}`];
    if (!lines.length) lines = ['USER root'];
    const m = /\s*USER\s+\[?([^\]]+)\]?\s*/.exec(lines[lines.length - 1]!.trim());
    if (!m) return;
    const user = m[1]!;
    if (p.type === 'whitelist' && !p.users.includes(user)) ctx.fire(`User ${user} found as effective user, which is not on the allowed list`);
    else if (p.type === 'blacklist' && p.users.includes(user)) ctx.fire(`User ${user} found as effective user, which is explicity not allowed`);
  },
});

const exposedPorts = defineTrigger({
  name: 'exposed_ports',
  description: 'Checks the ports the Dockerfile exposes: with type=whitelist every exposed port not listed fires, with type=blacklist every listed port that is exposed fires.',
  state: 'active',
  params: {
    ports: param.csvInt('ports', { description: 'Port numbers to check the exposed ports against.', example: '80,8080,8088', required: true }),
    type: param.oneOf('type', ['whitelist', 'blacklist'] as const, { description: 'Whether the ports are the only ones allowed (whitelist) or forbidden (blacklist).', example: 'blacklist', required: true }),
    actual_dockerfile_only: actualOnly,
  },
  evaluate(subject, p, ctx) {
    if (skip(subject, p.actual_dockerfile_only)) return;
    const ports = p.ports.map(String);
    for (const raw of subject.dockerfile().directives.get('EXPOSE') ?? []) {
      const m = /^\s*(EXPOSE|expose)\s+(.*)/.exec(raw.trim());
      if (!m || !m[2]) continue;
      const exposed = m[2].split(/\s+/).filter(Boolean);
      if (p.type === 'blacklist') {
        for (const port of ports) {
          const hit = [port, `${port}/tcp`, `${port}/udp`].find((x) => exposed.includes(x));
          if (hit) ctx.fire(`Dockerfile exposes port (${hit}) which is in policy file DENIEDPORTS list`);
        }
      } else {
        const allowed = new Set(ports.flatMap((port) => [port, `${port}/tcp`, `${port}/udp`]));
        for (const x of exposed) if (!allowed.has(x)) ctx.fire(`Dockerfile exposes port (${x}) which is not in policy file ALLOWEDPORTS list`);
      }
    }
  },
});

const noDockerfile = defineTrigger({
  name: 'no_dockerfile_provided',
  description: 'Fires when the image was analysed without the Dockerfile it was built from.',
  state: 'active',
  params: {},
  msg: 'Image was not analyzed with an actual Dockerfile',
  evaluate(subject, _p, ctx) {
    if (subject.dockerfile().mode !== 'actual') ctx.fire();
  },
});

export const dockerfileGate = defineGate({
  name: 'dockerfile',
  description: 'Checks on the Dockerfile supplied at analysis, or on the one reconstructed from the image history.',
  state: 'active',
  triggers: { instruction, effective_user: effectiveUser, exposed_ports: exposedPorts, no_dockerfile_provided: noDockerfile },
});
