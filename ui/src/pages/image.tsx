/** One image: overview with layers, packages, vulnerabilities (allowlisting from a row), policy evaluation, files and secrets, history. */
import { useMemo, useState } from 'preact/hooks';
import {
  SEVERITIES, checkImage, download, get, type CheckResult, type ImageDetail, type Page, type PackageRow, type VulnRow,
} from '../api';
import { allowlistFinding, dateIn, type AllowlistOutcome } from '../allowlist';
import { Async, ErrorBox, Pager, SearchInput, Select, SeverityBadge, SeverityCounts, StatusBadge, TableWrap, Tabs, VerdictBadge, useLoad } from '../components';
import { bytes, imageName, shortDigest, when } from '../format';
import { href, replaceQuery, type Route } from '../router';
import { AdvicePanel } from './advice';

const TABS: [string, string][] = [
  ['overview', 'Overview'], ['vulnerabilities', 'Vulnerabilities'], ['policy', 'Policy'], ['packages', 'Packages'], ['files', 'Files & secrets'], ['history', 'History'],
];

export function ImagePage({ route, digest, tab }: { route: Route; digest: string; tab: string }) {
  const detail = useLoad(() => get<ImageDetail>(`/summaries/images/${digest}`), [digest]);
  return (
    <section>
      <p class="crumbs"><a href={href(['images'])}>Images</a> / <span class="mono">{shortDigest(digest)}</span></p>
      <Async state={detail}>{(d) => {
        const tag = route.query.get('tag') || d.summary.tags[0] || '';
        const analyzed = d.summary.analysis_status === 'analyzed';
        return (
          <>
            <div class="page-head">
              <div class="min0">
                <h1 class="break">{imageName(d.summary.tags, digest)}</h1>
                <div class="head-meta">
                  <StatusBadge status={d.summary.analysis_status} />
                  <VerdictBadge verdict={d.summary.verdict} />
                  <SeverityCounts counts={d.summary.vulnerabilities} compact />
                </div>
              </div>
              {d.summary.tags.length > 1 ? (
                <Select id="tag" label="Tag" value={tag} onChange={(v) => replaceQuery(route, { tag: v })} options={d.summary.tags.map((t): [string, string] => [t, t])} />
              ) : null}
            </div>
            <Tabs base={['images', digest]} query={{ tag: route.query.get('tag') ?? undefined }} tabs={TABS} current={tab} />
            {!analyzed && tab !== 'overview' ? <p class="alert">This image is {d.summary.analysis_status.replace('_', ' ')}: its content is available once it is analyzed.</p>
              : tab === 'overview' ? <Overview d={d} />
                : tab === 'vulnerabilities' ? <Vulnerabilities route={route} digest={digest} tag={tag} onChange={detail.reload} />
                  : tab === 'policy' ? <Policy digest={digest} tag={tag} />
                    : tab === 'packages' ? <Packages route={route} digest={digest} name={d.summary.repository ?? 'image'} />
                      : tab === 'files' ? <Files digest={digest} />
                        : tab === 'history' ? <History d={d} digest={digest} />
                          : <p>No such section.</p>}
          </>
        );
      }}</Async>
    </section>
  );
}

function Overview({ d }: { d: ImageDetail }) {
  const s = d.summary;
  return (
    <div class="grid">
      <div class="card span-2">
        <h2>Image</h2>
        <dl class="kv">
          <dt>Digest</dt><dd class="mono break">{s.imageDigest}</dd>
          <dt>Image id</dt><dd class="mono break">{s.imageId ?? '—'}</dd>
          <dt>Tags</dt><dd>{s.tags.length ? <ul class="plain">{s.tags.map((t) => <li key={t} class="break">{t}</li>)}</ul> : '—'}</dd>
          <dt>Distro</dt><dd>{s.distro ?? '—'}</dd>
          <dt>Platform</dt><dd>{s.platform ?? '—'}</dd>
          <dt>Size</dt><dd>{bytes(s.image_size)}</dd>
          <dt>Layers</dt><dd>{s.layer_count ?? '—'}</dd>
          <dt>Base image</dt><dd class="break">{d.base_image
            ? <a href={href(['images', d.base_image.digest, 'overview'])}>{d.base_image.tag ?? d.base_image.digest}</a>
            : '—'}{d.base_image ? ` (${d.base_image.shared_layers} shared layer${d.base_image.shared_layers === 1 ? '' : 's'})` : ''}</dd>
          <dt>Packages</dt><dd>{s.package_count ?? '—'}</dd>
          <dt>Added</dt><dd>{when(s.created_at)}</dd>
          <dt>Analyzed</dt><dd>{when(s.analyzed_at)}</dd>
          <dt>Evaluated</dt><dd>{when(s.evaluated_at)}</dd>
        </dl>
      </div>
      <div class="card span-2">
        <h2>Findings</h2>
        <SeverityCounts counts={s.vulnerabilities} />
        <p class="muted">{s.vulnerabilities.total} findings · {s.vulnerabilities.fixable} fixable · {s.vulnerabilities.kev} known exploited</p>
        <p><a href={href(['images', s.imageDigest, 'vulnerabilities'])}>See vulnerabilities</a> · <a href={href(['images', s.imageDigest, 'policy'])}>See policy evaluation</a></p>
      </div>
      <div class="card span-4">
        <h2>Layers</h2>
        {d.layers.length === 0 ? <p class="muted">No layer information yet.</p> : (
          <TableWrap label="Layers">
            <table>
              <thead><tr><th>#</th><th>Instruction</th><th>Packages</th><th>Size</th><th>Digest</th></tr></thead>
              <tbody>
                {d.layers.map((l) => (
                  <tr key={l.index}>
                    <td>{l.index}</td>
                    <td class="instr"><code>{l.instruction ?? '(unknown)'}</code></td>
                    <td>{l.package_count}</td>
                    <td class="nowrap">{bytes(l.size)}</td>
                    <td class="mono" title={l.digest}>{shortDigest(l.digest)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </div>
    </div>
  );
}

function AllowlistForm({ row, digest, tag, onDone, onCancel }: { row: VulnRow; digest: string; tag: string; onDone: (o: AllowlistOutcome) => void; onCancel: () => void }) {
  const [expires, setExpires] = useState(dateIn(30));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const id = `exp-${row.id}-${row.package_name}`.replace(/[^A-Za-z0-9_-]/g, '_');
  return (
    <form class="inline-form" onSubmit={async (e) => {
      e.preventDefault();
      setBusy(true);
      setError(undefined);
      try {
        onDone(await allowlistFinding(digest, tag, row.id, row.package_name, expires));
      } catch (err) {
        setError(err instanceof Error ? err.message : String(err));
        setBusy(false);
      }
    }}>
      <label for={id}>Allow {row.id} in {row.package_name} until</label>
      <input id={id} type="date" value={expires} onInput={(e) => setExpires((e.target as HTMLInputElement).value)} />
      <button class="btn primary small" type="submit" disabled={busy}>{busy ? 'Saving…' : 'Add to allowlist'}</button>
      <button class="btn small ghost" type="button" onClick={onCancel}>Cancel</button>
      <ErrorBox error={error} />
    </form>
  );
}

function Vulnerabilities({ route, digest, tag, onChange }: { route: Route; digest: string; tag: string; onChange: () => void }) {
  const q = (k: string) => route.query.get(k) ?? '';
  const page = Number(q('page')) || 1;
  const state = useLoad(() => get<Page<VulnRow>>(`/summaries/images/${digest}/vulnerabilities`, {
    q: q('q'), severity: q('severity'), fixable: q('fixable') || undefined, kev: q('kev') || undefined, sort: q('sort') || undefined, page, limit: 50,
  }), [digest, q('q'), q('severity'), q('fixable'), q('kev'), q('sort'), page]);
  const [open, setOpen] = useState<string>();
  const [outcome, setOutcome] = useState<AllowlistOutcome>();
  const set = (c: Record<string, string | undefined>) => replaceQuery(route, { page: undefined, ...c });
  return (
    <>
      {outcome ? (
        <div class="alert ok" role="status" data-testid="allowlist-outcome">
          Allowlisted <code>{outcome.triggerId}</code> in allowlist <code>{outcome.allowlistId}</code> of bundle <code>{outcome.policyId}</code>.
          Verdict for {tag}: <VerdictBadge verdict={outcome.before.status} /> → <VerdictBadge verdict={outcome.after.status} /> (final action {outcome.after.finalAction.toUpperCase()})
          {' '}<a href={href(['images', digest, 'policy'], { tag: route.query.get('tag') ?? undefined })}>See the evaluation</a>
        </div>
      ) : null}
      <form class="card filters" role="search" aria-label="Filter vulnerabilities" onSubmit={(e) => e.preventDefault()}>
        <SearchInput id="v-q" label="Id or package" value={q('q')} onChange={(v) => set({ q: v })} />
        <Select id="v-sev" label="Severity at least" value={q('severity')} onChange={(v) => set({ severity: v })} options={[['', 'Any'], ...SEVERITIES.map((s): [string, string] => [s, s])]} />
        <div class="field check">
          <input id="v-fixable" type="checkbox" checked={q('fixable') === 'true'} onChange={(e) => set({ fixable: (e.target as HTMLInputElement).checked ? 'true' : undefined })} />
          <label for="v-fixable">Fixable only</label>
        </div>
        <div class="field check">
          <input id="v-kev" type="checkbox" checked={q('kev') === 'true'} onChange={(e) => set({ kev: (e.target as HTMLInputElement).checked ? 'true' : undefined })} />
          <label for="v-kev">Known exploited only</label>
        </div>
        <Select id="v-sort" label="Sort by" value={q('sort') || 'severity'} onChange={(v) => set({ sort: v })}
          options={[['severity', 'Severity'], ['cvss', 'CVSS'], ['epss', 'EPSS'], ['package', 'Package'], ['id', 'Id']]} />
      </form>
      <Async state={state}>{(data) => (
        <>
          <TableWrap label="Vulnerabilities">
            <table class="vuln-table">
              <thead>
                <tr><th>Vulnerability</th><th>Severity</th><th>CVSS</th><th>Package</th><th>Fix</th><th>KEV / EPSS</th><th>Introduced by</th><th><span class="sr-only">Actions</span></th></tr>
              </thead>
              <tbody>
                {data.items.length === 0 ? <tr><td colSpan={8} class="muted">No vulnerabilities match.</td></tr> : data.items.map((v) => {
                  const key = `${v.id}|${v.package_name}|${v.package_path}`;
                  return [
                    <tr key={key} data-vuln={v.id}>
                      <td class="nowrap">{v.url ? <a href={v.url} target="_blank" rel="noreferrer noopener">{v.id}</a> : v.id}<div class="muted small">{v.namespace}</div></td>
                      <td><SeverityBadge severity={v.severity} /></td>
                      <td title={v.cvss?.vector}>{v.cvss ? v.cvss.score.toFixed(1) : '—'}</td>
                      <td><strong>{v.package_name}</strong> <span class="mono small">{v.package_version}</span><div class="muted small break">{v.package_type} · {v.package_path}</div></td>
                      <td>{v.fix_state === 'fixed' ? <span class="fix">{v.fixed_versions.join(', ')}</span> : <span class="muted">{v.fix_state}</span>}</td>
                      <td>{v.kev ? <span class="pill bad">KEV</span> : null} {v.epss ? <span class="small" title={`percentile ${(v.epss.percentile * 100).toFixed(0)}%`}>{(v.epss.score * 100).toFixed(2)}%</span> : <span class="muted">—</span>}</td>
                      <td class="instr">{v.layer_index !== null ? <span class="muted small">layer {v.layer_index} </span> : null}{v.instruction ? <code>{v.instruction}</code> : null}</td>
                      <td><button type="button" class="btn small" aria-expanded={open === key} onClick={() => setOpen(open === key ? undefined : key)}>Allowlist…</button></td>
                    </tr>,
                    open === key ? (
                      <tr key={`${key}-form`} class="form-row">
                        <td colSpan={8}>
                          <AllowlistForm row={v} digest={digest} tag={tag} onCancel={() => setOpen(undefined)}
                            onDone={(o) => { setOutcome(o); setOpen(undefined); onChange(); }} />
                        </td>
                      </tr>
                    ) : null,
                  ];
                })}
              </tbody>
            </table>
          </TableWrap>
          <Pager page={data.page} limit={data.limit} total={data.total} onPage={(p) => replaceQuery(route, { page: p })} />
        </>
      )}</Async>
    </>
  );
}

const ACTION_ORDER = ['stop', 'warn', 'go'];

function Policy({ digest, tag }: { digest: string; tag: string }) {
  const state = useLoad<CheckResult>(() => checkImage(digest, tag, true), [digest, tag]);
  return (
    <Async state={state}>{(c) => {
      const groups = ACTION_ORDER.map((a) => [a, c.rows.filter((r) => r.action.toLowerCase() === a)] as const).filter(([, rows]) => rows.length);
      return (
        <>
          <div class="card">
            <div class="row-between">
              <h2>Verdict for <span class="break">{tag}</span></h2>
              <button type="button" class="btn" onClick={state.reload} disabled={state.loading}>{state.loading ? 'Evaluating…' : 'Evaluate again'}</button>
            </div>
            <p class="verdict-line"><VerdictBadge verdict={c.status} /> final action <strong>{c.finalAction.toUpperCase()}</strong> ({c.reason.replace(/_/g, ' ')}) with bundle <strong>{c.bundleName}</strong>, {when(c.lastEvaluation)}</p>
          </div>
          {c.advice ? <AdvicePanel advice={c.advice} /> : null}
          {groups.length === 0 ? <p class="muted">No rule fired.</p> : groups.map(([action, rows]) => (
            <div class="card" key={action}>
              <h2><span class={`action action-${action}`}>{action.toUpperCase()}</span> {rows.length} {rows.length === 1 ? 'finding' : 'findings'}</h2>
              <TableWrap label={`${action} findings`}>
                <table>
                  <thead><tr><th>Gate / trigger</th><th>Trigger id</th><th>Output</th><th>Allowlisted</th></tr></thead>
                  <tbody>
                    {rows.map((r, i) => (
                      <tr key={i} class={r.allowlisted ? 'allowlisted' : ''}>
                        <td class="nowrap">{r.gate} / {r.trigger}</td>
                        <td class="mono small break">{r.triggerId}</td>
                        <td class="break">{r.output}</td>
                        <td>{r.allowlisted ? <span class="pill ok" title={JSON.stringify(r.allowlisted)}>allowlisted</span> : <span class="muted">no</span>}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            </div>
          ))}
        </>
      );
    }}</Async>
  );
}

function Packages({ route, digest, name }: { route: Route; digest: string; name: string }) {
  const q = (k: string) => route.query.get(k) ?? '';
  const page = Number(q('page')) || 1;
  const [error, setError] = useState<string>();
  const state = useLoad(() => get<Page<PackageRow>>(`/summaries/images/${digest}/packages`, {
    q: q('q'), type: q('type'), sort: q('sort') || undefined, page, limit: 100,
  }), [digest, q('q'), q('type'), q('sort'), page]);
  const set = (c: Record<string, string | undefined>) => replaceQuery(route, { page: undefined, ...c });
  const base = `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}-${shortDigest(digest)}`;
  const dl = (kind: string, ext: string) => download(`/images/${digest}/sboms/${kind}`, `${base}.${ext}`).catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  return (
    <>
      <form class="card filters" role="search" aria-label="Filter packages" onSubmit={(e) => e.preventDefault()}>
        <SearchInput id="p-q" label="Package name" value={q('q')} onChange={(v) => set({ q: v })} />
        <SearchInput id="p-type" label="Type" value={q('type')} onChange={(v) => set({ type: v })} placeholder="deb, npm, python…" />
        <Select id="p-sort" label="Sort by" value={q('sort') || 'name'} onChange={(v) => set({ sort: v })} options={[['name', 'Name'], ['type', 'Type'], ['layer', 'Layer']]} />
        <div class="field buttons">
          <span class="label">Download SBOM</span>
          <div>
            <button type="button" class="btn small" onClick={() => dl('cyclonedx-json', 'cdx.json')}>CycloneDX</button>
            <button type="button" class="btn small" onClick={() => dl('spdx-json', 'spdx.json')}>SPDX</button>
          </div>
        </div>
      </form>
      <ErrorBox error={error} />
      <Async state={state}>{(data) => (
        <>
          <TableWrap label="Packages">
            <table>
              <thead><tr><th>Name</th><th>Version</th><th>Type</th><th>Licenses</th><th>Layer</th><th>Location</th></tr></thead>
              <tbody>
                {data.items.length === 0 ? <tr><td colSpan={6} class="muted">No packages match.</td></tr> : data.items.map((p, i) => (
                  <tr key={`${p.purl}-${i}`}>
                    <td><strong>{p.name}</strong></td>
                    <td class="mono small">{p.version}</td>
                    <td>{p.type}</td>
                    <td class="small">{p.licenses.join(', ') || '—'}</td>
                    <td class="instr">{p.layer_index !== null ? <><span class="muted small">layer {p.layer_index} </span>{p.instruction ? <code>{p.instruction}</code> : null}</> : '—'}</td>
                    <td class="small break">{p.locations.join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          <Pager page={data.page} limit={data.limit} total={data.total} onPage={(p) => replaceQuery(route, { page: p })} />
        </>
      )}</Async>
    </>
  );
}

interface FileItem { filename: string; linkdest: string | null; size: number; mode: string; sha256: string | null; type: string; uid: number; gid: number }
interface SecretItem { path: string; matches: { name: string; regex: string; lines: number[] }[] }

const FILE_PAGE = 200;

function Files({ digest }: { digest: string }) {
  const files = useLoad(() => get<{ content: FileItem[] }>(`/images/${digest}/content/files`), [digest]);
  const secrets = useLoad(() => get<SecretItem[]>(`/images/${digest}/artifacts/secret_search`), [digest]);
  const [filter, setFilter] = useState('');
  const [setuidOnly, setSetuidOnly] = useState(false);
  const [page, setPage] = useState(1);
  const isSetuid = (f: FileItem) => (parseInt(f.mode, 8) & 0o6000) !== 0;
  const shown = useMemo(() => (files.data?.content ?? []).filter((f) => (!filter || f.filename.includes(filter)) && (!setuidOnly || isSetuid(f))), [files.data, filter, setuidOnly]);
  const setuid = useMemo(() => (files.data?.content ?? []).filter(isSetuid), [files.data]);
  return (
    <div class="grid">
      <div class="card span-2">
        <h2>Secrets</h2>
        <p class="muted small">Where secret patterns matched; the values are never stored or shown.</p>
        <Async state={secrets}>{(s) => s.length === 0 ? <p class="muted">No secrets found.</p> : (
          <ul class="plain">
            {s.map((x) => (
              <li key={x.path}><code class="break">{x.path}</code>: {x.matches.map((m) => `${m.name} (line ${m.lines.join(', ')})`).join('; ')} <span class="redacted" aria-label="value redacted">••••••</span></li>
            ))}
          </ul>
        )}</Async>
      </div>
      <div class="card span-2">
        <h2>Setuid / setgid files</h2>
        <Async state={files}>{() => setuid.length === 0 ? <p class="muted">None.</p> : (
          <ul class="plain">{setuid.map((f) => <li key={f.filename}><code class="break">{f.filename}</code> <span class="mono small">{f.mode}</span></li>)}</ul>
        )}</Async>
      </div>
      <div class="card span-4">
        <h2>Files</h2>
        <div class="filters inline">
          <div class="field grow">
            <label for="file-filter">Path contains</label>
            <input id="file-filter" type="search" value={filter} onInput={(e) => { setFilter((e.target as HTMLInputElement).value); setPage(1); }} />
          </div>
          <div class="field check">
            <input id="file-setuid" type="checkbox" checked={setuidOnly} onChange={(e) => { setSetuidOnly((e.target as HTMLInputElement).checked); setPage(1); }} />
            <label for="file-setuid">Setuid/setgid only</label>
          </div>
        </div>
        <Async state={files}>{() => (
          <>
            <TableWrap label="Files">
              <table>
                <thead><tr><th>Path</th><th>Type</th><th>Mode</th><th>Owner</th><th>Size</th></tr></thead>
                <tbody>
                  {shown.slice((page - 1) * FILE_PAGE, page * FILE_PAGE).map((f) => (
                    <tr key={f.filename}>
                      <td class="mono small break">{f.filename}{f.linkdest ? ` → ${f.linkdest}` : ''}</td>
                      <td>{f.type}</td>
                      <td class={`mono small${isSetuid(f) ? ' bad-text' : ''}`}>{f.mode}</td>
                      <td class="small">{f.uid}:{f.gid}</td>
                      <td class="nowrap">{f.type === 'file' ? bytes(f.size) : ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
            <Pager page={page} limit={FILE_PAGE} total={shown.length} onPage={setPage} />
          </>
        )}</Async>
      </div>
    </div>
  );
}

function History({ d, digest }: { d: ImageDetail; digest: string }) {
  return (
    <div class="grid">
      <div class="card span-2">
        <h2>Policy verdicts</h2>
        {d.verdicts.length === 0 ? <p class="muted">Never evaluated.</p> : (
          <TableWrap label="Verdict history">
            <table>
              <thead><tr><th>When</th><th>Verdict</th><th>Tag</th><th>Bundle</th></tr></thead>
              <tbody>
                {d.verdicts.map((v, i) => (
                  <tr key={i}><td class="nowrap">{when(v.evaluated_at)}</td><td><VerdictBadge verdict={v.verdict} /></td><td class="small break">{v.tag}</td><td class="mono small">{v.bundle_id.slice(0, 8)}</td></tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </div>
      <div class="card span-2">
        <h2>Vulnerability changes</h2>
        {d.vuln_changes.length === 0 ? <p class="muted">No changes since the image was analyzed.</p> : (
          <TableWrap label="Vulnerability changes">
            <table>
              <thead><tr><th>When</th><th>Added</th><th>Removed</th><th>Updated</th></tr></thead>
              <tbody>
                {d.vuln_changes.map((c, i) => <tr key={i}><td class="nowrap">{when(c.at)}</td><td>{c.added}</td><td>{c.removed}</td><td>{c.updated}</td></tr>)}
              </tbody>
            </table>
          </TableWrap>
        )}
      </div>
      <div class="card span-4">
        <h2>Other images of this repository</h2>
        <p><a href={href(['images'], { repository: d.summary.repository ?? undefined })}>List them</a> and select two to compare, or <a href={href(['compare'], { target: digest })}>compare this image with another</a>.</p>
      </div>
    </div>
  );
}
