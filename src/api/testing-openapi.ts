/**
 * Test helper: checks API responses against the Swagger 2.0 document Lading serves. The document's
 * definitions are turned into JSON Schema for ajv (Swagger's `x-nullable` becomes "or null";
 * `type: file` and the `path` format accept anything), a response is matched to its operation by
 * method and path (literal segments before parameters), and validated against the schema declared
 * for its status (or `default`). It also lists the fields a response carries that its schema does
 * not name, so that every field Lading adds is documented (openapi/lading-fields.ts).
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

type Json = Record<string, any>;

const orNull = (s: unknown) => ({ anyOf: [{ type: 'null' }, s] });

/**
 * Swagger 2.0 schema → JSON Schema (draft-07, as ajv reads it). Swagger 2.0 has no null: a field
 * marked `x-nullable`, or not listed in `required`, may be null, as Anchore Engine answered (Python's
 * None for an absent optional value) and as its generated clients read it. A required field must
 * be present and of its type.
 */
export function toJsonSchema(s: unknown): unknown {
  if (Array.isArray(s)) return s.map(toJsonSchema);
  if (!s || typeof s !== 'object') return s;
  const required = new Set(Array.isArray((s as Json).required) ? (s as Json).required as string[] : []);
  const out: Json = {};
  for (const [k, v] of Object.entries(s as Json)) {
    if (k.startsWith('x-') || k === 'example' || k === 'discriminator') continue;
    if (k === 'required' && !Array.isArray(v)) continue;
    if (k === '$ref') out.$ref = String(v).replace('#/definitions/', 'swagger#/definitions/');
    else if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as Json).map(([n, p]) => [n, required.has(n) ? toJsonSchema(p) : orNull(toJsonSchema(p))]));
    else if (k === 'definitions') out[k] = Object.fromEntries(Object.entries(v as Json).map(([n, p]) => [n, toJsonSchema(p)]));
    else out[k] = toJsonSchema(v);
  }
  if (out.type === 'file') delete out.type;
  return (s as Json)['x-nullable'] === true ? orNull(out) : out;
}

export interface ResponseCheck {
  operationId: string;
  /** The schema's complaints (empty: valid, or no schema declared for this status). */
  errors: string[];
  /** Whether a schema was declared and checked. */
  checked: boolean;
  /** Paths of fields the schema does not name (where it names fields at all). */
  undocumented: string[];
}

const segs = (p: string) => p.split('/').filter(Boolean);

export class ResponseValidator {
  private readonly ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly doc: Json) {
    addFormats.default(this.ajv);
    this.ajv.addFormat('path', true);
    this.ajv.addSchema({ definitions: toJsonSchema(doc.definitions) }, 'swagger');
  }

  /** The document path an actual path (under /v1, query left off) is answered by. */
  operationOf(method: string, actualPath: string): { path: string; op: Json } {
    const actual = segs(actualPath.replace(/^\/v1(?=\/|$)/, '').split('?')[0]!).map(decodeURIComponent);
    let best: { path: string; op: Json; score: number } | undefined;
    for (const [path, item] of Object.entries(this.doc.paths as Record<string, Json>)) {
      const op = item[method.toLowerCase()];
      const d = segs(path);
      if (!op || d.length !== actual.length || !d.every((s, i) => s.startsWith('{') || s === actual[i])) continue;
      const score = d.filter((s) => !s.startsWith('{')).length;
      if (!best || score > best.score) best = { path, op, score };
    }
    if (!best) throw new Error(`no operation in /swagger.json for ${method} ${actualPath}`);
    return best;
  }

  check(method: string, actualPath: string, status: number, body: unknown): ResponseCheck {
    const { path, op } = this.operationOf(method, actualPath);
    const declared = op.responses[String(status)] ?? op.responses.default;
    const schema = declared?.schema;
    const result: ResponseCheck = { operationId: op.operationId, errors: [], checked: false, undocumented: [] };
    if (!schema || (schema.type === 'file' && !schema.properties)) return result;
    const key = `${method} ${path} ${status}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(toJsonSchema(schema) as object);
      this.compiled.set(key, validate);
    }
    result.checked = true;
    if (!validate(body)) result.errors = (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
    this.undocumented(schema, body, '', result.undocumented);
    return result;
  }

  private resolve(schema: Json): Json {
    let s = schema;
    while (s?.$ref) s = this.doc.definitions[String(s.$ref).replace('#/definitions/', '')];
    return s ?? {};
  }

  private undocumented(schema: Json, value: unknown, at: string, out: string[]): void {
    const s = this.resolve(schema);
    if (Array.isArray(value)) {
      if (s.items) value.forEach((v) => this.undocumented(s.items, v, `${at}[]`, out));
      return;
    }
    if (!value || typeof value !== 'object') return;
    const parts = [s, ...((s.allOf ?? []) as Json[]).map((x) => this.resolve(x))];
    const props: Json = Object.assign({}, ...parts.map((p) => p.properties ?? {}));
    if (parts.some((p) => p.additionalProperties === true)) return; // extra fields expected
    const additional = parts.find((p) => p.additionalProperties && typeof p.additionalProperties === 'object')?.additionalProperties;
    if (!Object.keys(props).length && !additional) return; // a free-form object
    for (const [k, v] of Object.entries(value)) {
      const sub = props[k] ?? additional;
      if (sub) this.undocumented(sub, v, `${at}.${k}`, out);
      else if (!out.includes(`${at}.${k}`)) out.push(`${at}.${k}`);
    }
  }
}
