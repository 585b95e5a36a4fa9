/**
 * The scan output formats by name (`lading scan -o NAME`). Adding one is a module and a line here.
 * Every writer gets the result and the SBOM that was scanned (CycloneDX embeds its components).
 */
import type { Sbom } from '../../sbom/model.js';
import type { ScanResult } from '../model.js';
import { cycloneDxMediaType, writeScanCycloneDx } from './cyclonedx.js';
import { jsonMediaType, writeScanJson } from './json.js';
import { sarifMediaType, writeScanSarif } from './sarif.js';
import { tableMediaType, writeScanTable } from './table.js';
import { SCAN_FORMATS, type ScanFormat } from './names.js';

export interface ScanWriter {
  write(result: ScanResult, sbom: Sbom): string;
  mediaType: string;
  fileExtension: string;
}

export type { ScanFormat } from './names.js';

export const scanWriters: Readonly<Record<ScanFormat, ScanWriter>> = {
  table: { write: (r) => writeScanTable(r), mediaType: tableMediaType, fileExtension: '.txt' },
  json: { write: (r) => writeScanJson(r), mediaType: jsonMediaType, fileExtension: '.scan.json' },
  sarif: { write: (r) => writeScanSarif(r), mediaType: sarifMediaType, fileExtension: '.sarif' },
  'cyclonedx-json': { write: writeScanCycloneDx, mediaType: cycloneDxMediaType, fileExtension: '.cdx.json' },
};

export const scanFormats: ScanFormat[] = [...SCAN_FORMATS];

export function isScanFormat(name: string): name is ScanFormat {
  return Object.hasOwn(scanWriters, name);
}
