/**
 * `lading evaluate check IMAGE [--tag --policy --detail --show-history]`: the service's policy
 * verdict on an analyzed image (`GET /images/{digest}/check`). Exit 0 pass, 1 fail, 2 error.
 */
import type { Command } from 'commander';
import { addConnectionOptions } from './connection.js';
import { ServiceError, seg } from './http.js';
import { getImage, resolveImage } from './images.js';
import { block, sortedTable, withService } from './output.js';
import type { CheckEntry, CheckResponse } from './shapes.js';

function rowsOf(entry: CheckEntry): unknown[][] {
  const result = entry.detail?.result;
  if (!result) return [];
  const doc = result.result[result.image_id] as { result?: { rows?: unknown[][] } } | undefined;
  return doc?.result?.rows ?? [];
}

/** The Whitelisted column: false, or the allowlist that matched. */
function statusOf(row: unknown[]): unknown {
  const allow = row[7] as { whitelist_name?: string; whitelist_id?: string } | false | undefined;
  return allow ? `whitelisted(${allow.whitelist_name || allow.whitelist_id})` : row[6];
}

export function checkText(response: CheckResponse, detail: boolean): string {
  let out = '';
  for (const record of response) {
    for (const [digest, byTag] of Object.entries(record)) {
      for (const [tag, entries] of Object.entries(byTag)) {
        if (!entries.length) {
          out += block([['Image Digest', digest], ['Full Tag', tag], ['Status', 'no_eval_available']]);
          continue;
        }
        for (const e of entries) {
          const result = detail ? e.detail?.result : undefined;
          const pairs: [string, unknown][] = [['Image Digest', digest], ['Full Tag', tag]];
          if (result) pairs.push(['Image ID', result.image_id]);
          pairs.push(['Status', e.status], ['Last Eval', e.last_evaluation], ['Policy ID', e.policyId]);
          if (result) pairs.push(['Final Action', result.final_action], ['Final Action Reason', result.final_action_reason]);
          out += block(pairs);
          if (result) {
            const rows = rowsOf(e).map((r) => [r[3], r[4], r[5], statusOf(r)]);
            out += `${sortedTable(['Gate', 'Trigger', 'Detail', 'Status'], rows)}\n`;
          }
        }
      }
    }
  }
  return out;
}

/** 0 pass, 1 fail, 2 anything else (as anchore-cli's get_eval_ecode). */
function exitCodeOf(response: CheckResponse): 0 | 1 | 2 {
  const entry = Object.values(Object.values(response[0] ?? {})[0] ?? {})[0]?.[0];
  const status = entry?.status?.toLowerCase();
  return status === 'pass' ? 0 : status === 'fail' ? 1 : 2;
}

export function addServiceCheckCommand(evaluate: Command): void {
  addConnectionOptions(evaluate.command('check').argument('<image>', 'tag, digest or image id of an analyzed image in the service'))
    .description('the service\'s policy verdict on an image: exit 0 pass, 1 fail, 2 error')
    .option('--tag <registry/repo:tag>', 'the tag mappings are matched against (default: the tag given, else the image\'s first tag)')
    .option('--policy <id>', 'policy bundle id (default: the active bundle)')
    .option('--detail', 'show every trigger that fired')
    .option('--show-history', 'every stored evaluation, not only the latest')
    .option('--advise', 'for a failing image, the package upgrades that make it pass and what they do not fix')
    .action(async (input: string, o: { tag?: string; policy?: string; detail?: boolean; showHistory?: boolean; advise?: boolean }, cmd: Command) => {
      await withService(cmd, async (svc) => {
        const { digest, tag: given } = await resolveImage(svc.client, input);
        const tag = o.tag ?? given ?? (await getImage(svc.client, digest)).image_detail[0]?.fulltag;
        if (!tag) throw new ServiceError(2, 'BAD_INPUT', `image ${input} has no tag: give one with --tag`);
        const r = await svc.client.get<CheckResponse>(`/images/${seg(digest)}/check`, {
          tag,
          detail: o.detail === true,
          history: o.showHistory === true,
          ...(o.advise ? { advise: true } : {}),
          ...(o.policy ? { policyId: o.policy } : {}),
        });
        const advice = Object.values(Object.values(r[0] ?? {})[0] ?? {})[0]?.find((e) => e.advice)?.advice;
        const { adviceText } = await import('../commands/advice-view.js');
        svc.print(r, () => checkText(r, o.detail === true) + (advice ? adviceText(advice) : ''));
        process.exitCode = exitCodeOf(r);
      }, { errorExit: 2 });
    });
}
