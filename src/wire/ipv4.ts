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

// Field offsets from the start of the header.
const OFF_VER_IHL = 0;
const OFF_TOS = 1;
const OFF_TOTAL_LEN = 2;
const OFF_ID = 4;
/** flags (3 bits) and fragment offset (13 bits) */
const OFF_FRAG = 6;
const OFF_TTL = 8;
const OFF_PROTO = 9;
const OFF_CSUM = 10;
const OFF_SRC = 12;
const OFF_DST = 16;
/** DF and MF as bits of the byte at OFF_FRAG, and the offset's mask in the 16-bit word. */
const DF_BIT = 0x40;
const MF_BIT = 0x20;
const FRAG_OFFSET_MASK = 0x1fff;
const FRAG_ANY_MASK = 0x3fff;

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
    const b0 = buf[off + OFF_VER_IHL]!;
    if (b0 >>> 4 !== 4) return IP_BAD_VERSION;
    const hl = (b0 & 0x0f) << 2;
    if (hl < IPV4_MIN_HEADER_LEN || hl > len) return IP_BAD_IHL;
    const total = get16(buf, off + OFF_TOTAL_LEN);
    if (total < hl || total > len) return IP_BAD_TOTAL_LENGTH;
    this.buf = buf;
    this.off = off;
    this.len = len;
    return WIRE_OK;
  }

  get version(): number { return this.buf[this.off + OFF_VER_IHL]! >>> 4; }
  /** Header length in 32-bit words. */
  /**
   * Points the view at a header whose bytes the caller has just written
   * (no length checks: the caller made the buffer). For building, not parsing.
   */
  wrapHeaderOnly(buf: Uint8Array, off: number): void {
    this.buf = buf;
    this.off = off;
    this.len = (buf[off + OFF_VER_IHL]! & 0x0f) << 2;
  }

  get ihl(): number { return this.buf[this.off + OFF_VER_IHL]! & 0x0f; }
  get headerLength(): number { return (this.buf[this.off + OFF_VER_IHL]! & 0x0f) << 2; }
  get tos(): number { return this.buf[this.off + OFF_TOS]!; }
  set tos(v: number) { this.buf[this.off + OFF_TOS] = v; }
  get dscp(): number { return this.buf[this.off + OFF_TOS]! >>> 2; }
  get ecn(): number { return this.buf[this.off + OFF_TOS]! & 3; }
  get totalLength(): number { return get16(this.buf, this.off + OFF_TOTAL_LEN); }
  set totalLength(v: number) { put16(this.buf, this.off + OFF_TOTAL_LEN, v); }
  get id(): number { return get16(this.buf, this.off + OFF_ID); }
  set id(v: number) { put16(this.buf, this.off + OFF_ID, v); }
  /** The 3 flag bits: IPV4_FLAG_RESERVED | IPV4_FLAG_DF | IPV4_FLAG_MF. */
  get flags(): number { return this.buf[this.off + OFF_FRAG]! >>> 5; }
  get df(): boolean { return (this.buf[this.off + OFF_FRAG]! & DF_BIT) !== 0; }
  set df(v: boolean) {
    const o = this.off + OFF_FRAG;
    this.buf[o] = v ? this.buf[o]! | DF_BIT : this.buf[o]! & ~DF_BIT;
  }
  /** Writes DF, MF and the fragment offset (8-byte units); the reserved bit is cleared. */
  setFragment(df: boolean, mf: boolean, offset: number): void {
    put16(this.buf, this.off + OFF_FRAG, (df ? DF_BIT << 8 : 0) | (mf ? MF_BIT << 8 : 0) | (offset & FRAG_OFFSET_MASK));
  }
  get mf(): boolean { return (this.buf[this.off + OFF_FRAG]! & MF_BIT) !== 0; }
  /** Fragment offset in 8-byte units, as on the wire. */
  get fragOffset(): number { return get16(this.buf, this.off + OFF_FRAG) & FRAG_OFFSET_MASK; }
  /** True for every fragment, first included (MF set or offset non-zero). */
  get isFragment(): boolean { return (get16(this.buf, this.off + OFF_FRAG) & FRAG_ANY_MASK) !== 0; }
  get ttl(): number { return this.buf[this.off + OFF_TTL]!; }
  set ttl(v: number) { this.buf[this.off + OFF_TTL] = v; }
  get protocol(): number { return this.buf[this.off + OFF_PROTO]!; }
  set protocol(v: number) { this.buf[this.off + OFF_PROTO] = v; }
  get checksum(): number { return get16(this.buf, this.off + OFF_CSUM); }
  set checksum(v: number) { put16(this.buf, this.off + OFF_CSUM, v); }
  get src(): number { return get32(this.buf, this.off + OFF_SRC); }
  set src(v: number) { put32(this.buf, this.off + OFF_SRC, v); }
  get dst(): number { return get32(this.buf, this.off + OFF_DST); }
  set dst(v: number) { put32(this.buf, this.off + OFF_DST, v); }

  get optionsOffset(): number { return this.off + IPV4_MIN_HEADER_LEN; }
  get optionsLength(): number { return this.headerLength - IPV4_MIN_HEADER_LEN; }
  /** Absolute offset of the payload in buf. */
  get payloadOffset(): number { return this.off + this.headerLength; }
  /** Payload bytes per the total length field (padding excluded). */
  get payloadLength(): number { return this.totalLength - this.headerLength; }

  checksumOk(): boolean {
    // a correct header sums to 0xFFFF, so the complement is zero
    const b = this.buf;
    const o = this.off;
    if ((b[o + OFF_VER_IHL]! & 0x0f) !== 5) return checksum(b, o, this.headerLength) === 0;
    // the usual 20-byte header, unrolled: every forwarded packet is checked
    let s = ((b[o]! << 8) | b[o + 1]!) + ((b[o + 2]! << 8) | b[o + 3]!) + ((b[o + 4]! << 8) | b[o + 5]!) +
      ((b[o + 6]! << 8) | b[o + 7]!) + ((b[o + 8]! << 8) | b[o + 9]!) + ((b[o + 10]! << 8) | b[o + 11]!) +
      ((b[o + 12]! << 8) | b[o + 13]!) + ((b[o + 14]! << 8) | b[o + 15]!) + ((b[o + 16]! << 8) | b[o + 17]!) +
      ((b[o + 18]! << 8) | b[o + 19]!);
    s = (s & 0xffff) + (s >>> 16);
    s = (s & 0xffff) + (s >>> 16);
    return s === 0xffff;
  }

  /** The value the checksum field should hold for the current header. */
  expectedChecksum(): number {
    const acc = sumBytes(this.buf, this.off, this.headerLength, 0) - get16(this.buf, this.off + OFF_CSUM);
    return csumFinish(acc);
  }

  fillChecksum(): void {
    put16(this.buf, this.off + OFF_CSUM, 0);
    put16(this.buf, this.off + OFF_CSUM, checksum(this.buf, this.off, this.headerLength));
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
    const o = this.off + OFF_TTL;
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
  buf[off + OFF_VER_IHL] = 0x40 | (hl >>> 2);
  buf[off + OFF_TOS] = h.tos;
  put16(buf, off + OFF_TOTAL_LEN, h.totalLength);
  put16(buf, off + OFF_ID, h.id);
  put16(buf, off + OFF_FRAG, ((h.flags & 7) << 13) | (h.fragOffset & FRAG_OFFSET_MASK));
  buf[off + OFF_TTL] = h.ttl;
  buf[off + OFF_PROTO] = h.protocol;
  put16(buf, off + OFF_CSUM, 0);
  put32(buf, off + OFF_SRC, h.src);
  put32(buf, off + OFF_DST, h.dst);
  if (optLen > 0) buf.set(h.options!, off + IPV4_MIN_HEADER_LEN);
  put16(buf, off + OFF_CSUM, h.checksum ?? checksum(buf, off, hl));
  return hl;
}
