/**
 * `template`: a report from the user's own template, in the small subset of Go's text/template
 * that trivy's and grype's templates mostly use: `{{range .}}…{{end}}` repeats its body for each
 * finding, and inside it `{{.Field}}` is that finding's field (rows.ts: Package, Version,
 * Vulnerability, Severity, FixedIn...; case does not matter). Nothing is evaluated, so a template
 * can only substitute text. Anything else between braces is an error that names it.
 */
import { LadingError } from '../../errors.js';
import type { ScanResult } from '../model.js';
import { findingRows, ROW_FIELDS, type Row, type RowField } from './rows.js';

export const templateMediaType = 'text/plain; charset=utf-8';

type Part = { text: string } | { field: RowField } | { range: Part[] };

const FIELDS = new Map(ROW_FIELDS.map((f) => [f.toLowerCase(), f]));

function actionOf(inner: string, where: string): 'range' | 'end' | RowField {
  if (/^range\s+\.$/.test(inner)) return 'range';
  if (inner === 'end') return 'end';
  const m = /^\.([A-Za-z]+)$/.exec(inner);
  const field = m ? FIELDS.get(m[1]!.toLowerCase()) : undefined;
  if (field) return field;
  if (m) throw new LadingError('BAD_INPUT', `${where}: unknown field {{${inner}}}; a finding has ${ROW_FIELDS.map((f) => `.${f}`).join(', ')}`);
  throw new LadingError('BAD_INPUT', `${where}: {{${inner}}} is not supported; a template has {{range .}}…{{end}} and {{.Field}} only`);
}

/** Parses a template; errors name the line of the problem. */
export function parseTemplate(text: string, name = 'template'): Part[] {
  const stack: Part[][] = [[]];
  const re = /\{\{-?\s*(.*?)\s*-?\}\}/gs;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const top = stack[stack.length - 1]!;
    if (m.index > last) top.push({ text: text.slice(last, m.index) });
    last = m.index + m[0].length;
    const where = `${name} line ${text.slice(0, m.index).split('\n').length}`;
    const action = actionOf(m[1]!, where);
    if (action === 'range') {
      if (stack.length > 1) throw new LadingError('BAD_INPUT', `${where}: {{range .}} cannot be nested`);
      const body: Part[] = [];
      top.push({ range: body });
      stack.push(body);
    } else if (action === 'end') {
      if (stack.length === 1) throw new LadingError('BAD_INPUT', `${where}: {{end}} without {{range .}}`);
      stack.pop();
    } else {
      if (stack.length === 1) throw new LadingError('BAD_INPUT', `${where}: {{.${action}}} is a field of a finding: put it inside {{range .}}…{{end}}`);
      top.push({ field: action });
    }
  }
  if (stack.length > 1) throw new LadingError('BAD_INPUT', `${name}: {{range .}} has no {{end}}`);
  if (last < text.length) stack[0]!.push({ text: text.slice(last) });
  return stack[0]!;
}

function render(parts: Part[], rows: Row[], row?: Row): string {
  return parts.map((p) => {
    if ('text' in p) return p.text;
    if ('field' in p) return row?.[p.field] ?? '';
    return rows.map((r) => render(p.range, rows, r)).join('');
  }).join('');
}

export function writeScanTemplate(result: ScanResult, template: string, name?: string): string {
  return render(parseTemplate(template, name), findingRows(result));
}
