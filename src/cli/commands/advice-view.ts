/** `lading evaluate --advise` as text: the rebuild on a newer base digest, each upgrade with the layer that installed the package, then what no change removes. */
import type { Advice, RebuildAdvice, UpgradeAdvice } from '../../policy/advice.js';

const cut = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

const HOW: Record<Advice['verified_by'], string> = {
  rescan: 'verified by re-matching the changed versions and evaluating again',
  estimate: 'estimated from the fix versions (no vulnerability data to re-match)',
  none: 'nothing to apply',
};

export function adviceText(a: Advice): string {
  if (a.status === 'pass') return '\nAdvice: none needed, the image passes.\n';
  const n = a.entries.length;
  const lines = ['', `Advice: ${n} ${n === 1 ? 'change' : 'changes'}; with ${n === 1 ? 'it' : 'them'} the image would ${a.status_after === 'pass' ? 'pass' : 'still fail'} (${HOW[a.verified_by]})`];
  a.entries.forEach((e, i) => lines.push(...(e.kind === 'rebuild-base' ? rebuildLines(e, i + 1) : upgradeLines(e, i + 1))));
  if (!n) lines.push('  No package upgrade or newer base removes a STOP row.');
  if (a.remaining.length) {
    lines.push('', `Not removed by these changes (${a.remaining.length}):`);
    for (const r of a.remaining) lines.push(`  - ${r.gate}/${r.trigger} ${cut(r.trigger_id, 40)}`, `    ${r.remedy}`);
  }
  return `${lines.join('\n')}\n`;
}

const rows = (n: number) => `${n} STOP ${n === 1 ? 'row' : 'rows'}`;

function upgradeLines(e: UpgradeAdvice, i: number): string[] {
  const lines = [`  ${i}. upgrade ${e.package.name} (${e.package.type}) ${e.package.version} -> ${e.to}`];
  if (e.package.path && e.package.type !== 'deb' && e.package.type !== 'rpm' && e.package.type !== 'apk') lines.push(`     at ${cut(e.package.path, 88)}`);
  const from = e.inherited_from_base ? ' (the base image)' : '';
  lines.push(`     installed by ${e.layer_index !== null ? `layer ${e.layer_index}` : 'an unknown layer'}${from}${e.instruction ? `: ${cut(e.instruction, 72 - from.length)}` : ''}`);
  lines.push(`     fixes ${cut(e.vulnerabilities.join(', '), 80)}; removes ${rows(e.removes.length)}`);
  return lines;
}

/** "rebuild on debian:12@sha256:… removes 12 of 16 inherited findings", then the findings. */
function rebuildLines(e: RebuildAdvice, i: number): string[] {
  const name = e.to.tag.replace(/@sha256:[0-9a-f]+$/, '');
  const lines = [`  ${i}. rebuild on ${name}@${e.to.digest} (the image is built on ${e.base.digest.slice(0, 19)}…)`];
  lines.push(`     removes ${e.fixed.length} of ${e.inherited_findings} inherited ${e.inherited_findings === 1 ? 'finding' : 'findings'} and ${rows(e.removes.length)}:`);
  const shown = e.fixed.slice(0, 10);
  for (const f of shown) lines.push(`       ${f.vulnerability} ${f.package} ${f.version} -> ${f.to ?? '(not in the newer base)'}`);
  if (e.fixed.length > shown.length) lines.push(`       and ${e.fixed.length - shown.length} more`);
  return lines;
}
