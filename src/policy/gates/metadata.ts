/** `metadata`: checks on image attributes: size, architecture, OS, distribution, layer count. */
import { defineGate, defineTrigger, type ParamIssue } from '../gate.js';
import { param } from '../params.js';
import { pyRegex } from '../pyregex.js';
import type { Subject } from '../subject.js';

const BYTES = /^([0-9]+)([kmgt]b)?$/;
const UNITS: Record<string, number> = { kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };

/** `1073741824`, `1gb` → bytes. */
export function bytesOf(text: string): number {
  const m = BYTES.exec(text.toLowerCase());
  if (!m) throw new Error(`invalid size ${JSON.stringify(text)}: expected a number of bytes, optionally with kb, mb, gb or tb`);
  return Number.parseInt(m[1]!, 10) * (m[2] ? UNITS[m[2]]! : 1);
}

/**
 * Size of the squashed filesystem written as a tar (512-byte headers, content padded to 512, the
 * closing blocks, the archive padded to 10 KiB records): what Anchore measured as the image size.
 */
export function squashedSize(subject: Subject): number {
  let n = 1024;
  for (const f of subject.sbom.files) n += 512 + (f.type === 'file' ? Math.ceil(f.size / 512) * 512 : 0);
  return Math.ceil(n / 10240) * 10240;
}

const ATTRIBUTES = {
  size: { value: (s: Subject) => squashedSize(s), numeric: true },
  architecture: { value: (s: Subject) => s.sbom.source.platform.architecture, numeric: false },
  os_type: { value: (s: Subject) => s.sbom.source.platform.os, numeric: false },
  distro: { value: (s: Subject) => s.sbom.distro?.id ?? 'Unknown', numeric: false },
  distro_version: { value: (s: Subject) => s.sbom.distro?.versionId ?? '0', numeric: false },
  like_distro: { value: (s: Subject) => (s.sbom.distro ? s.sbom.distro.idLike.join(',') || s.sbom.distro.id : 'Unknown'), numeric: false },
  layer_count: { value: (s: Subject) => s.sbom.source.layers.length, numeric: true },
} as const satisfies Record<string, { value: (s: Subject) => string | number; numeric: boolean }>;
type Attribute = keyof typeof ATTRIBUTES;

const CHECKS = ['=', '!=', '>', '<', '>=', '<=', 'exists', 'not_exists', 'like', 'not_like', 'in', 'not_in'] as const;
type Check = (typeof CHECKS)[number];
const NO_VALUE = new Set<Check>(['exists', 'not_exists']);
const inList = (x: string | number, y: string) => y.split(',').map((z) => z.trim()).includes(String(x));

const OPS: Record<Check, (x: string | number, y: string | number) => boolean> = {
  '=': (x, y) => x === y,
  '!=': (x, y) => x !== y,
  '>': (x, y) => x > y,
  '<': (x, y) => x < y,
  '>=': (x, y) => x >= y,
  '<=': (x, y) => x <= y,
  exists: (x) => !!x,
  not_exists: (x) => !x,
  like: (x, y) => pyRegex(String(y)).match(String(x)),
  not_like: (x, y) => !pyRegex(String(y)).match(String(x)),
  in: (x, y) => inList(x, String(y)),
  not_in: (x, y) => !inList(x, String(y)),
};

function valueProblem(attribute: string | undefined, value: string): string | undefined {
  if (attribute === 'size' && !BYTES.test(value)) return `for attribute size, expected a number of bytes such as "1073741824" or "1gb", got ${JSON.stringify(value)}`;
  if (attribute === 'layer_count' && !/^\s*\d+\s*$/.test(value)) return `for attribute layer_count, expected a whole number, got ${JSON.stringify(value)}`;
  return undefined;
}

const attribute = defineTrigger({
  name: 'attribute',
  description: 'Fires when the image attribute meets the check.',
  state: 'active',
  params: {
    attribute: param.oneOf('attribute', Object.keys(ATTRIBUTES) as Attribute[], { description: 'The attribute to check. size is the squashed filesystem in bytes.', example: 'size', required: true }),
    check: param.oneOf('check', CHECKS, { description: 'How to compare the attribute with value.', example: '>', required: true }),
    value: param.linked('value', { description: 'The value to compare with (for size, bytes or a number with kb, mb, gb or tb).', example: '1073741824' }, {
      anyOf: [{ type: 'string' }, { type: 'string', pattern: '^\\s*[\\d]+\\s*$' }, { type: 'string', pattern: BYTES.source }],
    }),
  },
  check(v): ParamIssue[] {
    const issues: ParamIssue[] = [];
    const bad = v.value !== undefined ? valueProblem(v.attribute, v.value) : undefined;
    if (bad) issues.push({ param: 'value', severity: 'error', message: bad });
    if (v.check && !NO_VALUE.has(v.check as Check) && !v.value) {
      issues.push({ param: 'value', severity: 'warn', message: `check "${v.check}" compares with a value but none is given: this rule never fires` });
    }
    return issues;
  },
  evaluate(subject, p, ctx) {
    const op = OPS[p.check];
    if (!NO_VALUE.has(p.check) && !p.value) return;
    const spec = ATTRIBUTES[p.attribute];
    const actual = spec.value(subject);
    let wanted: string | number | undefined = p.value;
    if (wanted !== undefined && spec.numeric) {
      if (p.attribute === 'size') wanted = bytesOf(wanted);
      else {
        if (!/^\s*[+-]?\d+\s*$/.test(wanted)) throw new Error(`${JSON.stringify(wanted)} is not a whole number`);
        wanted = Number.parseInt(wanted, 10);
      }
    }
    if (op(actual, wanted ?? '')) {
      ctx.fire(`Attribute check for attribute: '${p.attribute}' check: '${p.check}' check_value: '${wanted !== undefined ? String(wanted) : ''}' matched image value: '${actual}'`);
    }
  },
});

export const metadataGate = defineGate({
  name: 'metadata',
  description: 'Checks on image attributes: size, architecture, OS, distribution and layer count.',
  state: 'active',
  triggers: { attribute },
});
