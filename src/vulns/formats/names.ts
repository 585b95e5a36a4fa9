/** The names of the scan report formats, apart from their writers so that the CLI can list them without loading any. */
export const SCAN_FORMATS = ['table', 'json', 'sarif', 'cyclonedx-json', 'csv', 'template'] as const;

export type ScanFormat = (typeof SCAN_FORMATS)[number];
