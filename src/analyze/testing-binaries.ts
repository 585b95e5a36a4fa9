/**
 * Builders of minimal ELF, PE and Mach-O files for tests: a header, the given sections at the
 * given virtual addresses, and a mapping (PT_LOAD / segment / PE section) for each, so that both
 * section lookup and virtual-address reads work. No toolchain needed.
 */

export interface TestSection {
  name: string;
  /** Virtual address (PE: relative to the image base). Keep it 16-aligned. */
  addr: number;
  data: Buffer;
  writable?: boolean;
  /** Mach-O segment name; default `__DATA`. */
  segment?: string;
}

export interface ElfOptions { bits?: 32 | 64; littleEndian?: boolean; sections: TestSection[]; withProgramHeaders?: boolean }

const align = (n: number, a: number) => Math.ceil(n / a) * a;

class Writer {
  buf: Buffer;
  constructor(size: number, readonly le: boolean) { this.buf = Buffer.alloc(size); }
  u8(at: number, v: number) { this.buf.writeUInt8(v, at); }
  u16(at: number, v: number) { if (this.le) this.buf.writeUInt16LE(v, at); else this.buf.writeUInt16BE(v, at); }
  u32(at: number, v: number) { if (this.le) this.buf.writeUInt32LE(v >>> 0, at); else this.buf.writeUInt32BE(v >>> 0, at); }
  u64(at: number, v: number) { if (this.le) this.buf.writeBigUInt64LE(BigInt(v), at); else this.buf.writeBigUInt64BE(BigInt(v), at); }
  word(at: number, v: number, bits: 32 | 64) { if (bits === 64) this.u64(at, v); else this.u32(at, v); }
}

export function buildElf(opts: ElfOptions): Buffer {
  const bits = opts.bits ?? 64;
  const le = opts.littleEndian ?? true;
  const withPh = opts.withProgramHeaders ?? true;
  const ehsize = bits === 64 ? 64 : 52;
  const phentsize = bits === 64 ? 56 : 32;
  const shentsize = bits === 64 ? 64 : 40;
  const phnum = withPh ? opts.sections.length : 0;
  let off = align(ehsize + phnum * phentsize, 16);
  const placed = opts.sections.map((s) => {
    const at = off;
    off = align(off + s.data.length, 16);
    return { ...s, offset: at };
  });
  const names = ['', ...opts.sections.map((s) => s.name), '.shstrtab'];
  const nameOffsets: number[] = [];
  let strtab = '';
  for (const n of names) {
    nameOffsets.push(strtab.length);
    strtab += `${n}\0`;
  }
  const strOff = off;
  off = align(off + strtab.length, 16);
  const shoff = off;
  const shnum = names.length;
  const w = new Writer(shoff + shnum * shentsize, le);
  w.buf.write('\x7fELF', 0, 'latin1');
  w.u8(4, bits === 64 ? 2 : 1);
  w.u8(5, le ? 1 : 2);
  w.u8(6, 1);
  w.u16(16, 2); // ET_EXEC
  w.u16(18, bits === 64 ? 62 : 3);
  w.u32(20, 1);
  if (bits === 64) {
    w.u64(32, withPh ? ehsize : 0);
    w.u64(40, shoff);
    w.u16(52, ehsize); w.u16(54, phentsize); w.u16(56, phnum); w.u16(58, shentsize); w.u16(60, shnum); w.u16(62, shnum - 1);
  } else {
    w.u32(28, withPh ? ehsize : 0);
    w.u32(32, shoff);
    w.u16(40, ehsize); w.u16(42, phentsize); w.u16(44, phnum); w.u16(46, shentsize); w.u16(48, shnum); w.u16(50, shnum - 1);
  }
  placed.forEach((s, i) => {
    s.data.copy(w.buf, s.offset);
    if (withPh) {
      const at = ehsize + i * phentsize;
      const flags = 4 | (s.writable ? 2 : 0);
      w.u32(at, 1);
      if (bits === 64) {
        w.u32(at + 4, flags); w.u64(at + 8, s.offset); w.u64(at + 16, s.addr); w.u64(at + 24, s.addr);
        w.u64(at + 32, s.data.length); w.u64(at + 40, s.data.length); w.u64(at + 48, 16);
      } else {
        w.u32(at + 4, s.offset); w.u32(at + 8, s.addr); w.u32(at + 12, s.addr);
        w.u32(at + 16, s.data.length); w.u32(at + 20, s.data.length); w.u32(at + 24, flags); w.u32(at + 28, 16);
      }
    }
  });
  w.buf.write(strtab, strOff, 'latin1');
  const section = (i: number, type: number, flags: number, addr: number, offset: number, size: number) => {
    const at = shoff + i * shentsize;
    w.u32(at, nameOffsets[i]!);
    w.u32(at + 4, type);
    if (bits === 64) { w.u64(at + 8, flags); w.u64(at + 16, addr); w.u64(at + 24, offset); w.u64(at + 32, size); w.u64(at + 48, 16); }
    else { w.u32(at + 8, flags); w.u32(at + 12, addr); w.u32(at + 16, offset); w.u32(at + 20, size); w.u32(at + 32, 16); }
  };
  placed.forEach((s, i) => section(i + 1, 1, 2 | (s.writable ? 1 : 0), s.addr, s.offset, s.data.length));
  section(shnum - 1, 3, 0, 0, strOff, strtab.length);
  return w.buf;
}

export interface PeOptions { bits?: 32 | 64; imageBase?: number; sections: TestSection[] }

export function buildPe(opts: PeOptions): Buffer {
  const bits = opts.bits ?? 64;
  const imageBase = opts.imageBase ?? 0x400000;
  const peOff = 0x80;
  const optSize = bits === 64 ? 240 : 224;
  const table = peOff + 4 + 20 + optSize;
  // Section names longer than 8 bytes go to a COFF string table after the data.
  let off = align(table + opts.sections.length * 40, 512);
  const placed = opts.sections.map((s) => {
    const at = off;
    off = align(off + s.data.length, 512);
    return { ...s, offset: at, rawSize: align(s.data.length, 512) };
  });
  const longNames = opts.sections.filter((s) => s.name.length > 8);
  const strtabOff = off;
  let strtab = Buffer.alloc(4);
  const longOffsets = new Map<string, number>();
  for (const s of longNames) {
    longOffsets.set(s.name, strtab.length);
    strtab = Buffer.concat([strtab, Buffer.from(`${s.name}\0`)]);
  }
  strtab.writeUInt32LE(strtab.length, 0);
  const w = new Writer(strtabOff + (longNames.length ? strtab.length : 0), true);
  w.buf.write('MZ', 0, 'latin1');
  w.u32(0x3c, peOff);
  w.buf.write('PE\0\0', peOff, 'latin1');
  const coff = peOff + 4;
  w.u16(coff, bits === 64 ? 0x8664 : 0x14c);
  w.u16(coff + 2, opts.sections.length);
  w.u32(coff + 8, longNames.length ? strtabOff : 0);
  w.u32(coff + 12, 0);
  w.u16(coff + 16, optSize);
  const opt = coff + 20;
  w.u16(opt, bits === 64 ? 0x20b : 0x10b);
  if (bits === 64) w.u64(opt + 24, imageBase);
  else w.u32(opt + 28, imageBase);
  placed.forEach((s, i) => {
    const at = table + i * 40;
    const name = s.name.length > 8 ? `/${longOffsets.get(s.name)}` : s.name;
    w.buf.write(name, at, 'latin1');
    w.u32(at + 8, s.data.length);
    w.u32(at + 12, s.addr);
    w.u32(at + 16, s.rawSize);
    w.u32(at + 20, s.offset);
    w.u32(at + 36, 0x40000040 | (s.writable ? 0x80000000 : 0));
    s.data.copy(w.buf, s.offset);
  });
  if (longNames.length) strtab.copy(w.buf, strtabOff);
  return w.buf;
}

export interface MachOOptions { sections: TestSection[] }

/** A 64-bit little-endian Mach-O with one LC_SEGMENT_64 per section. */
export function buildMachO(opts: MachOOptions): Buffer {
  const cmdSize = 72 + 80;
  const sizeofcmds = cmdSize * opts.sections.length;
  let off = align(32 + sizeofcmds, 16);
  const placed = opts.sections.map((s) => {
    const at = off;
    off = align(off + s.data.length, 16);
    return { ...s, offset: at };
  });
  const w = new Writer(off, true);
  w.u32(0, 0xfeedfacf);
  w.u32(4, 0x01000007);
  w.u32(12, 2);
  w.u32(16, opts.sections.length);
  w.u32(20, sizeofcmds);
  placed.forEach((s, i) => {
    const at = 32 + i * cmdSize;
    const seg = s.segment ?? '__DATA';
    w.u32(at, 0x19);
    w.u32(at + 4, cmdSize);
    w.buf.write(seg, at + 8, 'latin1');
    w.u64(at + 24, s.addr); w.u64(at + 32, s.data.length); w.u64(at + 40, s.offset); w.u64(at + 48, s.data.length);
    w.u32(at + 56, 3); w.u32(at + 60, s.writable === false ? 1 : 3); w.u32(at + 64, 1);
    const sa = at + 72;
    w.buf.write(s.name, sa, 'latin1');
    w.buf.write(seg, sa + 16, 'latin1');
    w.u64(sa + 32, s.addr); w.u64(sa + 40, s.data.length); w.u32(sa + 48, s.offset);
    s.data.copy(w.buf, s.offset);
  });
  return w.buf;
}
