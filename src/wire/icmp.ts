// ICMP for IPv4 (RFC 792, RFC 1191 next-hop MTU).

import { EMPTY, get16, get32, put16, put32 } from './bytes.js';
import { checksum, csumFinish, sumBytes } from './checksum.js';
import { ICMP_TRUNCATED, WIRE_OK, WireError } from './errors.js';

export const ICMP_HEADER_LEN = 8;

export const ICMP_ECHO_REPLY = 0;
export const ICMP_DEST_UNREACH = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_ECHO_REQUEST = 8;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAM_PROBLEM = 12;

// codes of ICMP_DEST_UNREACH
export const ICMP_NET_UNREACH = 0;
export const ICMP_HOST_UNREACH = 1;
export const ICMP_PROT_UNREACH = 2;
export const ICMP_PORT_UNREACH = 3;
export const ICMP_FRAG_NEEDED = 4;
export const ICMP_SR_FAILED = 5;
export const ICMP_PKT_FILTERED = 13;

// codes of ICMP_TIME_EXCEEDED
export const ICMP_EXC_TTL = 0;
export const ICMP_EXC_FRAGTIME = 1;

/** Types whose body quotes the offending datagram (IP header + at least 8 bytes). */
export function icmpIsError(type: number): boolean {
  return type === ICMP_DEST_UNREACH || type === ICMP_SOURCE_QUENCH || type === ICMP_REDIRECT ||
    type === ICMP_TIME_EXCEEDED || type === ICMP_PARAM_PROBLEM;
}

export class IcmpView {
  buf: Uint8Array = EMPTY;
  off = 0;
  /** The whole ICMP message: header and body (the IP payload length). */
  len = 0;

  /** Returns WIRE_OK or ICMP_TRUNCATED. */
  wrap(buf: Uint8Array, off: number, len: number): number {
    if (len < ICMP_HEADER_LEN || off < 0 || off + len > buf.length) return ICMP_TRUNCATED;
    this.buf = buf;
    this.off = off;
    this.len = len;
    return WIRE_OK;
  }

  get type(): number { return this.buf[this.off]!; }
  set type(v: number) { this.buf[this.off] = v; }
  get code(): number { return this.buf[this.off + 1]!; }
  set code(v: number) { this.buf[this.off + 1] = v; }
  get checksum(): number { return get16(this.buf, this.off + 2); }
  set checksum(v: number) { put16(this.buf, this.off + 2, v); }
  /** Bytes 4..7, whatever the type puts there. */
  get rest(): number { return get32(this.buf, this.off + 4); }
  set rest(v: number) { put32(this.buf, this.off + 4, v); }
  /** Echo identifier. */
  get id(): number { return get16(this.buf, this.off + 4); }
  set id(v: number) { put16(this.buf, this.off + 4, v); }
  /** Echo sequence number. */
  get seq(): number { return get16(this.buf, this.off + 6); }
  set seq(v: number) { put16(this.buf, this.off + 6, v); }
  /** Next-hop MTU of a fragmentation-needed message (RFC 1191); 0 from old routers. */
  get nextHopMtu(): number { return get16(this.buf, this.off + 6); }
  set nextHopMtu(v: number) { put16(this.buf, this.off + 6, v); }
  /** Gateway address of a redirect. */
  get gateway(): number { return get32(this.buf, this.off + 4); }
  /** Octet pointer of a parameter problem. */
  get pointer(): number { return this.buf[this.off + 4]!; }

  get isError(): boolean { return icmpIsError(this.buf[this.off]!); }
  get isEcho(): boolean {
    const t = this.buf[this.off]!;
    return t === ICMP_ECHO_REQUEST || t === ICMP_ECHO_REPLY;
  }

  /** Absolute offset of the body: for errors, the quoted IP header. */
  get embeddedOffset(): number { return this.off + ICMP_HEADER_LEN; }
  get embeddedLength(): number { return this.len - ICMP_HEADER_LEN; }
  /**
   * For error types: whether the quoted datagram is IPv4 with a sane IHL and
   * its header plus 8 bytes (the ports) are all present.
   */
  get embeddedComplete(): boolean {
    if (!this.isError) return false;
    const avail = this.len - ICMP_HEADER_LEN;
    if (avail < 20) return false;
    const b0 = this.buf[this.off + ICMP_HEADER_LEN]!;
    const hl = (b0 & 0x0f) << 2;
    return b0 >>> 4 === 4 && hl >= 20 && hl + 8 <= avail;
  }

  // The quoted datagram's fields, for matching an error to a connection and
  // rewriting it (NAT). They read 0 and ignore writes unless embeddedComplete.
  get embeddedHeaderLength(): number {
    return this.embeddedComplete ? (this.buf[this.off + ICMP_HEADER_LEN]! & 0x0f) << 2 : 0;
  }
  get embeddedProtocol(): number {
    return this.embeddedComplete ? this.buf[this.off + ICMP_HEADER_LEN + 9]! : 0;
  }
  get embeddedSrc(): number { return this.embeddedComplete ? get32(this.buf, this.off + ICMP_HEADER_LEN + 12) : 0; }
  set embeddedSrc(v: number) { if (this.embeddedComplete) put32(this.buf, this.off + ICMP_HEADER_LEN + 12, v); }
  get embeddedDst(): number { return this.embeddedComplete ? get32(this.buf, this.off + ICMP_HEADER_LEN + 16) : 0; }
  set embeddedDst(v: number) { if (this.embeddedComplete) put32(this.buf, this.off + ICMP_HEADER_LEN + 16, v); }
  /** Absolute offset of the quoted transport header (its first 8 bytes); 0 unless complete. */
  get embeddedTransportOffset(): number {
    return this.embeddedComplete ? this.off + ICMP_HEADER_LEN + ((this.buf[this.off + ICMP_HEADER_LEN]! & 0x0f) << 2) : 0;
  }
  get embeddedSport(): number { return this.embeddedComplete ? get16(this.buf, this.embeddedTransportOffset) : 0; }
  set embeddedSport(v: number) { if (this.embeddedComplete) put16(this.buf, this.embeddedTransportOffset, v); }
  get embeddedDport(): number { return this.embeddedComplete ? get16(this.buf, this.embeddedTransportOffset + 2) : 0; }
  set embeddedDport(v: number) { if (this.embeddedComplete) put16(this.buf, this.embeddedTransportOffset + 2, v); }

  checksumOk(): boolean {
    return checksum(this.buf, this.off, this.len) === 0;
  }

  expectedChecksum(): number {
    return csumFinish(sumBytes(this.buf, this.off, this.len, 0) - get16(this.buf, this.off + 2));
  }

  fillChecksum(): void {
    put16(this.buf, this.off + 2, 0);
    put16(this.buf, this.off + 2, checksum(this.buf, this.off, this.len));
  }
}

export interface IcmpHeader {
  type: number;
  code: number;
  /** On emit: written as given, 0 when omitted (fill it with IcmpView.fillChecksum). */
  checksum?: number;
  /** Bytes 4..7: see icmpEchoRest / icmpMtuRest. */
  rest: number;
}

export function icmpEchoRest(id: number, seq: number): number {
  return (((id & 0xffff) << 16) | (seq & 0xffff)) >>> 0;
}

export function icmpMtuRest(mtu: number): number {
  return mtu & 0xffff;
}

export function parseIcmp(buf: Uint8Array, off = 0, len = buf.length - off): IcmpHeader {
  const v = new IcmpView();
  const rc = v.wrap(buf, off, len);
  if (rc !== WIRE_OK) throw new WireError(rc, 'icmp');
  return { type: v.type, code: v.code, checksum: v.checksum, rest: v.rest };
}

/** Writes the 8-byte header; returns 8. */
export function emitIcmp(h: IcmpHeader, buf: Uint8Array, off: number): number {
  buf[off] = h.type;
  buf[off + 1] = h.code;
  put16(buf, off + 2, h.checksum ?? 0);
  put32(buf, off + 4, h.rest);
  return ICMP_HEADER_LEN;
}
