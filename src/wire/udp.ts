// UDP header (RFC 768). A checksum field of 0 means "none was computed".

import { EMPTY, get16, put16 } from './bytes.js';
import { csumFinish, pseudoHeaderSum, sumBytes, udpCsumUpdate16, udpCsumUpdate32 } from './checksum.js';
import { UDP_BAD_LENGTH, UDP_TRUNCATED, WIRE_OK, WireError } from './errors.js';
import { IPPROTO_UDP } from './ipproto.js';

export const UDP_HEADER_LEN = 8;

// Field offsets in the UDP header.
const OFF_SPORT = 0;
const OFF_DPORT = 2;
const OFF_LENGTH = 4;
export const UDP_CHECKSUM_OFFSET = 6;

export class UdpView {
  buf: Uint8Array = EMPTY;
  off = 0;
  /** Bytes available (the IP payload length); the datagram is `length` of them. */
  len = 0;

  /** Returns WIRE_OK, UDP_TRUNCATED, or UDP_BAD_LENGTH when length < 8 or > available. */
  wrap(buf: Uint8Array, off: number, len: number): number {
    if (len < UDP_HEADER_LEN || off < 0 || off + len > buf.length) return UDP_TRUNCATED;
    const l = get16(buf, off + OFF_LENGTH);
    if (l < UDP_HEADER_LEN || l > len) return UDP_BAD_LENGTH;
    this.buf = buf;
    this.off = off;
    this.len = len;
    return WIRE_OK;
  }

  /**
   * Wraps only the 8-byte header, for a first fragment or a datagram quoted by
   * an ICMP error, where the length field covers bytes that are not here.
   * The checksum then cannot be verified: checksumOk() returns false.
   */
  wrapHeader(buf: Uint8Array, off: number, len: number): number {
    if (len < UDP_HEADER_LEN || off < 0 || off + len > buf.length) return UDP_TRUNCATED;
    this.buf = buf;
    this.off = off;
    this.len = len;
    return WIRE_OK;
  }

  /** Whether the whole datagram (per the length field) is present. */
  get complete(): boolean { return this.length <= this.len && this.length >= UDP_HEADER_LEN; }

  get sport(): number { return get16(this.buf, this.off + OFF_SPORT); }
  set sport(v: number) { put16(this.buf, this.off + OFF_SPORT, v); }
  get dport(): number { return get16(this.buf, this.off + OFF_DPORT); }
  set dport(v: number) { put16(this.buf, this.off + OFF_DPORT, v); }
  /** Header + data, from the length field. */
  get length(): number { return get16(this.buf, this.off + OFF_LENGTH); }
  set length(v: number) { put16(this.buf, this.off + OFF_LENGTH, v); }
  get checksum(): number { return get16(this.buf, this.off + UDP_CHECKSUM_OFFSET); }
  set checksum(v: number) { put16(this.buf, this.off + UDP_CHECKSUM_OFFSET, v); }
  get hasChecksum(): boolean { return get16(this.buf, this.off + UDP_CHECKSUM_OFFSET) !== 0; }

  get payloadOffset(): number { return this.off + UDP_HEADER_LEN; }
  get payloadLength(): number { return this.length - UDP_HEADER_LEN; }

  /** True when the checksum verifies, or when there is none (field 0). */
  checksumOk(src: number, dst: number): boolean {
    if (!this.hasChecksum) return true;
    if (!this.complete) return false;
    const l = this.length;
    return csumFinish(pseudoHeaderSum(src, dst, IPPROTO_UDP, l) + sumBytes(this.buf, this.off, l, 0)) === 0;
  }

  /** The value a sender would put in the field (never 0). */
  expectedChecksum(src: number, dst: number): number {
    const l = Math.min(Math.max(this.length, UDP_HEADER_LEN), this.len);
    const acc = pseudoHeaderSum(src, dst, IPPROTO_UDP, l) + sumBytes(this.buf, this.off, l, 0) -
      get16(this.buf, this.off + UDP_CHECKSUM_OFFSET);
    const c = csumFinish(acc);
    return c === 0 ? 0xffff : c;
  }

  fillChecksum(src: number, dst: number): void {
    put16(this.buf, this.off + UDP_CHECKSUM_OFFSET, 0);
    put16(this.buf, this.off + UDP_CHECKSUM_OFFSET, this.expectedChecksum(src, dst));
  }

  /** Port and address rewrites that leave "no checksum" (0) alone. */
  rewriteSport(v: number): void {
    const old = this.sport;
    this.sport = v;
    this.checksum = udpCsumUpdate16(this.checksum, old, v & 0xffff);
  }

  rewriteDport(v: number): void {
    const old = this.dport;
    this.dport = v;
    this.checksum = udpCsumUpdate16(this.checksum, old, v & 0xffff);
  }

  pseudoAddrChanged(oldAddr: number, newAddr: number): void {
    this.checksum = udpCsumUpdate32(this.checksum, oldAddr >>> 0, newAddr >>> 0);
  }

  /**
   * NAT of a datagram quoted in an ICMP error (wrapped with wrapHeader): sets
   * its source port (`srcSide`) or destination port and patches its checksum
   * for that and for a pseudo-header address changed from oldAddr to newAddr.
   */
  rewriteQuoted(srcSide: boolean, port: number, oldAddr: number, newAddr: number): void {
    const p = this.off + (srcSide ? OFF_SPORT : OFF_DPORT);
    const oldPort = get16(this.buf, p);
    put16(this.buf, p, port);
    this.checksum = udpCsumUpdate16(udpCsumUpdate32(this.checksum, oldAddr >>> 0, newAddr >>> 0), oldPort, port & 0xffff);
  }
}

export interface UdpHeader {
  sport: number;
  dport: number;
  length: number;
  /** 0 = none. On emit: written as given, 0 when omitted. */
  checksum?: number;
}

export function parseUdp(buf: Uint8Array, off = 0, len = buf.length - off): UdpHeader {
  const v = new UdpView();
  const rc = v.wrap(buf, off, len);
  if (rc !== WIRE_OK) throw new WireError(rc, 'udp');
  return { sport: v.sport, dport: v.dport, length: v.length, checksum: v.checksum };
}

/** Writes the 8-byte header; returns 8. */
export function emitUdp(h: UdpHeader, buf: Uint8Array, off: number): number {
  put16(buf, off + OFF_SPORT, h.sport);
  put16(buf, off + OFF_DPORT, h.dport);
  put16(buf, off + OFF_LENGTH, h.length);
  put16(buf, off + UDP_CHECKSUM_OFFSET, h.checksum ?? 0);
  return UDP_HEADER_LEN;
}
