/** The dashboard: image status, vulnerabilities by severity and their trend, verdicts, worst images, feeds, events, failed deliveries. */
import { useEffect, useRef } from 'preact/hooks';
import { SEVERITIES, get, type Dashboard } from '../api';
import { Async, SeverityCounts, Stat, TableWrap, VerdictBadge, useLoad } from '../components';
import { ago, duration, imageName, when } from '../format';
import { href } from '../router';

function TrendChart({ trend }: { trend: Dashboard['trend'] }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    let stop: (() => void) | undefined;
    let cancelled = false;
    void import('../chart').then(({ trendChart }) => {
      if (!cancelled && canvas.current) stop = trendChart(canvas.current, trend);
    });
    return () => { cancelled = true; stop?.(); };
  }, [trend]);
  if (trend.length === 0) return <p class="muted">No snapshots yet: one is taken when an image is first analyzed and after every feed sync.</p>;
  const last = trend[trend.length - 1]!;
  return (
    <div class="chart-box">
      <canvas ref={canvas} role="img" aria-label={`Vulnerabilities over the last ${trend.length} snapshots; latest: ${SEVERITIES.map((s) => `${s} ${last[s]}`).join(', ')}`} />
    </div>
  );
}

export function DashboardPage() {
  const state = useLoad(() => get<Dashboard>('/summaries/dashboard'), []);
  return (
    <section>
      <div class="page-head">
        <h1>Dashboard</h1>
        <button type="button" class="btn" onClick={state.reload} disabled={state.loading}>Refresh</button>
      </div>
      <Async state={state}>{(d) => (
        <div class="grid">
          <ImagesCard d={d} />
          <VerdictsCard d={d} />
          <VulnerabilitiesCard d={d} />
          <TrendCard d={d} />
          <WorstImagesCard d={d} />
          <FeedsCard d={d} />
          <DeliveriesCard d={d} />
          <EventsCard d={d} />
        </div>
      )}</Async>
    </section>
  );
}

/** Images by analysis status. */
function ImagesCard({ d }: { d: Dashboard }) {
  return (
    <div class="card span-2">
      <h2>Images</h2>
      <div class="stats">
        <Stat label="images" value={d.images.total} to={href(['images'])} />
        <Stat label="analyzed" value={d.images.by_status.analyzed ?? 0} tone="ok" to={href(['images'], { analysis_status: 'analyzed' })} />
        <Stat label="in progress" value={(d.images.by_status.analyzing ?? 0) + (d.images.by_status.not_analyzed ?? 0)} tone="info" to={href(['images'], { analysis_status: 'analyzing' })} />
        <Stat label="failed" value={d.images.by_status.analysis_failed ?? 0} tone={d.images.by_status.analysis_failed ? 'bad' : ''} to={href(['images'], { analysis_status: 'analysis_failed' })} />
      </div>
    </div>
  );
}

/** Policy verdicts of the latest evaluations. */
function VerdictsCard({ d }: { d: Dashboard }) {
  return (
    <div class="card span-2">
      <h2>Policy verdicts</h2>
      <div class="stats">
        <Stat label="pass" value={d.verdicts.pass} tone="ok" to={href(['images'], { verdict: 'pass' })} />
        <Stat label="warn" value={d.verdicts.warn} tone="warn" to={href(['images'], { verdict: 'warn' })} />
        <Stat label="fail" value={d.verdicts.fail} tone={d.verdicts.fail ? 'bad' : ''} to={href(['images'], { verdict: 'fail' })} />
        <Stat label="not evaluated" value={d.verdicts.none} to={href(['images'], { verdict: 'none' })} />
      </div>
    </div>
  );
}

/** Findings by severity. */
function VulnerabilitiesCard({ d }: { d: Dashboard }) {
  return (
    <div class="card span-2">
      <h2>Vulnerabilities</h2>
      <div class="sev-bars">
        {SEVERITIES.map((s) => (
          <a key={s} class={`sev-bar sev-${s.toLowerCase()}`} href={href(['images'], { severity: s })}>
            <span class="n">{d.vulnerabilities.by_severity[s] ?? 0}</span><span class="l">{s}</span>
          </a>
        ))}
      </div>
      <p class="muted small">
        {d.vulnerabilities.total} findings in {d.vulnerabilities.images_affected} images · {d.vulnerabilities.fixable} fixable · {d.vulnerabilities.kev} known exploited
      </p>
    </div>
  );
}

/** The trend chart. */
function TrendCard({ d }: { d: Dashboard }) {
  return (
    <div class="card span-2">
      <h2>Trend since the last feed syncs</h2>
      <TrendChart trend={d.trend} />
    </div>
  );
}

/** The images with the most severe findings. */
function WorstImagesCard({ d }: { d: Dashboard }) {
  return (
    <div class="card span-4">
      <h2>Worst images</h2>
      {d.worst_images.length === 0 ? <p class="muted">No image has findings.</p> : (
        <TableWrap label="Worst images">
          <table>
            <thead><tr><th>Image</th><th>Critical / High / Medium / Low</th><th>Fixable</th><th>Verdict</th></tr></thead>
            <tbody>
              {d.worst_images.map((i) => (
                <tr key={i.imageDigest}>
                  <td><a href={href(['images', i.imageDigest, 'vulnerabilities'])}>{imageName(i.tags, i.imageDigest)}</a></td>
                  <td><SeverityCounts counts={i.vulnerabilities} compact /></td>
                  <td>{i.vulnerabilities.fixable}</td>
                  <td><VerdictBadge verdict={i.verdict} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </div>
  );
}

/** Vulnerability data sources. */
function FeedsCard({ d }: { d: Dashboard }) {
  return (
    <div class="card span-2">
      <h2>Feeds</h2>
      {d.feeds.length === 0 ? <p class="muted">No vulnerability data sources.</p> : (
        <ul class="plain">
          {d.feeds.map((f) => (
            <li key={f.name} class="row-between">
              <span><strong>{f.name}</strong> <span class="muted small">{f.record_count} records</span></span>
              <span class={`pill ${f.status === 'ok' ? 'ok' : f.status === 'failed' ? 'bad' : 'warn'}`} title={when(f.last_sync)}>
                {f.status === 'never' ? 'never synced' : `${f.status} · ${duration(f.age_seconds)} old`}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Webhook deliveries that failed. */
function DeliveriesCard({ d }: { d: Dashboard }) {
  return (
    <div class="card span-2">
      <h2>Failed webhook deliveries</h2>
      {d.failed_deliveries.length === 0 ? <p class="muted">None.</p> : (
        <ul class="plain">
          {d.failed_deliveries.map((f) => (
            <li key={f.notification_id}>
              <div class="row-between"><strong>{f.type}</strong><span class="muted small">{ago(f.last_attempt_at)}</span></div>
              <div class="small break">{f.url} · {f.attempts} attempts</div>
              <div class="small bad-text break">{f.last_error}</div>
            </li>
          ))}
        </ul>
      )}
      <p><a href={href(['notifications'])}>All notifications</a></p>
    </div>
  );
}

/** The latest events. */
function EventsCard({ d }: { d: Dashboard }) {
  return (
    <div class="card span-4">
      <h2>Recent events</h2>
      {d.recent_events.length === 0 ? <p class="muted">No events.</p> : (
        <ul class="plain events">
          {d.recent_events.map((e, i) => (
            <li key={i}>
              <span class={`level level-${e.level.toLowerCase()}`}>{e.level}</span>
              <span class="small muted nowrap">{ago(e.timestamp)}</span>
              <span class="break"><code>{e.type}</code> {e.message} <span class="muted">{e.resource}</span></span>
            </li>
          ))}
        </ul>
      )}
      <p><a href={href(['events'])}>All events</a></p>
    </div>
  );
}
