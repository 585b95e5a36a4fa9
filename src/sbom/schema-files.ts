/**
 * The official JSON schemas in ./schemas/, read lazily, and the CycloneDX licence-id list taken
 * from one of them: apart from validate.ts so that writing an SBOM does not load the validator (ajv).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { AnySchemaObject } from 'ajv';
import { LadingError } from '../errors.js';
import type CycloneDxSpdxIds from './schemas/cyclonedx-spdx.schema.json';

export type SchemaFile =
  | 'cyclonedx-bom-1.6.schema.json'
  | 'cyclonedx-spdx.schema.json'
  | 'cyclonedx-jsf-0.82.schema.json'
  | 'spdx-2.3.schema.json'
  | 'sarif-2.1.0.schema.json';

export function loadSchema(file: SchemaFile): AnySchemaObject {
  // Beside this module (src/sbom/, dist/sbom/), or seen from the bundled command in dist/bin/.
  const urls = [new URL(`./schemas/${file}`, import.meta.url), new URL(`../sbom/schemas/${file}`, import.meta.url)];
  const url = urls.find((u) => existsSync(u)) ?? urls[0]!;
  try {
    return JSON.parse(readFileSync(url, 'utf8')) as AnySchemaObject;
  } catch (e) {
    throw new LadingError('INTERNAL', `cannot load the schema ${file} from ${url.pathname}: ${(e as Error).message}`, { cause: e });
  }
}

let cycloneDxIds: ReadonlySet<string> | undefined;

/** The SPDX licence ids CycloneDX 1.6 accepts as `license.id` (others must be names or expressions). */
export function cycloneDxLicenseIds(): ReadonlySet<string> {
  cycloneDxIds ??= new Set((loadSchema('cyclonedx-spdx.schema.json') as typeof CycloneDxSpdxIds).enum);
  return cycloneDxIds;
}
