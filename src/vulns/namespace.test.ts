import { test } from 'node:test';
import assert from 'node:assert/strict';
import { distroNamespace, lookupKeys, normalizeName, schemeForNamespace } from './namespace.js';
import { DEBIAN_12 } from './testing.js';
import { examplePackages } from '../sbom/formats/testing.js';
import type { Distro, Package } from '../sbom/model.js';

const ALPINE: Distro = { id: 'alpine', versionId: '3.19.1', idLike: [], source: '/etc/os-release' };
const ROCKY: Distro = { id: 'rocky', versionId: '9.3', idLike: ['rhel'], source: '/etc/os-release' };

const example = (type: Package['type'], name?: string): Package => examplePackages.find((p) => p.type === type && (!name || p.name === name))!;

test('language packages: their ecosystem namespace, normalised name and scheme, whatever the distro', () => {
  const cases: [Package, string, string, string][] = [
    [example('npm', '@babel/core'), 'npm', '@babel/core', 'semver'],
    [{ ...example('python', 'requests'), name: 'Zope.Interface' }, 'pypi', 'zope-interface', 'pep440'],
    [example('gem'), 'gem', 'rack', 'gem'],
    [example('java-archive'), 'maven', 'com.fasterxml.jackson.core:jackson-databind', 'maven'],
    [example('go-module'), 'go', 'golang.org/x/net', 'go'],
    [example('rust-crate'), 'cargo', 'serde', 'semver'],
    [example('dotnet'), 'nuget', 'newtonsoft.json', 'nuget'],
    [example('php-composer'), 'composer', 'monolog/monolog', 'composer'],
  ];
  for (const [pkg, namespace, name, scheme] of cases) {
    for (const distro of [DEBIAN_12, undefined]) {
      assert.deepEqual(lookupKeys(pkg, distro), [{ namespace, name, nameKind: 'binary', scheme }], pkg.type);
    }
  }
});

test('a Maven package without a group id, a binary and an unknown type are not looked up', () => {
  const jar = { ...example('java-archive'), metadata: {}, purl: 'pkg:maven/jackson-databind@2.15.2' };
  assert.deepEqual(lookupKeys(jar, DEBIAN_12), []);
  assert.deepEqual(lookupKeys(example('binary'), DEBIAN_12), []);
  assert.deepEqual(lookupKeys({ ...example('npm', 'lodash'), type: 'cocoapods' as Package['type'] }, DEBIAN_12), []);
  assert.deepEqual(lookupKeys({ ...example('npm', 'lodash'), type: 'constructor' as Package['type'] }, DEBIAN_12), []);
});

test('OS packages: the distro namespace by binary and by source name, in the scheme of their type', () => {
  assert.deepEqual(lookupKeys(example('deb', 'login'), DEBIAN_12), [
    { namespace: 'debian:12', name: 'login', nameKind: 'binary', scheme: 'dpkg' },
    { namespace: 'debian:12', name: 'shadow', nameKind: 'source', scheme: 'dpkg' },
  ]);
  assert.deepEqual(lookupKeys(example('apk'), ALPINE).map((k) => [k.namespace, k.name, k.scheme]), [
    ['alpine:3.19', 'libcrypto3', 'apk'], ['alpine:3.19', 'openssl', 'apk'],
  ]);
  assert.deepEqual(lookupKeys(example('rpm'), ROCKY).map((k) => [k.namespace, k.name, k.scheme]), [
    ['rocky:9', 'openssl-libs', 'rpm'], ['rocky:9', 'openssl', 'rpm'],
  ]);
  assert.deepEqual(lookupKeys(example('deb', 'login'), undefined), [], 'no distro, no namespace');
});

test('schemeForNamespace: a distro namespace by its packages\' type, a language namespace by its row', () => {
  const cases: [string, string | undefined][] = [
    ['debian:12', 'dpkg'], ['ubuntu:22.04', 'dpkg'], ['alpine:3.19', 'apk'], ['wolfi:rolling', 'apk'], ['rhel:9', 'rpm'],
    ['amzn:2023', 'rpm'], ['npm', 'semver'], ['pypi', 'pep440'], ['maven', 'maven'], ['go', 'go'], ['gem', 'gem'],
    ['cargo', 'semver'], ['nuget', 'nuget'], ['composer', 'composer'], ['PyPI', undefined], ['gentoo:2', undefined], ['constructor', undefined],
  ];
  for (const [namespace, scheme] of cases) assert.equal(schemeForNamespace(namespace), scheme, namespace);
});

test('normalizeName only changes names where the feeds key them differently', () => {
  assert.equal(normalizeName('pypi', 'Pillow_SIMD'), 'pillow-simd');
  assert.equal(normalizeName('nuget', 'Newtonsoft.Json'), 'newtonsoft.json');
  assert.equal(normalizeName('composer', 'Symfony/HTTP-Kernel'), 'symfony/http-kernel');
  for (const ns of ['npm', 'maven', 'go', 'gem', 'cargo', 'debian:12', 'unknown']) assert.equal(normalizeName(ns, 'Some_Name.X'), 'Some_Name.X', ns);
  assert.equal(distroNamespace(ALPINE), 'alpine:3.19');
});
