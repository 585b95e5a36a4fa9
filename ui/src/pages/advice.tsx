/** The policy tab's advice panel: rebuilding on a newer base digest and the package upgrades that make a failing image pass, and what they do not remove. */
import type { Advice, RebuildAdvice, UpgradeAdvice } from '../api';
import { TableWrap, VerdictBadge } from '../components';

const HOW: Record<Advice['verified_by'], string> = {
  rescan: 'verified by re-matching the changed versions and evaluating again',
  estimate: 'estimated from the fix versions',
  none: 'nothing to apply',
};

function Rebuild({ e }: { e: RebuildAdvice }) {
  return (
    <div data-testid="advice-rebuild">
      <p>
        Rebuild on <code class="break">{e.to.tag}@{e.to.digest}</code>: removes {e.fixed.length} of {e.inherited_findings} inherited
        {e.inherited_findings === 1 ? ' finding' : ' findings'} and {e.removes.length} STOP {e.removes.length === 1 ? 'row' : 'rows'}
        <span class="muted small"> (built on {e.base.digest.slice(0, 19)}… now)</span>
      </p>
      <TableWrap label="Inherited findings the newer base removes">
        <table>
          <thead><tr><th>Vulnerability</th><th>Package</th><th>Now</th><th>In the newer base</th></tr></thead>
          <tbody>
            {e.fixed.map((f) => (
              <tr key={`${f.vulnerability}${f.package}`}>
                <td class="mono small">{f.vulnerability}</td><td>{f.package}</td>
                <td class="mono small">{f.version}</td><td class="mono small">{f.to ?? 'not in it'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
    </div>
  );
}

function Upgrades({ entries }: { entries: UpgradeAdvice[] }) {
  return (
    <TableWrap label="Package upgrades">
      <table>
        <thead><tr><th>Package</th><th>From</th><th>To</th><th>Installed by</th><th>Fixes</th></tr></thead>
        <tbody>
          {entries.map((e) => (
            <tr key={`${e.package.type}${e.package.name}${e.package.path ?? ''}`}>
              <td>{e.package.name} <span class="muted small">{e.package.type}</span></td>
              <td class="mono small">{e.package.version}</td>
              <td class="mono small">{e.to}</td>
              <td class="small break">{e.layer_index !== null ? `layer ${e.layer_index}` : '—'}{e.inherited_from_base ? ' (base image)' : ''}{e.instruction ? <>: <code>{e.instruction}</code></> : null}</td>
              <td class="small">{e.vulnerabilities.join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

export function AdvicePanel({ advice }: { advice: Advice }) {
  if (advice.status === 'pass') return null;
  const rebuilds = advice.entries.filter((e): e is RebuildAdvice => e.kind === 'rebuild-base');
  const upgrades = advice.entries.filter((e): e is UpgradeAdvice => e.kind === 'upgrade');
  const n = advice.entries.length;
  const what = [rebuilds.length ? 'a rebuild on a newer base' : '', upgrades.length ? `${upgrades.length} package ${upgrades.length === 1 ? 'upgrade' : 'upgrades'}` : ''].filter(Boolean).join(' and ');
  return (
    <div class="card" data-testid="advice">
      <h2>How to pass</h2>
      <p>
        {n === 0 ? 'No package upgrade or newer base removes a STOP.' : what}
        {n > 0 ? <> → verdict <VerdictBadge verdict={advice.status_after} /> <span class="muted small">({HOW[advice.verified_by]})</span></> : null}
      </p>
      {rebuilds.map((e) => <Rebuild key={e.to.digest} e={e} />)}
      {upgrades.length > 0 ? <Upgrades entries={upgrades} /> : null}
      {advice.remaining.length > 0 ? (
        <>
          <h3>Not removed by these changes ({advice.remaining.length})</h3>
          <ul class="advice-remaining">
            {advice.remaining.map((r, i) => <li key={i}><strong>{r.gate} / {r.trigger}</strong> <code class="small">{r.trigger_id}</code>: {r.remedy}</li>)}
          </ul>
        </>
      ) : null}
    </div>
  );
}
