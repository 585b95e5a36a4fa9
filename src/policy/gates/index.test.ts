import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GATES, gateNamed } from './index.js';
import type { ParamSpec } from '../params.js';

/** The active gates, triggers and parameters of Anchore Engine 1.x (required parameters marked *). */
const ANCHORE: Record<string, Record<string, string[]>> = {
  always: { always: [] },
  dockerfile: {
    instruction: ['instruction*', 'check*', 'value', 'actual_dockerfile_only'],
    effective_user: ['users*', 'type*'],
    exposed_ports: ['ports*', 'type*', 'actual_dockerfile_only'],
    no_dockerfile_provided: [],
  },
  files: {
    content_regex_match: ['regex_name'],
    name_match: ['regex*'],
    attribute_match: ['filename*', 'checksum_algorithm', 'checksum', 'checksum_match', 'mode', 'mode_op', 'skip_missing'],
    suid_or_guid_set: [],
  },
  passwd_file: {
    content_not_available: [],
    blacklist_usernames: ['user_names*'],
    blacklist_userids: ['user_ids*'],
    blacklist_groupids: ['group_ids*'],
    blacklist_shells: ['shells*'],
    blacklist_full_entry: ['entry*'],
  },
  packages: {
    required_package: ['name*', 'version', 'version_match_type'],
    verify: ['only_packages', 'only_directories', 'check'],
    blacklist: ['name*', 'version'],
  },
  vulnerabilities: {
    package: ['package_type*', 'severity_comparison', 'severity', 'cvss_v3_base_score_comparison', 'cvss_v3_base_score',
      'cvss_v3_exploitability_score_comparison', 'cvss_v3_exploitability_score', 'cvss_v3_impact_score_comparison', 'cvss_v3_impact_score',
      'fix_available', 'vendor_only', 'max_days_since_creation', 'max_days_since_fix', 'vendor_cvss_v3_base_score_comparison', 'vendor_cvss_v3_base_score',
      'vendor_cvss_v3_exploitability_score_comparison', 'vendor_cvss_v3_exploitability_score', 'vendor_cvss_v3_impact_score_comparison',
      'vendor_cvss_v3_impact_score', 'package_path_exclude'],
    stale_feed_data: ['max_days_since_sync*'],
    vulnerability_data_unavailable: [],
    blacklist: ['vulnerability_ids*', 'vendor_only'],
  },
  licenses: { blacklist_exact_match: ['licenses*'], blacklist_partial_match: ['licenses*'] },
  ruby_gems: { newer_version_found_in_feed: [], not_found_in_feed: [], version_not_found_in_feed: [], blacklist: ['name*', 'version'], feed_data_unavailable: [] },
  npms: { newer_version_in_feed: [], unknown_in_feeds: [], version_not_in_feeds: [], blacklisted_name_version: ['name*', 'version'], feed_data_unavailable: [] },
  secret_scans: { content_regex_checks: ['content_regex_name', 'filename_regex', 'match_type'] },
  metadata: { attribute: ['attribute*', 'check*', 'value'] },
  retrieved_files: { content_not_available: ['path*'], content_regex: ['path*', 'regex*', 'check*'] },
  malware: { scans: [], scan_not_run: [] },
};

const EOL: Record<string, string[]> = {
  anchoresec: ['vulnlow', 'vulnmedium', 'vulnhigh', 'vulncritical', 'vulnunknown', 'feedoutofdate', 'unsupporteddistro'],
  dockerfilecheck: ['directivecheck', 'effectiveuser', 'expose', 'nofrom', 'fromscratch', 'notag', 'sudo', 'volumepresent', 'nohealthcheck', 'nodockerfile'],
  filecheck: ['contentmatch', 'filenamematch', 'suidsgidcheck'],
  fileparse_passwd: ['filenotstored', 'usernamematch', 'useridmatch', 'groupidmatch', 'shellmatch', 'pentrymatch'],
  gemcheck: ['gemnotlatest', 'gemnotofficial', 'gembadversion', 'gempkgfullmatch', 'gempkgnamematch', 'gemnofeed'],
  npmcheck: ['npmnotlatest', 'npmnotofficial', 'npmbadversion', 'npmpkgfullmatch', 'npmpkgnamematch', 'npmnofeed'],
  metadatacheck: ['attributecheck'],
  licblacklist: ['licfullmatch', 'licsubmatch'],
  pkgblacklist: ['pkgfullmatch', 'pkgnamematch'],
  pkgcheck: ['pkgnotpresent', 'verify'],
  secretcheck: ['contentmatch', 'filenamematch'],
  suiddiff: ['suiddiff', 'suidfileadd', 'suidfiledel', 'suidmodediff'],
  imagecheck: ['baseoutofdate'],
  pkgdiff: ['pkgversiondiff', 'pkgadd', 'pkgdel', 'pkgdiff'],
};

/** Parameters Anchore Enterprise added to Engine's triggers, which Lading has too (optional). */
const ENTERPRISE: Record<string, Record<string, string[]>> = {
  vulnerabilities: { package: ['inherited_from_base'] },
};

test('every active Anchore gate, trigger and parameter is in the registry, with the same required ones', () => {
  const active = Object.fromEntries(Object.values(GATES).filter((g) => g.state === 'active').map((g) => [g.name,
    Object.fromEntries(Object.values(g.triggers).map((t) => [t.name, (Object.values(t.params) as ParamSpec[]).map((p) => `${p.name}${p.required ? '*' : ''}`).sort()]))]));
  const expected = Object.fromEntries(Object.entries(ANCHORE).map(([gate, triggers]) => [gate,
    Object.fromEntries(Object.entries(triggers).map(([trigger, params]) => [trigger, [...params, ...(ENTERPRISE[gate]?.[trigger] ?? [])].sort()]))]));
  assert.deepEqual(active, expected);
});

test('every end-of-life gate parses with its triggers, and active gates hold only active triggers', () => {
  const eol = Object.fromEntries(Object.values(GATES).filter((g) => g.state === 'eol').map((g) => [g.name, Object.keys(g.triggers)]));
  assert.deepEqual(eol, EOL);
  for (const g of Object.values(GATES)) {
    if (g.state === 'active') for (const t of Object.values(g.triggers)) assert.equal(t.state, 'active', `${g.name}/${t.name}`);
    else for (const t of Object.values(g.triggers)) assert.equal(t.state, 'eol', `${g.name}/${t.name}`);
  }
});

test('registry keys are the gate, trigger and parameter names; aliases as in Anchore', () => {
  for (const [key, g] of Object.entries(GATES)) {
    assert.equal(key, g.name);
    for (const [tk, t] of Object.entries(g.triggers)) {
      assert.equal(tk, t.name);
      for (const [pk, p] of Object.entries(t.params)) assert.equal(pk, (p as ParamSpec).name);
    }
  }
  const aliases = (gate: string, trigger: string) => (Object.values(GATES[gate]!.triggers[trigger]!.params) as ParamSpec[]).flatMap((p) => p.aliases);
  assert.deepEqual(aliases('passwd_file', 'blacklist_usernames'), ['usernameblacklist']);
  assert.deepEqual(aliases('passwd_file', 'blacklist_userids'), ['useridblacklist']);
});

test('gates are found case-insensitively', () => {
  assert.equal(gateNamed('Vulnerabilities')?.name, 'vulnerabilities');
  assert.equal(gateNamed('nope'), undefined);
  assert.equal(gateNamed('toString'), undefined);
});
