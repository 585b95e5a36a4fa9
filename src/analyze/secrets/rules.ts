/**
 * The default secret rules (documented in docs/analysis.md). The first five keep Anchore Engine's
 * names so existing `secret_scans` policy rules (content_regex_name) keep matching.
 * `secret` is the capture group holding the sensitive part, which is redacted in findings.
 */
export interface SecretRule {
  id: string;
  description: string;
  regex: RegExp;
  /** Index of the capture group to redact (0 = the whole match; -1 = nothing secret in the match). */
  secret: number;
  /** Cheap pre-filter: a line must contain one of these (case-insensitive) before the regex runs. */
  keywords?: string[];
}

export const DEFAULT_SECRET_RULES: SecretRule[] = [
  { id: 'AWS_ACCESS_KEY', description: 'AWS access key id', secret: 0,
    regex: /(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}(?![A-Z0-9])/, keywords: ['akia', 'asia', 'abia', 'acca', 'a3t'] },
  { id: 'AWS_SECRET_KEY', description: 'AWS secret access key', secret: 1,
    regex: /aws_?secret_?(?:access_?)?key["']?\s*[:=]+\s*["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/i, keywords: ['secret'] },
  { id: 'PRIV_KEY', description: 'private key block', secret: -1,
    regex: /-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----/, keywords: ['private key'] },
  { id: 'DOCKER_AUTH', description: 'docker registry credentials (config.json "auth")', secret: 1,
    regex: /"auth"\s*:\s*"([A-Za-z0-9+/=]{4,})"/, keywords: ['"auth"'] },
  { id: 'API_KEY', description: 'API key assignment', secret: 1,
    regex: /api[-_]?key["']?\s*[:=]+\s*["']?((?<![A-Za-z0-9])[A-Za-z0-9_-]{20,64}(?![A-Za-z0-9]))/i, keywords: ['api'] },
  { id: 'GITHUB_TOKEN', description: 'GitHub token', secret: 0,
    regex: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{82})\b/, keywords: ['gh', 'github_pat_'] },
  { id: 'GITLAB_TOKEN', description: 'GitLab personal access token', secret: 0,
    regex: /\bglpat-[A-Za-z0-9_-]{20}\b/, keywords: ['glpat-'] },
  { id: 'SLACK_TOKEN', description: 'Slack token', secret: 0,
    regex: /\bxox[abposr]-[A-Za-z0-9-]{10,72}\b/, keywords: ['xox'] },
  { id: 'SLACK_WEBHOOK', description: 'Slack incoming webhook URL', secret: 0,
    regex: /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]{20,}/, keywords: ['hooks.slack.com'] },
  { id: 'GOOGLE_API_KEY', description: 'Google API key', secret: 0,
    regex: /\bAIza[0-9A-Za-z_-]{35}\b/, keywords: ['aiza'] },
  { id: 'GCP_SERVICE_ACCOUNT', description: 'Google Cloud service account key file', secret: -1,
    regex: /"type"\s*:\s*"service_account"/, keywords: ['service_account'] },
  { id: 'STRIPE_KEY', description: 'Stripe secret or restricted key', secret: 0,
    regex: /\b[sr]k_live_[0-9a-zA-Z]{24,99}\b/, keywords: ['k_live_'] },
  { id: 'NPM_TOKEN', description: 'npm access token', secret: 0,
    regex: /\bnpm_[A-Za-z0-9]{36}\b/, keywords: ['npm_'] },
  { id: 'URL_PASSWORD', description: 'password in a URL', secret: 1,
    regex: /\b[a-z][a-z0-9+.-]{1,20}:\/\/[^\s/:@'"]{1,64}:([^\s/@'"]{3,128})@[^\s/'"]+/i, keywords: ['://'] },
  { id: 'PASSWORD_ASSIGNMENT', description: 'password assignment', secret: 1,
    regex: /\b(?:password|passwd|pwd|secret|db_pass)["']?\s*[:=]\s*["']([^"'\s$%{}<>]{6,128})["']/i, keywords: ['pass', 'pwd', 'secret'] },
];

/** Parse a user rule `NAME=regex` (Anchore's form); an `(?i)` prefix sets the i flag. */
export function parseUserRule(spec: string): SecretRule {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new Error(`content rule "${spec}" must look like NAME=regex`);
  const id = spec.slice(0, eq);
  let source = spec.slice(eq + 1);
  let flags = '';
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    flags = 'i';
  }
  try {
    return { id, description: `user rule ${id}`, regex: new RegExp(source, flags), secret: 0 };
  } catch (e) {
    throw new Error(`content rule ${id}: invalid regex (${(e as Error).message})`, { cause: e });
  }
}
