// TCP header (RFC 9293). Options are kept as raw bytes and never touched.

import { EMPTY, get16, get32, put16, put32 } from './bytes.js';
import { csumFinish, csumUpdate16, csumUpdate32, pseudoHeaderSum, sumBytes } from './checksum.js';
import { TCP_BAD_OFFSET, TCP_TRUNCATED, WIRE_OK, WireError } from './errors.js';
import { IPPROTO_TCP } from './ipproto.js';

export const TCP_MIN_HEADER_LEN = 20;
export const TCP_MAX_HEADER_LEN = 60;

// Field offsets in the TCP header.
const OFF_SPORT = 0;
const OFF_DPORT = 2;
const OFF_SEQ = 4;
const OFF_ACK = 8;
/** data offset (4 bits), reserved, NS */
const OFF_DOFF = 12;
const OFF_FLAGS = 13;
const OFF_WINDOW = 14;
/** Where the checksum sits (a virtio header's csum_offset for TCP, too). */
export const TCP_CHECKSUM_OFFSET = 16;
const OFF_URGENT = 18;
/** What an ICMP error must quote of a segment for it to be matched: the ports and the sequence number. */
export const TCP_QUOTED_MIN = 8;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const TCP_URG = 0x20;
export const TCP_ECE = 0x40;
export const TCP_CWR = 0x80;
export const TCP_NS = 0x100;

export class TcpView {
  buf: Uint8Array = EMPTY;
  off = 0;
  /** The whole segment: header and data (the IP payload length). */
  len = 0;

  /** Returns WIRE_OK, TCP_TRUNCATED or TCP_BAD_OFFSET. */
  wrap(buf: Uint8Array, off: number, len: number): number {
    if (len < TCP_MIN_HEADER_LEN || off < 0 || off + len > buf.length) return TCP_TRUNCATED;
    const hl = (buf[off + OFF_DOFF]! >>> 4) << 2;
    if (hl < TCP_MIN_HEADER_LEN || hl > len) return TCP_BAD_OFFSET;
    this.buf = buf;
    this.off = off;
    this.len = len;
    return WIRE_OK;
  }

  get sport(): number { return get16(this.buf, this.off + OFF_SPORT); }
  set sport(v: number) { put16(this.buf, this.off + OFF_SPORT, v); }
  get dport(): number { return get16(this.buf, this.off + OFF_DPORT); }
  set dport(v: number) { put16(this.buf, this.off + OFF_DPORT, v); }
  get seq(): number { return get32(this.buf, this.off + OFF_SEQ); }
  set seq(v: number) { put32(this.buf, this.off + OFF_SEQ, v); }
  get ack(): number { return get32(this.buf, this.off + OFF_ACK); }
  set ack(v: number) { put32(this.buf, this.off + OFF_ACK, v); }
  /** Header length in 32-bit words. */
  get dataOffset(): number { return this.buf[this.off + OFF_DOFF]! >>> 4; }
  get headerLength(): number { return (this.buf[this.off + OFF_DOFF]! >>> 4) << 2; }
  /** The 9 flag bits, TCP_FIN .. TCP_NS. */
  get flags(): number { return ((this.buf[this.off + OFF_DOFF]! & 1) << 8) | this.buf[this.off + OFF_FLAGS]!; }
  set flags(v: number) {
    const o = this.off + OFF_DOFF;
    this.buf[o] = (this.buf[o]! & 0xfe) | ((v >>> 8) & 1);
    this.buf[o + 1] = v;
  }
  get syn(): boolean { return (this.buf[this.off + OFF_FLAGS]! & TCP_SYN) !== 0; }
  get ackFlag(): boolean { return (this.buf[this.off + OFF_FLAGS]! & TCP_ACK) !== 0; }
  get fin(): boolean { return (this.buf[this.off + OFF_FLAGS]! & TCP_FIN) !== 0; }
  get rst(): boolean { return (this.buf[this.off + OFF_FLAGS]! & TCP_RST) !== 0; }
  get window(): number { return get16(this.buf, this.off + OFF_WINDOW); }
  set window(v: number) { put16(this.buf, this.off + OFF_WINDOW, v); }
  get checksum(): number { return get16(this.buf, this.off + TCP_CHECKSUM_OFFSET); }
  set checksum(v: number) { put16(this.buf, this.off + TCP_CHECKSUM_OFFSET, v); }
  get urgentPointer(): number { return get16(this.buf, this.off + OFF_URGENT); }

  get optionsOffset(): number { return this.off + TCP_MIN_HEADER_LEN; }
  get optionsLength(): number { return this.headerLength - TCP_MIN_HEADER_LEN; }
  /** Absolute offset of the data in buf. */
  get payloadOffset(): number { return this.off + this.headerLength; }
  get payloadLength(): number { return this.len - this.headerLength; }

  /** Verifies the checksum with the IPv4 pseudo-header of src/dst. */
  checksumOk(src: number, dst: number): boolean {
    const acc = pseudoHeaderSum(src, dst, IPPROTO_TCP, this.len) + sumBytes(this.buf, this.off, this.len, 0);
    return csumFinish(acc) === 0;
  }

  expectedChecksum(src: number, dst: number): number {
    const acc = pseudoHeaderSum(src, dst, IPPROTO_TCP, this.len) +
      sumBytes(this.buf, this.off, this.len, 0) - get16(this.buf, this.off + TCP_CHECKSUM_OFFSET);
    return csumFinish(acc);
  }

  fillChecksum(src: number, dst: number): void {
    put16(this.buf, this.off + TCP_CHECKSUM_OFFSET, 0);
    const acc = pseudoHeaderSum(src, dst, IPPROTO_TCP, this.len) + sumBytes(this.buf, this.off, this.len, 0);
    put16(this.buf, this.off + TCP_CHECKSUM_OFFSET, csumFinish(acc));
  }

  /** Rewrites the source port and patches the checksum (RFC 1624). */
  rewriteSport(v: number): void {
    const old = this.sport;
    this.sport = v;
    this.checksum = csumUpdate16(this.checksum, old, v & 0xffff);
  }

  rewriteDport(v: number): void {
    const old = this.dport;
    this.dport = v;
    this.checksum = csumUpdate16(this.checksum, old, v & 0xffff);
  }

  /** Patches the checksum after an address of the pseudo-header changed (NAT). */
  pseudoAddrChanged(oldAddr: number, newAddr: number): void {
    this.checksum = csumUpdate32(this.checksum, oldAddr >>> 0, newAddr >>> 0);
  }

  /**
   * Wraps the start of a segment quoted in an ICMP error: at least the ports
   * and sequence number (TCP_QUOTED_MIN bytes); the rest may be cut off.
   * Only rewriteQuoted() may be used on a view wrapped this way.
   */
  wrapQuoted(buf: Uint8Array, off: number, len: number): number {
    if (len < TCP_QUOTED_MIN || off < 0 || off + len > buf.length) return TCP_TRUNCATED;
    this.buf = buf;
    this.off = off;
    this.len = len;
    return WIRE_OK;
  }

  /**
   * NAT of a quoted segment: sets its source port (`srcSide`) or destination
   * port, and patches its checksum for that and for an address of its
   * pseudo-header changed from oldAddr to newAddr — when the checksum is
   * among the quoted bytes.
   */
  rewriteQuoted(srcSide: boolean, port: number, oldAddr: number, newAddr: number): void {
    const p = this.off + (srcSide ? OFF_SPORT : OFF_DPORT);
    const oldPort = get16(this.buf, p);
    put16(this.buf, p, port);
    if (this.len < TCP_CHECKSUM_OFFSET + 2) return;
    this.checksum = csumUpdate16(csumUpdate32(this.checksum, oldAddr >>> 0, newAddr >>> 0), oldPort, port & 0xffff);
  }
}

export interface TcpHeader {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  /** 9 bits, TCP_FIN .. TCP_NS. */
  flags: number;
  window: number;
  /** On emit: written as given, 0 when omitted (fill it with TcpView.fillChecksum). */
  checksum?: number;
  urgent: number;
  /** Raw option bytes; length a multiple of 4, at most 40. */
  options?: Uint8Array;
}

export function parseTcp(buf: Uint8Array, off = 0, len = buf.length - off): TcpHeader {
  const v = new TcpView();
  const rc = v.wrap(buf, off, len);
  if (rc !== WIRE_OK) throw new WireError(rc, 'tcp');
  return {
    sport: v.sport,
    dport: v.dport,
    seq: v.seq,
    ack: v.ack,
    flags: v.flags,
    window: v.window,
    checksum: v.checksum,
    urgent: v.urgentPointer,
    options: buf.slice(v.optionsOffset, v.optionsOffset + v.optionsLength),
  };
}

export function tcpHeaderLength(h: TcpHeader): number {
  return TCP_MIN_HEADER_LEN + (h.options?.length ?? 0);
}

/** Writes the header (not the data); returns the header length. */
export function emitTcp(h: TcpHeader, buf: Uint8Array, off: number): number {
  const optLen = h.options?.length ?? 0;
  if (optLen % 4 !== 0 || optLen > TCP_MAX_HEADER_LEN - TCP_MIN_HEADER_LEN) {
    throw new Error(`TCP options must be a multiple of 4 bytes, at most 40 (got ${optLen})`);
  }
  const hl = TCP_MIN_HEADER_LEN + optLen;
  put16(buf, off + OFF_SPORT, h.sport);
  put16(buf, off + OFF_DPORT, h.dport);
  put32(buf, off + OFF_SEQ, h.seq);
  put32(buf, off + OFF_ACK, h.ack);
  buf[off + OFF_DOFF] = ((hl >>> 2) << 4) | ((h.flags >>> 8) & 1);
  buf[off + OFF_FLAGS] = h.flags;
  put16(buf, off + OFF_WINDOW, h.window);
  put16(buf, off + TCP_CHECKSUM_OFFSET, h.checksum ?? 0);
  put16(buf, off + OFF_URGENT, h.urgent);
  if (optLen > 0) buf.set(h.options!, off + TCP_MIN_HEADER_LEN);
  return hl;
}

/** tcpdump-style flag letters: "S.", "F.", "R", "P." ... ("." is ACK). */
export function tcpFlagsString(flags: number): string {
  let s = '';
  if (flags & TCP_FIN) s += 'F';
  if (flags & TCP_SYN) s += 'S';
  if (flags & TCP_RST) s += 'R';
  if (flags & TCP_PSH) s += 'P';
  if (flags & TCP_URG) s += 'U';
  if (flags & TCP_ECE) s += 'E';
  if (flags & TCP_CWR) s += 'W';
  if (flags & TCP_NS) s += 'N';
  if (flags & TCP_ACK) s += '.';
  return s === '' ? 'none' : s;
}
