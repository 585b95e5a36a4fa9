/** Small shared pieces: data loading, badges, pager, tabs. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { SEVERITIES, type Severity, type VulnCounts, type Verdict } from './api';
import { href } from './router';

export interface Loaded<T> { data: T | undefined; error: string | undefined; loading: boolean; reload: () => void }

/** Run `load` when `key` changes (and on reload()); keeps the previous data while a new load runs. */
/** An action started from a button: [error message, busy, run(fn)]; run clears the error, sets busy while fn runs, and keeps fn's error message. */
export function useAction(): [string | undefined, boolean, (fn: () => Promise<unknown>) => Promise<void>] {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  return [error, busy, async (fn) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }];
}

export function useLoad<T>(load: () => Promise<T>, key: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: string | undefined; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  const current = useRef(0);
  useEffect(() => {
    const id = ++current.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => { if (id === current.current) setState({ data, error: undefined, loading: false }); },
      (e: unknown) => { if (id === current.current) setState((s) => ({ data: s.data, error: e instanceof Error ? e.message : String(e), loading: false })); },
    );
  }, [...key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}

export function ErrorBox({ error }: { error: string | undefined }) {
  if (!error) return null;
  return <div class="alert error" role="alert">{error}</div>;
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return <p class="muted" aria-live="polite">{what}…</p>;
}

/** Error, spinner, or the content once data is there. */
export function Async<T>({ state, children }: { state: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (state.data === undefined) return state.error ? <ErrorBox error={state.error} /> : <Loading />;
  return <>{state.error ? <ErrorBox error={state.error} /> : null}{children(state.data)}</>;
}

export function SeverityBadge({ severity }: { severity: string }) {
  return <span class={`sev sev-${severity.toLowerCase()}`}>{severity}</span>;
}

export function VerdictBadge({ verdict }: { verdict: Verdict | string | undefined }) {
  const v = verdict ?? 'none';
  const label = v === 'none' ? 'not evaluated' : v;
  return <span class={`verdict verdict-${v}`} data-verdict={v}>{label}</span>;
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`status status-${status}`} data-status={status}>{status.replace('_', ' ')}</span>;
}

/** Critical/High/Medium/Low counts as small coloured chips (zeros faded). */
export function SeverityCounts({ counts, compact = false }: { counts: Partial<Record<Severity, number>> | VulnCounts; compact?: boolean }) {
  const shown = compact ? SEVERITIES.slice(0, 4) : SEVERITIES;
  return (
    <span class={`sev-counts${compact ? '' : ' labelled'}`}>
      {shown.map((s) => {
        const n = (counts as Record<string, number>)[s] ?? 0;
        return <span key={s} class={`count sev-${s.toLowerCase()}${n ? '' : ' zero'}`} title={`${s}: ${n}`}><span class={compact ? 'sr-only' : ''}>{s} </span>{n}</span>;
      })}
    </span>
  );
}

export function Pager({ page, limit, total, onPage }: { page: number; limit: number; total: number; onPage: (p: number) => void }) {
  const pages = Math.max(1, Math.ceil(total / limit));
  const from = total ? (page - 1) * limit + 1 : 0;
  const to = Math.min(total, page * limit);
  return (
    <nav class="pager" aria-label="Pages">
      <span class="muted">{from}–{to} of {total}</span>
      <button type="button" class="btn small" disabled={page <= 1} onClick={() => onPage(page - 1)}>Previous</button>
      <span>Page {page} of {pages}</span>
      <button type="button" class="btn small" disabled={page >= pages} onClick={() => onPage(page + 1)}>Next</button>
    </nav>
  );
}

export function Tabs({ base, query, tabs, current }: { base: string[]; query?: Record<string, string | undefined>; tabs: [string, string][]; current: string }) {
  return (
    <nav class="tabs" aria-label="Sections">
      {tabs.map(([id, label]) => (
        <a key={id} href={href([...base, id], query)} aria-current={id === current ? 'page' : undefined}>{label}</a>
      ))}
    </nav>
  );
}

export function Stat({ label, value, tone, to }: { label: string; value: ComponentChildren; tone?: string; to?: string }) {
  const body = <><span class="stat-value">{value}</span><span class="stat-label">{label}</span></>;
  return to ? <a class={`stat ${tone ?? ''}`} href={to}>{body}</a> : <div class={`stat ${tone ?? ''}`}>{body}</div>;
}

/** A table that scrolls sideways inside itself on narrow screens instead of widening the page. */
export function TableWrap({ children, label }: { children: ComponentChildren; label: string }) {
  return <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>{children}</div>;
}

/** Text input that reports its value after typing pauses. */
export function SearchInput({ id, label, value, onChange, placeholder }: { id: string; label: string; value: string; onChange: (v: string) => void; placeholder?: string }) {
  const [text, setText] = useState(value);
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => setText(value), [value]);
  return (
    <div class="field grow">
      <label for={id}>{label}</label>
      <input id={id} type="search" value={text} placeholder={placeholder}
        onInput={(e) => {
          const v = (e.target as HTMLInputElement).value;
          setText(v);
          clearTimeout(timer.current);
          timer.current = window.setTimeout(() => onChange(v), 300);
        }}
        onKeyDown={(e) => { if (e.key === 'Enter') { clearTimeout(timer.current); onChange(text); } }} />
    </div>
  );
}

export function Select({ id, label, value, options, onChange, grow = false }: { id: string; label: string; value: string; options: [string, string][]; onChange: (v: string) => void; grow?: boolean }) {
  return (
    <div class={`field${grow ? ' grow' : ''}`}>
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {options.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
      </select>
    </div>
  );
}
