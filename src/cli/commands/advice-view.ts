/** `lading evaluate --advise` as text: each change with the layer that installed the package, then what no upgrade removes. */
import type { Advice } from '../../policy/advice.js';

const cut = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

const HOW: Record<Advice['verified_by'], string> = {
  rescan: 'verified by re-matching the upgraded versions and evaluating again',
  estimate: 'estimated from the fix versions (no vulnerability data to re-match)',
  none: 'nothing to apply',
};

export function adviceText(a: Advice): string {
  if (a.status === 'pass') return '\nAdvice: none needed, the image passes.\n';
  const n = a.entries.length;
  const lines = ['', `Advice: ${n} ${n === 1 ? 'change' : 'changes'}; with ${n === 1 ? 'it' : 'them'} the image would ${a.status_after === 'pass' ? 'pass' : 'still fail'} (${HOW[a.verified_by]})`];
  a.entries.forEach((e, i) => {
    lines.push(`  ${i + 1}. upgrade ${e.package.name} (${e.package.type}) ${e.package.version} -> ${e.to}`);
    if (e.package.path && e.package.type !== 'deb' && e.package.type !== 'rpm' && e.package.type !== 'apk') lines.push(`     at ${cut(e.package.path, 88)}`);
    lines.push(`     installed by ${e.layer_index !== null ? `layer ${e.layer_index}` : 'an unknown layer'}${e.instruction ? `: ${cut(e.instruction, 72)}` : ''}`);
    lines.push(`     fixes ${cut(e.vulnerabilities.join(', '), 80)}; removes ${e.removes.length} STOP ${e.removes.length === 1 ? 'row' : 'rows'}`);
  });
  if (!n) lines.push('  No package upgrade removes a STOP row.');
  if (a.remaining.length) {
    lines.push('', `Not removed by upgrades (${a.remaining.length}):`);
    for (const r of a.remaining) lines.push(`  - ${r.gate}/${r.trigger} ${cut(r.trigger_id, 40)}`, `    ${r.remedy}`);
  }
  return `${lines.join('\n')}\n`;
}
