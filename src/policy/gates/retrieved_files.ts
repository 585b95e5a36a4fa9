/** `retrieved_files`: checks on files kept verbatim at analysis (see `lading sbom --retrieve-file`). */
import { defineGate, defineTrigger, type ParamIssue } from '../gate.js';
import { param } from '../params.js';
import { pyRegex, regexProblem } from '../pyregex.js';
import { DataUnavailableError } from '../subject.js';

const path = param.str('path', { description: 'Full path of the retrieved file.', example: '/etc/httpd.conf', required: true });

const contentNotAvailable = defineTrigger({
  name: 'content_not_available',
  description: 'Fires when the file was not retrieved at analysis (absent from the image, or not asked for).',
  state: 'active',
  params: { path },
  msg: 'Cannot locate file in the image analysis',
  evaluate(subject, p, ctx) {
    if (!subject.retrievedFile(p.path)) ctx.fire();
  },
});

const contentRegex = defineTrigger({
  name: 'content_regex',
  description: 'Fires when the regex matches (check=match) or matches nothing (check=no_match) in the retrieved file, tested against each whitespace-separated word from its start.',
  state: 'active',
  params: {
    path,
    regex: param.str('regex', { description: 'The regex to test against each word of the file.', example: '.*SSlEnabled.*', required: true }),
    check: param.oneOf('check', ['match', 'no_match'] as const, { description: 'Fire on a match, or on no match.', example: 'match', required: true }),
  },
  check(v): ParamIssue[] {
    const bad = v.regex !== undefined ? regexProblem(v.regex) : undefined;
    return bad ? [{ param: 'regex', severity: 'warn', message: `${bad}; the rule will fail when evaluated` }] : [];
  },
  evaluate(subject, p, ctx) {
    const re = pyRegex(p.regex);
    const file = subject.retrievedFile(p.path);
    if (!file) {
      const inImage = subject.files().get(p.path);
      if (inImage && (inImage.type === 'file' || inImage.type === 'hardlink')) {
        throw new DataUnavailableError(`${p.path} is in the image but its content was not retrieved at analysis; analyze with --retrieve-file ${p.path}`);
      }
      return;
    }
    const words = subject.retrievedText(file).split(/\s+/).filter(Boolean);
    const found = words.some((w) => re.match(w));
    if (found === (p.check === 'match')) {
      ctx.fire(`Content regex '${p.regex}' check '${p.check}' found in retrieved file '${p.path}'`, `${ctx.ruleId ?? 'None'}+file://${p.path}`);
    }
  },
});

export const retrievedFilesGate = defineGate({
  name: 'retrieved_files',
  description: 'Checks on the presence and content of files retrieved at analysis.',
  state: 'active',
  triggers: { content_not_available: contentNotAvailable, content_regex: contentRegex },
});
