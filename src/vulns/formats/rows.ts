/**
 * A finding as one flat row of text fields, most severe first: what `csv` writes as columns and
 * what `template` substitutes for `{{.Field}}`. The field names are the CSV header.
 */
import type { Match, ScanResult } from '../model.js';
import { compareMatches } from '../scan.js';
import { epssText, fixedIn } from './table.js';

export const ROW_FIELDS = [
  'Package', 'Version', 'Type', 'Purl', 'Path', 'Vulnerability', 'Severity', 'FixState', 'FixedIn',
  'Epss', 'Kev', 'Namespace', 'Aliases', 'Description',
] as const;

export type RowField = (typeof ROW_FIELDS)[number];
export type Row = Record<RowField, string>;

export function rowOf(m: Match): Row {
  const v = m.vulnerability;
  return {
    Package: m.package.name,
    Version: m.package.version,
    Type: m.package.type,
    Purl: m.package.purl,
    Path: m.package.locations[0]?.path ?? '',
    Vulnerability: v.id,
    Severity: v.severity,
    FixState: v.fixState,
    FixedIn: fixedIn(m),
    Epss: epssText(m),
    Kev: v.kev ? 'KEV' : '',
    Namespace: m.match.namespace,
    Aliases: v.aliases.join(' '),
    Description: v.description ?? '',
  };
}

export function findingRows(result: ScanResult): Row[] {
  return [...result.matches].sort(compareMatches).map(rowOf);
}
