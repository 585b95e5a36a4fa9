/**
 * Validation of SBOM documents against the official JSON schemas in ./schemas/ (CycloneDX 1.6 with
 * its SPDX-id and JSF helper schemas; SPDX 2.3), and of scan reports against SARIF 2.1.0. Each
 * check returns a list of error strings, empty when the document is valid.
 */
import { Ajv, type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { LadingError } from '../errors.js';
import { loadSchema } from './schema-files.js';
// Type-only imports: they also make `tsc` copy the schema files to dist/sbom/schemas/, where
// loadSchema() reads them at run time (lazily, so importing this module costs nothing).
import type {} from './schemas/cyclonedx-spdx.schema.json';
import type {} from './schemas/cyclonedx-bom-1.6.schema.json';
import type {} from './schemas/cyclonedx-jsf-0.82.schema.json';
import type {} from './schemas/spdx-2.3.schema.json';
import type {} from './schemas/sarif-2.1.0.schema.json';

export { cycloneDxLicenseIds, loadSchema, type SchemaFile } from './schema-files.js';

/** The JSON Schema dialect decides the validator class. */
const dialects: { match: RegExp; make: () => Ajv }[] = [
  { match: /draft\/2020-12/, make: () => new Ajv2020(options) },
  { match: /draft\/2019-09/, make: () => new Ajv2019(options) },
  { match: /draft-0[67]/, make: () => new Ajv(options) },
];
const options = { strict: false, allErrors: true, validateFormats: true } as const;

function validatorFor(main: AnySchemaObject, helpers: { id: string; schema: AnySchemaObject }[]): ValidateFunction {
  const dialect = String(main.$schema ?? '');
  const make = dialects.find((d) => d.match.test(dialect))?.make;
  if (!make) throw new LadingError('INTERNAL', `unsupported JSON Schema dialect ${dialect || '(none)'}`);
  const ajv = make();
  addFormats.default(ajv);
  // Formats the CycloneDX schema uses that ajv-formats lacks.
  ajv.addFormat('iri-reference', /^\S*$/u);
  ajv.addFormat('idn-email', /^[^\s@]+@[^\s@]+$/u);
  for (const h of helpers) ajv.addSchema(h.schema, h.id);
  return ajv.compile(main);
}

let cycloneDx: ValidateFunction | undefined;
let spdx: ValidateFunction | undefined;

function describe(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const where = e.instancePath || '/';
    const params = Object.entries(e.params as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && typeof v !== 'object')
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(', ');
    return `${where} ${e.message ?? 'is invalid'}${params ? ` (${params})` : ''}`;
  });
}

/** Errors of a CycloneDX 1.6 JSON document; empty when valid. */
export function validateCycloneDx(doc: unknown): string[] {
  cycloneDx ??= validatorFor(loadSchema('cyclonedx-bom-1.6.schema.json'), [
    { id: 'spdx.schema.json', schema: loadSchema('cyclonedx-spdx.schema.json') },
    { id: 'jsf-0.82.schema.json', schema: loadSchema('cyclonedx-jsf-0.82.schema.json') },
  ]);
  return cycloneDx(doc) ? [] : describe(cycloneDx.errors);
}

/** Errors of an SPDX 2.3 JSON document; empty when valid. */
export function validateSpdx(doc: unknown): string[] {
  spdx ??= validatorFor(loadSchema('spdx-2.3.schema.json'), []);
  return spdx(doc) ? [] : describe(spdx.errors);
}

let sarif: ValidateFunction | undefined;

/**
 * The SARIF schema is written in JSON Schema draft-04, which ajv 8 no longer ships. Its only
 * draft-04-specific keyword is the root `id` (no boolean exclusiveMinimum/Maximum anywhere), so it
 * is read as draft-07 with `id` renamed `$id`: the same constraints, checked by the same validator.
 */
function draft04AsDraft07(schema: AnySchemaObject): AnySchemaObject {
  const { id, ...rest } = schema as AnySchemaObject & { id?: string };
  return { ...rest, $schema: 'http://json-schema.org/draft-07/schema#', ...(id ? { $id: id } : {}) };
}

/** Errors of a SARIF 2.1.0 log; empty when valid. */
export function validateSarif(doc: unknown): string[] {
  sarif ??= validatorFor(draft04AsDraft07(loadSchema('sarif-2.1.0.schema.json')), []);
  return sarif(doc) ? [] : describe(sarif.errors);
}
