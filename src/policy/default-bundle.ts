/**
 * Lading's default bundle, used when no bundle is given. Same intent as Anchore's default: stop
 * images with vulnerabilities above medium severity or that expose ssh (port 22); warn on medium
 * vulnerabilities, no HEALTHCHECK, stale or missing vulnerability data. One mapping for every
 * image, with an empty allowlist ready for exceptions.
 */

export const DEFAULT_BUNDLE = {
  id: '7ec66a0a-3564-40ce-a5bb-c97ddba38d6d',
  name: 'Lading default bundle',
  comment: 'Stops images with vulnerabilities above medium severity or exposing ssh; warns on medium vulnerabilities, no HEALTHCHECK, and stale or missing vulnerability data.',
  version: '1_0',
  policies: [
    {
      id: '4337acd3-5956-4e9f-abb7-f73074ba1851',
      name: 'Default policy',
      comment: 'Lading default policy',
      version: '1_0',
      rules: [
        { id: 'c169e7a6-2145-4b7d-bf4d-a767810fe4bb', gate: 'dockerfile', trigger: 'exposed_ports', action: 'STOP',
          params: [{ name: 'ports', value: '22' }, { name: 'type', value: 'blacklist' }] },
        { id: '7778a277-8cde-419b-8a7b-ecef20cc1b25', gate: 'dockerfile', trigger: 'instruction', action: 'WARN',
          params: [{ name: 'instruction', value: 'HEALTHCHECK' }, { name: 'check', value: 'not_exists' }] },
        { id: '63e163ad-2213-4044-bd52-a61cc6aeeb1f', gate: 'vulnerabilities', trigger: 'stale_feed_data', action: 'WARN',
          params: [{ name: 'max_days_since_sync', value: '2' }] },
        { id: 'fead438d-d70a-4982-8d24-ff6623567219', gate: 'vulnerabilities', trigger: 'vulnerability_data_unavailable', action: 'WARN', params: [] },
        { id: '56f0ca34-e000-47be-9a5d-180a0eac95fc', gate: 'vulnerabilities', trigger: 'package', action: 'WARN',
          params: [{ name: 'package_type', value: 'all' }, { name: 'severity_comparison', value: '=' }, { name: 'severity', value: 'medium' }] },
        { id: '315f1f5a-f3f3-4481-918a-d383918ad4e6', gate: 'vulnerabilities', trigger: 'package', action: 'STOP',
          params: [{ name: 'package_type', value: 'all' }, { name: 'severity_comparison', value: '>' }, { name: 'severity', value: 'medium' }] },
      ],
    },
  ],
  whitelists: [
    { id: 'e2faa5a1-25d9-4b9d-aa97-3fd71c2dee2f', name: 'Global allowlist', comment: 'Exceptions for every image', version: '1_0', items: [] },
  ],
  mappings: [
    {
      id: '12966c36-8ce7-4519-90df-97da8c0db0e4',
      name: 'default',
      registry: '*',
      repository: '*',
      image: { type: 'tag', value: '*' },
      policy_id: '4337acd3-5956-4e9f-abb7-f73074ba1851',
      whitelist_ids: ['e2faa5a1-25d9-4b9d-aa97-3fd71c2dee2f'],
    },
  ],
  whitelisted_images: [],
  blacklisted_images: [],
};
