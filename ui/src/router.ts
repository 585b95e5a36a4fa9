/** Hash routing (#/images/sha256:…/vulnerabilities?tag=…): the server needs no fallback routes. */
import { useEffect, useState } from 'preact/hooks';

export interface Route { path: string[]; query: URLSearchParams }

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [p = '', q = ''] = raw.split('?', 2) as [string?, string?];
  return { path: p.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(q) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

/** `#/a/b?x=1` from parts and query values (empty values dropped). */
export function href(path: string[], query: Record<string, string | number | boolean | undefined | null> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '' && v !== false) q.set(k, String(v));
  const qs = q.toString();
  return `#/${path.map(encodeURIComponent).join('/')}${qs ? `?${qs}` : ''}`;
}

/** Change the query of the current route (filters, pages) without adding a history entry per keystroke. */
export function replaceQuery(route: Route, changes: Record<string, string | number | boolean | undefined | null>): void {
  const next: Record<string, string> = Object.fromEntries(route.query);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === null || v === '' || v === false) delete next[k];
    else next[k] = String(v);
  }
  const target = href(route.path, next);
  if (target !== location.hash) history.replaceState(null, '', target);
  dispatchEvent(new HashChangeEvent('hashchange'));
}

export function navigate(target: string): void {
  location.hash = target.replace(/^#/, '');
}
