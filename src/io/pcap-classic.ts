// Classic libpcap files: a 24-byte global header, then 16-byte record headers
// each followed by the captured bytes. Read in either byte order with
// microsecond or nanosecond timestamps; written little-endian.
import { writeFileSync } from 'node:fs';
import {
  type CaptureInterface,
  type CaptureReader,
  type ParsedCapture,
  type ReadOptions,
  CaptureError,
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
  truncatedError,
} from './capture.js';
import { type ByteSource, MemorySource } from './capture-source.js';

export const PCAP_MAGIC_MICROS = 0xa1b2c3d4;
export const PCAP_MAGIC_NANOS = 0xa1b23c4d;
// Alexey Kuznetzov's patched libpcap: same layout idea, longer record headers.
const PCAP_MAGIC_KUZNETZOV = 0xa1b2cd34;

const GLOBAL_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;
// The link-type field's upper bits may say the frames end in an FCS (bit 26, with the FCS length in bits 28-31).
const LINKTYPE_FCS_PRESENT = 0x04000000;

/** True when the first four bytes are one of the classic pcap magics, in either byte order. */
export function isPcapMagic(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, 4);
  const le = dv.getUint32(0, true);
  const be = dv.getUint32(0, false);
  return [PCAP_MAGIC_MICROS, PCAP_MAGIC_NANOS, PCAP_MAGIC_KUZNETZOV].some((m) => m === le || m === be);
}

/**
 * Reads a classic pcap file record by record (see CaptureReader). The file
 * header is read and checked by the constructor.
 */
export class PcapReader implements CaptureReader {
  readonly format = 'pcap';
  readonly interfaces: CaptureInterface[];
  buf: Uint8Array;
  off = 0;
  capLen = 0;
  origLen = 0;
  ifIndex = 0;
  timeNs = 0n;
  private readonly le: boolean;
  private readonly fracToNs: bigint;
  private pos = GLOBAL_HEADER_LEN;

  constructor(private readonly src: ByteSource, opts: ReadOptions = {}) {
    const name = src.name;
    const n = src.size;
    if (n < GLOBAL_HEADER_LEN) throw truncatedError(name, 0, 'pcap file header', GLOBAL_HEADER_LEN, n);
    src.load(0, GLOBAL_HEADER_LEN);
    const dv = src.dv;
    let nanos: boolean;
    const magicLe = dv.getUint32(0, true);
    const magicBe = dv.getUint32(0, false);
    if (magicLe === PCAP_MAGIC_MICROS || magicLe === PCAP_MAGIC_NANOS) {
      this.le = true;
      nanos = magicLe === PCAP_MAGIC_NANOS;
    } else if (magicBe === PCAP_MAGIC_MICROS || magicBe === PCAP_MAGIC_NANOS) {
      this.le = false;
      nanos = magicBe === PCAP_MAGIC_NANOS;
    } else if (magicLe === PCAP_MAGIC_KUZNETZOV || magicBe === PCAP_MAGIC_KUZNETZOV) {
      throw new CaptureError(name, 0, `${name}: Kuznetzov-modified pcap is not supported; convert it with editcap -F pcap`);
    } else {
      throw corruptError(name, 0, `0x${magicBe.toString(16).padStart(8, '0')} is not a pcap magic number`);
    }
    const le = this.le;
    const major = dv.getUint16(4, le);
    if (major !== 2) throw corruptError(name, 4, `pcap version ${major}.${dv.getUint16(6, le)} is not 2.x`);
    const linkField = dv.getUint32(20, le);
    const linkType = linkField & 0xffff;
    checkLinkType(name, linkType, opts);
    if ((linkField & LINKTYPE_FCS_PRESENT) !== 0) {
      throw new CaptureError(name, 20, `${name}: frames carry an Ethernet FCS; tapvs reads captures without FCS only`);
    }
    this.fracToNs = nanos ? 1n : 1000n;
    this.buf = src.buf;
    // A classic file has exactly one, unnamed interface.
    this.interfaces = [{ name: undefined, linkType }];
  }

  get name(): string {
    return this.src.name;
  }

  next(): boolean {
    const src = this.src;
    const name = src.name;
    const n = src.size;
    const off = this.pos;
    if (off >= n) return false;
    if (n - off < RECORD_HEADER_LEN) throw truncatedError(name, off, 'packet record header', RECORD_HEADER_LEN, n - off);
    src.load(off, RECORD_HEADER_LEN);
    let at = off - src.base;
    const le = this.le;
    const capLen = src.dv.getUint32(at + 8, le);
    const dataOff = off + RECORD_HEADER_LEN;
    if (capLen > n - dataOff) {
      throw truncatedError(name, off, `packet record of ${capLen} captured bytes`, RECORD_HEADER_LEN + capLen, n - off);
    }
    src.load(off, RECORD_HEADER_LEN + capLen);
    at = off - src.base;
    const dv = src.dv;
    this.timeNs = BigInt(dv.getUint32(at, le)) * NS_PER_SECOND + BigInt(dv.getUint32(at + 4, le)) * this.fracToNs;
    this.capLen = capLen;
    this.origLen = dv.getUint32(at + 12, le);
    this.buf = src.buf;
    this.off = at + RECORD_HEADER_LEN;
    this.pos = dataOff + capLen;
    return true;
  }

  close(): void {
    this.src.close();
  }
}

export function parsePcap(bytes: Uint8Array, name: string): ParsedCapture {
  return collect(new PcapReader(new MemorySource(name, bytes)));
}

export interface PcapWriterOptions {
  /** Write nanosecond timestamps (magic 0xa1b23c4d); default microseconds, which every tool reads. */
  nanos?: boolean;
  /** Frames longer than this are cut to it (their original length is kept). Default 262144. */
  snaplen?: number;
}

/** Encodes the headers of a little-endian classic pcap file. */
class PcapEncoder {
  readonly nanos: boolean;
  readonly snaplen: number;

  constructor(opts: PcapWriterOptions = {}) {
    this.nanos = opts.nanos ?? false;
    this.snaplen = opts.snaplen ?? DEFAULT_SNAPLEN;
    checkSnaplen(this.snaplen);
  }

  fileHeader(): Uint8Array {
    const out = new Uint8Array(GLOBAL_HEADER_LEN);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, this.nanos ? PCAP_MAGIC_NANOS : PCAP_MAGIC_MICROS, true);
    dv.setUint16(4, 2, true);
    dv.setUint16(6, 4, true);
    // thiszone and sigfigs stay 0, as every modern writer leaves them
    dv.setUint32(16, this.snaplen, true);
    dv.setUint32(20, LINKTYPE_ETHERNET, true);
    return out;
  }

  get maxRecord(): number {
    return RECORD_HEADER_LEN + this.snaplen;
  }

  /** Writes one record at `pos`; returns its length. Throws RangeError on an unrepresentable time. */
  encodeRecord(out: Uint8Array, pos: number, timeNs: bigint, frame: Uint8Array): number {
    checkTimeNs(timeNs);
    const sec = timeNs / NS_PER_SECOND;
    if (sec > 0xffffffffn) throw new RangeError(`capture timestamp ${timeNs} ns is past what classic pcap holds (year 2106)`);
    const rest = timeNs % NS_PER_SECOND;
    const capLen = Math.min(frame.length, this.snaplen);
    const dv = new DataView(out.buffer, out.byteOffset + pos, RECORD_HEADER_LEN);
    dv.setUint32(0, Number(sec), true);
    dv.setUint32(4, Number(this.nanos ? rest : rest / 1000n), true);
    dv.setUint32(8, capLen, true);
    dv.setUint32(12, frame.length, true);
    out.set(frame.subarray(0, capLen), pos + RECORD_HEADER_LEN);
    return RECORD_HEADER_LEN + capLen;
  }
}

/** Builds a classic pcap file in memory. */
export class PcapWriter {
  private readonly enc: PcapEncoder;
  private readonly records: Uint8Array[] = [];

  constructor(opts?: PcapWriterOptions) {
    this.enc = new PcapEncoder(opts);
  }

  /** Appends a frame; microsecond files drop the sub-microsecond part of `timeNs`. */
  add(timeNs: bigint, frame: Uint8Array): void {
    const rec = new Uint8Array(RECORD_HEADER_LEN + Math.min(frame.length, this.enc.snaplen));
    this.enc.encodeRecord(rec, 0, timeNs, frame);
    this.records.push(rec);
  }

  toBytes(): Uint8Array {
    const header = this.enc.fileHeader();
    let total = header.length;
    for (const r of this.records) total += r.length;
    const out = new Uint8Array(total);
    out.set(header, 0);
    let pos = header.length;
    for (const r of this.records) {
      out.set(r, pos);
      pos += r.length;
    }
    return out;
  }

  writeFile(path: string): void {
    writeFileSync(path, this.toBytes());
  }
}

export interface StreamWriterOptions {
  /** Bytes kept in memory before a write to the file; 0 writes each frame at once. Default 65536. */
  bufferBytes?: number;
  /** For `open`: the file's permission bits (e.g. 0o600), set even when the file already existed. Default: 0o666 less the umask, for a new file. */
  mode?: number;
}

/**
 * Appends frames to an open file as they happen (e.g. a live capture of what
 * tapvs sends). `add` never throws: failures are counted in `writeErrors`.
 */
export class PcapStreamWriter extends CaptureStream {
  private readonly enc: PcapEncoder;

  static open(path: string, opts: PcapWriterOptions & StreamWriterOptions = {}): PcapStreamWriter {
    return new PcapStreamWriter(openForWriting(path, opts.mode), opts).own();
  }

  constructor(fd: number, opts: PcapWriterOptions & StreamWriterOptions = {}) {
    const enc = new PcapEncoder(opts);
    super(fd, enc.fileHeader(), opts.bufferBytes ?? 65_536, Math.max(enc.maxRecord, GLOBAL_HEADER_LEN));
    this.enc = enc;
  }

  add(timeNs: bigint, frame: Uint8Array): boolean {
    let len: number;
    try {
      len = this.enc.encodeRecord(this.sink.buffer, this.sink.tail, timeNs, frame);
    } catch {
      this.rejected++;
      return false;
    }
    return this.sink.commit(len);
  }
}
