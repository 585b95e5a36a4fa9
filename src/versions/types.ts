/** The version-scheme contract: one module per scheme in this folder, collected in index.ts. */

export type SchemeId = 'dpkg' | 'rpm' | 'apk' | 'semver' | 'pep440' | 'maven' | 'gem' | 'go' | 'nuget' | 'composer';

export interface VersionScheme {
  id: SchemeId;
  /** Negative, zero or positive as a orders before, equal to or after b. Never throws: an invalid version orders by a documented fallback. */
  compare(a: string, b: string): number;
  /** Whether the string is a version this scheme can parse. */
  valid(v: string): boolean;
  /**
   * Whether `version` satisfies `constraint` in the scheme's native constraint syntax
   * (npm ranges for semver, PEP 440 specifiers, Maven ranges `[1.0,2.0)`, gem `~> 1.2`, comma- or
   * space-separated `>=1.0, <2.0` for the others).
   */
  satisfies(version: string, constraint: string): boolean;
}
