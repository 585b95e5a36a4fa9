/** `secret_scans`: secrets the analysis found in file contents (or their absence). */
import { defineGate, defineTrigger, type ParamIssue } from '../gate.js';
import { param } from '../params.js';
import { pyRegex, regexProblem } from '../pyregex.js';
import { DEFAULT_SECRET_RULES } from '../../analyze/secrets/rules.js';

/**
 * Anchore's default secret_search rules, by name. Messages quote a rule as `NAME=regex`; for these
 * five the regex Anchore was configured with is quoted, so message-derived trigger ids match.
 */
const ANCHORE_RULES: Record<string, string> = {
  AWS_ACCESS_KEY: '(?i).*aws_access_key_id( *=+ *).*(?<![A-Z0-9])[A-Z0-9]{20}(?![A-Z0-9]).*',
  AWS_SECRET_KEY: '(?i).*aws_secret_access_key( *=+ *).*(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=]).*',
  PRIV_KEY: '(?i)-+BEGIN(.*)PRIVATE KEY-+',
  DOCKER_AUTH: '(?i).*"auth": *".+"',
  API_KEY: '(?i).*api(-|_)key( *=+ *).*(?<![A-Z0-9])[A-Z0-9]{20,60}(?![A-Z0-9]).*',
};

export const DEFAULT_RULE_NAMES = Object.keys(ANCHORE_RULES);

/** The rule as `NAME=regex` where its regex is known, else its name. */
export function ruleText(ruleId: string): string {
  const regex = ANCHORE_RULES[ruleId] ?? DEFAULT_SECRET_RULES.find((r) => r.id === ruleId)?.regex.source;
  return regex !== undefined ? `${ruleId}=${regex}` : ruleId;
}

const contentRegexChecks = defineTrigger({
  name: 'content_regex_checks',
  description: 'Fires for each file where the secret search found a match (match_type=found, the default), or once when it found none (match_type=notfound); limited by content_regex_name and filename_regex when set.',
  state: 'active',
  params: {
    content_regex_name: param.str('content_regex_name', { description: `Only matches of this secret rule. Rules kept from Anchore: ${DEFAULT_RULE_NAMES.join(', ')}; Lading adds ${DEFAULT_SECRET_RULES.filter((r) => !ANCHORE_RULES[r.id]).map((r) => r.id).join(', ')}.`, example: 'AWS_ACCESS_KEY' }),
    filename_regex: param.str('filename_regex', { description: 'Only files whose path matches this regex.', example: '/etc/.*' }),
    match_type: param.oneOf('match_type', ['notfound', 'found'] as const, { description: 'Fire when a match is found (default) or when none is.', example: 'found' }),
  },
  check(v): ParamIssue[] {
    const bad = v.filename_regex ? regexProblem(v.filename_regex) : undefined;
    return bad ? [{ param: 'filename_regex', severity: 'warn', message: `${bad}; the rule will fail when evaluated` }] : [];
  },
  evaluate(subject, p, ctx) {
    const nameFilter = p.filename_regex ? pyRegex(p.filename_regex) : undefined;
    const matchType = p.match_type ?? 'found';
    const seen = new Set<string>();
    let any = false;
    const findings = [...subject.sbom.secrets].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.ruleId.localeCompare(b.ruleId)));
    for (const s of findings) {
      if (nameFilter && !nameFilter.match(s.path)) continue;
      const key = `${s.path}\0${s.ruleId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const text = ruleText(s.ruleId);
      const regex = text.slice(s.ruleId.length + 1);
      // Anchore tested whether the rule's name or regex occurs in the parameter.
      const selected = !p.content_regex_name || p.content_regex_name.includes(s.ruleId) || (regex !== '' && p.content_regex_name.includes(regex));
      if (!selected) continue;
      any = true;
      if (matchType === 'found') ctx.fire(`Secret content search analyzer found regexp match in container: file=${s.path} regexp=${text}`);
    }
    if (!any && matchType === 'notfound') {
      ctx.fire(`Secret content search analyzer did not find regexp match in container: filename_regex=${p.filename_regex || '*'} content_regex_name=${p.content_regex_name || 'all'}`);
    }
  },
});

export const secretScansGate = defineGate({
  name: 'secret_scans',
  description: 'Checks on secrets found in file contents by the analysis secret search.',
  state: 'active',
  triggers: { content_regex_checks: contentRegexChecks },
});
