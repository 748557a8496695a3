// Classic libpcap files: a 24-byte global header, then 16-byte record headers
// each followed by the captured bytes. Read in either byte order with
// microsecond or nanosecond timestamps; written little-endian.
import { openSync, writeFileSync } from 'node:fs';
import {
  type CapturedFrame,
  type ParsedCapture,
  CaptureError,
  DEFAULT_SNAPLEN,
  CaptureStream,
  LINKTYPE_ETHERNET,
  NS_PER_SECOND,
  checkSnaplen,
  checkTimeNs,
  corruptError,
  linkTypeError,
  truncatedError,
} from './capture.js';

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

export function parsePcap(bytes: Uint8Array, name: string): ParsedCapture {
  const n = bytes.length;
  if (n < GLOBAL_HEADER_LEN) throw truncatedError(name, 0, 'pcap file header', GLOBAL_HEADER_LEN, n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  let le: boolean;
  let nanos: boolean;
  const magicLe = dv.getUint32(0, true);
  const magicBe = dv.getUint32(0, false);
  if (magicLe === PCAP_MAGIC_MICROS || magicLe === PCAP_MAGIC_NANOS) {
    le = true;
    nanos = magicLe === PCAP_MAGIC_NANOS;
  } else if (magicBe === PCAP_MAGIC_MICROS || magicBe === PCAP_MAGIC_NANOS) {
    le = false;
    nanos = magicBe === PCAP_MAGIC_NANOS;
  } else if (magicLe === PCAP_MAGIC_KUZNETZOV || magicBe === PCAP_MAGIC_KUZNETZOV) {
    throw new CaptureError(name, 0, `${name}: Kuznetzov-modified pcap is not supported; convert it with editcap -F pcap`);
  } else {
    throw corruptError(name, 0, `0x${magicBe.toString(16).padStart(8, '0')} is not a pcap magic number`);
  }

  const major = dv.getUint16(4, le);
  if (major !== 2) throw corruptError(name, 4, `pcap version ${major}.${dv.getUint16(6, le)} is not 2.x`);
  const linkField = dv.getUint32(20, le);
  const linkType = linkField & 0xffff;
  if (linkType !== LINKTYPE_ETHERNET) throw linkTypeError(name, linkType);
  if ((linkField & LINKTYPE_FCS_PRESENT) !== 0) {
    throw new CaptureError(name, 20, `${name}: frames carry an Ethernet FCS; tapvs reads captures without FCS only`);
  }

  const fracToNs = nanos ? 1n : 1000n;
  const frames: CapturedFrame[] = [];
  let off = GLOBAL_HEADER_LEN;
  while (off < n) {
    if (n - off < RECORD_HEADER_LEN) throw truncatedError(name, off, 'packet record header', RECORD_HEADER_LEN, n - off);
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const capLen = dv.getUint32(off + 8, le);
    const origLen = dv.getUint32(off + 12, le);
    const dataOff = off + RECORD_HEADER_LEN;
    if (capLen > n - dataOff) {
      throw truncatedError(name, off, `packet record of ${capLen} captured bytes`, RECORD_HEADER_LEN + capLen, n - off);
    }
    frames.push({
      data: bytes.slice(dataOff, dataOff + capLen),
      timeNs: BigInt(sec) * NS_PER_SECOND + BigInt(frac) * fracToNs,
      ifIndex: 0,
      origLen,
    });
    off = dataOff + capLen;
  }
  // A classic file has exactly one, unnamed interface.
  return { format: 'pcap', interfaces: [''], frames };
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
}

/**
 * Appends frames to an open file as they happen (e.g. a live capture of what
 * tapvs sends). `add` never throws: failures are counted in `writeErrors`.
 */
export class PcapStreamWriter extends CaptureStream {
  private readonly enc: PcapEncoder;

  static open(path: string, opts?: PcapWriterOptions & StreamWriterOptions): PcapStreamWriter {
    return new PcapStreamWriter(openSync(path, 'w'), opts).own();
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
