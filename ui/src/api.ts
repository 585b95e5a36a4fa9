/**
 * The public v1 API as the UI uses it: a bearer token from POST /v1/oauth/token kept in
 * sessionStorage, the account to act in (admins: x-anchore-account), JSON in and out, and
 * Anchore's error body turned into an Error with its message.
 */

export const SEVERITIES = ['Critical', 'High', 'Medium', 'Low', 'Negligible', 'Unknown'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type VulnCounts = Record<Severity, number> & { total: number; fixable: number; kev: number };
export type Verdict = 'pass' | 'warn' | 'fail' | null;

export interface ImageSummary {
  imageDigest: string;
  imageId: string | null;
  tags: string[];
  registry: string | null;
  repository: string | null;
  analysis_status: string;
  image_status: string;
  distro: string | null;
  platform: string | null;
  image_size: number | null;
  layer_count: number | null;
  package_count: number | null;
  vulnerabilities: VulnCounts;
  verdict: Verdict;
  evaluated_at: string | null;
  created_at: string;
  analyzed_at: string | null;
  last_updated: string;
}

export interface Page<T> { total: number; page: number; limit: number; items: T[] }

export interface Dashboard {
  images: { total: number; by_status: Record<string, number> };
  vulnerabilities: { by_severity: Record<Severity, number>; total: number; fixable: number; kev: number; images_affected: number };
  verdicts: { pass: number; warn: number; fail: number; none: number };
  worst_images: ImageSummary[];
  feeds: { name: string; last_sync: string | null; age_seconds: number | null; record_count: number; status: string }[];
  trend: (Record<Severity, number> & { at: string; total: number })[];
  recent_events: { type: string; level: string; message: string; timestamp: string; resource: string }[];
  failed_deliveries: { notification_id: string; type: string; url: string; attempts: number; last_error: string; last_attempt_at: string }[];
}

export interface Layer { index: number; digest: string; size: number; instruction: string | null; created: string | null; package_count: number }

export interface ImageDetail {
  summary: ImageSummary;
  /** The base image (the analyzed image whose layers are the longest prefix of this one's), when known. */
  base_image?: { digest: string; tag: string | null; shared_layers: number } | null;
  layers: Layer[];
  verdicts: { evaluated_at: string; final_action: string; verdict: string; bundle_id: string; tag: string }[];
  vuln_changes: { at: string; added: number; removed: number; updated: number }[];
}

export interface PackageRow {
  name: string; version: string; type: string; purl: string; licenses: string[];
  layer_index: number | null; layer_digest: string | null; instruction: string | null; locations: string[];
}

export interface VulnRow {
  id: string; severity: Severity; cvss: { score: number; vector: string; version: string } | null;
  fix_state: string; fixed_versions: string[];
  package_name: string; package_version: string; package_type: string; package_path: string;
  layer_index: number | null; instruction: string | null;
  kev: boolean; epss: { score: number; percentile: number } | null; url: string; namespace: string;
}

export interface Comparison {
  base: ImageSummary; target: ImageSummary;
  packages: {
    added: { name: string; type: string; version: string }[];
    removed: { name: string; type: string; version: string }[];
    upgraded: { name: string; type: string; from: string; to: string }[];
    downgraded: { name: string; type: string; from: string; to: string }[];
  };
  vulnerabilities: {
    introduced: { id: string; severity: Severity; package_name: string; package_version: string; fixed_versions: string[] }[];
    fixed: { id: string; severity: Severity; package_name: string; package_version: string; fixed_versions: string[] }[];
  };
  secrets: { added: SecretChange[]; removed: SecretChange[] };
  setuid: { added: SetuidChange[]; removed: SetuidChange[] };
  verdict: { base: Verdict; target: Verdict; changed: boolean };
}
export interface SecretChange { rule_id: string; description: string; path: string; line: number; match: string; layer: number | null }
export interface SetuidChange { path: string; mode: string; setuid: boolean; setgid: boolean; uid: number; gid: number; layer: number }

/** `advice` of GET /images/{digest}/check?advise=true (a Lading extension; src/policy/advice.ts). */
export interface AdvisedFinding { gate: string; trigger: string; trigger_id: string; message: string }
export interface UpgradeAdvice {
  kind: 'upgrade';
  package: { name: string; type: string; version: string; path: string | null };
  to: string; vulnerabilities: string[];
  layer_index: number | null; layer_digest: string | null; instruction: string | null;
  inherited_from_base: boolean;
  removes: AdvisedFinding[];
}
/** Rebuild on a newer digest of the image's base (src/policy/rebuild.ts). */
export interface RebuildAdvice {
  kind: 'rebuild-base';
  base: { tag: string | null; digest: string };
  to: { tag: string; digest: string };
  inherited_findings: number;
  fixed: { vulnerability: string; package: string; version: string; to: string | null }[];
  removes: AdvisedFinding[];
}
export interface Advice {
  status: 'pass' | 'fail';
  status_after: 'pass' | 'fail';
  entries: (RebuildAdvice | UpgradeAdvice)[];
  remaining: { gate: string; trigger: string; trigger_id: string; message: string; remedy: string }[];
  verified_by: 'rescan' | 'estimate' | 'none';
}

/** Anchore's image record (GET /v1/images/{digest}), the fields the UI reads. */
export interface AnchoreImage {
  imageDigest: string;
  analysis_status: string;
  analysis_error?: string | null;
  image_detail: { fulltag: string }[];
}

/** One policy bundle record (GET /v1/policies). */
export interface PolicyRecord {
  policyId: string; active: boolean; name?: string; comment?: string;
  created_at: string; last_updated: string; policybundle: PolicyBundle;
}

export interface AllowlistItem { id: string; gate: string; trigger_id: string; expires_on?: string }
export interface PolicyBundle {
  id: string; name?: string; version: string;
  policies?: { id: string; name?: string; rules?: unknown[] }[];
  whitelists?: { id: string; name?: string; version: string; comment?: string; items: AllowlistItem[] }[];
  mappings?: { id?: string; name?: string; registry: string; repository: string; image: { type: string; value: string }; policy_id?: string; policy_ids?: string[]; whitelist_ids?: string[] }[];
  [k: string]: unknown;
}

export class ApiFailure extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const TOKEN_KEY = 'lading.token';
const USER_KEY = 'lading.user';
const ACCOUNT_KEY = 'lading.account';

export interface Session { token: string; username: string }

export function currentSession(): Session | undefined {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const username = sessionStorage.getItem(USER_KEY);
  return token && username ? { token, username } : undefined;
}

/** The account chosen in the switcher (admins), or undefined for the user's own. */
export function actingAccount(): string | undefined {
  return sessionStorage.getItem(ACCOUNT_KEY) ?? undefined;
}

export function setActingAccount(name: string | undefined): void {
  if (name) sessionStorage.setItem(ACCOUNT_KEY, name);
  else sessionStorage.removeItem(ACCOUNT_KEY);
}

const listeners = new Set<() => void>();
/** Called when the session ends (sign-out, or a 401 from the API). */
export function onSessionChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** End the session: the token is revoked on the server (DELETE /v1/oauth/token), unless it already stopped working. */
export function signOut(revoke = true): void {
  const session = currentSession();
  if (revoke && session) {
    void fetch('/v1/oauth/token', { method: 'DELETE', headers: { authorization: `Bearer ${session.token}` }, keepalive: true }).catch(() => {});
  }
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
  sessionStorage.removeItem(ACCOUNT_KEY);
  for (const fn of listeners) fn();
}

export async function signIn(username: string, password: string): Promise<void> {
  const r = await fetch('/v1/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username, password, client_id: 'anonymous' }).toString(),
  });
  const body = await r.json().catch(() => ({})) as { access_token?: string; error_description?: string };
  if (!r.ok || !body.access_token) throw new ApiFailure(r.status, body.error_description ?? `sign-in failed (HTTP ${r.status})`);
  sessionStorage.setItem(TOKEN_KEY, body.access_token);
  sessionStorage.setItem(USER_KEY, username);
  for (const fn of listeners) fn();
}

type Query = Record<string, string | number | boolean | undefined | null>;

export function queryString(q: Query = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const h: Record<string, string> = { accept: 'application/json', ...extra };
  const s = currentSession();
  if (s) h.authorization = `Bearer ${s.token}`;
  const account = actingAccount();
  if (account) h['x-anchore-account'] = account;
  return h;
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const r = await fetch(`/v1${path}`, {
    method,
    headers: headers(body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (r.status === 401) {
    signOut(false);
    throw new ApiFailure(401, 'Your session has ended: sign in again.');
  }
  if (!r.ok) {
    const text = await r.text();
    let message = `HTTP ${r.status}`;
    try {
      const b = JSON.parse(text) as { message?: string };
      if (b.message) message = b.message;
    } catch { /* not JSON */ }
    throw new ApiFailure(r.status, message);
  }
  return r;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await send(method, path, body);
  const text = await r.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const get = <T>(path: string, q?: Query) => api<T>('GET', `${path}${queryString(q)}`);

/** Save a response as a file (SBOM and bundle downloads need the bearer header, so no plain link). */
export async function download(path: string, fallbackName: string): Promise<void> {
  const r = await send('GET', path);
  const cd = r.headers.get('content-disposition') ?? '';
  const name = /filename="?([^";]+)"?/.exec(cd)?.[1] ?? fallbackName;
  saveBlob(await r.blob(), name);
}

export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The policy check rows of GET /images/{d}/check?detail=true. */
export interface CheckRow { triggerId: string; gate: string; trigger: string; output: string; action: string; allowlisted: unknown; policyId: string }
export interface CheckResult { advice: Advice | null; status: string; finalAction: string; reason: string; lastEvaluation: string; policyId: string; bundleName: string; rows: CheckRow[]; mapping: Record<string, unknown> | null }

export async function checkImage(digest: string, tag: string, advise = false): Promise<CheckResult> {
  const body = await get<Record<string, Record<string, { detail?: { result?: any }; last_evaluation: string; policyId: string; status: string; advice?: Advice }[]>>[]>(
    `/images/${digest}/check`, { tag, detail: true, ...(advise ? { advise: true } : {}) },
  );
  const byTag = Object.values(body[0] ?? {})[0] ?? {};
  const e = Object.values(byTag)[0]?.[0];
  if (!e) throw new ApiFailure(404, 'no evaluation returned');
  const doc = e.detail?.result ?? {};
  const table = Object.entries(doc.result ?? {}).find(([k]) => !['policy_data', 'whitelist_data', 'policy_name', 'whitelist_names'].includes(k))?.[1] as { result?: { header: string[]; rows: unknown[][] } } | undefined;
  const header = table?.result?.header ?? [];
  const col = (name: string) => header.indexOf(name);
  const rows = (table?.result?.rows ?? []).map((r): CheckRow => ({
    triggerId: String(r[col('Trigger_Id')] ?? ''), gate: String(r[col('Gate')] ?? ''), trigger: String(r[col('Trigger')] ?? ''),
    output: String(r[col('Check_Output')] ?? ''), action: String(r[col('Gate_Action')] ?? ''), allowlisted: r[col('Whitelisted')], policyId: String(r[col('Policy_Id')] ?? ''),
  }));
  return {
    advice: e.advice ?? null, status: e.status, finalAction: String(doc.final_action ?? ''), reason: String(doc.final_action_reason ?? ''), lastEvaluation: e.last_evaluation,
    policyId: e.policyId, bundleName: String(doc.bundle?.name ?? e.policyId), rows,
    mapping: (doc.matched_mapping_rule as Record<string, unknown> | undefined) || null,
  };
}
