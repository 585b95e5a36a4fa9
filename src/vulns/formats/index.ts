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
import { csvMediaType, writeScanCsv } from './csv.js';
import { templateMediaType, writeScanTemplate } from './template.js';
import { LadingError } from '../../errors.js';

export interface ScanWriteOptions {
  /** `template`: the template's text and its name (for errors). */
  template?: { text: string; name: string };
  /** `table`: the findings' rows only, without the column header and the summary lines. */
  quiet?: boolean;
}

export interface ScanWriter {
  write(result: ScanResult, sbom: Sbom, options?: ScanWriteOptions): string;
  mediaType: string;
  fileExtension: string;
}

export type { ScanFormat } from './names.js';

export const scanWriters: Readonly<Record<ScanFormat, ScanWriter>> = {
  table: { write: (r, _s, o) => writeScanTable(r, o?.quiet === true ? { quiet: true } : {}), mediaType: tableMediaType, fileExtension: '.txt' },
  json: { write: (r) => writeScanJson(r), mediaType: jsonMediaType, fileExtension: '.scan.json' },
  sarif: { write: (r) => writeScanSarif(r), mediaType: sarifMediaType, fileExtension: '.sarif' },
  'cyclonedx-json': { write: writeScanCycloneDx, mediaType: cycloneDxMediaType, fileExtension: '.cdx.json' },
  csv: { write: (r) => writeScanCsv(r), mediaType: csvMediaType, fileExtension: '.csv' },
  template: {
    write: (r, _s, o) => {
      if (!o?.template) throw new LadingError('BAD_INPUT', '-o template needs --template FILE');
      return writeScanTemplate(r, o.template.text, o.template.name);
    },
    mediaType: templateMediaType, fileExtension: '.txt',
  },
};

export const scanFormats: ScanFormat[] = [...SCAN_FORMATS];

export function isScanFormat(name: string): name is ScanFormat {
  return Object.hasOwn(scanWriters, name);
}
