// IPv4 header (RFC 791): a checked view and a plain form.

import { EMPTY, get16, get32, put16, put32 } from './bytes.js';
import { checksum, csumFinish, csumUpdate16, csumUpdate32, sumBytes } from './checksum.js';
import {
  IP_BAD_IHL, IP_BAD_TOTAL_LENGTH, IP_BAD_VERSION, IP_TRUNCATED, WIRE_OK, WireError,
} from './errors.js';

export const IPV4_MIN_HEADER_LEN = 20;
export const IPV4_MAX_HEADER_LEN = 60;
/** Flag bits as they sit in the 3-bit flags field. */
export const IPV4_FLAG_RESERVED = 4;
export const IPV4_FLAG_DF = 2;
export const IPV4_FLAG_MF = 1;

export class Ipv4View {
  buf: Uint8Array = EMPTY;
  off = 0;
  /** Bytes available to the view; may exceed totalLength (Ethernet padding). */
  len = 0;

  /**
   * Returns WIRE_OK or IP_TRUNCATED / IP_BAD_VERSION / IP_BAD_IHL /
   * IP_BAD_TOTAL_LENGTH. The header checksum is not checked here: see checksumOk().
   */
  wrap(buf: Uint8Array, off: number, len: number): number {
    if (len < IPV4_MIN_HEADER_LEN || off < 0 || off + len > buf.length) return IP_TRUNCATED;
    const b0 = buf[off]!;
    if (b0 >>> 4 !== 4) return IP_BAD_VERSION;
    const hl = (b0 & 0x0f) << 2;
    if (hl < IPV4_MIN_HEADER_LEN || hl > len) return IP_BAD_IHL;
    const total = get16(buf, off + 2);
    if (total < hl || total > len) return IP_BAD_TOTAL_LENGTH;
    this.buf = buf;
    this.off = off;
    this.len = len;
    return WIRE_OK;
  }

  get version(): number { return this.buf[this.off]! >>> 4; }
  /** Header length in 32-bit words. */
  get ihl(): number { return this.buf[this.off]! & 0x0f; }
  get headerLength(): number { return (this.buf[this.off]! & 0x0f) << 2; }
  get tos(): number { return this.buf[this.off + 1]!; }
  set tos(v: number) { this.buf[this.off + 1] = v; }
  get dscp(): number { return this.buf[this.off + 1]! >>> 2; }
  get ecn(): number { return this.buf[this.off + 1]! & 3; }
  get totalLength(): number { return get16(this.buf, this.off + 2); }
  set totalLength(v: number) { put16(this.buf, this.off + 2, v); }
  get id(): number { return get16(this.buf, this.off + 4); }
  set id(v: number) { put16(this.buf, this.off + 4, v); }
  /** The 3 flag bits: IPV4_FLAG_RESERVED | IPV4_FLAG_DF | IPV4_FLAG_MF. */
  get flags(): number { return this.buf[this.off + 6]! >>> 5; }
  get df(): boolean { return (this.buf[this.off + 6]! & 0x40) !== 0; }
  set df(v: boolean) {
    const o = this.off + 6;
    this.buf[o] = v ? this.buf[o]! | 0x40 : this.buf[o]! & ~0x40;
  }
  get mf(): boolean { return (this.buf[this.off + 6]! & 0x20) !== 0; }
  /** Fragment offset in 8-byte units, as on the wire. */
  get fragOffset(): number { return get16(this.buf, this.off + 6) & 0x1fff; }
  /** True for every fragment, first included (MF set or offset non-zero). */
  get isFragment(): boolean { return (get16(this.buf, this.off + 6) & 0x3fff) !== 0; }
  get ttl(): number { return this.buf[this.off + 8]!; }
  set ttl(v: number) { this.buf[this.off + 8] = v; }
  get protocol(): number { return this.buf[this.off + 9]!; }
  set protocol(v: number) { this.buf[this.off + 9] = v; }
  get checksum(): number { return get16(this.buf, this.off + 10); }
  set checksum(v: number) { put16(this.buf, this.off + 10, v); }
  get src(): number { return get32(this.buf, this.off + 12); }
  set src(v: number) { put32(this.buf, this.off + 12, v); }
  get dst(): number { return get32(this.buf, this.off + 16); }
  set dst(v: number) { put32(this.buf, this.off + 16, v); }

  get optionsOffset(): number { return this.off + IPV4_MIN_HEADER_LEN; }
  get optionsLength(): number { return this.headerLength - IPV4_MIN_HEADER_LEN; }
  /** Absolute offset of the payload in buf. */
  get payloadOffset(): number { return this.off + this.headerLength; }
  /** Payload bytes per the total length field (padding excluded). */
  get payloadLength(): number { return this.totalLength - this.headerLength; }

  checksumOk(): boolean {
    // a correct header sums to 0xFFFF, so the complement is zero
    return checksum(this.buf, this.off, this.headerLength) === 0;
  }

  /** The value the checksum field should hold for the current header. */
  expectedChecksum(): number {
    const acc = sumBytes(this.buf, this.off, this.headerLength, 0) - get16(this.buf, this.off + 10);
    return csumFinish(acc);
  }

  fillChecksum(): void {
    put16(this.buf, this.off + 10, 0);
    put16(this.buf, this.off + 10, checksum(this.buf, this.off, this.headerLength));
  }

  /** Rewrites the source address and patches the header checksum (RFC 1624). */
  rewriteSrc(v: number): void {
    const old = this.src;
    this.src = v;
    this.checksum = csumUpdate32(this.checksum, old, v >>> 0);
  }

  rewriteDst(v: number): void {
    const old = this.dst;
    this.dst = v;
    this.checksum = csumUpdate32(this.checksum, old, v >>> 0);
  }

  /** Decrements TTL (caller checks it is > 1 first) and patches the checksum. */
  decTtl(): number {
    const o = this.off + 8;
    const oldWord = get16(this.buf, o);
    const ttl = (this.buf[o]! - 1) & 0xff;
    this.buf[o] = ttl;
    this.checksum = csumUpdate16(this.checksum, oldWord, get16(this.buf, o));
    return ttl;
  }
}

export interface Ipv4Header {
  tos: number;
  totalLength: number;
  id: number;
  /** 3 bits: IPV4_FLAG_DF | IPV4_FLAG_MF (| IPV4_FLAG_RESERVED). */
  flags: number;
  /** In 8-byte units. */
  fragOffset: number;
  ttl: number;
  protocol: number;
  /** On emit: written as given; computed when omitted. */
  checksum?: number;
  src: number;
  dst: number;
  /** Raw option bytes; length a multiple of 4, at most 40. */
  options?: Uint8Array;
}

export function parseIpv4(buf: Uint8Array, off = 0, len = buf.length - off): Ipv4Header {
  const v = new Ipv4View();
  const rc = v.wrap(buf, off, len);
  if (rc !== WIRE_OK) throw new WireError(rc, 'ipv4');
  return {
    tos: v.tos,
    totalLength: v.totalLength,
    id: v.id,
    flags: v.flags,
    fragOffset: v.fragOffset,
    ttl: v.ttl,
    protocol: v.protocol,
    checksum: v.checksum,
    src: v.src,
    dst: v.dst,
    options: buf.slice(v.optionsOffset, v.optionsOffset + v.optionsLength),
  };
}

export function ipv4HeaderLength(h: Ipv4Header): number {
  return IPV4_MIN_HEADER_LEN + (h.options?.length ?? 0);
}

/** Writes the header (not the payload); returns the header length. */
export function emitIpv4(h: Ipv4Header, buf: Uint8Array, off: number): number {
  const optLen = h.options?.length ?? 0;
  if (optLen % 4 !== 0 || optLen > IPV4_MAX_HEADER_LEN - IPV4_MIN_HEADER_LEN) {
    throw new Error(`IPv4 options must be a multiple of 4 bytes, at most 40 (got ${optLen})`);
  }
  const hl = IPV4_MIN_HEADER_LEN + optLen;
  buf[off] = 0x40 | (hl >>> 2);
  buf[off + 1] = h.tos;
  put16(buf, off + 2, h.totalLength);
  put16(buf, off + 4, h.id);
  put16(buf, off + 6, ((h.flags & 7) << 13) | (h.fragOffset & 0x1fff));
  buf[off + 8] = h.ttl;
  buf[off + 9] = h.protocol;
  put16(buf, off + 10, 0);
  put32(buf, off + 12, h.src);
  put32(buf, off + 16, h.dst);
  if (optLen > 0) buf.set(h.options!, off + IPV4_MIN_HEADER_LEN);
  put16(buf, off + 10, h.checksum ?? checksum(buf, off, hl));
  return hl;
}
