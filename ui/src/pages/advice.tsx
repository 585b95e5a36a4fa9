/** The policy tab's advice panel: the package upgrades that make a failing image pass, and what they do not remove. */
import type { Advice } from '../api';
import { TableWrap, VerdictBadge } from '../components';

const HOW: Record<Advice['verified_by'], string> = {
  rescan: 'verified by re-matching the upgraded versions and evaluating again',
  estimate: 'estimated from the fix versions',
  none: 'nothing to apply',
};

export function AdvicePanel({ advice }: { advice: Advice }) {
  if (advice.status === 'pass') return null;
  const n = advice.entries.length;
  return (
    <div class="card" data-testid="advice">
      <h2>How to pass</h2>
      <p>
        {n === 0 ? 'No package upgrade removes a STOP.' : `${n} package ${n === 1 ? 'upgrade' : 'upgrades'}`}
        {n > 0 ? <> → verdict <VerdictBadge verdict={advice.status_after} /> <span class="muted small">({HOW[advice.verified_by]})</span></> : null}
      </p>
      {n > 0 ? (
        <TableWrap label="Package upgrades">
          <table>
            <thead><tr><th>Package</th><th>From</th><th>To</th><th>Installed by</th><th>Fixes</th></tr></thead>
            <tbody>
              {advice.entries.map((e) => (
                <tr key={`${e.package.type}${e.package.name}${e.package.path ?? ''}`}>
                  <td>{e.package.name} <span class="muted small">{e.package.type}</span></td>
                  <td class="mono small">{e.package.version}</td>
                  <td class="mono small">{e.to}</td>
                  <td class="small break">{e.layer_index !== null ? `layer ${e.layer_index}` : '—'}{e.instruction ? <>: <code>{e.instruction}</code></> : null}</td>
                  <td class="small">{e.vulnerabilities.join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      ) : null}
      {advice.remaining.length > 0 ? (
        <>
          <h3>Not removed by upgrades ({advice.remaining.length})</h3>
          <ul class="advice-remaining">
            {advice.remaining.map((r, i) => <li key={i}><strong>{r.gate} / {r.trigger}</strong> <code class="small">{r.trigger_id}</code>: {r.remedy}</li>)}
          </ul>
        </>
      ) : null}
    </div>
  );
}
