/**
 * `sarif`: SARIF 2.1.0, as grype writes it for code-scanning dashboards. One rule per
 * vulnerability id (help text, and the `security-severity` property GitHub ranks by: a CVSS
 * base score consistent with the severity shown, else a score standing for the severity),
 * one result per finding, located at the package's evidence file (for an image, the path inside
 * it) and levelled error (Critical, High), warning (Medium) or note (the rest). Suppressed
 * findings are left out. Validated against the official schema by formats.test.ts.
 */
import { createHash } from 'node:crypto';
import type { Severity } from '../../feeds/model.js';
import { VERSION } from '../../version.js';
import type { Match, ScanResult } from '../model.js';
import { bestCvss, cvssSeverity } from '../match.js';
import { severityRank } from '../model.js';
import { compareMatches } from '../scan.js';
import { primaryUrl } from './links.js';

export const sarifMediaType = 'application/sarif+json';

type Level = 'error' | 'warning' | 'note';

const LEVEL: Record<Severity, Level> = {
  Critical: 'error', High: 'error', Medium: 'warning', Low: 'note', Negligible: 'note', Unknown: 'note',
};

/** A score for a severity no CVSS vector backs (about the middle of each CVSS v3 band). */
const SEVERITY_SCORE: Record<Severity, number | undefined> = {
  Critical: 9.5, High: 8.0, Medium: 5.5, Low: 2.0, Negligible: 0.0, Unknown: undefined,
};

export function sarifLevel(s: Severity): Level {
  return LEVEL[s];
}

/**
 * The score GitHub ranks by, kept consistent with the severity shown: a CVSS score from the
 * severity's own source; else the best CVSS (NVD first) when it falls in the same band; else a
 * score standing for the severity (a Debian "low" is not ranked by NVD's 9.8).
 */
export function securitySeverity(m: Match): number | undefined {
  const v = m.vulnerability;
  const own = v.cvss.filter((c) => c.source === v.severitySource).map((c) => c.baseScore);
  if (own.length) return Math.max(...own);
  const best = bestCvss(v.cvss);
  if (best && cvssSeverity(best) === v.severity) return best.baseScore;
  return SEVERITY_SCORE[v.severity];
}

function fixText(m: Match): string {
  const v = m.vulnerability;
  if (v.fixState === 'fixed' && v.fixedVersions.length) return `fixed in ${v.fixedVersions.join(', ')}`;
  if (v.fixState === 'wont-fix') return "the vendor won't fix it";
  return 'no fix yet';
}

/** A path as a URI reference: `/usr/lib/x y` → `/usr/lib/x%20y`. */
function uriOf(path: string): string {
  return encodeURI(path).replace(/[?#]/g, (c) => encodeURIComponent(c));
}

function ruleFor(id: string, matches: readonly Match[]): Record<string, unknown> {
  const worst = [...matches].sort(compareMatches)[0]!;
  const v = worst.vulnerability;
  const url = primaryUrl(v);
  const scores = matches.map(securitySeverity).filter((s): s is number => s !== undefined);
  const packages = [...new Set(matches.map((m) => `${m.package.name} ${m.package.version} (${m.package.type}): ${fixText(m)}`))];
  const text = [
    `Vulnerability ${id}`,
    `Severity: ${v.severity}${v.severitySource ? ` (${v.severitySource})` : ''}`,
    ...(v.aliases.length ? [`Aliases: ${v.aliases.join(', ')}`] : []),
    ...(v.kev ? [`Known exploited (CISA KEV) since ${v.kev.dateAdded}`] : []),
    ...(v.epss ? [`EPSS: ${(v.epss.score * 100).toFixed(2)}% (percentile ${(v.epss.percentile * 100).toFixed(0)})`] : []),
    'Packages:',
    ...packages.map((p) => `  ${p}`),
    ...(v.description ? ['', v.description] : []),
    ...(url ? ['', `More: ${url}`] : []),
  ].join('\n');
  const markdown = [
    `**Vulnerability ${id}**`,
    '',
    '| Severity | Package | Installed | Fixed in | Link |',
    '| --- | --- | --- | --- | --- |',
    ...matches.map((m) => `| ${m.vulnerability.severity} | ${m.package.name} | ${m.package.version} | ${m.vulnerability.fixedVersions.join(', ') || '-'} | ${url ? `[${id}](${url})` : id} |`),
    ...(v.description ? ['', v.description] : []),
  ].join('\n');
  const short = `${id} (${v.severity})${packages.length === 1 ? ` in ${worst.package.name}` : ''}`;
  return {
    id,
    name: id,
    shortDescription: { text: short },
    fullDescription: { text: v.description || short },
    ...(url ? { helpUri: url } : {}),
    help: { text, markdown },
    properties: {
      ...(scores.length ? { 'security-severity': Math.max(...scores).toFixed(1) } : {}),
      tags: ['security', 'vulnerability', v.severity.toLowerCase()],
      precision: 'very-high',
    },
  };
}

function resultFor(m: Match, ruleIndex: number, input: string): Record<string, unknown> {
  const path = m.package.locations[0]?.path;
  const where = path ? ` at ${path}` : '';
  const fingerprint = createHash('sha256').update(JSON.stringify([m.vulnerability.id, m.package.purl, m.package.name, m.package.version, path ?? ''])).digest('hex');
  return {
    ruleId: m.vulnerability.id,
    ruleIndex,
    level: LEVEL[m.vulnerability.severity],
    message: {
      text: `A ${m.vulnerability.severity} vulnerability in ${m.package.type} package ${m.package.name}, version ${m.package.version}, was found${where} (${fixText(m)}).`,
    },
    locations: [{
      physicalLocation: {
        artifactLocation: { uri: uriOf(path ?? input) },
        region: { startLine: 1 },
      },
      logicalLocations: [{ name: m.package.name, fullyQualifiedName: m.package.purl || `${m.package.type}:${m.package.name}@${m.package.version}`, kind: 'package' }],
    }],
    partialFingerprints: { 'ladingFinding/v1': fingerprint },
    properties: { inherited_from_base: m.inheritedFromBase === true },
  };
}

export function sarifDocument(result: ScanResult): Record<string, unknown> {
  const matches = [...result.matches].sort(compareMatches);
  const byId = new Map<string, Match[]>();
  for (const m of matches) {
    const list = byId.get(m.vulnerability.id) ?? [];
    list.push(m);
    byId.set(m.vulnerability.id, list);
  }
  // Rules most severe first, like the results.
  const ids = [...byId.keys()].sort((a, b) => severityRank(byId.get(b)![0]!.vulnerability.severity) - severityRank(byId.get(a)![0]!.vulnerability.severity) || (a < b ? -1 : a > b ? 1 : 0));
  const index = new Map(ids.map((id, i) => [id, i]));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'lading',
          version: VERSION,
          semanticVersion: VERSION,
          rules: ids.map((id) => ruleFor(id, byId.get(id)!)),
        },
      },
      results: matches.map((m) => resultFor(m, index.get(m.vulnerability.id)!, result.source.input)),
      properties: {
        input: result.source.input,
        ...(result.source.manifestDigest ? { manifestDigest: result.source.manifestDigest } : {}),
        ...(result.source.imageId ? { imageId: result.source.imageId } : {}),
        suppressed: result.suppressed.length,
      },
    }],
  };
}

export function writeScanSarif(result: ScanResult): string {
  return `${JSON.stringify(sarifDocument(result), null, 2)}\n`;
}
