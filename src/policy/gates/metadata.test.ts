import { test } from 'node:test';
import assert from 'node:assert/strict';
import { file, fire, makeSbom } from '../testing.js';
import { bytesOf } from './metadata.js';

const layer = (index: number) => ({ index, digest: `sha256:${index}`, diffId: `sha256:${index}`, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 100 });
// 1024 (trailer) + 512 + 1024 (big file) + 512 + 512 (small file) + 512 (dir) = 4096, padded to one 10 KiB record.
const sbom = makeSbom({
  source: { layers: [layer(0), layer(1)], platform: { os: 'linux', architecture: 'arm64' } },
  distro: { id: 'ubuntu', versionId: '22.04', idLike: ['debian'], source: '/etc/os-release' },
  files: [file('/big', { size: 1000 }), file('/small', { size: 3 }), file('/d', { type: 'dir', size: 0 })],
});
const attr = (attribute: string, check: string, value: string | undefined, image: string) =>
  `Attribute check for attribute: '${attribute}' check: '${check}' check_value: '${value ?? ''}' matched image value: '${image}'`;

const cases: { params: Record<string, string>; want: string[]; sbom?: typeof sbom }[] = [
  { params: { attribute: 'size', check: '>', value: '8kb' }, want: [attr('size', '>', '8192', '10240')] },
  { params: { attribute: 'size', check: '<', value: '1024' }, want: [] },
  { params: { attribute: 'size', check: '<=', value: '10240' }, want: [attr('size', '<=', '10240', '10240')] },
  { params: { attribute: 'architecture', check: '=', value: 'arm64' }, want: [attr('architecture', '=', 'arm64', 'arm64')] },
  { params: { attribute: 'architecture', check: '!=', value: 'arm64' }, want: [] },
  { params: { attribute: 'os_type', check: 'in', value: 'windows, linux' }, want: [attr('os_type', 'in', 'windows, linux', 'linux')] },
  { params: { attribute: 'distro', check: 'not_in', value: 'debian,ubuntu' }, want: [] },
  { params: { attribute: 'distro', check: 'like', value: 'ubu.*' }, want: [attr('distro', 'like', 'ubu.*', 'ubuntu')] },
  { params: { attribute: 'distro', check: 'not_like', value: 'ubu' }, want: [] },
  { params: { attribute: 'distro_version', check: '>=', value: '20.04' }, want: [attr('distro_version', '>=', '20.04', '22.04')] },
  { params: { attribute: 'like_distro', check: '=', value: 'debian' }, want: [attr('like_distro', '=', 'debian', 'debian')] },
  { params: { attribute: 'like_distro', check: '=', value: 'alpine' }, sbom: makeSbom({ distro: { id: 'alpine', versionId: '3.19', idLike: [], source: '' } }), want: [attr('like_distro', '=', 'alpine', 'alpine')] },
  { params: { attribute: 'layer_count', check: '<', value: '3' }, want: [attr('layer_count', '<', '3', '2')] },
  { params: { attribute: 'layer_count', check: '>', value: '2' }, want: [] },
  { params: { attribute: 'distro', check: 'exists' }, want: [attr('distro', 'exists', undefined, 'ubuntu')] },
  { params: { attribute: 'distro', check: 'not_exists' }, want: [] },
  { params: { attribute: 'distro', check: '=' }, want: [] },
];
for (const c of cases) {
  test(`metadata/attribute: ${c.params.attribute} ${c.params.check} ${c.params.value ?? ''}`, () => {
    assert.deepEqual(fire('metadata', 'attribute', c.params, { sbom: c.sbom ?? sbom }).map((f) => f.msg), c.want);
  });
}

test('metadata: sizes in bytes and units', () => {
  assert.equal(bytesOf('1073741824'), 1073741824);
  assert.equal(bytesOf('1gb'), 1073741824);
  assert.equal(bytesOf('2MB'), 2 * 1024 * 1024);
  assert.throws(() => bytesOf('1.5gb'), /invalid size/);
});
