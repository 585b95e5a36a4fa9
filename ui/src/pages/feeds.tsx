/**
 * The System page's vulnerability feeds: sync now, and per feed and per group a switch that
 * enables or disables it (PUT /system/feeds/{feed}[/{group}] {enabled}; admins only, as in Anchore;
 * a disabled feed or group is skipped by sync and matching). A switch shows the state asked for
 * while the request runs, then the feed as the service answered (its previous state on an error).
 */
import { useState } from 'preact/hooks';
import { api, get } from '../api';
import { Async, ErrorBox, TableWrap, useAction, useLoad } from '../components';
import { ago, when } from '../format';

interface FeedGroup { name: string; enabled?: boolean; disabled?: boolean; last_sync: string | null; record_count: number }
interface Feed { name: string; enabled?: boolean; disabled?: boolean; last_full_sync: string | null; groups: FeedGroup[] }

/** Turned off: Lading's `disabled`; from a server without it, `enabled: false`. */
const isOff = (x: { enabled?: boolean; disabled?: boolean }) => x.disabled ?? x.enabled === false;

const path = (feed: string, group?: string) => `/system/feeds/${encodeURIComponent(feed)}${group !== undefined ? `/${encodeURIComponent(group)}` : ''}`;

function Switch({ label, on, busy, onChange }: { label: string; on: boolean; busy: boolean; onChange: (on: boolean) => void }) {
  return (
    <label class="nowrap">
      <input type="checkbox" role="switch" aria-label={label} checked={on} disabled={busy} onChange={(e) => onChange((e.target as HTMLInputElement).checked)} />
      {' '}<span class={`pill ${on ? 'ok' : 'bad'}`}>{on ? 'enabled' : 'disabled'}</span>
    </label>
  );
}

export function FeedsCard() {
  const feeds = useLoad(() => get<Feed[]>('/system/feeds'), []);
  const [error, busy, run] = useAction();
  const [note, setNote] = useState<string>();
  // The feeds as the last PUT answered them (newer than the list), and the switch being changed.
  const [fresh, setFresh] = useState<Record<string, Feed>>({});
  const [wanted, setWanted] = useState<{ key: string; on: boolean }>();
  const toggle = (feed: string, group: string | undefined, enabled: boolean) => {
    const key = group !== undefined ? `${feed}/${group}` : feed;
    setWanted({ key, on: enabled });
    setNote(undefined);
    return run(async () => {
      try {
        const r = await api<Feed | Feed[]>('PUT', path(feed, group), { enabled });
        const updated = Array.isArray(r) ? r[0] : r;
        if (updated) setFresh((m) => ({ ...m, [feed]: updated }));
        setNote(`${key}: ${enabled ? 'enabled' : 'disabled'}`);
      } finally {
        setWanted(undefined);
      }
    });
  };
  const onOf = (key: string, x: { enabled?: boolean; disabled?: boolean }) => (wanted?.key === key ? wanted.on : !isOff(x));
  return (
    <div class="card span-4">
      <div class="row-between">
        <h2>Vulnerability feeds</h2>
        <button type="button" class="btn" disabled={busy} onClick={() => run(async () => {
          const r = await api<{ feed: string; status: string }[]>('POST', '/system/feeds');
          setNote(r.map((x) => `${x.feed}: ${x.status}`).join(', '));
          setFresh({});
          feeds.reload();
        })}>{busy ? 'Working…' : 'Sync now'}</button>
      </div>
      <ErrorBox error={error} />
      {note ? <div class="alert ok" role="status">{note}</div> : null}
      <Async state={feeds}>{(f) => f.length === 0 ? <p class="muted">No feeds.</p> : (
        <TableWrap label="Feeds">
          <table>
            <thead><tr><th>Feed</th><th>Group</th><th>Records</th><th>Last sync</th></tr></thead>
            <tbody>
              {f.map((loaded) => fresh[loaded.name] ?? loaded).flatMap((x) => {
                const feedOn = onOf(x.name, x);
                const feedCell = (rows: number) => (
                  <td rowSpan={rows}>
                    <div>{x.name}</div>
                    <Switch label={`Feed ${x.name} enabled`} on={feedOn} busy={busy} onChange={(on) => toggle(x.name, undefined, on)} />
                  </td>
                );
                if (!x.groups.length) return [<tr key={x.name}>{feedCell(1)}<td class="muted" colSpan={3}>no data yet</td></tr>];
                return x.groups.map((g, i) => (
                  <tr key={`${x.name}/${g.name}`}>
                    {i === 0 ? feedCell(x.groups.length) : null}
                    <td>
                      <div>{g.name}</div>
                      <Switch label={`Group ${x.name}/${g.name} enabled`} on={onOf(`${x.name}/${g.name}`, g)} busy={busy} onChange={(on) => toggle(x.name, g.name, on)} />
                    </td>
                    <td>{g.record_count}</td><td class="nowrap" title={when(g.last_sync)}>{ago(g.last_sync)}</td>
                  </tr>
                ));
              })}
            </tbody>
          </table>
        </TableWrap>
      )}</Async>
    </div>
  );
}
