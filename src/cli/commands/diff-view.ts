/** `lading diff` as text: a heading per kind of change, each a table that fits in 100 columns. */
import type { ImageDiff } from '../../vulns/diff.js';
import { table } from '../render.js';

export interface SideInfo { ref: string; digest: string | null; image_id: string | null; tags: string[] }
export type DiffReport = { base: SideInfo; target: SideInfo } & ImageDiff;

/** At most `n` characters, an ellipsis marking the cut. */
function cut(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

const short = (d: string | null) => (d ? d.replace(/^sha256:/, '').slice(0, 12) : '-');

function sideLine(label: string, s: SideInfo): string {
  return `${label}${cut(s.ref, 70)}${s.digest ? ` (${short(s.digest)})` : ''}`;
}

function section(title: string, counts: string, head: string[], rows: string[][]): string[] {
  const out = ['', `${title}: ${counts}`];
  if (rows.length) out.push(table(head, rows).trimEnd());
  return out;
}

function packageRows(p: ImageDiff['packages']): string[][] {
  const row = (change: string, name: string, type: string, from: string, to: string) => [change, cut(name, 28), type, cut(from, 24), cut(to, 24)];
  return [
    ...p.added.map((x) => row('added', x.name, x.type, '-', x.version)),
    ...p.removed.map((x) => row('removed', x.name, x.type, x.version, '-')),
    ...p.upgraded.map((x) => row('upgraded', x.name, x.type, x.from, x.to)),
    ...p.downgraded.map((x) => row('downgraded', x.name, x.type, x.from, x.to)),
  ];
}

export function diffText(r: DiffReport): string {
  const lines = [sideLine('Base:    ', r.base), sideLine('Target:  ', r.target)];
  if (r.verdict) lines.push(`Verdict: ${r.verdict.base ?? 'not evaluated'} -> ${r.verdict.target ?? 'not evaluated'} (${r.verdict.changed ? 'changed' : 'unchanged'})`);
  const p = r.packages;
  lines.push(...section('Packages', `${p.added.length} added, ${p.removed.length} removed, ${p.upgraded.length} upgraded, ${p.downgraded.length} downgraded`,
    ['CHANGE', 'NAME', 'TYPE', 'BASE', 'TARGET'], packageRows(p)));
  const v = r.vulnerabilities;
  if (!v) lines.push('', 'Vulnerabilities: not compared (no vulnerability data)');
  else {
    const row = (change: string, f: NonNullable<ImageDiff['vulnerabilities']>['fixed'][number]) =>
      [change, cut(f.id, 20), f.severity, cut(f.package_name, 20), cut(f.package_version, 18), cut(f.fixed_versions.join(', ') || '-', 18)];
    lines.push(...section('Vulnerabilities', `${v.introduced.length} introduced, ${v.fixed.length} fixed`, ['CHANGE', 'ID', 'SEVERITY', 'PACKAGE', 'VERSION', 'FIXED IN'],
      [...v.introduced.map((f) => row('introduced', f)), ...v.fixed.map((f) => row('fixed', f))]));
  }
  const s = r.secrets;
  const secretRow = (change: string, x: ImageDiff['secrets']['added'][number]) => [change, cut(x.rule_id, 24), cut(`${x.path}:${x.line}`, 60)];
  lines.push(...section('Secrets', `${s.added.length} added, ${s.removed.length} removed`, ['CHANGE', 'RULE', 'PATH:LINE'],
    [...s.added.map((x) => secretRow('added', x)), ...s.removed.map((x) => secretRow('removed', x))]));
  const u = r.setuid;
  const fileRow = (change: string, x: ImageDiff['setuid']['added'][number]) =>
    [change, cut(x.path, 60), x.mode, [x.setuid ? 'setuid' : '', x.setgid ? 'setgid' : ''].filter(Boolean).join(',')];
  lines.push(...section('Setuid/setgid files', `${u.added.length} added, ${u.removed.length} removed`, ['CHANGE', 'PATH', 'MODE', 'BITS'],
    [...u.added.map((x) => fileRow('added', x)), ...u.removed.map((x) => fileRow('removed', x))]));
  return `${lines.join('\n')}\n`;
}
