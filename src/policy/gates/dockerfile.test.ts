import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fire, makeSbom } from '../testing.js';
import type { Sbom } from '../../sbom/model.js';

const history = (...createdBy: string[]) => createdBy.map((c) => ({ createdBy: c, emptyLayer: false }));

/** A classic-builder image: FROM debian, apt-get, USER app, EXPOSE 22 and 8080, CMD. */
const classic = makeSbom({ source: { history: history(
  '/bin/sh -c #(nop) ADD file:abc in / ',
  '/bin/sh -c apt-get update && apt-get install -y curl',
  '/bin/sh -c #(nop)  USER app',
  '/bin/sh -c #(nop)  EXPOSE 22/tcp 8080/tcp',
  '/bin/sh -c #(nop)  CMD ["app"]',
) } });

/** A BuildKit image: instructions written as such, EXPOSE as a port map. */
const buildkit = makeSbom({ source: { history: history(
  'RUN /bin/sh -c apk add curl # buildkit',
  'EXPOSE map[22/tcp:{} 443/tcp:{}]',
  'USER nobody',
) } });

const actual = makeSbom({ source: { dockerfile: { mode: 'actual', text: [
  '# build',
  'FROM debian:12',
  'RUN apt-get update && \\',
  '    apt-get install -y curl',
  'HEALTHCHECK CMD curl -f http://localhost/',
  'USER 1000',
].join('\n') } } });

const emptyActual = makeSbom({ source: { dockerfile: { mode: 'actual', text: '# nothing\n' } } });

const noHistory = makeSbom({ source: { config: { user: 'svc', exposedPorts: ['8443/tcp'] } } });

const cases: { name: string; trigger: string; params: Record<string, string>; sbom: Sbom; want: string[] }[] = [
  { name: 'HEALTHCHECK not_exists on a guessed Dockerfile', trigger: 'instruction', params: { instruction: 'HEALTHCHECK', check: 'not_exists' }, sbom: classic,
    want: ["Dockerfile directive 'HEALTHCHECK' not found, matching condition 'not_exists' check"] },
  { name: 'HEALTHCHECK not_exists when present', trigger: 'instruction', params: { instruction: 'HEALTHCHECK', check: 'not_exists' }, sbom: actual, want: [] },
  { name: 'FROM = scratch (guessed files start FROM scratch)', trigger: 'instruction', params: { instruction: 'FROM', check: '=', value: 'scratch' }, sbom: classic,
    want: ["Dockerfile directive 'FROM' check '=' matched against 'scratch' for line 'scratch'"] },
  { name: 'FROM != scratch on the actual Dockerfile', trigger: 'instruction', params: { instruction: 'FROM', check: '!=', value: 'scratch' }, sbom: actual,
    want: ["Dockerfile directive 'FROM' check '!=' matched against 'scratch' for line 'debian:12'"] },
  { name: 'RUN like: guessed RUN lines keep /bin/sh -c, continuation lines are joined', trigger: 'instruction', params: { instruction: 'RUN', check: 'like', value: '.*apt-get install.*' }, sbom: classic,
    want: ["Dockerfile directive 'RUN' check 'like' matched against '.*apt-get install.*' for line '/bin/sh -c apt-get update && apt-get install -y curl'"] },
  { name: 'like is anchored at the start (re.match)', trigger: 'instruction', params: { instruction: 'RUN', check: 'like', value: 'apt-get' }, sbom: classic, want: [] },
  { name: 'continuation lines joined in an actual Dockerfile', trigger: 'instruction', params: { instruction: 'RUN', check: 'exists' }, sbom: actual,
    want: ["Dockerfile directive 'RUN' check 'exists' matched against '' for line 'apt-get update && apt-get install -y curl'"] },
  { name: 'USER in a list', trigger: 'instruction', params: { instruction: 'USER', check: 'in', value: 'root, app' }, sbom: classic,
    want: ["Dockerfile directive 'USER' check 'in' matched against 'root, app' for line 'app'"] },
  { name: 'USER not_in a list', trigger: 'instruction', params: { instruction: 'USER', check: 'not_in', value: 'root,app' }, sbom: classic, want: [] },
  { name: 'not_like', trigger: 'instruction', params: { instruction: 'CMD', check: 'not_like', value: '.*sh.*' }, sbom: classic,
    want: ["Dockerfile directive 'CMD' check 'not_like' matched against '.*sh.*' for line '[\"app\"]'"] },
  { name: 'a check needing a value without one never fires', trigger: 'instruction', params: { instruction: 'FROM', check: '=' }, sbom: classic, want: [] },
  { name: 'actual_dockerfile_only skips a guessed Dockerfile', trigger: 'instruction', params: { instruction: 'HEALTHCHECK', check: 'not_exists', actual_dockerfile_only: 'true' }, sbom: classic, want: [] },
  { name: 'actual_dockerfile_only evaluates an actual Dockerfile', trigger: 'instruction', params: { instruction: 'USER', check: '=', value: '1000', actual_dockerfile_only: 'TRUE' }, sbom: actual,
    want: ["Dockerfile directive 'USER' check '=' matched against '1000' for line '1000'"] },
  { name: 'BuildKit instructions are read as instructions', trigger: 'instruction', params: { instruction: 'RUN', check: 'exists' }, sbom: buildkit,
    want: ["Dockerfile directive 'RUN' check 'exists' matched against '' for line '/bin/sh -c apk add curl'"] },

  { name: 'exposed port 22 blacklisted', trigger: 'exposed_ports', params: { ports: '22', type: 'blacklist' }, sbom: classic,
    want: ['Dockerfile exposes port (22/tcp) which is in policy file DENIEDPORTS list'] },
  { name: 'blacklist of unexposed ports', trigger: 'exposed_ports', params: { ports: '23, 3389', type: 'blacklist' }, sbom: classic, want: [] },
  { name: 'whitelist: every other exposed port fires', trigger: 'exposed_ports', params: { ports: '8080', type: 'whitelist' }, sbom: classic,
    want: ['Dockerfile exposes port (22/tcp) which is not in policy file ALLOWEDPORTS list'] },
  { name: 'BuildKit port maps', trigger: 'exposed_ports', params: { ports: '22,443', type: 'blacklist' }, sbom: buildkit,
    want: ['Dockerfile exposes port (22/tcp) which is in policy file DENIEDPORTS list', 'Dockerfile exposes port (443/tcp) which is in policy file DENIEDPORTS list'] },
  { name: 'ports from the image config when the history has no EXPOSE', trigger: 'exposed_ports', params: { ports: '8443', type: 'blacklist' }, sbom: noHistory,
    want: ['Dockerfile exposes port (8443/tcp) which is in policy file DENIEDPORTS list'] },
  { name: 'exposed_ports with actual_dockerfile_only on a guessed file', trigger: 'exposed_ports', params: { ports: '22', type: 'blacklist', actual_dockerfile_only: 'true' }, sbom: classic, want: [] },

  { name: 'effective user root by default', trigger: 'effective_user', params: { users: 'root', type: 'blacklist' }, sbom: makeSbom(),
    want: ['User root found as effective user, which is explicity not allowed'] },
  { name: 'effective user is the last USER', trigger: 'effective_user', params: { users: 'app,svc', type: 'whitelist' }, sbom: buildkit,
    want: ['User nobody found as effective user, which is not on the allowed list'] },
  { name: 'allowed effective user', trigger: 'effective_user', params: { users: 'app', type: 'whitelist' }, sbom: classic, want: [] },
  { name: 'effective user from the config when the history has no USER', trigger: 'effective_user', params: { users: 'svc', type: 'blacklist' }, sbom: noHistory,
    want: ['User svc found as effective user, which is explicity not allowed'] },

  { name: 'an empty actual Dockerfile is not checked', trigger: 'instruction', params: { instruction: 'HEALTHCHECK', check: 'not_exists' }, sbom: emptyActual, want: [] },
  { name: 'nor its effective user', trigger: 'effective_user', params: { users: 'root', type: 'blacklist' }, sbom: emptyActual, want: [] },
  { name: 'no actual Dockerfile', trigger: 'no_dockerfile_provided', params: {}, sbom: classic, want: ['Image was not analyzed with an actual Dockerfile'] },
  { name: 'an actual Dockerfile', trigger: 'no_dockerfile_provided', params: {}, sbom: actual, want: [] },
];

for (const c of cases) {
  test(`dockerfile/${c.trigger}: ${c.name}`, () => {
    assert.deepEqual(fire('dockerfile', c.trigger, c.params, { sbom: c.sbom }).map((f) => f.msg), c.want);
  });
}

test('dockerfile trigger ids are md5(gate + trigger + message), as Anchore computed them', () => {
  // Ids seen in Anchore evaluations of images without HEALTHCHECK or USER, and running as root.
  assert.equal(fire('dockerfile', 'instruction', { instruction: 'HEALTHCHECK', check: 'not_exists' }, { sbom: classic })[0]!.id, '41cb7cdf04850e33a11f80c42bf660b3');
  assert.equal(fire('dockerfile', 'instruction', { instruction: 'USER', check: 'not_exists' }, { sbom: makeSbom() })[0]!.id, '1571e70ee221127984dcf585a56d4cff');
  assert.equal(fire('dockerfile', 'effective_user', { users: 'root', type: 'blacklist' }, { sbom: makeSbom() })[0]!.id, 'cbff271f45d32e78dcc1979dbca9c14d');
});
