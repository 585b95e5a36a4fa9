/** Policy bundles: list, upload, activate, download, delete; a bundle's mappings and its allowlist editor. */
import { useState } from 'preact/hooks';
import { api, get, saveBlob, type PolicyBundle, type PolicyRecord } from '../api';
import { Async, ErrorBox, TableWrap, useAction, useLoad } from '../components';
import { when } from '../format';
import { href, type Route } from '../router';
import { dateIn } from '../allowlist';

async function downloadBundle(policyId: string): Promise<void> {
  const [r] = await get<PolicyRecord[]>(`/policies/${encodeURIComponent(policyId)}`, { detail: true });
  if (r) saveBlob(new Blob([JSON.stringify(r.policybundle, null, 2)], { type: 'application/json' }), `${policyId}.json`);
}

function List() {
  const state = useLoad(() => get<PolicyRecord[]>('/policies'), []);
  const [error, busy, run] = useAction();
  const [file, setFile] = useState<File>();
  const upload = (e: Event) => {
    e.preventDefault();
    if (!file) return;
    void run(async () => {
      let bundle: unknown;
      try {
        bundle = JSON.parse(await file.text());
      } catch {
        throw new Error(`${file.name} is not JSON`);
      }
      await api('POST', '/policies', bundle);
      setFile(undefined);
      (e.target as HTMLFormElement).reset();
      state.reload();
    });
  };
  return (
    <section>
      <div class="page-head"><h1>Policies</h1></div>
      <form class="card add-form" onSubmit={upload}>
        <div class="field grow">
          <label for="bundle-file">Upload a policy bundle (JSON)</label>
          <input id="bundle-file" type="file" accept="application/json,.json" onChange={(e) => setFile((e.target as HTMLInputElement).files?.[0])} />
        </div>
        <button class="btn primary" type="submit" disabled={!file || busy}>Upload</button>
      </form>
      <ErrorBox error={error} />
      <Async state={state}>{(records) => (
        <TableWrap label="Policy bundles">
          <table>
            <thead><tr><th>Bundle</th><th>State</th><th>Updated</th><th><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {records.map((r) => (
                <tr key={r.policyId}>
                  <td><a href={href(['policies', r.policyId])}>{r.name || r.policyId}</a><div class="muted small mono">{r.policyId}</div></td>
                  <td>{r.active ? <span class="pill ok">active</span> : <span class="muted">inactive</span>}</td>
                  <td class="nowrap">{when(r.last_updated)}</td>
                  <td class="actions">
                    {!r.active ? <button type="button" class="btn small" disabled={busy} onClick={() => run(async () => { await api('PUT', `/policies/${encodeURIComponent(r.policyId)}`, { policyId: r.policyId, active: true }); state.reload(); })}>Activate</button> : null}
                    <button type="button" class="btn small" onClick={() => run(() => downloadBundle(r.policyId))}>Download</button>
                    {!r.active ? <button type="button" class="btn small danger" disabled={busy} onClick={() => { if (confirm(`Delete bundle ${r.name || r.policyId}?`)) void run(async () => { await api('DELETE', `/policies/${encodeURIComponent(r.policyId)}`); state.reload(); }); }}>Delete</button> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}</Async>
    </section>
  );
}

type Allowlist = NonNullable<PolicyBundle['whitelists']>[number];

/** One allowlist's items, each with a Remove button. */
function AllowlistItems({ list: w, busy, onRemove }: { list: Allowlist; busy: boolean; onRemove: (itemId: string) => void }) {
  if (w.items.length === 0) return <p class="muted">Empty.</p>;
  return (
    <TableWrap label={`Allowlist ${w.name || w.id}`}>
      <table>
        <thead><tr><th>Gate</th><th>Trigger id</th><th>Expires</th><th><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {w.items.map((i) => {
            const expired = i.expires_on !== undefined && Date.parse(i.expires_on) < Date.now();
            return (
              <tr key={i.id}>
                <td>{i.gate}</td>
                <td class="mono small break">{i.trigger_id}</td>
                <td class={expired ? 'bad-text' : ''}>{i.expires_on ? `${when(i.expires_on)}${expired ? ' (expired)' : ''}` : 'never'}</td>
                <td><button type="button" class="btn small danger" disabled={busy} onClick={() => onRemove(i.id)}>Remove</button></td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </TableWrap>
  );
}

function AllowlistEditor({ record, onSaved }: { record: PolicyRecord; onSaved: () => void }) {
  const [error, busy, run] = useAction();
  const [triggerId, setTriggerId] = useState('');
  const [gate, setGate] = useState('vulnerabilities');
  const [expires, setExpires] = useState(dateIn(30));
  const lists = record.policybundle.whitelists ?? [];
  const [listId, setListId] = useState(lists[0]?.id ?? '');
  const save = (change: (b: PolicyBundle) => void) => run(async () => {
    const bundle = structuredClone(record.policybundle);
    change(bundle);
    await api('PUT', `/policies/${encodeURIComponent(record.policyId)}`, { policyId: record.policyId, policybundle: bundle });
    onSaved();
  });
  return (
    <div class="card span-4">
      <h2>Allowlists</h2>
      <ErrorBox error={error} />
      {lists.length === 0 ? <p class="muted">This bundle has no allowlist.</p> : lists.map((w) => (
        <div key={w.id} class="allowlist">
          <h3>{w.name || w.id} <span class="muted small mono">{w.id}</span></h3>
          <AllowlistItems list={w} busy={busy} onRemove={(itemId) => save((b) => {
            const list = b.whitelists?.find((x) => x.id === w.id);
            if (list) list.items = list.items.filter((x) => x.id !== itemId);
          })} />
        </div>
      ))}
      {lists.length ? (
        <form class="filters inline" onSubmit={(e) => {
          e.preventDefault();
          void save((b) => {
            const list = b.whitelists?.find((x) => x.id === listId);
            if (!list) throw new Error(`no allowlist ${listId}`);
            const used = new Set(list.items.map((x) => x.id));
            let n = list.items.length + 1;
            while (used.has(`ui-${n}`)) n++;
            list.items.push({ id: `ui-${n}`, gate, trigger_id: triggerId.trim(), ...(expires ? { expires_on: `${expires}T23:59:59Z` } : {}) });
          }).then(() => setTriggerId(''));
        }}>
          <div class="field">
            <label for="al-list">Allowlist</label>
            <select id="al-list" value={listId} onChange={(e) => setListId((e.target as HTMLSelectElement).value)}>
              {lists.map((w) => <option key={w.id} value={w.id}>{w.name || w.id}</option>)}
            </select>
          </div>
          <div class="field">
            <label for="al-gate">Gate</label>
            <input id="al-gate" value={gate} onInput={(e) => setGate((e.target as HTMLInputElement).value)} />
          </div>
          <div class="field grow">
            <label for="al-trigger">Trigger id</label>
            <input id="al-trigger" required placeholder="CVE-2024-0001+libssl3" value={triggerId} onInput={(e) => setTriggerId((e.target as HTMLInputElement).value)} />
          </div>
          <div class="field">
            <label for="al-expires">Expires (empty: never)</label>
            <input id="al-expires" type="date" value={expires} onInput={(e) => setExpires((e.target as HTMLInputElement).value)} />
          </div>
          <div class="field buttons"><span class="label">&nbsp;</span><button class="btn primary" type="submit" disabled={busy || !triggerId.trim()}>Add item</button></div>
        </form>
      ) : null}
    </div>
  );
}

function Detail({ policyId }: { policyId: string }) {
  const state = useLoad(async () => (await get<PolicyRecord[]>(`/policies/${encodeURIComponent(policyId)}`, { detail: true }))[0], [policyId]);
  const [error, busy, run] = useAction();
  return (
    <section>
      <p class="crumbs"><a href={href(['policies'])}>Policies</a> / {policyId}</p>
      <Async state={state}>{(r) => r ? (
        <>
          <div class="page-head">
            <h1>{r.name || r.policyId} {r.active ? <span class="pill ok">active</span> : null}</h1>
            <div class="actions">
              {!r.active ? <button type="button" class="btn" disabled={busy} onClick={() => run(async () => { await api('PUT', `/policies/${encodeURIComponent(r.policyId)}`, { policyId: r.policyId, active: true }); state.reload(); })}>Activate</button> : null}
              <button type="button" class="btn" onClick={() => run(() => downloadBundle(r.policyId))}>Download JSON</button>
            </div>
          </div>
          <ErrorBox error={error} />
          {r.comment ? <p class="muted">{r.comment}</p> : null}
          <div class="grid">
            <div class="card span-4">
              <h2>Mappings</h2>
              <p class="muted small">The first mapping that matches an image decides its policies and allowlists.</p>
              <TableWrap label="Mappings">
                <table>
                  <thead><tr><th>Name</th><th>Registry</th><th>Repository</th><th>Image</th><th>Policies</th><th>Allowlists</th></tr></thead>
                  <tbody>
                    {(r.policybundle.mappings ?? []).map((m, i) => (
                      <tr key={i}><td>{m.name ?? m.id}</td><td>{m.registry}</td><td>{m.repository}</td><td>{m.image.type}: {m.image.value}</td>
                        <td class="small">{(m.policy_ids ?? (m.policy_id ? [m.policy_id] : [])).map((id) => r.policybundle.policies?.find((p) => p.id === id)?.name ?? id).join(', ')}</td>
                        <td class="small">{(m.whitelist_ids ?? []).map((id) => r.policybundle.whitelists?.find((w) => w.id === id)?.name ?? id).join(', ') || '—'}</td></tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            </div>
            <AllowlistEditor record={r} onSaved={state.reload} />
            <div class="card span-4">
              <h2>Policies</h2>
              {(r.policybundle.policies ?? []).map((p) => (
                <details key={p.id}>
                  <summary>{p.name ?? p.id} ({p.rules?.length ?? 0} rules)</summary>
                  <pre class="code">{JSON.stringify(p.rules, null, 2)}</pre>
                </details>
              ))}
            </div>
          </div>
        </>
      ) : <p>Not found.</p>}</Async>
    </section>
  );
}

export function PoliciesPage({ route }: { route: Route }) {
  const id = route.path[1];
  return id ? <Detail policyId={id} /> : <List />;
}
