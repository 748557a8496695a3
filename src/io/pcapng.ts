// pcapng files: a sequence of blocks (type, total length, body, total length
// again). Reading follows the blocks that carry frames and the interface
// descriptions that give them a link type, name and clock; every other block
// is skipped by its length. Several sections in one file are read in turn.
// Writing produces one little-endian section.
import { writeFileSync } from 'node:fs';
import {
  type CaptureInterface,
  type CaptureReader,
  type ParsedCapture,
  type ReadOptions,
  DEFAULT_SNAPLEN,
  CaptureStream,
  LINKTYPE_ETHERNET,
  NS_PER_SECOND,
  checkLinkType,
  checkSnaplen,
  checkTimeNs,
  collect,
  openForWriting,
  corruptError,
  pad4,
  truncatedError,
} from './capture.js';
import { type ByteSource, MemorySource } from './capture-source.js';

export const BT_SECTION_HEADER = 0x0a0d0d0a;
const BT_INTERFACE_DESCRIPTION = 0x00000001;
const BT_OBSOLETE_PACKET = 0x00000002;
const BT_SIMPLE_PACKET = 0x00000003;
const BT_ENHANCED_PACKET = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPT_ENDOFOPT = 0;
const OPT_SHB_USERAPPL = 4;
const OPT_IF_NAME = 2;
/** opt_comment: any block's comment; on a packet, Wireshark's packet comment. */
const OPT_COMMENT = 1;
/** The longest packet comment a writer takes (a reader takes any). */
const MAX_PACKET_COMMENT = 128;
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

/**
 * Reads a pcapng file block by block (see CaptureReader): sections in turn,
 * interfaces as they are described, frames from Enhanced, obsolete and
 * Simple Packet Blocks; every other block is skipped by its length without
 * being read.
 */
export class PcapngReader implements CaptureReader {
  readonly format = 'pcapng';
  readonly interfaces: CaptureInterface[] = [];
  buf: Uint8Array;
  off = 0;
  capLen = 0;
  origLen = 0;
  ifIndex = 0;
  timeNs = 0n;
  /** The frame's packet comment (Enhanced Packet Blocks' opt_comment), if it has one. */
  comment: string | undefined = undefined;
  private section: ReadInterface[] = [];
  private le = true;
  private sawSection = false;
  // Simple Packet Blocks carry no time; they take the previous frame's, so a replay clock never runs backwards.
  private lastTimeNs = 0n;
  private pos = 0;

  constructor(private readonly src: ByteSource, private readonly opts: ReadOptions = {}) {
    this.buf = src.buf;
  }

  get name(): string {
    return this.src.name;
  }

  next(): boolean {
    const src = this.src;
    const name = src.name;
    const n = src.size;
    while (this.pos < n) {
      const off = this.pos;
      if (n - off < 8) throw truncatedError(name, off, 'block header', 8, n - off);
      src.load(off, 8);
      const type = src.dv.getUint32(off - src.base, this.le);

      if (type === BT_SECTION_HEADER) {
        if (n - off < SHB_MIN_LEN) throw truncatedError(name, off, 'section header block', SHB_MIN_LEN, n - off);
        src.load(off, SHB_MIN_LEN);
        const at = off - src.base;
        const magic = src.dv.getUint32(at + 8, true);
        if (magic === BYTE_ORDER_MAGIC) this.le = true;
        else if (src.dv.getUint32(at + 8, false) === BYTE_ORDER_MAGIC) this.le = false;
        else throw corruptError(name, off + 8, `section header byte-order magic 0x${magic.toString(16)} is neither order of 0x1a2b3c4d`);
        const major = src.dv.getUint16(at + 12, this.le);
        if (major !== 1) throw corruptError(name, off + 12, `pcapng section version ${major}.${src.dv.getUint16(at + 14, this.le)} is not 1.x`);
        this.section = [];
        this.sawSection = true;
      } else if (!this.sawSection) {
        throw corruptError(name, off, 'pcapng file does not start with a section header block');
      }

      const le = this.le;
      const len = src.dv.getUint32(off - src.base + 4, le);
      if (len < BLOCK_OVERHEAD || len % 4 !== 0) {
        throw corruptError(name, off + 4, `block length ${len} is not a multiple of 4 of at least 12`);
      }
      if (len > n - off) throw truncatedError(name, off, `block of type 0x${type.toString(16)}`, len, n - off);
      const read = type === BT_SECTION_HEADER || type === BT_INTERFACE_DESCRIPTION || type === BT_ENHANCED_PACKET ||
        type === BT_OBSOLETE_PACKET || type === BT_SIMPLE_PACKET;
      // a block tapvs has no use for is skipped: only its trailer is read
      if (read) src.load(off, len);
      else src.load(off + len - 4, 4);
      const dv = src.dv;
      const base = src.base;
      const trailer = dv.getUint32(off + len - 4 - base, le);
      if (trailer !== len) throw corruptError(name, off + len - 4, `block trailer length ${trailer} differs from header length ${len}`);
      this.pos = off + len;
      const body = off + 8;
      const bodyEnd = off + len - 4;

      switch (type) {
        case BT_SECTION_HEADER:
          if (len < SHB_MIN_LEN) throw corruptError(name, off + 4, `section header block length ${len} is below ${SHB_MIN_LEN}`);
          break;
        case BT_INTERFACE_DESCRIPTION:
          this.section.push(readInterface(src, body, bodyEnd, le, this.interfaces, this.opts));
          break;
        case BT_ENHANCED_PACKET:
        case BT_OBSOLETE_PACKET: {
          if (bodyEnd - body < EPB_FIXED) throw corruptError(name, off, `packet block body of ${bodyEnd - body} bytes is below ${EPB_FIXED}`);
          const b = body - base;
          const ifId = type === BT_ENHANCED_PACKET ? dv.getUint32(b, le) : dv.getUint16(b, le);
          const itf = this.section[ifId];
          if (itf === undefined) throw corruptError(name, off, `packet names interface ${ifId}, but the section describes ${this.section.length}`);
          const capLen = dv.getUint32(b + 12, le);
          const dataOff = body + EPB_FIXED;
          if (capLen > bodyEnd - dataOff) throw corruptError(name, off, `captured length ${capLen} overruns its block of ${len} bytes`);
          const ticks = (BigInt(dv.getUint32(b + 4, le)) << 32n) | BigInt(dv.getUint32(b + 8, le));
          const timeNs = itf.tickDiv === 1n ? ticks * itf.tickMul + itf.offsetNs : (ticks * itf.tickMul) / itf.tickDiv + itf.offsetNs;
          this.lastTimeNs = timeNs;
          this.comment = type === BT_ENHANCED_PACKET ? packetComment(src, dataOff + pad4(capLen), bodyEnd, le) : undefined;
          return this.frame(dataOff - base, capLen, dv.getUint32(b + 16, le), itf, timeNs);
        }
        case BT_SIMPLE_PACKET: {
          if (bodyEnd - body < 4) throw corruptError(name, off, 'simple packet block has no length field');
          const itf = this.section[0];
          if (itf === undefined) throw corruptError(name, off, 'simple packet block before any interface description');
          const origLen = dv.getUint32(body - base, le);
          const dataOff = body + 4;
          let capLen = Math.min(origLen, bodyEnd - dataOff);
          if (itf.snaplen > 0) capLen = Math.min(capLen, itf.snaplen);
          this.comment = undefined;
          return this.frame(dataOff - base, capLen, origLen, itf, this.lastTimeNs);
        }
        default:
          // statistics, name resolution, decryption secrets, custom blocks: nothing tapvs replays
          break;
      }
    }
    return false;
  }

  private frame(at: number, capLen: number, origLen: number, itf: ReadInterface, timeNs: bigint): true {
    this.buf = this.src.buf;
    this.off = at;
    this.capLen = capLen;
    this.origLen = origLen;
    this.ifIndex = itf.index;
    this.timeNs = timeNs;
    return true;
  }

  close(): void {
    this.src.close();
  }
}

/**
 * The opt_comment among a packet block's options at file offsets [p, end),
 * resident in `src`. Options that overrun the block are not this reader's
 * business (nothing replayed depends on them): reading stops there.
 */
function packetComment(src: ByteSource, p: number, end: number, le: boolean): string | undefined {
  const dv = src.dv;
  const base = src.base;
  while (end - p >= 4) {
    const code = dv.getUint16(p - base, le);
    const len = dv.getUint16(p - base + 2, le);
    if (code === 0) return undefined;
    const v = p + 4;
    if (len > end - v) return undefined;
    if (code === OPT_COMMENT) return textDecoder.decode(src.buf.subarray(v - base, v - base + len));
    p = v + pad4(len);
  }
  return undefined;
}

export function parsePcapng(bytes: Uint8Array, name: string): ParsedCapture {
  return collect(new PcapngReader(new MemorySource(name, bytes)));
}

const textDecoder = new TextDecoder();

/** Reads the Interface Description Block at file offsets [body, bodyEnd), resident in `src`. */
function readInterface(
  src: ByteSource,
  body: number,
  bodyEnd: number,
  le: boolean,
  interfaces: CaptureInterface[],
  opts: ReadOptions,
): ReadInterface {
  const file = src.name;
  const dv = src.dv;
  const base = src.base;
  if (bodyEnd - body < 8) throw corruptError(file, body - 8, 'interface description block is shorter than its fixed fields');
  const linkType = dv.getUint16(body - base, le);
  checkLinkType(file, linkType, opts);
  const itf: ReadInterface = {
    index: interfaces.length,
    name: undefined,
    snaplen: dv.getUint32(body - base + 4, le),
    tickMul: 1000n, // default resolution: microseconds
    tickDiv: 1n,
    offsetNs: 0n,
  };
  let p = body + 8;
  while (p < bodyEnd) {
    if (bodyEnd - p < 4) throw corruptError(file, p, 'option header overruns its block');
    const code = dv.getUint16(p - base, le);
    const optLen = dv.getUint16(p - base + 2, le);
    const v = p + 4;
    if (code === OPT_ENDOFOPT) break;
    if (optLen > bodyEnd - v) throw corruptError(file, p, `option ${code} of ${optLen} bytes overruns its block`);
    if (code === OPT_IF_NAME) {
      itf.name = textDecoder.decode(src.buf.subarray(v - base, v - base + optLen)).replace(/\0+$/, '');
    } else if (code === OPT_IF_TSRESOL) {
      if (optLen < 1) throw corruptError(file, p, 'if_tsresol option is empty');
      setResolution(itf, src.buf[v - base]!);
    } else if (code === OPT_IF_TSOFFSET) {
      if (optLen < 8) throw corruptError(file, p, 'if_tsoffset option is shorter than 8 bytes');
      itf.offsetNs = dv.getBigInt64(v - base, le) * NS_PER_SECOND;
    }
    p = v + pad4(optLen);
  }
  interfaces.push({ name: itf.name, linkType });
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
    return BLOCK_OVERHEAD + EPB_FIXED + pad4(this.snaplen) + 4 + MAX_PACKET_COMMENT + 4;
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
    return this.encodePacketFrom(out, pos, ifIndex, timeNs, frame, 0, frame.length);
  }

  /** As encodePacket, for the frame at `src[off, off + len)`, with a packet comment (UTF-8, at most 128 bytes) if given. */
  encodePacketFrom(out: Uint8Array, pos: number, ifIndex: number, timeNs: bigint, src: Uint8Array, off: number, len: number, comment?: Uint8Array): number {
    if (comment !== undefined && comment.length > MAX_PACKET_COMMENT) throw new RangeError(`packet comment of ${comment.length} bytes is over ${MAX_PACKET_COMMENT}`);
    if (!Number.isInteger(ifIndex) || ifIndex < 0 || ifIndex >= this.interfaceCount) {
      throw new RangeError(`interface ${ifIndex} was not declared (${this.interfaceCount} interfaces)`);
    }
    checkTimeNs(timeNs);
    const ticks = this.nanos ? timeNs : timeNs / 1000n;
    if (ticks > 0xffffffffffffffffn) throw new RangeError(`capture timestamp ${timeNs} ns does not fit 64 bits`);
    const capLen = Math.min(len, this.snaplen);
    const optLen = comment === undefined ? 0 : 4 + pad4(comment.length) + 4;
    const blockLen = BLOCK_OVERHEAD + EPB_FIXED + pad4(capLen) + optLen;
    const dv = this.viewOf(out);
    dv.setUint32(pos, BT_ENHANCED_PACKET, true);
    dv.setUint32(pos + 4, blockLen, true);
    dv.setUint32(pos + 8, ifIndex, true);
    dv.setUint32(pos + 12, Number(ticks >> 32n), true);
    dv.setUint32(pos + 16, Number(ticks & 0xffffffffn), true);
    dv.setUint32(pos + 20, capLen, true);
    dv.setUint32(pos + 24, len, true);
    out.set(src.subarray(off, off + capLen), pos + 28);
    out.fill(0, pos + 28 + capLen, pos + blockLen - 4);
    if (comment !== undefined) {
      const at = pos + 28 + pad4(capLen);
      dv.setUint16(at, OPT_COMMENT, true);
      dv.setUint16(at + 2, comment.length, true);
      out.set(comment, at + 4);
      // then opt_endofopt: the four zero bytes the fill left
    }
    dv.setUint32(pos + blockLen - 4, blockLen, true);
    return blockLen;
  }

  // one DataView per output buffer (a stream writer has one), not one per packet
  private lastOut: Uint8Array | undefined;
  private lastView: DataView | undefined;

  private viewOf(out: Uint8Array): DataView {
    if (out !== this.lastOut) {
      this.lastOut = out;
      this.lastView = new DataView(out.buffer, out.byteOffset, out.byteLength);
    }
    return this.lastView!;
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
  add(ifIndex: number, timeNs: bigint, frame: Uint8Array, comment?: string): void {
    const text = comment === undefined ? undefined : textEncoder.encode(comment);
    const optLen = text === undefined ? 0 : 4 + pad4(text.length) + 4;
    const blk = new Uint8Array(BLOCK_OVERHEAD + EPB_FIXED + pad4(Math.min(frame.length, this.enc.snaplen)) + optLen);
    this.enc.encodePacketFrom(blk, 0, ifIndex, timeNs, frame, 0, frame.length, text);
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
  /** For `open`: the file's permission bits (e.g. 0o600), set even when the file already existed. Default: 0o666 less the umask, for a new file. */
  mode?: number;
}

/**
 * Appends frames to an open file as they happen (e.g. a live capture of what
 * tapvs sends on each port). `add` never throws: bad input is counted in
 * `rejected`, failed writes in `writeErrors`.
 */
export class PcapngStreamWriter extends CaptureStream {
  private readonly enc: PcapngEncoder;

  static open(path: string, interfaces: string[], opts: PcapngStreamOptions = {}): PcapngStreamWriter {
    return new PcapngStreamWriter(openForWriting(path, opts.mode), interfaces, opts).own();
  }

  constructor(fd: number, interfaces: string[], opts: PcapngStreamOptions = {}) {
    const enc = new PcapngEncoder(interfaces, opts);
    super(fd, enc.headerBytes(), opts.bufferBytes ?? 65_536, enc.maxRecord);
    this.enc = enc;
  }

  add(ifIndex: number, timeNs: bigint, frame: Uint8Array): boolean {
    return this.addFrom(ifIndex, timeNs, frame, 0, frame.length);
  }

  /** As `add`, for the frame at `buf[off, off + len)`: no view to make per frame. `comment`: the packet comment's UTF-8 bytes. */
  addFrom(ifIndex: number, timeNs: bigint, buf: Uint8Array, off: number, len: number, comment?: Uint8Array): boolean {
    let blockLen: number;
    try {
      blockLen = this.enc.encodePacketFrom(this.sink.buffer, this.sink.tail, ifIndex, timeNs, buf, off, len, comment);
    } catch {
      this.rejected++;
      return false;
    }
    return this.sink.commit(blockLen);
  }
}
