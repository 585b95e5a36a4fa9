/**
 * Secrets in file contents (default rule set in secrets/rules.ts), and content matches for
 * user-supplied `NAME=regex` rules. Binary files are skipped; findings are redacted.
 */
import type { Analyzer, AnalyzerContext, FileWants } from '../types.js';
import { DEFAULT_SECRET_RULES, parseUserRule, type SecretRule } from '../secrets/rules.js';
import { looksBinary, scanText } from '../secrets/scan.js';
import { createHash } from 'node:crypto';

/** A short fingerprint of an analyzer's options (its layer cache key part). */
function fingerprint(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value, (_k, v: unknown) => (v instanceof RegExp ? v.toString() : v))).digest('hex').slice(0, 16);
}

/** Trees that hold no user data worth the time: documentation, locales, kernel interfaces. */
const SKIP_PREFIXES = ['/proc/', '/sys/', '/dev/', '/usr/share/doc/', '/usr/share/man/', '/usr/share/locale/', '/usr/share/i18n/',
  '/usr/share/zoneinfo/', '/usr/share/info/', '/usr/share/perl/', '/usr/share/perl5/', '/usr/lib/locale/', '/var/lib/dpkg/', '/var/lib/rpm/',
  '/usr/share/mime/', '/usr/share/common-licenses/', '/usr/lib/python3/dist-packages/pip/'];
const SKIP_SUFFIXES = ['.so', '.a', '.o', '.pyc', '.class', '.jar', '.png', '.jpg', '.gif', '.gz', '.xz', '.zst', '.zip', '.mo', '.ttf', '.woff', '.woff2'];

export interface SecretsOptions {
  rules?: SecretRule[];
  /** Files larger than this are not scanned (bytes). */
  maxFileBytes?: number;
}

function scanWants(maxBytes: number): FileWants {
  return {
    match: (p) => !SKIP_PREFIXES.some((s) => p.startsWith(s)) && !SKIP_SUFFIXES.some((s) => p.endsWith(s)) && !p.includes('/node_modules/'),
    maxBytes,
    // Binaries are judged by their first bytes as the layer streams by, and never copied out.
    text: true,
  };
}

async function scanFiles(ctx: AnalyzerContext, rules: SecretRule[], redact: boolean) {
  const out: { ruleId: string; description: string; path: string; line: number; match: string; layer: number }[] = [];
  for (const f of ctx.files) {
    const buf = await f.read();
    if (looksBinary(buf)) continue;
    for (const m of scanText(buf.toString('utf8'), rules, redact)) out.push({ ...m, path: f.path, layer: f.entry.layer });
  }
  return out;
}

export function secretsAnalyzer(options: SecretsOptions = {}): Analyzer {
  const rules = options.rules ?? DEFAULT_SECRET_RULES;
  return {
    name: 'secrets',
    perFile: true,
    config: fingerprint([rules, options.maxFileBytes ?? 1024 * 1024]),
    wants: scanWants(options.maxFileBytes ?? 1024 * 1024),
    async analyze(ctx) {
      return { secrets: await scanFiles(ctx, rules, true) };
    },
  };
}

/** Anchore's content search: user rules `NAME=regex`; matches are reported unredacted. */
export function contentSearchAnalyzer(specs: string[], maxFileBytes = 1024 * 1024): Analyzer {
  const rules = specs.map(parseUserRule);
  return {
    name: 'content-search',
    perFile: true,
    config: fingerprint([specs, maxFileBytes]),
    wants: scanWants(maxFileBytes),
    async analyze(ctx) {
      const found = await scanFiles(ctx, rules, false);
      return { contentMatches: found.map(({ ruleId, path, line, match }) => ({ ruleId, path, line, match })) };
    },
  };
}

export const DEFAULT_RETRIEVED_FILES = ['/etc/passwd', '/etc/group', '/etc/services', '/etc/sudoers'];

/** Files kept verbatim for the policy step (passwd_file and retrieved_files gates). */
export function retrievedFilesAnalyzer(paths: string[] = DEFAULT_RETRIEVED_FILES, maxFileBytes = 1024 * 1024): Analyzer {
  return {
    name: 'retrieved-files',
    config: fingerprint([paths, maxFileBytes]),
    wants: { paths, maxBytes: maxFileBytes },
    async analyze(ctx) {
      const out = [];
      for (const f of ctx.files) {
        const buf = await f.read();
        out.push({ path: f.path, contentBase64: buf.toString('base64'), size: buf.length });
      }
      return { retrievedFiles: out };
    },
  };
}
