/**
 * The SBOM formats: writers by output name, readers by input kind. Adding a format is one module
 * and one line here.
 */
import { LadingError } from '../../errors.js';
import type { Sbom } from '../model.js';
import { cycloneDxMediaType, writeCycloneDxJson } from './cyclonedx.js';
import { detectNative, readNative, writeNative } from './native.js';
import { detectCycloneDx, readCycloneDx } from './read-cyclonedx.js';
import { detectSpdx, readSpdx } from './read-spdx.js';
import { detectSyft, readSyft } from './read-syft.js';
import { spdxMediaType, writeSpdxJson } from './spdx.js';
import { cycloneDxXmlMediaType, writeCycloneDxXml } from './cyclonedx-xml.js';
import { spdxTagMediaType, writeSpdxTagValue } from './spdx-tag.js';
import { syftMediaType, writeSyftJson } from './syft-json.js';

export interface SbomWriter {
  write(sbom: Sbom): string;
  mediaType: string;
  fileExtension: string;
}

export interface SbomReader {
  /** Does this parsed JSON document look like this format? */
  detect(doc: unknown): boolean;
  read(doc: unknown): Sbom;
}

export const writers = {
  json: { write: writeNative, mediaType: 'application/vnd.lading.sbom+json', fileExtension: '.lading.json' },
  'cyclonedx-json': { write: writeCycloneDxJson, mediaType: cycloneDxMediaType, fileExtension: '.cdx.json' },
  'spdx-json': { write: writeSpdxJson, mediaType: spdxMediaType, fileExtension: '.spdx.json' },
  'cyclonedx-xml': { write: writeCycloneDxXml, mediaType: cycloneDxXmlMediaType, fileExtension: '.cdx.xml' },
  'spdx-tag-value': { write: writeSpdxTagValue, mediaType: spdxTagMediaType, fileExtension: '.spdx' },
  'syft-json': { write: writeSyftJson, mediaType: syftMediaType, fileExtension: '.syft.json' },
} as const satisfies Record<string, SbomWriter>;

export type SbomFormat = keyof typeof writers;

export const sbomFormats = Object.keys(writers) as SbomFormat[];

export function isSbomFormat(name: string): name is SbomFormat {
  return Object.hasOwn(writers, name);
}

export const readers = {
  lading: { detect: detectNative, read: readNative },
  cyclonedx: { detect: detectCycloneDx, read: readCycloneDx },
  spdx: { detect: detectSpdx, read: readSpdx },
  syft: { detect: detectSyft, read: readSyft },
} as const satisfies Record<string, SbomReader>;

export type SbomKind = keyof typeof readers;

function parse(text: string): unknown {
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new LadingError('BAD_INPUT', `not a CycloneDX, SPDX or syft JSON document: it is not JSON (${(e as Error).message})`, { cause: e });
  }
}

/** Which reader fits the document, or undefined. */
export function detectSbom(text: string): SbomKind | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    return undefined;
  }
  return detectKind(doc);
}

function detectKind(doc: unknown): SbomKind | undefined {
  return (Object.keys(readers) as SbomKind[]).find((k) => readers[k].detect(doc));
}

/** Reads an SBOM made elsewhere (or by Lading) so it can be scanned like an image. */
export function readSbom(text: string): Sbom {
  const doc = parse(text);
  const kind = detectKind(doc);
  if (!kind) {
    throw new LadingError('BAD_INPUT',
      'not a CycloneDX, SPDX or syft JSON document (nor Lading\'s own): expected "bomFormat": "CycloneDX", an "spdxVersion", or syft\'s "artifacts" list');
  }
  return readers[kind].read(doc);
}
