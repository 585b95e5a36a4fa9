import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runAnalyzer } from '../testing.js';
import { licenseFromClassifier, normalizePythonName, parseCoreMetadata, pythonAnalyzer } from './python.js';

const SITE = '/usr/lib/python3/dist-packages';

const requestsMetadata = `Metadata-Version: 2.1
Name: requests
Version: 2.31.0
Summary: Python HTTP for Humans.
Home-page: https://requests.readthedocs.io
Author: Kenneth Reitz
Author-email: me@kennethreitz.org
License: Apache 2.0
Project-URL: Documentation, https://requests.readthedocs.io
Classifier: License :: OSI Approved :: Apache Software License
Classifier: Programming Language :: Python :: 3
Requires-Python: >=3.7
Description-Content-Type: text/markdown
License-File: LICENSE
Requires-Dist: charset-normalizer (<4,>=2)
Requires-Dist: idna (<4,>=2.5)

# Requests

License: this line is in the body and must not be read as a header
`;

const requestsRecord = `requests-2.31.0.dist-info/INSTALLER,sha256=zuuue4knoyJ-UwPPXg8fezS7VCrXJQrAP7zeNuwvFQg,4
requests-2.31.0.dist-info/METADATA,sha256=eCPokOnbb0FROLrfl0R5EpDvdufsb9CaN4noJH__54I,4634
requests-2.31.0.dist-info/RECORD,,
requests/__init__.py,sha256=LvmKhjIz8mHaKXthC2Mv5ykZ1d92voyf3oJpd-VuAig,4963
"requests/odd,name.py",sha256=abc,10
../../../bin/requests-cli,sha256=def,100
`;

test('dist-info with RECORD and top_level.txt', async () => {
  const r = await runAnalyzer(pythonAnalyzer, {
    [`${SITE}/requests-2.31.0.dist-info/METADATA`]: { content: requestsMetadata, layer: 1 },
    [`${SITE}/requests-2.31.0.dist-info/RECORD`]: { content: requestsRecord, layer: 1 },
    [`${SITE}/requests-2.31.0.dist-info/top_level.txt`]: { content: 'requests\n', layer: 1 },
    [`${SITE}/requests/__init__.py`]: { content: '', layer: 1 },
  });
  assert.deepEqual(r.warnings, []);
  assert.equal(r.packages?.length, 1);
  const p = r.packages?.[0];
  assert.ok(p);
  assert.equal(p.name, 'requests');
  assert.equal(p.version, '2.31.0');
  assert.equal(p.type, 'python');
  assert.equal(p.foundBy, 'python');
  assert.equal(p.purl, 'pkg:pypi/requests@2.31.0');
  assert.deepEqual(p.licenses, ['Apache-2.0']);
  assert.deepEqual(p.locations, [{ path: `${SITE}/requests-2.31.0.dist-info/METADATA`, layer: 1 }]);
  assert.deepEqual(p.files, [
    `${SITE}/requests-2.31.0.dist-info/INSTALLER`,
    `${SITE}/requests-2.31.0.dist-info/METADATA`,
    `${SITE}/requests-2.31.0.dist-info/RECORD`,
    `${SITE}/requests/__init__.py`,
    `${SITE}/requests/odd,name.py`,
    '/usr/bin/requests-cli',
  ]);
  assert.deepEqual(p.metadata?.topLevelPackages, ['requests']);
  assert.equal(p.metadata?.author, 'Kenneth Reitz');
  assert.equal(p.metadata?.homepage, 'https://requests.readthedocs.io');
  assert.equal(p.metadata?.normalizedName, 'requests');
  assert.ok(p.cpes.includes('cpe:2.3:a:python:requests:2.31.0:*:*:*:*:python:*:*'));
});

test('name normalization: display name kept, purl uses the PEP 503 name', async () => {
  const meta = 'Metadata-Version: 2.1\nName: Django_Rest.Framework\nVersion: 3.14.0\nLicense-Expression: BSD-3-Clause\n\n';
  const r = await runAnalyzer(pythonAnalyzer, { '/venv/lib/python3.11/site-packages/Django_Rest.Framework-3.14.0.dist-info/METADATA': meta });
  const p = r.packages?.[0];
  assert.equal(p?.name, 'Django_Rest.Framework');
  assert.equal(p?.metadata?.normalizedName, 'django-rest-framework');
  assert.equal(p?.purl, 'pkg:pypi/django-rest-framework@3.14.0');
  assert.deepEqual(p?.licenses, ['BSD-3-Clause']);
  assert.equal(p?.files, undefined, 'no RECORD, no file list');
});

const pkgInfo = `Metadata-Version: 1.2
Name: six
Version: 1.16.0
Summary: Python 2 and 3 compatibility utilities
Home-page: https://github.com/benjaminp/six
Author: Benjamin Peterson
Author-email: benjamin@python.org
License: UNKNOWN
Description: .. image:: https://img.shields.io/pypi/v/six.svg
           :target: https://pypi.org/project/six/
        
        Six is a Python 2 and 3 compatibility library.
Platform: UNKNOWN
Classifier: Programming Language :: Python :: 2
Classifier: License :: OSI Approved :: MIT License
`;

test('egg-info directory with PKG-INFO, installed-files.txt and classifier license', async () => {
  const r = await runAnalyzer(pythonAnalyzer, {
    '/usr/local/lib/python3.9/site-packages/six-1.16.0-py3.9.egg-info/PKG-INFO': pkgInfo,
    '/usr/local/lib/python3.9/site-packages/six-1.16.0-py3.9.egg-info/installed-files.txt': '../six.py\nPKG-INFO\ntop_level.txt\n',
    '/usr/local/lib/python3.9/site-packages/six-1.16.0-py3.9.egg-info/top_level.txt': 'six\n',
  });
  assert.deepEqual(r.warnings, []);
  const p = r.packages?.[0];
  assert.equal(p?.name, 'six');
  assert.equal(p?.version, '1.16.0');
  assert.deepEqual(p?.licenses, ['MIT']);
  assert.deepEqual(p?.files, [
    '/usr/local/lib/python3.9/site-packages/six.py',
    '/usr/local/lib/python3.9/site-packages/six-1.16.0-py3.9.egg-info/PKG-INFO',
    '/usr/local/lib/python3.9/site-packages/six-1.16.0-py3.9.egg-info/top_level.txt',
  ]);
  assert.deepEqual(p?.metadata?.topLevelPackages, ['six']);
});

test('egg-info as a plain file (Debian style)', async () => {
  const meta = `Metadata-Version: 1.1
Name: python-apt
Version: 2.6.0
Summary: Python bindings for APT
Author: APT Development Team
License: GNU GPL
Platform: posix
`;
  const r = await runAnalyzer(pythonAnalyzer, { '/usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info': { content: meta, layer: 0 } });
  assert.deepEqual(r.warnings, []);
  const p = r.packages?.[0];
  assert.equal(p?.name, 'python-apt');
  assert.equal(p?.purl, 'pkg:pypi/python-apt@2.6.0');
  assert.deepEqual(p?.locations, [{ path: '/usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info', layer: 0 }]);
  assert.equal(p?.licenses.length, 1);
});

test('license text in the License field falls back to classifiers', async () => {
  const meta = `Metadata-Version: 2.1
Name: pytz
Version: 2023.3
License: Copyright (c) 2003-2019 Stuart Bishop <stuart@stuartbishop.net>
        
        Permission is hereby granted, free of charge, to any person obtaining a
        copy of this software and associated documentation files (the "Software"),
Classifier: License :: OSI Approved :: MIT License
Classifier: License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)

body
`;
  const r = await runAnalyzer(pythonAnalyzer, { '/site/pytz-2023.3.dist-info/METADATA': meta });
  assert.deepEqual(r.packages?.[0]?.licenses, ['MIT', 'GPL-2.0-or-later']);
});

test('metadata without Name or Version is warned about and skipped', async () => {
  const r = await runAnalyzer(pythonAnalyzer, {
    '/site/broken-1.0.dist-info/METADATA': 'this is not metadata at all\n',
    '/site/noversion.egg-info': 'Metadata-Version: 1.0\nName: noversion\n',
  });
  assert.deepEqual(r.packages, []);
  assert.equal(r.warnings.length, 2);
  assert.match(r.warnings[0] ?? '', /^\/site\/broken-1\.0\.dist-info\/METADATA: no Name header/);
  assert.match(r.warnings[1] ?? '', /^\/site\/noversion\.egg-info: no Version header/);
});

test('normalizePythonName', () => {
  for (const [a, b] of [['Django_Rest.Framework', 'django-rest-framework'], ['zope.interface', 'zope-interface'],
    ['PyYAML', 'pyyaml'], ['a--b__c..d', 'a-b-c-d'], ['typing_extensions', 'typing-extensions']]) {
    assert.equal(normalizePythonName(a as string), b);
  }
});

test('parseCoreMetadata: repeated headers, continuation lines, body ignored', () => {
  const h = parseCoreMetadata('Name: x\nClassifier: A\nClassifier: B\nLicense: line one\n        line two\n\nName: body\n');
  assert.deepEqual(h.get('name'), ['x']);
  assert.deepEqual(h.get('classifier'), ['A', 'B']);
  assert.deepEqual(h.get('license'), ['line one\nline two']);
});

test('licenseFromClassifier', () => {
  assert.equal(licenseFromClassifier('License :: OSI Approved :: MIT License'), 'MIT');
  assert.equal(licenseFromClassifier('License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)'), 'LGPL-3.0-only');
  assert.equal(licenseFromClassifier('License :: OSI Approved :: Python Software Foundation License'), 'PSF-2.0');
  assert.equal(licenseFromClassifier('License :: OSI Approved'), undefined);
  assert.equal(licenseFromClassifier('Programming Language :: Python'), undefined);
  assert.equal(licenseFromClassifier('License :: Other/Proprietary License'), 'Other/Proprietary License');
});
