/** Registries, subscriptions, webhook notifications, events, system status and feeds. */
import { useState } from 'preact/hooks';
import { api, get } from '../api';
import { Async, ErrorBox, Select, TableWrap, useAction, useLoad } from '../components';
import { ago, when } from '../format';
import { replaceQuery, type Route } from '../router';
import { FeedsCard } from './feeds';

interface RegistryRecord { registry: string; registry_user: string; registry_type: string; registry_verify: boolean; registry_name: string | null; last_updated: string }

export function RegistriesPage() {
  const state = useLoad(() => get<RegistryRecord[]>('/registries'), []);
  const [error, busy, run] = useAction();
  const [form, setForm] = useState({ registry: '', registry_user: '', registry_pass: '', registry_type: 'docker_v2', registry_verify: true, validate: true });
  const field = (k: keyof typeof form) => (e: Event) => {
    const t = e.target as HTMLInputElement;
    setForm({ ...form, [k]: t.type === 'checkbox' ? t.checked : t.value });
  };
  return (
    <section>
      <div class="page-head"><h1>Registries</h1></div>
      <form class="card filters" onSubmit={(e) => {
        e.preventDefault();
        void run(async () => {
          const { validate, ...body } = form;
          await api('POST', `/registries?validate=${validate}`, body);
          setForm({ ...form, registry: '', registry_user: '', registry_pass: '' });
          state.reload();
        });
      }}>
        <div class="field grow"><label for="r-registry">Registry (host[:port][/repo] or prefix*)</label><input id="r-registry" required value={form.registry} onInput={field('registry')} /></div>
        <div class="field"><label for="r-user">User</label><input id="r-user" required autocomplete="off" value={form.registry_user} onInput={field('registry_user')} /></div>
        <div class="field"><label for="r-pass">Password</label><input id="r-pass" type="password" required autocomplete="new-password" value={form.registry_pass} onInput={field('registry_pass')} /></div>
        <Select id="r-type" label="Type" value={form.registry_type} onChange={(v) => setForm({ ...form, registry_type: v })} options={[['docker_v2', 'docker_v2'], ['awsecr', 'awsecr']]} />
        <div class="field check"><input id="r-verify" type="checkbox" checked={form.registry_verify} onChange={field('registry_verify')} /><label for="r-verify">Verify TLS</label></div>
        <div class="field check"><input id="r-validate" type="checkbox" checked={form.validate} onChange={field('validate')} /><label for="r-validate">Log in first</label></div>
        <div class="field buttons"><span class="label">&nbsp;</span><button class="btn primary" type="submit" disabled={busy}>Add registry</button></div>
      </form>
      <ErrorBox error={error} />
      <Async state={state}>{(rows) => rows.length === 0 ? <p class="muted">No registry credentials: public registries need none.</p> : (
        <TableWrap label="Registries">
          <table>
            <thead><tr><th>Registry</th><th>User</th><th>Type</th><th>TLS verify</th><th>Updated</th><th><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.registry}>
                  <td class="break">{r.registry}</td><td>{r.registry_user}</td><td>{r.registry_type}</td><td>{r.registry_verify ? 'yes' : 'no'}</td><td class="nowrap">{when(r.last_updated)}</td>
                  <td><button type="button" class="btn small danger" disabled={busy} onClick={() => { if (confirm(`Remove the credentials for ${r.registry}?`)) void run(async () => { await api('DELETE', `/registries/${encodeURIComponent(r.registry)}`); state.reload(); }); }}>Remove</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}</Async>
    </section>
  );
}

interface Subscription { subscription_id: string; subscription_type: string; subscription_key: string; active: boolean; last_updated: string }

export function SubscriptionsPage() {
  const state = useLoad(() => get<Subscription[]>('/subscriptions'), []);
  const [error, busy, run] = useAction();
  return (
    <section>
      <div class="page-head"><h1>Subscriptions</h1></div>
      <p class="muted">What the watcher checks and notifies about, per tag. Adding an image creates its tag's subscriptions.</p>
      <ErrorBox error={error} />
      <Async state={state}>{(rows) => rows.length === 0 ? <p class="muted">No subscriptions.</p> : (
        <TableWrap label="Subscriptions">
          <table>
            <thead><tr><th>Key</th><th>Type</th><th>Active</th><th>Updated</th></tr></thead>
            <tbody>
              {rows.map((s) => (
                <tr key={s.subscription_id}>
                  <td class="break">{s.subscription_key}</td><td>{s.subscription_type}</td>
                  <td>
                    <input type="checkbox" id={`sub-${s.subscription_id}`} checked={s.active} disabled={busy}
                      aria-label={`${s.subscription_type} for ${s.subscription_key} active`}
                      onChange={(e) => run(async () => { await api('PUT', `/subscriptions/${s.subscription_id}`, { active: (e.target as HTMLInputElement).checked }); state.reload(); })} />
                  </td>
                  <td class="nowrap">{when(s.last_updated)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}</Async>
    </section>
  );
}

interface NotificationRow { notificationId: string; notification_type: string; subscription_key: string; status: string; attempts: number; created_at: string; last_error: string | null; pending_targets: string[] }

export function NotificationsPage() {
  const [status, setStatus] = useState('');
  const [page, setPage] = useState(1);
  const state = useLoad(() => get<{ results: NotificationRow[]; page: number; next_page: boolean; item_count: number }>('/system/webhooks/notifications', { status, page, limit: 50 }), [status, page]);
  return (
    <section>
      <div class="page-head"><h1>Webhook notifications</h1></div>
      <div class="card filters">
        <Select id="n-status" label="Status" value={status} onChange={(v) => { setStatus(v); setPage(1); }}
          options={[['', 'Any'], ['pending', 'Pending'], ['delivered', 'Delivered'], ['failed', 'Failed']]} />
      </div>
      <Async state={state}>{(d) => (
        <>
          {d.results.length === 0 ? <p class="muted">No notifications.</p> : (
            <TableWrap label="Notifications">
              <table>
                <thead><tr><th>Created</th><th>Type</th><th>Key</th><th>Status</th><th>Attempts</th><th>Last error</th></tr></thead>
                <tbody>
                  {d.results.map((n) => (
                    <tr key={n.notificationId}>
                      <td class="nowrap">{when(n.created_at)}</td><td>{n.notification_type}</td><td class="break">{n.subscription_key}</td>
                      <td><span class={`pill ${n.status === 'delivered' ? 'ok' : n.status === 'failed' ? 'bad' : 'warn'}`}>{n.status}</span></td>
                      <td>{n.attempts}</td><td class="small break bad-text">{n.last_error ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          )}
          <nav class="pager" aria-label="Pages">
            <button type="button" class="btn small" disabled={page <= 1} onClick={() => setPage(page - 1)}>Previous</button>
            <span>Page {d.page}</span>
            <button type="button" class="btn small" disabled={!d.next_page} onClick={() => setPage(page + 1)}>Next</button>
          </nav>
        </>
      )}</Async>
    </section>
  );
}

interface EventRow { generated_uuid: string; created_at: string; event: { type: string; level: string; message: string; resource: { type: string; id: string } } }

export function EventsPage({ route }: { route: Route }) {
  const level = route.query.get('level') ?? '';
  const type = route.query.get('event_type') ?? '';
  const page = Number(route.query.get('page')) || 1;
  const state = useLoad(() => get<{ results: EventRow[]; next_page: boolean; page: number; item_count: number }>('/events', { level, event_type: type, page, limit: 50 }), [level, type, page]);
  return (
    <section>
      <div class="page-head"><h1>Events</h1></div>
      <div class="card filters">
        <Select id="e-level" label="Level" value={level} onChange={(v) => replaceQuery(route, { level: v, page: undefined })} options={[['', 'Any'], ['info', 'Info'], ['error', 'Error']]} />
        <Select id="e-type" label="Type" value={type} onChange={(v) => replaceQuery(route, { event_type: v, page: undefined })}
          options={[['', 'Any'], ['user.image.*', 'Image'], ['user.image.analysis.*', 'Analysis'], ['user.checks.*', 'Checks'], ['system.*', 'System']]} />
      </div>
      <Async state={state}>{(d) => (
        <>
          {d.results.length === 0 ? <p class="muted">No events.</p> : (
            <ul class="plain events card">
              {d.results.map((e) => (
                <li key={e.generated_uuid}>
                  <span class={`level level-${e.event.level.toLowerCase()}`}>{e.event.level}</span>
                  <span class="small muted nowrap" title={e.created_at}>{ago(e.created_at)}</span>
                  <span class="break"><code>{e.event.type}</code> {e.event.message} <span class="muted">{e.event.resource?.id}</span></span>
                </li>
              ))}
            </ul>
          )}
          <nav class="pager" aria-label="Pages">
            <button type="button" class="btn small" disabled={page <= 1} onClick={() => replaceQuery(route, { page: page - 1 })}>Previous</button>
            <span>Page {d.page}</span>
            <button type="button" class="btn small" disabled={!d.next_page} onClick={() => replaceQuery(route, { page: page + 1 })}>Next</button>
          </nav>
        </>
      )}</Async>
    </section>
  );
}

interface ServiceState { hostid: string; servicename: string; status: boolean; status_message: string; version: string; last_heartbeat?: string; service_detail?: { detail?: { queue?: Record<string, number>; cycles?: { name: string; runs: number; last_status: string | null; last_finished: string | null; next_due: string | null; last_summary: string | null; last_error: string | null }[] } } }

export function SystemPage() {
  const system = useLoad(() => get<{ service_states: ServiceState[] }>('/system'), []);
  return (
    <section>
      <div class="page-head"><h1>System</h1></div>
      <div class="grid">
        <div class="card span-4">
          <h2>Services</h2>
          <Async state={system}>{(s) => {
            const detail = s.service_states.find((x) => x.service_detail?.detail)?.service_detail?.detail;
            return (
              <>
                <TableWrap label="Services">
                  <table>
                    <thead><tr><th>Service</th><th>Host</th><th>Status</th><th>Version</th><th>Heartbeat</th></tr></thead>
                    <tbody>
                      {s.service_states.map((x) => (
                        <tr key={`${x.hostid}/${x.servicename}`}>
                          <td>{x.servicename}</td><td class="mono small">{x.hostid}</td>
                          <td><span class={`pill ${x.status ? 'ok' : 'bad'}`}>{x.status_message}</span></td><td>{x.version}</td><td class="nowrap">{ago(x.last_heartbeat)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </TableWrap>
                {detail?.queue ? <p class="muted">Queue: {Object.entries(detail.queue).map(([k, v]) => `${v} ${k}`).join(' · ')}</p> : null}
                {detail?.cycles ? (
                  <>
                    <h3>Cycles</h3>
                    <TableWrap label="Cycles">
                      <table>
                        <thead><tr><th>Cycle</th><th>Runs</th><th>Last</th><th>Summary</th><th>Next</th></tr></thead>
                        <tbody>
                          {detail.cycles.map((c) => (
                            <tr key={c.name}>
                              <td>{c.name}</td><td>{c.runs}</td>
                              <td><span class={`pill ${c.last_status === 'ok' ? 'ok' : c.last_status ? 'bad' : ''}`}>{c.last_status ?? 'never'}</span> <span class="small muted">{ago(c.last_finished)}</span></td>
                              <td class="small break">{c.last_error ?? c.last_summary ?? ''}</td><td class="nowrap small">{when(c.next_due)}</td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    </TableWrap>
                  </>
                ) : null}
              </>
            );
          }}</Async>
        </div>
        <FeedsCard />
      </div>
    </section>
  );
}
