/** Compare two images (GET /summaries/compare, src/vulns/diff.ts): packages added, removed, upgraded; vulnerabilities fixed and introduced; secrets and setuid files; the verdict change. */
import { checkImage, get, type Comparison, type ImageSummary, type Page } from '../api';
import { Async, ErrorBox, Select, SeverityBadge, SeverityCounts, TableWrap, VerdictBadge, useAction, useLoad } from '../components';
import { imageName, shortDigest } from '../format';
import { href, replaceQuery, type Route } from '../router';

/** One side; an image never evaluated can be evaluated here (with its first tag) to see the verdict change. */
function Side({ label, s, onEvaluated }: { label: string; s: ImageSummary; onEvaluated: () => void }) {
  const [error, busy, run] = useAction();
  const tag = s.tags[0];
  const evaluate = () => run(async () => {
    await checkImage(s.imageDigest, tag!);
    onEvaluated();
  });
  return (
    <div class="card">
      <h2>{label}</h2>
      <p><a href={href(['images', s.imageDigest, 'overview'])} class="break">{imageName(s.tags, s.imageDigest)}</a></p>
      <p class="mono small muted">{shortDigest(s.imageDigest, 20)}</p>
      <p><VerdictBadge verdict={s.verdict} /> <SeverityCounts counts={s.vulnerabilities} compact /></p>
      <p class="muted small">{s.package_count ?? '—'} packages · {s.distro ?? 'unknown distro'}</p>
      {s.verdict === null && tag && s.analysis_status === 'analyzed' ? (
        <button type="button" class="btn small" disabled={busy} onClick={evaluate}>{busy ? 'Evaluating…' : `Evaluate ${label.toLowerCase()} now`}</button>
      ) : null}
      <ErrorBox error={error} />
    </div>
  );
}

function Result({ c, reload }: { c: Comparison; reload: () => void }) {
  const p = c.packages;
  const v = c.vulnerabilities;
  return (
    <>
      <div class="compare-sides">
        <Side label="Base" s={c.base} onEvaluated={reload} />
        <div class="compare-arrow" aria-hidden="true">→</div>
        <Side label="Target" s={c.target} onEvaluated={reload} />
      </div>
      <div class={`alert ${c.verdict.changed ? 'info' : ''}`} role="status" data-testid="verdict-change">
        Verdict: <VerdictBadge verdict={c.verdict.base} /> → <VerdictBadge verdict={c.verdict.target} /> {c.verdict.changed ? '(changed)' : '(unchanged)'}
      </div>
      <div class="grid">
        <div class="card span-2">
          <h2>Vulnerabilities fixed <span class="count-badge ok">{v.fixed.length}</span></h2>
          <VulnList items={v.fixed} label="Fixed vulnerabilities" />
        </div>
        <div class="card span-2">
          <h2>Vulnerabilities introduced <span class="count-badge bad">{v.introduced.length}</span></h2>
          <VulnList items={v.introduced} label="Introduced vulnerabilities" />
        </div>
        <div class="card span-4">
          <h2>Packages</h2>
          <p class="muted">{p.added.length} added · {p.removed.length} removed · {p.upgraded.length} upgraded · {p.downgraded.length} downgraded</p>
          {p.added.length + p.removed.length + p.upgraded.length + p.downgraded.length === 0 ? <p class="muted">Same packages.</p> : (
            <TableWrap label="Package changes">
              <table>
                <thead><tr><th>Change</th><th>Package</th><th>Type</th><th>Base</th><th>Target</th></tr></thead>
                <tbody>
                  {p.upgraded.map((x) => <tr key={`u${x.type}${x.name}`}><td><span class="pill ok">upgraded</span></td><td>{x.name}</td><td>{x.type}</td><td class="mono small">{x.from}</td><td class="mono small">{x.to}</td></tr>)}
                  {p.downgraded.map((x) => <tr key={`d${x.type}${x.name}`}><td><span class="pill warn">downgraded</span></td><td>{x.name}</td><td>{x.type}</td><td class="mono small">{x.from}</td><td class="mono small">{x.to}</td></tr>)}
                  {p.added.map((x) => <tr key={`a${x.type}${x.name}`}><td><span class="pill info">added</span></td><td>{x.name}</td><td>{x.type}</td><td>—</td><td class="mono small">{x.version}</td></tr>)}
                  {p.removed.map((x) => <tr key={`r${x.type}${x.name}`}><td><span class="pill">removed</span></td><td>{x.name}</td><td>{x.type}</td><td class="mono small">{x.version}</td><td>—</td></tr>)}
                </tbody>
              </table>
            </TableWrap>
          )}
        </div>
        <div class="card span-2">
          <h2>Secrets <span class="count-badge bad">{c.secrets.added.length}</span></h2>
          <p class="muted">{c.secrets.added.length} added · {c.secrets.removed.length} removed</p>
          <ChangeList label="Secret changes" head={['Change', 'Rule', 'Where']}
            rows={[...c.secrets.added.map((x) => ['added', x.rule_id, `${x.path}:${x.line}`]), ...c.secrets.removed.map((x) => ['removed', x.rule_id, `${x.path}:${x.line}`])]} />
        </div>
        <div class="card span-2">
          <h2>Setuid/setgid files <span class="count-badge bad">{c.setuid.added.length}</span></h2>
          <p class="muted">{c.setuid.added.length} added · {c.setuid.removed.length} removed</p>
          <ChangeList label="Setuid file changes" head={['Change', 'Path', 'Mode']}
            rows={[...c.setuid.added.map((x) => ['added', x.path, x.mode]), ...c.setuid.removed.map((x) => ['removed', x.path, x.mode])]} />
        </div>
      </div>
    </>
  );
}

function ChangeList({ label, head, rows }: { label: string; head: string[]; rows: string[][] }) {
  if (rows.length === 0) return null;
  return (
    <TableWrap label={label}>
      <table>
        <thead><tr>{head.map((h) => <th key={h}>{h}</th>)}</tr></thead>
        <tbody>
          {rows.map((r) => <tr key={r.join('\0')}><td><span class={`pill ${r[0] === 'added' ? 'info' : ''}`}>{r[0]}</span></td>{r.slice(1).map((x, i) => <td key={i} class="mono small break">{x}</td>)}</tr>)}
        </tbody>
      </table>
    </TableWrap>
  );
}

function VulnList({ items, label }: { items: Comparison['vulnerabilities']['fixed']; label: string }) {
  if (items.length === 0) return <p class="muted">None.</p>;
  return (
    <TableWrap label={label}>
      <table>
        <thead><tr><th>Vulnerability</th><th>Severity</th><th>Package</th><th>Fixed in</th></tr></thead>
        <tbody>
          {items.map((x) => (
            <tr key={`${x.id}${x.package_name}`}><td class="nowrap">{x.id}</td><td><SeverityBadge severity={x.severity} /></td><td>{x.package_name} <span class="mono small">{x.package_version}</span></td><td class="small">{x.fixed_versions.join(', ') || '—'}</td></tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

export function ComparePage({ route }: { route: Route }) {
  const base = route.query.get('base') ?? '';
  const target = route.query.get('target') ?? '';
  const images = useLoad(() => get<Page<ImageSummary>>('/summaries/images', { analysis_status: 'analyzed', sort: 'tag', order: 'asc', limit: 500 }), []);
  const result = useLoad<Comparison | null>(() => (base && target ? get<Comparison>('/summaries/compare', { base, target }) : Promise.resolve(null)), [base, target]);
  const options: [string, string][] = [['', 'Choose an image'], ...(images.data?.items ?? []).map((i): [string, string] => [i.imageDigest, `${imageName(i.tags, i.imageDigest)} (${shortDigest(i.imageDigest)})`])];
  return (
    <section>
      <div class="page-head"><h1>Compare images</h1></div>
      <form class="card filters" onSubmit={(e) => e.preventDefault()} aria-label="Images to compare">
        <Select id="cmp-base" grow label="Base image" value={base} options={options} onChange={(v) => replaceQuery(route, { base: v })} />
        <Select id="cmp-target" grow label="Target image" value={target} options={options} onChange={(v) => replaceQuery(route, { target: v })} />
        <div class="field buttons">
          <span class="label">&nbsp;</span>
          <button type="button" class="btn" disabled={!base || !target} onClick={() => replaceQuery(route, { base: target, target: base })}>Swap</button>
        </div>
      </form>
      {base && target ? <Async state={result}>{(c) => (c ? <Result c={c} reload={result.reload} /> : null)}</Async> : <p class="muted">Choose two analyzed images, for example two digests of the same tag.</p>}
    </section>
  );
}
