/**
 * Allowlisting one finding: evaluate the image, find the finding's trigger id and the mapping that
 * applies to the image, add an item (with an expiry) to that mapping's first allowlist in the active
 * bundle (creating one when the mapping has none), PUT the bundle back, and evaluate again.
 */
import { api, checkImage, get, type AllowlistItem, type CheckResult, type PolicyBundle, type PolicyRecord } from './api';

export interface AllowlistOutcome { before: CheckResult; after: CheckResult; policyId: string; allowlistId: string; triggerId: string }

const UI_ALLOWLIST_ID = 'lading-ui-exceptions';

/** The trigger id of a vulnerability finding as the evaluation formed it (`CVE-…+package`). */
export function findingTriggerId(check: CheckResult, vulnId: string, packageName: string): string {
  const rows = check.rows.filter((r) => r.gate === 'vulnerabilities' && r.triggerId.startsWith(`${vulnId}+`));
  const exact = rows.find((r) => r.triggerId === `${vulnId}+${packageName}`);
  return (exact ?? (rows.length === 1 ? rows[0] : undefined))?.triggerId ?? `${vulnId}+${packageName}`;
}

/** Add `item` to the allowlist the matched mapping uses; returns that allowlist's id. */
export function addToMappedAllowlist(bundle: PolicyBundle, matched: Record<string, unknown> | null, item: Omit<AllowlistItem, 'id'>): string {
  const mappings = bundle.mappings ?? [];
  const mapping = matched === null ? undefined
    : mappings.find((m) => m.id !== undefined && m.id === matched.id) ?? mappings.find((m) => JSON.stringify(m) === JSON.stringify(matched));
  if (!mapping) throw new Error('The active policy bundle maps no policy to this image: add a mapping first.');
  bundle.whitelists ??= [];
  let list = bundle.whitelists.find((w) => (mapping.whitelist_ids ?? []).includes(w.id));
  if (!list) {
    list = bundle.whitelists.find((w) => w.id === UI_ALLOWLIST_ID);
    if (!list) {
      list = { id: UI_ALLOWLIST_ID, name: 'Exceptions added in the web UI', version: '1_0', items: [] };
      bundle.whitelists.push(list);
    }
    mapping.whitelist_ids = [...(mapping.whitelist_ids ?? []), list.id];
  }
  const existing = list.items.find((i) => i.gate === item.gate && i.trigger_id === item.trigger_id);
  if (existing) {
    if (item.expires_on) existing.expires_on = item.expires_on;
    else delete existing.expires_on;
  } else {
    const used = new Set(list.items.map((i) => i.id));
    let n = list.items.length + 1;
    while (used.has(`ui-${n}`)) n++;
    list.items.push({ id: `ui-${n}`, ...item });
  }
  return list.id;
}

/** The active bundle of the account (with its content). */
export async function activeBundle(): Promise<PolicyRecord> {
  const records = await get<PolicyRecord[]>('/policies');
  const active = records.find((r) => r.active);
  if (!active) throw new Error('The account has no active policy bundle.');
  const [full] = await get<PolicyRecord[]>(`/policies/${encodeURIComponent(active.policyId)}`, { detail: true });
  if (!full) throw new Error(`Policy bundle ${active.policyId} not found.`);
  return full;
}

/** `expires` is a date (YYYY-MM-DD, end of that day UTC) or empty for no expiry. */
export async function allowlistFinding(digest: string, tag: string, vulnId: string, packageName: string, expires: string, before?: CheckResult): Promise<AllowlistOutcome> {
  const check = before ?? await checkImage(digest, tag);
  const triggerId = findingTriggerId(check, vulnId, packageName);
  const record = await activeBundle();
  const bundle = record.policybundle;
  const allowlistId = addToMappedAllowlist(bundle, check.mapping, {
    gate: 'vulnerabilities', trigger_id: triggerId, ...(expires ? { expires_on: `${expires}T23:59:59Z` } : {}),
  });
  await api('PUT', `/policies/${encodeURIComponent(record.policyId)}`, { policyId: record.policyId, active: true, policybundle: bundle });
  const after = await checkImage(digest, tag);
  return { before: check, after, policyId: record.policyId, allowlistId, triggerId };
}

/** A date `days` from today as YYYY-MM-DD. */
export function dateIn(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}
