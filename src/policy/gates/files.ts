/** `files`: checks on the image's files: names, attributes, set-id bits and content-search matches. */
import { defineGate, defineTrigger, type ParamIssue } from '../gate.js';
import { param } from '../params.js';
import { pyRegex, regexProblem } from '../pyregex.js';
import { pyOct } from '../pyformat.js';
import { DataUnavailableError, fullMode } from '../subject.js';

const contentRegexMatch = defineTrigger({
  name: 'content_regex_match',
  description: 'Fires for each file where the analysis content search found a match, limited to one named content rule when regex_name is set.',
  state: 'active',
  params: {
    regex_name: param.str('regex_name', { description: 'The name of a content rule (analysis option --content-rule NAME=regex) to limit the check to.', example: 'PASSWORD' }),
  },
  evaluate(subject, p, ctx) {
    const seen = new Set<string>();
    const matches = [...subject.sbom.contentMatches].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.ruleId.localeCompare(b.ruleId)));
    for (const m of matches) {
      const key = `${m.path}\0${m.ruleId}`;
      if (seen.has(key)) continue;
      seen.add(key);
      // Anchore matched the rule's name or its whole `NAME=regex` text; Lading records the name.
      if (!p.regex_name || p.regex_name === m.ruleId || p.regex_name.startsWith(`${m.ruleId}=`)) {
        ctx.fire(`File content analyzer found regexp match in container: file=${m.path} regexp=${m.ruleId}`);
      }
    }
  },
});

const nameMatch = defineTrigger({
  name: 'name_match',
  description: 'Fires for each file whose full path matches the regex.',
  state: 'active',
  params: {
    regex: param.str('regex', { description: 'Regex applied to each full path (from its start).', example: '.*\\.pem', required: true }),
  },
  check(v): ParamIssue[] {
    const bad = v.regex !== undefined ? regexProblem(v.regex) : undefined;
    return bad ? [{ param: 'regex', severity: 'warn', message: `${bad}; the rule will fail when evaluated` }] : [];
  },
  evaluate(subject, p, ctx) {
    const re = pyRegex(p.regex);
    for (const f of subject.fileList()) {
      if (re.match(f.path)) ctx.fire(`Application of regex matched file found in container: file=${f.path} regexp=${p.regex}`);
    }
  },
});

const OCTAL = /^\s*(?:0o)?[0-7]+\s*$/i;

const attributeMatch = defineTrigger({
  name: 'attribute_match',
  description: 'Fires when the named file exists and its checksum and mode meet the given checks (or, with skip_missing=false, when it does not exist).',
  state: 'active',
  params: {
    filename: param.str('filename', { description: 'Full path of the file to check.', example: '/etc/passwd', required: true }),
    checksum_algorithm: param.oneOf('checksum_algorithm', ['sha256'] as const, { description: 'Algorithm of the checksum (sha256, the default).', example: 'sha256' }),
    checksum: param.str('checksum', { description: 'Checksum to compare the file\'s with.', example: '832cd0f75b227d13aac82b1f70b7f90191a4186c151f9db50851d209c45ede11' }),
    checksum_match: param.oneOf('checksum_match', ['equals', 'not_equals'] as const, { description: 'Fire when the checksums are equal, or when they differ.', example: 'equals' }),
    mode: param.str('mode', { description: 'File mode to compare with, in octal (e.g. 00644).', example: '00644' }),
    mode_op: param.oneOf('mode_op', ['equals', 'not_equals'] as const, { description: 'Fire when the modes are equal, or when they differ.', example: 'equals' }),
    skip_missing: param.bool('skip_missing', { description: 'When true (the default), a missing file does not fire; when false, a missing file fires regardless of the other checks.', example: 'true' }),
  },
  check(v): ParamIssue[] {
    return v.mode !== undefined && !OCTAL.test(v.mode)
      ? [{ param: 'mode', severity: 'warn', message: `mode ${JSON.stringify(v.mode)} is not an octal number such as "00644"; the rule will fail when evaluated` }]
      : [];
  },
  evaluate(subject, p, ctx) {
    const checksumOp = p.checksum_match ?? 'equals';
    const modeOp = p.mode_op ?? 'equals';
    const skipMissing = p.skip_missing ?? true;
    const file = subject.files().get(p.filename);
    const parts: string[] = [];
    if (file) {
      if (p.checksum) {
        const regular = file.type === 'file' || file.type === 'hardlink';
        if (regular && file.sha256 === undefined) {
          throw new DataUnavailableError(`the analysis has no file checksums; analyze with --file-digests to check ${p.filename}`);
        }
        const actual = regular ? file.sha256! : 'DIRECTORY_OR_OTHER';
        if ((checksumOp === 'equals') !== (actual === p.checksum)) return;
        parts.push(`checksum=${actual} op=${checksumOp} specified_checksum=${p.checksum}`);
      }
      if (p.mode) {
        if (!OCTAL.test(p.mode)) throw new Error(`mode ${JSON.stringify(p.mode)} is not an octal number`);
        const actual = pyOct(file.mode & 0o7777);
        const wanted = pyOct(Number.parseInt(p.mode.trim().replace(/^0o/i, ''), 8));
        if ((modeOp === 'equals') !== (actual === wanted)) return;
        parts.push(`mode=${actual} op=${modeOp} specified_mode=${wanted}`);
      }
    } else {
      if (skipMissing) return;
      parts.push('skip_missing=False');
    }
    if (parts.length) ctx.fire(`filename=${p.filename}${parts.map((x) => ` and ${x}`).join('')}`);
  },
});

const suidOrGuidSet = defineTrigger({
  name: 'suid_or_guid_set',
  description: 'Fires for each file or directory with the setuid or setgid bit set.',
  state: 'active',
  params: {},
  evaluate(subject, _p, ctx) {
    for (const f of subject.fileList()) {
      if (f.mode & 0o6000) ctx.fire(`SUID or SGID found set on file ${f.path}. Mode: ${pyOct(fullMode(f))}`);
    }
  },
});

export const filesGate = defineGate({
  name: 'files',
  description: 'Checks on the files of the image: names, attributes, set-id bits and content-search matches.',
  state: 'active',
  triggers: { content_regex_match: contentRegexMatch, name_match: nameMatch, attribute_match: attributeMatch, suid_or_guid_set: suidOrGuidSet },
});
