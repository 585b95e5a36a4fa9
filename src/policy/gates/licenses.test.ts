import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fire, makeSbom, pkg } from '../testing.js';

const sbom = makeSbom({
  packages: [
    pkg('zlib', '1.3', { licenses: ['Zlib'] }),
    pkg('coreutils', '9.1', { licenses: ['GPL-3.0-or-later'] }),
    pkg('libfoo', '1.0', { type: 'npm', licenses: ['MIT OR Apache-2.0'] }),
    pkg('bash', '5.2', { licenses: ['GPLv3+ BSD-3-clause'] }),
  ],
});

const cases: { name: string; trigger: string; licenses: string; want: string[] }[] = [
  { name: 'exact names, SPDX expressions and space-separated lists split', trigger: 'blacklist_exact_match', licenses: 'MIT,GPLv3+',
    want: ['LICFULLMATCH Packages are installed that have blacklisted licenses: bash(GPLv3+), libfoo(MIT)'] },
  { name: 'exact match needs the whole name', trigger: 'blacklist_exact_match', licenses: 'GPL', want: [] },
  { name: 'substrings', trigger: 'blacklist_partial_match', licenses: 'GPL, BSD',
    want: ['LICSUBMATCH Packages are installed that have blacklisted licenses: bash(GPLv3+), bash(BSD-3-clause), coreutils(GPL-3.0-or-later)'] },
  { name: 'no such license', trigger: 'blacklist_partial_match', licenses: 'AGPL', want: [] },
];

for (const c of cases) {
  test(`licenses/${c.trigger}: ${c.name}`, () => {
    assert.deepEqual(fire('licenses', c.trigger, { licenses: c.licenses }, { sbom }).map((f) => f.msg), c.want);
  });
}
