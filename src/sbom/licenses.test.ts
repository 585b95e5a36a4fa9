import { test } from 'node:test';
import assert from 'node:assert/strict';
import { licensesFrom, normalizeLicense } from './licenses.js';

const cases: [string, string][] = [
  // already SPDX
  ['MIT', 'MIT'],
  ['  Apache-2.0 ', 'Apache-2.0'],
  ['(MIT OR Apache-2.0)', 'MIT OR Apache-2.0'],
  ['MIT or Apache-2.0', 'MIT OR Apache-2.0'],
  ['Apache-2.0 AND (MIT OR BSD-3-Clause)', 'Apache-2.0 AND (MIT OR BSD-3-Clause)'],
  ['Apache-2.0 WITH LLVM-exception', 'Apache-2.0 WITH LLVM-exception'],
  ['LicenseRef-Proprietary', 'LicenseRef-Proprietary'],
  // deprecated ids are upgraded
  ['GPL-2.0', 'GPL-2.0-only'],
  ['GPL-2.0+', 'GPL-2.0-or-later'],
  ['LGPL-2.1+', 'LGPL-2.1-or-later'],
  ['GPL-3.0', 'GPL-3.0-only'],
  ['GPL-2.0-with-classpath-exception', 'GPL-2.0-only WITH Classpath-exception-2.0'],
  // near misses
  ['Apache 2.0', 'Apache-2.0'],
  ['Apache License, Version 2.0', 'Apache-2.0'],
  ['The Apache Software License, Version 2.0', 'Apache-2.0'],
  ['MIT License', 'MIT'],
  ['The MIT License', 'MIT'],
  ['mit', 'MIT'],
  ['Expat', 'MIT'],
  ['GPLv2', 'GPL-2.0-only'],
  ['GPLv2+', 'GPL-2.0-or-later'],
  ['GPLv2 or later', 'GPL-2.0-or-later'],
  ['GPLv3', 'GPL-3.0-only'],
  ['LGPLv3+', 'LGPL-3.0-or-later'],
  ['BSD', 'BSD-2-Clause'],
  ['new BSD', 'BSD-3-Clause'],
  ['BSD 3-Clause', 'BSD-3-Clause'],
  ['MPL 2.0', 'MPL-2.0'],
  ['PSF', 'PSF-2.0'],
  ['Python Software Foundation License', 'PSF-2.0'],
  ['ISC License (ISCL)', 'ISC'],
  ['GNU General Public License v2 or later (GPLv2+)', 'GPL-2.0-or-later'],
  ['Eclipse Public License 2.0 (EPL-2.0)', 'EPL-2.0'],
  ['Historical Permission Notice and Disclaimer (HPND)', 'HPND'],
  ['Ruby', 'Ruby'],
  ['GPL', 'GPL-1.0-or-later'],
  ['GNU GPL', 'GPL-1.0-or-later'],
  ['GNU General Public License (GPL)', 'GPL-1.0-or-later'],
  ['LGPL', 'LGPL-2.0-or-later'],
  ['zlib/libpng', 'Zlib'],
  // compound texts
  ['MIT and BSD', 'MIT AND BSD-2-Clause'],
  ['MIT or GPLv2 or later', 'MIT OR GPL-2.0-or-later'],
  ['Apache 2.0 or MIT License', 'Apache-2.0 OR MIT'],
  // kept as declared
  ['UNLICENSED', 'UNLICENSED'],
  ['SEE LICENSE IN LICENSE.md', 'SEE LICENSE IN LICENSE.md'],
  ['Public Domain', 'Public Domain'],
  ['Proprietary', 'Proprietary'],
  ['  Copyright 2020 Foo Inc. All rights reserved. ', 'Copyright 2020 Foo Inc. All rights reserved.'],
  ['MIT and some custom terms', 'MIT and some custom terms'],
  ['', ''],
];

for (const [input, want] of cases) {
  test(`normalizeLicense(${JSON.stringify(input)}) = ${JSON.stringify(want)}`, () => {
    assert.equal(normalizeLicense(input), want);
  });
}

test('license prose is kept, not guessed from a word inside it', () => {
  const prose = 'Permission is hereby granted, free of charge, to any person obtaining a copy\nof this software...';
  assert.equal(normalizeLicense(prose), prose);
});

test('licensesFrom normalizes, drops empties and deduplicates', () => {
  assert.deepEqual(licensesFrom(['MIT', undefined, 'MIT License', null, '  ', 'Apache 2.0', 'mit']), ['MIT', 'Apache-2.0']);
  assert.deepEqual(licensesFrom([]), []);
});

test('a plain id (read without the parser) normalizes as the parser reads it, and answers are remembered', async () => {
  const { createRequire } = await import('node:module');
  const fromParser = createRequire(createRequire(import.meta.url).resolve('spdx-expression-parse'));
  const ids = [...fromParser('spdx-license-ids') as string[], ...fromParser('spdx-license-ids/deprecated') as string[]];
  assert.ok(ids.length > 500);
  // "(ID)" is no plain id: it goes through spdx-expression-parse, whose answer the fast path must equal.
  for (const id of ids) assert.equal(normalizeLicense(id), normalizeLicense(`(${id})`), id);
  for (const text of ['GPL-2+', 'Apache 2.0', 'MIT and BSD-3-Clause', 'some license prose that is not a name']) {
    assert.equal(normalizeLicense(text), normalizeLicense(text));
  }
});
