// pcapng files: a sequence of blocks (type, total length, body, total length
// again). Reading follows the blocks that carry frames and the interface
// descriptions that give them a link type, name and clock; every other block
// is skipped by its length. Several sections in one file are read in turn.
// Writing produces one little-endian section.
import { openSync, writeFileSync } from 'node:fs';
import {
  type CapturedFrame,
  type ParsedCapture,
  DEFAULT_SNAPLEN,
  CaptureStream,
  LINKTYPE_ETHERNET,
  NS_PER_SECOND,
  checkSnaplen,
  checkTimeNs,
  corruptError,
  linkTypeError,
  pad4,
  truncatedError,
} from './capture.js';

export const BT_SECTION_HEADER = 0x0a0d0d0a;
const BT_INTERFACE_DESCRIPTION = 0x00000001;
const BT_OBSOLETE_PACKET = 0x00000002;
const BT_SIMPLE_PACKET = 0x00000003;
const BT_ENHANCED_PACKET = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPT_ENDOFOPT = 0;
const OPT_SHB_USERAPPL = 4;
const OPT_IF_NAME = 2;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

// type + length before the body, length after it
const BLOCK_OVERHEAD = 12;
const SHB_MIN_LEN = 28;
const EPB_FIXED = 20;

/** True when the bytes start with a pcapng Section Header Block. */
export function isPcapngMagic(bytes: Uint8Array): boolean {
  // The block type reads the same in both byte orders on purpose.
  return bytes.length >= 4 && bytes[0] === 0x0a && bytes[1] === 0x0d && bytes[2] === 0x0d && bytes[3] === 0x0a;
}

interface ReadInterface {
  /** Position in the file-wide interface list. */
  index: number;
  name: string | undefined;
  snaplen: number;
  // timestamp ticks → ns: ticks * tickMul / tickDiv + offsetNs
  tickMul: bigint;
  tickDiv: bigint;
  offsetNs: bigint;
}

export function parsePcapng(bytes: Uint8Array, name: string): ParsedCapture {
  const n = bytes.length;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const interfaces: string[] = [];
  const frames: CapturedFrame[] = [];
  let section: ReadInterface[] = [];
  let le = true;
  let sawSection = false;
  // Simple Packet Blocks carry no time; they take the previous frame's, so a replay clock never runs backwards.
  let lastTimeNs = 0n;

  let off = 0;
  while (off < n) {
    if (n - off < 8) throw truncatedError(name, off, 'block header', 8, n - off);
    const type = dv.getUint32(off, le);

    if (type === BT_SECTION_HEADER) {
      if (n - off < SHB_MIN_LEN) throw truncatedError(name, off, 'section header block', SHB_MIN_LEN, n - off);
      const magic = dv.getUint32(off + 8, true);
      if (magic === BYTE_ORDER_MAGIC) le = true;
      else if (dv.getUint32(off + 8, false) === BYTE_ORDER_MAGIC) le = false;
      else throw corruptError(name, off + 8, `section header byte-order magic 0x${magic.toString(16)} is neither order of 0x1a2b3c4d`);
      const major = dv.getUint16(off + 12, le);
      if (major !== 1) throw corruptError(name, off + 12, `pcapng section version ${major}.${dv.getUint16(off + 14, le)} is not 1.x`);
      section = [];
      sawSection = true;
    } else if (!sawSection) {
      throw corruptError(name, off, 'pcapng file does not start with a section header block');
    }

    const len = dv.getUint32(off + 4, le);
    if (len < BLOCK_OVERHEAD || len % 4 !== 0) {
      throw corruptError(name, off + 4, `block length ${len} is not a multiple of 4 of at least 12`);
    }
    if (len > n - off) throw truncatedError(name, off, `block of type 0x${type.toString(16)}`, len, n - off);
    const trailer = dv.getUint32(off + len - 4, le);
    if (trailer !== len) throw corruptError(name, off + len - 4, `block trailer length ${trailer} differs from header length ${len}`);
    const body = off + 8;
    const bodyEnd = off + len - 4;

    switch (type) {
      case BT_SECTION_HEADER:
        if (len < SHB_MIN_LEN) throw corruptError(name, off + 4, `section header block length ${len} is below ${SHB_MIN_LEN}`);
        break;
      case BT_INTERFACE_DESCRIPTION:
        section.push(readInterface(dv, bytes, body, bodyEnd, le, name, interfaces));
        break;
      case BT_ENHANCED_PACKET:
      case BT_OBSOLETE_PACKET: {
        if (bodyEnd - body < EPB_FIXED) throw corruptError(name, off, `packet block body of ${bodyEnd - body} bytes is below ${EPB_FIXED}`);
        const ifId = type === BT_ENHANCED_PACKET ? dv.getUint32(body, le) : dv.getUint16(body, le);
        const itf = section[ifId];
        if (itf === undefined) throw corruptError(name, off, `packet names interface ${ifId}, but the section describes ${section.length}`);
        const ticks = (BigInt(dv.getUint32(body + 4, le)) << 32n) | BigInt(dv.getUint32(body + 8, le));
        const capLen = dv.getUint32(body + 12, le);
        const origLen = dv.getUint32(body + 16, le);
        const dataOff = body + EPB_FIXED;
        if (capLen > bodyEnd - dataOff) throw corruptError(name, off, `captured length ${capLen} overruns its block of ${len} bytes`);
        const timeNs = (ticks * itf.tickMul) / itf.tickDiv + itf.offsetNs;
        lastTimeNs = timeNs;
        frames.push(frameOf(bytes.slice(dataOff, dataOff + capLen), timeNs, itf, origLen));
        break;
      }
      case BT_SIMPLE_PACKET: {
        if (bodyEnd - body < 4) throw corruptError(name, off, 'simple packet block has no length field');
        const itf = section[0];
        if (itf === undefined) throw corruptError(name, off, 'simple packet block before any interface description');
        const origLen = dv.getUint32(body, le);
        const dataOff = body + 4;
        let capLen = Math.min(origLen, bodyEnd - dataOff);
        if (itf.snaplen > 0) capLen = Math.min(capLen, itf.snaplen);
        frames.push(frameOf(bytes.slice(dataOff, dataOff + capLen), lastTimeNs, itf, origLen));
        break;
      }
      default:
        // statistics, name resolution, decryption secrets, custom blocks: nothing tapvs replays
        break;
    }
    off += len;
  }
  return { format: 'pcapng', interfaces, frames };
}

function frameOf(data: Uint8Array, timeNs: bigint, itf: ReadInterface, origLen: number): CapturedFrame {
  const frame: CapturedFrame = { data, timeNs, ifIndex: itf.index, origLen };
  if (itf.name !== undefined) frame.ifName = itf.name;
  return frame;
}

function readInterface(
  dv: DataView,
  bytes: Uint8Array,
  body: number,
  bodyEnd: number,
  le: boolean,
  file: string,
  interfaces: string[],
): ReadInterface {
  if (bodyEnd - body < 8) throw corruptError(file, body - 8, 'interface description block is shorter than its fixed fields');
  const linkType = dv.getUint16(body, le);
  if (linkType !== LINKTYPE_ETHERNET) throw linkTypeError(file, linkType);
  const itf: ReadInterface = {
    index: interfaces.length,
    name: undefined,
    snaplen: dv.getUint32(body + 4, le),
    tickMul: 1000n, // default resolution: microseconds
    tickDiv: 1n,
    offsetNs: 0n,
  };
  let p = body + 8;
  while (p < bodyEnd) {
    if (bodyEnd - p < 4) throw corruptError(file, p, 'option header overruns its block');
    const code = dv.getUint16(p, le);
    const optLen = dv.getUint16(p + 2, le);
    const v = p + 4;
    if (code === OPT_ENDOFOPT) break;
    if (optLen > bodyEnd - v) throw corruptError(file, p, `option ${code} of ${optLen} bytes overruns its block`);
    if (code === OPT_IF_NAME) {
      itf.name = new TextDecoder().decode(bytes.subarray(v, v + optLen)).replace(/\0+$/, '');
    } else if (code === OPT_IF_TSRESOL) {
      if (optLen < 1) throw corruptError(file, p, 'if_tsresol option is empty');
      setResolution(itf, bytes[v]!);
    } else if (code === OPT_IF_TSOFFSET) {
      if (optLen < 8) throw corruptError(file, p, 'if_tsoffset option is shorter than 8 bytes');
      itf.offsetNs = dv.getBigInt64(v, le) * NS_PER_SECOND;
    }
    p = v + pad4(optLen);
  }
  interfaces.push(itf.name ?? '');
  return itf;
}

function setResolution(itf: ReadInterface, resol: number): void {
  const exp = BigInt(resol & 0x7f);
  if ((resol & 0x80) !== 0) {
    // 2^-exp seconds per tick
    itf.tickMul = NS_PER_SECOND;
    itf.tickDiv = 1n << exp;
  } else if (exp <= 9n) {
    itf.tickMul = 10n ** (9n - exp);
    itf.tickDiv = 1n;
  } else {
    itf.tickMul = 1n;
    itf.tickDiv = 10n ** (exp - 9n);
  }
}

export interface PcapngWriterOptions {
  /** Nanosecond timestamps (if_tsresol 9) keep every bit of `timeNs`; default true. False writes microseconds. */
  nanos?: boolean;
  /** Frames longer than this are cut to it (their original length is kept). Default 262144. */
  snaplen?: number;
}

const textEncoder = new TextEncoder();

/** Encodes one little-endian section: its header blocks and its Enhanced Packet Blocks. */
class PcapngEncoder {
  readonly nanos: boolean;
  readonly snaplen: number;
  readonly interfaceCount: number;
  private readonly header: Uint8Array;

  constructor(interfaces: readonly string[], opts: PcapngWriterOptions = {}) {
    this.nanos = opts.nanos ?? true;
    this.snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    checkSnaplen(this.snaplen);
    this.interfaceCount = interfaces.length;
    const blocks = [sectionHeader(), ...interfaces.map((ifName) => this.interfaceDescription(ifName))];
    this.header = concat(blocks);
  }

  headerBytes(): Uint8Array {
    return this.header;
  }

  get maxRecord(): number {
    return BLOCK_OVERHEAD + EPB_FIXED + pad4(this.snaplen);
  }

  private interfaceDescription(ifName: string): Uint8Array {
    const opts: Uint8Array[] = [];
    if (ifName !== '') opts.push(option(OPT_IF_NAME, textEncoder.encode(ifName)));
    if (this.nanos) opts.push(option(OPT_IF_TSRESOL, Uint8Array.of(9)));
    const fixed = new Uint8Array(8);
    const dv = new DataView(fixed.buffer);
    dv.setUint16(0, LINKTYPE_ETHERNET, true);
    dv.setUint32(4, this.snaplen, true);
    return block(BT_INTERFACE_DESCRIPTION, [fixed, ...withEnd(opts)]);
  }

  /** Writes one Enhanced Packet Block at `pos`; returns its length. Throws RangeError on bad input. */
  encodePacket(out: Uint8Array, pos: number, ifIndex: number, timeNs: bigint, frame: Uint8Array): number {
    if (!Number.isInteger(ifIndex) || ifIndex < 0 || ifIndex >= this.interfaceCount) {
      throw new RangeError(`interface ${ifIndex} was not declared (${this.interfaceCount} interfaces)`);
    }
    checkTimeNs(timeNs);
    const ticks = this.nanos ? timeNs : timeNs / 1000n;
    if (ticks > 0xffffffffffffffffn) throw new RangeError(`capture timestamp ${timeNs} ns does not fit 64 bits`);
    const capLen = Math.min(frame.length, this.snaplen);
    const len = BLOCK_OVERHEAD + EPB_FIXED + pad4(capLen);
    const dv = new DataView(out.buffer, out.byteOffset + pos, len);
    dv.setUint32(0, BT_ENHANCED_PACKET, true);
    dv.setUint32(4, len, true);
    dv.setUint32(8, ifIndex, true);
    dv.setUint32(12, Number(ticks >> 32n), true);
    dv.setUint32(16, Number(ticks & 0xffffffffn), true);
    dv.setUint32(20, capLen, true);
    dv.setUint32(24, frame.length, true);
    out.set(frame.subarray(0, capLen), pos + 28);
    out.fill(0, pos + 28 + capLen, pos + len - 4);
    dv.setUint32(len - 4, len, true);
    return len;
  }
}

function sectionHeader(): Uint8Array {
  const fixed = new Uint8Array(16);
  const dv = new DataView(fixed.buffer);
  dv.setUint32(0, BYTE_ORDER_MAGIC, true);
  dv.setUint16(4, 1, true);
  dv.setUint16(6, 0, true);
  // section length unknown
  dv.setBigInt64(8, -1n, true);
  return block(BT_SECTION_HEADER, [fixed, ...withEnd([option(OPT_SHB_USERAPPL, textEncoder.encode('tapvs'))])]);
}

function option(code: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + pad4(value.length));
  const dv = new DataView(out.buffer);
  dv.setUint16(0, code, true);
  dv.setUint16(2, value.length, true);
  out.set(value, 4);
  return out;
}

function withEnd(opts: Uint8Array[]): Uint8Array[] {
  return opts.length === 0 ? [] : [...opts, new Uint8Array(4)];
}

function block(type: number, parts: Uint8Array[]): Uint8Array {
  const bodyLen = parts.reduce((s, p) => s + p.length, 0);
  const len = BLOCK_OVERHEAD + bodyLen;
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, true);
  dv.setUint32(4, len, true);
  out.set(concat(parts), 8);
  dv.setUint32(len - 4, len, true);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** Builds a pcapng file in memory: one section, one interface per name, in order. */
export class PcapngWriter {
  private readonly enc: PcapngEncoder;
  private readonly blocks: Uint8Array[] = [];

  constructor(interfaces: string[], opts?: PcapngWriterOptions) {
    this.enc = new PcapngEncoder(interfaces, opts);
  }

  /** Appends a frame seen on interface `ifIndex` (its position in the constructor's list). */
  add(ifIndex: number, timeNs: bigint, frame: Uint8Array): void {
    const blk = new Uint8Array(BLOCK_OVERHEAD + EPB_FIXED + pad4(Math.min(frame.length, this.enc.snaplen)));
    this.enc.encodePacket(blk, 0, ifIndex, timeNs, frame);
    this.blocks.push(blk);
  }

  toBytes(): Uint8Array {
    return concat([this.enc.headerBytes(), ...this.blocks]);
  }

  writeFile(path: string): void {
    writeFileSync(path, this.toBytes());
  }
}

export interface PcapngStreamOptions extends PcapngWriterOptions {
  /** Bytes kept in memory before a write to the file; 0 writes each frame at once. Default 65536. */
  bufferBytes?: number;
}

/**
 * Appends frames to an open file as they happen (e.g. a live capture of what
 * tapvs sends on each port). `add` never throws: bad input is counted in
 * `rejected`, failed writes in `writeErrors`.
 */
export class PcapngStreamWriter extends CaptureStream {
  private readonly enc: PcapngEncoder;

  static open(path: string, interfaces: string[], opts?: PcapngStreamOptions): PcapngStreamWriter {
    return new PcapngStreamWriter(openSync(path, 'w'), interfaces, opts).own();
  }

  constructor(fd: number, interfaces: string[], opts: PcapngStreamOptions = {}) {
    const enc = new PcapngEncoder(interfaces, opts);
    super(fd, enc.headerBytes(), opts.bufferBytes ?? 65_536, enc.maxRecord);
    this.enc = enc;
  }

  add(ifIndex: number, timeNs: bigint, frame: Uint8Array): boolean {
    let len: number;
    try {
      len = this.enc.encodePacket(this.sink.buffer, this.sink.tail, ifIndex, timeNs, frame);
    } catch {
      this.rejected++;
      return false;
    }
    return this.sink.commit(len);
  }
}
