// ICMP for IPv4 (RFC 792, RFC 1191 next-hop MTU).

import { EMPTY, get16, get32, put16, put32 } from './bytes.js';
import { checksum, csumFinish, csumUpdate32, sumBytes } from './checksum.js';
import { ICMP_TRUNCATED, WIRE_OK, WireError } from './errors.js';

export const ICMP_HEADER_LEN = 8;

// Field offsets in the ICMP header.
const OFF_TYPE = 0;
const OFF_CODE = 1;
const OFF_CSUM = 2;
/** bytes 4..7: identifier+sequence (echo), next-hop MTU (frag needed), gateway (redirect), pointer */
const OFF_REST = 4;
const OFF_SEQ = 6;
// Fields of the IPv4 header quoted after an error's 8-byte header, from its start.
const Q_VER_IHL = 0;
const Q_FRAG = 6;
const Q_PROTO = 9;
const Q_CSUM = 10;
const Q_SRC = 12;
const Q_DST = 16;
const Q_MIN_LEN = 20;
/** The quoted datagram must show its transport header's first 8 bytes (the ports) to be matched. */
const Q_TRANSPORT_BYTES = 8;

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

  get type(): number { return this.buf[this.off + OFF_TYPE]!; }
  set type(v: number) { this.buf[this.off + OFF_TYPE] = v; }
  get code(): number { return this.buf[this.off + OFF_CODE]!; }
  set code(v: number) { this.buf[this.off + OFF_CODE] = v; }
  get checksum(): number { return get16(this.buf, this.off + OFF_CSUM); }
  set checksum(v: number) { put16(this.buf, this.off + OFF_CSUM, v); }
  /** Bytes 4..7, whatever the type puts there. */
  get rest(): number { return get32(this.buf, this.off + OFF_REST); }
  set rest(v: number) { put32(this.buf, this.off + OFF_REST, v); }
  /** Echo identifier. */
  get id(): number { return get16(this.buf, this.off + OFF_REST); }
  set id(v: number) { put16(this.buf, this.off + OFF_REST, v); }
  /** Echo sequence number. */
  get seq(): number { return get16(this.buf, this.off + OFF_SEQ); }
  set seq(v: number) { put16(this.buf, this.off + OFF_SEQ, v); }
  /** Next-hop MTU of a fragmentation-needed message (RFC 1191); 0 from old routers. */
  get nextHopMtu(): number { return get16(this.buf, this.off + OFF_SEQ); }
  set nextHopMtu(v: number) { put16(this.buf, this.off + OFF_SEQ, v); }
  /** Gateway address of a redirect. */
  get gateway(): number { return get32(this.buf, this.off + OFF_REST); }
  /** Octet pointer of a parameter problem. */
  get pointer(): number { return this.buf[this.off + OFF_REST]!; }

  get isError(): boolean { return icmpIsError(this.buf[this.off + OFF_TYPE]!); }
  get isEcho(): boolean {
    const t = this.buf[this.off + OFF_TYPE]!;
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
    if (avail < Q_MIN_LEN) return false;
    const b0 = this.buf[this.off + ICMP_HEADER_LEN + Q_VER_IHL]!;
    const hl = (b0 & 0x0f) << 2;
    return b0 >>> 4 === 4 && hl >= Q_MIN_LEN && hl + Q_TRANSPORT_BYTES <= avail;
  }

  // The quoted datagram's fields, for matching an error to a connection and
  // rewriting it (NAT). They read 0 and ignore writes unless embeddedComplete.
  private get q(): number { return this.off + ICMP_HEADER_LEN; }
  get embeddedHeaderLength(): number { return this.embeddedComplete ? (this.buf[this.q + Q_VER_IHL]! & 0x0f) << 2 : 0; }
  get embeddedProtocol(): number { return this.embeddedComplete ? this.buf[this.q + Q_PROTO]! : 0; }
  /** Fragment offset of the quoted packet: a non-first fragment has no ports to match. */
  get embeddedFragOffset(): number { return this.embeddedComplete ? get16(this.buf, this.q + Q_FRAG) & 0x1fff : 0; }
  get embeddedChecksum(): number { return this.embeddedComplete ? get16(this.buf, this.q + Q_CSUM) : 0; }
  set embeddedChecksum(v: number) { if (this.embeddedComplete) put16(this.buf, this.q + Q_CSUM, v); }
  get embeddedSrc(): number { return this.embeddedComplete ? get32(this.buf, this.q + Q_SRC) : 0; }
  get embeddedDst(): number { return this.embeddedComplete ? get32(this.buf, this.q + Q_DST) : 0; }
  /** Rewrites the quoted source (or destination) address and patches the quoted header's checksum. */
  rewriteEmbeddedSrc(v: number): void { this.rewriteEmbeddedAddr(Q_SRC, v); }
  rewriteEmbeddedDst(v: number): void { this.rewriteEmbeddedAddr(Q_DST, v); }
  private rewriteEmbeddedAddr(field: number, v: number): void {
    if (!this.embeddedComplete) return;
    const o = this.q + field;
    const old = get32(this.buf, o);
    put32(this.buf, o, v);
    this.embeddedChecksum = csumUpdate32(this.embeddedChecksum, old, v >>> 0);
  }
  /** Absolute offset of the quoted transport header (its first 8 bytes at least); 0 unless complete. */
  get embeddedTransportOffset(): number { return this.embeddedComplete ? this.q + this.embeddedHeaderLength : 0; }
  /** Bytes of the quoted transport header present in the message; 0 unless complete. */
  get embeddedTransportLength(): number { return this.embeddedComplete ? this.off + this.len - this.embeddedTransportOffset : 0; }
  get embeddedSport(): number { return this.embeddedComplete ? get16(this.buf, this.embeddedTransportOffset) : 0; }
  get embeddedDport(): number { return this.embeddedComplete ? get16(this.buf, this.embeddedTransportOffset + 2) : 0; }

  checksumOk(): boolean {
    return checksum(this.buf, this.off, this.len) === 0;
  }

  expectedChecksum(): number {
    return csumFinish(sumBytes(this.buf, this.off, this.len, 0) - get16(this.buf, this.off + OFF_CSUM));
  }

  fillChecksum(): void {
    put16(this.buf, this.off + OFF_CSUM, 0);
    put16(this.buf, this.off + OFF_CSUM, checksum(this.buf, this.off, this.len));
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
