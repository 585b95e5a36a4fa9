import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBinary, findSection, sectionData, readVirtual } from './binfmt.js';
import { buildElf, buildMachO, buildPe } from './testing-binaries.js';
import { isLadingError } from '../errors.js';

const payload = Buffer.from('section payload bytes');
const sections = [
  { name: '.text', addr: 0x401000, data: Buffer.alloc(48, 0x90) },
  { name: '.go.buildinfo', addr: 0x600000, data: payload, writable: true },
];

test('ELF 64/32, little/big endian: named sections and virtual reads', () => {
  for (const [bits, littleEndian] of [[64, true], [32, true], [64, false], [32, false]] as const) {
    const bin = parseBinary(buildElf({ bits, littleEndian, sections }))!;
    const label = `${bits} ${littleEndian}`;
    assert.equal(bin.format, 'elf', label);
    assert.equal(bin.bits, bits, label);
    assert.equal(bin.littleEndian, littleEndian, label);
    const s = findSection(bin, '.go.buildinfo')!;
    assert.equal(s.addr, 0x600000, label);
    assert.equal(s.writable, true, label);
    assert.deepEqual(sectionData(bin, s), payload, label);
    assert.deepEqual(readVirtual(bin, 0x600008, 7), payload.subarray(8, 15), label);
    assert.equal(readVirtual(bin, 0x600000 + payload.length - 2, 4), undefined, label);
    assert.equal(readVirtual(bin, 0x700000, 1), undefined, label);
  }
});

test('ELF without program headers maps addresses through sections', () => {
  const bin = parseBinary(buildElf({ sections, withProgramHeaders: false }))!;
  assert.equal(bin.segments.length, 0);
  assert.deepEqual(readVirtual(bin, 0x600000, 7), payload.subarray(0, 7));
});

test('PE 32/64: image base, long section names from the string table', () => {
  for (const bits of [32, 64] as const) {
    const bin = parseBinary(buildPe({ bits, imageBase: 0x10000000, sections: [{ name: '.text', addr: 0x1000, data: Buffer.alloc(16) }, { name: '.go.buildinfo', addr: 0x2000, data: payload, writable: true }] }))!;
    assert.equal(bin.format, 'pe');
    assert.equal(bin.bits, bits);
    const s = findSection(bin, '.go.buildinfo')!;
    assert.equal(s.addr, 0x10002000);
    assert.deepEqual(sectionData(bin, s), payload);
    assert.deepEqual(readVirtual(bin, 0x10002000, payload.length), payload);
  }
});

test('Mach-O 64: segments and sections', () => {
  const bin = parseBinary(buildMachO({ sections: [{ name: '__text', segment: '__TEXT', addr: 0x100001000, data: Buffer.alloc(16), writable: false }, { name: '__go_buildinfo', addr: 0x100200000, data: payload }] }))!;
  assert.equal(bin.format, 'macho');
  const s = findSection(bin, '__go_buildinfo', '__DATA')!;
  assert.equal(s.addr, 0x100200000);
  assert.deepEqual(sectionData(bin, s), payload);
  assert.equal(findSection(bin, '__text', '__DATA'), undefined);
  assert.deepEqual(readVirtual(bin, 0x100200004, 4), payload.subarray(4, 8));
});

test('not a binary, or a DOS file without a PE header: undefined', () => {
  assert.equal(parseBinary(Buffer.from('#!/bin/sh\n')), undefined);
  assert.equal(parseBinary(Buffer.from('MZ')), undefined);
  assert.equal(parseBinary(Buffer.concat([Buffer.from('MZ'), Buffer.alloc(100)])), undefined);
});

test('headers pointing outside the file are BAD_INPUT', () => {
  const elf = Buffer.from(buildElf({ sections }));
  elf.writeBigUInt64LE(BigInt(elf.length + 100), 40); // e_shoff
  assert.throws(() => parseBinary(elf), (e) => isLadingError(e) && e.code === 'BAD_INPUT');
  const macho = Buffer.from(buildMachO({ sections }));
  macho.writeUInt32LE(0xfffffff0, 20); // sizeofcmds
  assert.throws(() => parseBinary(macho), (e) => isLadingError(e) && e.code === 'BAD_INPUT');
  assert.throws(() => parseBinary(buildElf({ sections }).subarray(0, 40)), (e) => isLadingError(e) && e.code === 'BAD_INPUT');
});

test('mutated headers never escape as anything but LadingError', () => {
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const originals = [buildElf({ sections }), buildElf({ bits: 32, littleEndian: false, sections }), buildPe({ sections }), buildMachO({ sections })];
  for (let round = 0; round < 3000; round++) {
    const buf = Buffer.from(originals[round % originals.length]!);
    const flips = 1 + Math.floor(rand() * 6);
    for (let f = 0; f < flips; f++) buf[Math.floor(rand() * Math.min(buf.length, 512))] = Math.floor(rand() * 256);
    try {
      const bin = parseBinary(buf);
      if (bin) for (const s of bin.sections) { sectionData(bin, s); readVirtual(bin, s.addr, 8); }
    } catch (e) {
      assert.ok(isLadingError(e), `round ${round}: ${String(e)}`);
    }
  }
});
