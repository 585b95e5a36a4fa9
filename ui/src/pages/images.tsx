/** The image list (filters, sorting and pages on the server) and adding an image by tag, watched until analyzed. */
import { useEffect, useState } from 'preact/hooks';
import { SEVERITIES, api, get, type AnchoreImage, type ImageSummary, type Page } from '../api';
import { Async, ErrorBox, Pager, SearchInput, Select, SeverityCounts, StatusBadge, TableWrap, VerdictBadge, useLoad } from '../components';
import { ago, bytes, imageName, shortDigest } from '../format';
import { href, navigate, replaceQuery, type Route } from '../router';

const FILTERS = ['q', 'package', 'vulnerability', 'registry', 'repository', 'analysis_status', 'verdict', 'severity', 'fixable', 'sort', 'order', 'page'] as const;
const LIMIT = 25;

const SORTS: [string, string][] = [
  ['created_at', 'Added'], ['analyzed_at', 'Analyzed'], ['tag', 'Tag'], ['risk', 'Risk'], ['critical', 'Critical'], ['high', 'High'],
  ['total', 'Findings'], ['packages', 'Packages'], ['size', 'Size'],
];

function fileToBase64(file: File): Promise<string> {
  return file.arrayBuffer().then((buf) => {
    let s = '';
    const bytesArr = new Uint8Array(buf);
    for (let i = 0; i < bytesArr.length; i += 0x8000) s += String.fromCharCode(...bytesArr.subarray(i, i + 0x8000));
    return btoa(s);
  });
}

/** One added image's live state, polled until it is analyzed or failed. */
function Watch({ digest, tag, onDone }: { digest: string; tag: string; onDone: () => void }) {
  const [img, setImg] = useState<AnchoreImage>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let stop = false;
    let timer = 0;
    const poll = async () => {
      try {
        const [r] = await get<AnchoreImage[]>(`/images/${digest}`);
        if (stop || !r) return;
        setImg(r);
        if (r.analysis_status === 'analyzed' || r.analysis_status === 'analysis_failed') {
          onDone();
          return;
        }
      } catch (e) {
        if (!stop) setError(e instanceof Error ? e.message : String(e));
        return;
      }
      timer = window.setTimeout(poll, 1000);
    };
    void poll();
    return () => { stop = true; clearTimeout(timer); };
  }, [digest]);
  const status = img?.analysis_status ?? 'not_analyzed';
  const steps = ['not_analyzed', 'analyzing', 'analyzed'];
  const at = status === 'analysis_failed' ? 2 : steps.indexOf(status);
  return (
    <div class="watch" aria-live="polite" data-digest={digest}>
      <div class="row-between">
        <strong class="break">{tag}</strong>
        <StatusBadge status={status} />
      </div>
      <ol class="steps" aria-label="Analysis progress">
        {['Queued', 'Analyzing', status === 'analysis_failed' ? 'Failed' : 'Analyzed'].map((label, i) => (
          <li key={label} class={i < at || (i === at && (status === 'analyzed')) ? 'done' : i === at ? (status === 'analysis_failed' ? 'failed' : 'active') : ''}>{label}</li>
        ))}
      </ol>
      {img?.analysis_error ? <div class="alert error">{img.analysis_error}</div> : null}
      <ErrorBox error={error} />
      {status === 'analyzed' ? <a class="btn small" href={href(['images', digest, 'overview'])}>Open image</a> : null}
    </div>
  );
}

function AddImage({ onAdded }: { onAdded: () => void }) {
  const [tag, setTag] = useState('');
  const [file, setFile] = useState<File>();
  const [force, setForce] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [watching, setWatching] = useState<{ digest: string; tag: string }[]>([]);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    setBusy(true);
    setError(undefined);
    try {
      const body: Record<string, string> = { tag: tag.trim() };
      if (file) body.dockerfile = await fileToBase64(file);
      const added = await api<AnchoreImage[]>('POST', `/images${force ? '?force=true' : ''}`, body);
      setWatching((w) => [...added.map((a) => ({ digest: a.imageDigest, tag: a.image_detail[0]?.fulltag ?? body.tag! })), ...w].slice(0, 5));
      setTag('');
      setFile(undefined);
      setForce(false);
      form.reset();
      onAdded();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="card">
      <h2>Add an image</h2>
      <form class="add-form" onSubmit={submit}>
        <div class="field grow">
          <label for="add-tag">Image tag</label>
          <input id="add-tag" required placeholder="registry.example.com/team/app:1.0" value={tag} onInput={(e) => setTag((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for="add-dockerfile">Dockerfile (optional)</label>
          <input id="add-dockerfile" type="file" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0])} />
        </div>
        <div class="field check">
          <input id="add-force" type="checkbox" checked={force} onChange={(e) => setForce((e.target as HTMLInputElement).checked)} />
          <label for="add-force">Re-analyze if known</label>
        </div>
        <button class="btn primary" type="submit" disabled={busy || !tag.trim()}>{busy ? 'Adding…' : 'Add image'}</button>
      </form>
      <ErrorBox error={error} />
      {watching.map((w) => <Watch key={w.digest} digest={w.digest} tag={w.tag} onDone={onAdded} />)}
    </div>
  );
}

export function ImagesPage({ route }: { route: Route }) {
  const q = Object.fromEntries(FILTERS.map((f) => [f, route.query.get(f) ?? ''])) as Record<(typeof FILTERS)[number], string>;
  const page = Number(q.page) || 1;
  const [selected, setSelected] = useState<string[]>([]);
  // Filters start folded on phones (they would fill the first screen), open elsewhere or when in use.
  const [wide] = useState(() => matchMedia('(min-width: 721px)').matches || FILTERS.some((f) => f !== 'page' && f !== 'sort' && f !== 'order' && q[f]));
  const state = useLoad(() => get<Page<ImageSummary>>('/summaries/images', {
    q: q.q, package: q.package, vulnerability: q.vulnerability, registry: q.registry, repository: q.repository,
    analysis_status: q.analysis_status, verdict: q.verdict, severity: q.severity, fixable: q.fixable || undefined,
    sort: q.sort || undefined, order: q.order || undefined, page, limit: LIMIT,
  }), [route.query.toString()]);
  const set = (changes: Record<string, string | number | undefined>) => replaceQuery(route, { page: undefined, ...changes });
  const toggle = (d: string) => setSelected((s) => (s.includes(d) ? s.filter((x) => x !== d) : [...s, d].slice(-2)));
  const anyActive = state.data?.items.some((i) => i.analysis_status === 'analyzing' || i.analysis_status === 'not_analyzed');
  useEffect(() => {
    if (!anyActive) return;
    const t = window.setTimeout(state.reload, 2000);
    return () => clearTimeout(t);
  }, [anyActive, state.data]);
  return (
    <section>
      <div class="page-head"><h1>Images</h1></div>
      <AddImage onAdded={state.reload} />
      <details class="card filter-box" open={wide}>
      <summary>Search and filters</summary>
      <form class="filters" role="search" aria-label="Filter images" onSubmit={(e) => e.preventDefault()}>
        <SearchInput id="f-q" label="Tag or digest" value={q.q} onChange={(v) => set({ q: v })} placeholder="team/app, sha256:…" />
        <SearchInput id="f-package" label="Package" value={q.package} onChange={(v) => set({ package: v })} placeholder="openssl" />
        <SearchInput id="f-vuln" label="Vulnerability" value={q.vulnerability} onChange={(v) => set({ vulnerability: v })} placeholder="CVE-2024-…" />
        <SearchInput id="f-registry" label="Registry" value={q.registry} onChange={(v) => set({ registry: v })} />
        <SearchInput id="f-repo" label="Repository" value={q.repository} onChange={(v) => set({ repository: v })} />
        <Select id="f-status" label="Status" value={q.analysis_status} onChange={(v) => set({ analysis_status: v })}
          options={[['', 'Any'], ['not_analyzed', 'Queued'], ['analyzing', 'Analyzing'], ['analyzed', 'Analyzed'], ['analysis_failed', 'Failed']]} />
        <Select id="f-verdict" label="Verdict" value={q.verdict} onChange={(v) => set({ verdict: v })}
          options={[['', 'Any'], ['pass', 'Pass'], ['warn', 'Warn'], ['fail', 'Fail'], ['none', 'Not evaluated']]} />
        <Select id="f-severity" label="Severity at least" value={q.severity} onChange={(v) => set({ severity: v })}
          options={[['', 'Any'], ...SEVERITIES.map((s): [string, string] => [s, s])]} />
        <Select id="f-fixable" label="Fixes" value={q.fixable} onChange={(v) => set({ fixable: v })} options={[['', 'Any'], ['true', 'With a fix available']]} />
        <Select id="f-sort" label="Sort by" value={q.sort || 'created_at'} onChange={(v) => set({ sort: v })} options={SORTS} />
        <Select id="f-order" label="Order" value={q.order || 'desc'} onChange={(v) => set({ order: v })} options={[['desc', 'Descending'], ['asc', 'Ascending']]} />
      </form>
      </details>
      <div class="toolbar">
        <span class="muted">{selected.length === 2 ? 'Two images selected' : 'Select two images to compare them'}</span>
        <button type="button" class="btn" disabled={selected.length !== 2} onClick={() => navigate(href(['compare'], { base: selected[0], target: selected[1] }))}>Compare selected</button>
      </div>
      <Async state={state}>{(data) => (
        <>
          <TableWrap label="Images">
            <table class="images-table">
              <thead>
                <tr><th><span class="sr-only">Select</span></th><th>Image</th><th>Status</th><th>Vulnerabilities (C/H/M/L)</th><th>Fixable</th><th>Verdict</th><th>Distro</th><th>Packages</th><th>Size</th><th>Added</th></tr>
              </thead>
              <tbody>
                {data.items.length === 0 ? <tr><td colSpan={10} class="muted">No images match.</td></tr> : data.items.map((i) => (
                  <tr key={i.imageDigest}>
                    <td><input type="checkbox" aria-label={`Select ${imageName(i.tags, i.imageDigest)}`} checked={selected.includes(i.imageDigest)} onChange={() => toggle(i.imageDigest)} /></td>
                    <td class="image-cell">
                      <a href={href(['images', i.imageDigest, 'overview'])}>{imageName(i.tags, i.imageDigest)}</a>
                      <div class="muted small mono">{shortDigest(i.imageDigest)}{i.tags.length > 1 ? ` · +${i.tags.length - 1} tags` : ''}</div>
                    </td>
                    <td><StatusBadge status={i.analysis_status} /></td>
                    <td><SeverityCounts counts={i.vulnerabilities} compact /></td>
                    <td>{i.vulnerabilities.fixable}</td>
                    <td><VerdictBadge verdict={i.verdict} /></td>
                    <td>{i.distro ?? '—'}</td>
                    <td>{i.package_count ?? '—'}</td>
                    <td class="nowrap">{bytes(i.image_size)}</td>
                    <td class="nowrap" title={i.created_at}>{ago(i.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          <Pager page={data.page} limit={data.limit} total={data.total} onPage={(p) => replaceQuery(route, { page: p })} />
        </>
      )}</Async>
    </section>
  );
}
