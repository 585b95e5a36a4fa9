/**
 * Just enough of ELF, PE and Mach-O to find named sections and map virtual addresses to file
 * offsets: what the Go build-info and Rust cargo-auditable readers need. Bounds-checked throughout;
 * a header that points outside the file is a LadingError('BAD_INPUT').
 */
import { LadingError } from '../errors.js';

export type BinaryFormat = 'elf' | 'pe' | 'macho';

export interface Section {
  name: string;
  /** Mach-O segment the section belongs to (`__DATA`); empty for ELF and PE. */
  segment: string;
  /** Virtual address (PE: image base + RVA). */
  addr: number;
  /** Size in memory. */
  size: number;
  /** File offset of the section's bytes. */
  offset: number;
  /** Bytes present in the file (0 for .bss-like sections). */
  fileSize: number;
  writable: boolean;
}

/** A mapping from virtual addresses to file bytes (ELF PT_LOAD, Mach-O segment, PE section). */
export interface Segment {
  addr: number;
  memSize: number;
  offset: number;
  fileSize: number;
  writable: boolean;
}

export interface BinaryFile {
  format: BinaryFormat;
  bits: 32 | 64;
  littleEndian: boolean;
  sections: Section[];
  segments: Segment[];
  data: Buffer;
}

/** Magic numbers of the formats understood here, for FileWants.magic. */
export const BINARY_MAGIC: Buffer[] = [
  Buffer.from('\x7fELF', 'latin1'),
  Buffer.from([0xcf, 0xfa, 0xed, 0xfe]),
  Buffer.from([0xce, 0xfa, 0xed, 0xfe]),
  Buffer.from([0xfe, 0xed, 0xfa, 0xcf]),
  Buffer.from([0xfe, 0xed, 0xfa, 0xce]),
  Buffer.from('MZ', 'latin1'),
];

function bad(message: string): LadingError {
  return new LadingError('BAD_INPUT', message);
}

/** Endian-aware bounded reads. */
class Reader {
  constructor(readonly buf: Buffer, readonly le: boolean, readonly what: string) {}
  private check(at: number, n: number): void {
    if (!Number.isSafeInteger(at) || at < 0 || at + n > this.buf.length) throw bad(`${this.what}: header field at ${at} is outside the file`);
  }
  u16(at: number): number {
    this.check(at, 2);
    return this.le ? this.buf.readUInt16LE(at) : this.buf.readUInt16BE(at);
  }
  u32(at: number): number {
    this.check(at, 4);
    return this.le ? this.buf.readUInt32LE(at) : this.buf.readUInt32BE(at);
  }
  u64(at: number): number {
    this.check(at, 8);
    const v = this.le ? this.buf.readBigUInt64LE(at) : this.buf.readBigUInt64BE(at);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`${this.what}: 64-bit value at ${at} is out of range`);
    return Number(v);
  }
  word(at: number, bits: 32 | 64): number {
    return bits === 64 ? this.u64(at) : this.u32(at);
  }
  cstr(at: number, max: number): string {
    this.check(at, 0);
    const end = Math.min(this.buf.length, at + max);
    let stop = this.buf.indexOf(0, at);
    if (stop < 0 || stop > end) stop = end;
    return this.buf.toString('latin1', at, stop);
  }
}

function inFile(buf: Buffer, offset: number, size: number): boolean {
  return Number.isSafeInteger(offset) && Number.isSafeInteger(size) && offset >= 0 && size >= 0 && offset + size <= buf.length;
}

function parseElf(buf: Buffer): BinaryFile {
  if (buf.length < 52) throw bad('ELF: header truncated');
  const cls = buf[4];
  const enc = buf[5];
  if ((cls !== 1 && cls !== 2) || (enc !== 1 && enc !== 2)) throw bad('ELF: unknown class or byte order');
  const bits = cls === 2 ? 64 : 32;
  const r = new Reader(buf, enc === 1, 'ELF');
  const phoff = bits === 64 ? r.u64(32) : r.u32(28);
  const shoff = bits === 64 ? r.u64(40) : r.u32(32);
  const [phentsize, phnum, shentsize, shnum, shstrndx] = bits === 64
    ? [r.u16(54), r.u16(56), r.u16(58), r.u16(60), r.u16(62)]
    : [r.u16(42), r.u16(44), r.u16(46), r.u16(48), r.u16(50)];

  const segments: Segment[] = [];
  if (phnum > 0) {
    if (phentsize < (bits === 64 ? 56 : 32) || !inFile(buf, phoff, phnum * phentsize)) throw bad('ELF: program headers outside the file');
    for (let i = 0; i < phnum; i++) {
      const at = phoff + i * phentsize;
      if (r.u32(at) !== 1) continue; // PT_LOAD
      const seg: Segment = bits === 64
        ? { offset: r.u64(at + 8), addr: r.u64(at + 16), fileSize: r.u64(at + 32), memSize: r.u64(at + 40), writable: (r.u32(at + 4) & 2) !== 0 }
        : { offset: r.u32(at + 4), addr: r.u32(at + 8), fileSize: r.u32(at + 16), memSize: r.u32(at + 20), writable: (r.u32(at + 24) & 2) !== 0 };
      segments.push(seg);
    }
  }

  const sections: Section[] = [];
  if (shnum > 0 && shoff > 0) {
    if (shentsize < (bits === 64 ? 64 : 40) || !inFile(buf, shoff, shnum * shentsize)) throw bad('ELF: section headers outside the file');
    const raw = [];
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * shentsize;
      raw.push(bits === 64
        ? { nameOff: r.u32(at), type: r.u32(at + 4), flags: r.u64(at + 8), addr: r.u64(at + 16), offset: r.u64(at + 24), size: r.u64(at + 32) }
        : { nameOff: r.u32(at), type: r.u32(at + 4), flags: r.u32(at + 8), addr: r.u32(at + 12), offset: r.u32(at + 16), size: r.u32(at + 20) });
    }
    const strtab = raw[shstrndx];
    for (const s of raw) {
      let name = '';
      if (strtab && strtab.type !== 8 && inFile(buf, strtab.offset, strtab.size) && s.nameOff < strtab.size) {
        name = r.cstr(strtab.offset + s.nameOff, strtab.size - s.nameOff);
      }
      const nobits = s.type === 8 || s.type === 0;
      sections.push({
        name, segment: '', addr: s.addr, size: s.size, offset: s.offset,
        fileSize: nobits ? 0 : s.size, writable: (s.flags & 1) !== 0,
      });
    }
  }
  return { format: 'elf', bits, littleEndian: enc === 1, sections, segments, data: buf };
}

function parsePe(buf: Buffer): BinaryFile | undefined {
  if (buf.length < 0x40) return undefined;
  const r = new Reader(buf, true, 'PE');
  const peOff = r.u32(0x3c);
  if (!inFile(buf, peOff, 24) || buf.readUInt32LE(peOff) !== 0x00004550) return undefined; // "PE\0\0": otherwise a plain DOS file
  const coff = peOff + 4;
  const nsections = r.u16(coff + 2);
  const symtab = r.u32(coff + 8);
  const nsyms = r.u32(coff + 12);
  const optSize = r.u16(coff + 16);
  const opt = coff + 20;
  const magic = r.u16(opt);
  if (magic !== 0x10b && magic !== 0x20b) throw bad('PE: unknown optional header');
  const bits = magic === 0x20b ? 64 : 32;
  const imageBase = bits === 64 ? r.u64(opt + 24) : r.u32(opt + 28);
  const table = opt + optSize;
  if (!inFile(buf, table, nsections * 40)) throw bad('PE: section table outside the file');
  const strtab = symtab > 0 ? symtab + nsyms * 18 : 0;
  const sections: Section[] = [];
  const segments: Segment[] = [];
  for (let i = 0; i < nsections; i++) {
    const at = table + i * 40;
    let name = r.cstr(at, 8);
    // Long names: "/<decimal offset>" into the COFF string table.
    if (/^\/\d+$/.test(name) && strtab > 0) {
      const off = strtab + Number(name.slice(1));
      if (inFile(buf, off, 1)) name = r.cstr(off, 256);
    }
    const vsize = r.u32(at + 8);
    const rva = r.u32(at + 12);
    const rawSize = r.u32(at + 16);
    const rawPtr = r.u32(at + 20);
    const chars = r.u32(at + 36);
    const size = vsize || rawSize;
    const fileSize = Math.min(rawSize, size);
    const writable = (chars & 0x80000000) !== 0;
    sections.push({ name, segment: '', addr: imageBase + rva, size, offset: rawPtr, fileSize, writable });
    segments.push({ addr: imageBase + rva, memSize: size, offset: rawPtr, fileSize, writable });
  }
  return { format: 'pe', bits, littleEndian: true, sections, segments, data: buf };
}

function parseMachO(buf: Buffer): BinaryFile {
  if (buf.length < 28) throw bad('Mach-O: header truncated');
  const le = buf[0] === 0xce || buf[0] === 0xcf;
  const r = new Reader(buf, le, 'Mach-O');
  const magic = r.u32(0);
  const bits = magic === 0xfeedfacf ? 64 : 32;
  const ncmds = r.u32(16);
  const sizeofcmds = r.u32(20);
  let at = bits === 64 ? 32 : 28;
  if (!inFile(buf, at, sizeofcmds)) throw bad('Mach-O: load commands outside the file');
  const end = at + sizeofcmds;
  const sections: Section[] = [];
  const segments: Segment[] = [];
  for (let i = 0; i < ncmds; i++) {
    if (at + 8 > end) throw bad('Mach-O: load command truncated');
    const cmd = r.u32(at);
    const size = r.u32(at + 4);
    if (size < 8 || at + size > end) throw bad('Mach-O: load command size out of bounds');
    if (cmd === 0x19 || cmd === 0x1) {
      const is64 = cmd === 0x19;
      const segname = r.cstr(at + 8, 16);
      const seg: Segment = is64
        ? { addr: r.u64(at + 24), memSize: r.u64(at + 32), offset: r.u64(at + 40), fileSize: r.u64(at + 48), writable: (r.u32(at + 60) & 2) !== 0 }
        : { addr: r.u32(at + 24), memSize: r.u32(at + 28), offset: r.u32(at + 32), fileSize: r.u32(at + 36), writable: (r.u32(at + 44) & 2) !== 0 };
      segments.push(seg);
      const nsects = r.u32(at + (is64 ? 64 : 48));
      const first = at + (is64 ? 72 : 56);
      const entSize = is64 ? 80 : 68;
      if (first + nsects * entSize > at + size) throw bad('Mach-O: sections run past their segment command');
      for (let s = 0; s < nsects; s++) {
        const sa = first + s * entSize;
        const addr = is64 ? r.u64(sa + 32) : r.u32(sa + 32);
        const ssize = is64 ? r.u64(sa + 40) : r.u32(sa + 36);
        const offset = r.u32(sa + (is64 ? 48 : 40));
        const flags = r.u32(sa + (is64 ? 64 : 56));
        const type = flags & 0xff;
        const zerofill = type === 1 || type === 0x0c || type === 0x12;
        sections.push({
          name: r.cstr(sa, 16), segment: r.cstr(sa + 16, 16) || segname, addr, size: ssize, offset,
          fileSize: zerofill ? 0 : ssize, writable: seg.writable,
        });
      }
    }
    at += size;
  }
  return { format: 'macho', bits, littleEndian: le, sections, segments, data: buf };
}

/**
 * Parse an ELF, PE or Mach-O header. Returns undefined for anything else (including DOS `MZ` files
 * without a PE header); throws LadingError('BAD_INPUT') for a recognised but broken header.
 */
export function parseBinary(buf: Buffer): BinaryFile | undefined {
  if (buf.length < 4) return undefined;
  if (buf[0] === 0x7f && buf[1] === 0x45 && buf[2] === 0x4c && buf[3] === 0x46) return parseElf(buf);
  const m = buf.readUInt32BE(0);
  if (m === 0xcefaedfe || m === 0xcffaedfe || m === 0xfeedface || m === 0xfeedfacf) return parseMachO(buf);
  if (buf[0] === 0x4d && buf[1] === 0x5a) return parsePe(buf);
  return undefined;
}

/** First section with this name (and Mach-O segment, when given). */
export function findSection(bin: BinaryFile, name: string, segment?: string): Section | undefined {
  return bin.sections.find((s) => s.name === name && (segment === undefined || s.segment === segment));
}

/** The bytes of a section present in the file, or undefined when they lie outside it. */
export function sectionData(bin: BinaryFile, section: Section): Buffer | undefined {
  if (section.fileSize === 0 || !inFile(bin.data, section.offset, section.fileSize)) return undefined;
  return bin.data.subarray(section.offset, section.offset + section.fileSize);
}

/** `length` bytes at virtual address `addr`, via segments (sections when there are none); undefined if unmapped. */
export function readVirtual(bin: BinaryFile, addr: number, length: number): Buffer | undefined {
  if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(length) || length < 0) return undefined;
  const maps: { addr: number; offset: number; fileSize: number }[] = bin.segments.length ? bin.segments : bin.sections;
  for (const m of maps) {
    if (addr >= m.addr && addr + length <= m.addr + m.fileSize) {
      const off = m.offset + (addr - m.addr);
      if (inFile(bin.data, off, length)) return bin.data.subarray(off, off + length);
    }
  }
  return undefined;
}
