// Upper-layer checksums over IPv6 (RFC 8200 section 8.1) and their
// incremental update when a 128-bit address of the pseudo-header changes.
//
// IPv6 has no header checksum: a NAT that rewrites an address must patch the
// TCP/UDP/ICMPv6 checksum instead, since all three cover the pseudo-header.
//
// The IPv6 pseudo-header is source, final destination, a 32-bit upper-layer
// length and the next header value. Callers pass the sum of the two addresses
// (`addrSum`, from Ipv6View.pseudoAddrSum or pseudoAddrSum6Words): it is the
// same for every segment of a connection, so it can be kept, and the IPv4
// functions of tcp.ts / udp.ts stay as they are.

import { get16, put16 } from './bytes.js';
import { csumFinish, csumFold, sumBytes } from './checksum.js';
import type { TcpView } from './tcp.js';
import type { UdpView } from './udp.js';
import { IPPROTO_TCP, IPPROTO_UDP } from './ipproto.js';

const TCP_CSUM = 16;
const UDP_LEN = 4;
const UDP_CSUM = 6;
const UDP_HEADER_LEN = 8;

/** Sum of the eight 16-bit halves of an address held as words. */
export function ip6WordsSum(a: Uint32Array, off: number): number {
  const w0 = a[off]!;
  const w1 = a[off + 1]!;
  const w2 = a[off + 2]!;
  const w3 = a[off + 3]!;
  return (w0 >>> 16) + (w0 & 0xffff) + (w1 >>> 16) + (w1 & 0xffff) +
    (w2 >>> 16) + (w2 & 0xffff) + (w3 >>> 16) + (w3 & 0xffff);
}

/** Sum of the two pseudo-header addresses, read from packet bytes (16 each). */
export function pseudoAddrSum6(buf: Uint8Array, srcOff: number, dstOff: number): number {
  return sumBytes(buf, srcOff, 16, sumBytes(buf, dstOff, 16, 0));
}

/** Same, from addresses held as words. */
export function pseudoAddrSum6Words(src: Uint32Array, srcOff: number, dst: Uint32Array, dstOff: number): number {
  return ip6WordsSum(src, srcOff) + ip6WordsSum(dst, dstOff);
}

/** The whole pseudo-header: the address sum plus the 32-bit length and the next header. */
export function pseudoHeaderSum6(addrSum: number, nextHeader: number, upperLen: number): number {
  return addrSum + (upperLen >>> 16) + (upperLen & 0xffff) + nextHeader;
}

// ---- incremental update (RFC 1624 eqn 3, for many words at once) ----

/**
 * The change from data summing to oldSum to data summing to newSum, as a
 * 16-bit ones' complement value to give to csumAdjust. For one word this is
 * ~m + m' of RFC 1624 eqn 3.
 */
export function csumDelta(oldSum: number, newSum: number): number {
  return csumFold((~csumFold(oldSum) & 0xffff) + csumFold(newSum));
}

/** HC' = ~(~HC + delta): the checksum after the change that delta describes. */
export function csumAdjust(csum: number, delta: number): number {
  return ~csumFold((~csum & 0xffff) + delta) & 0xffff;
}

/**
 * UDP over IPv6: a field of 0 is invalid there (RFC 8200 section 8.1) and is
 * left as it is, for the receiver to drop; a result of 0 is sent as 0xFFFF.
 */
export function udpCsumAdjust(csum: number, delta: number): number {
  if (csum === 0) return 0;
  const r = csumAdjust(csum, delta);
  return r === 0 ? 0xffff : r;
}

/** A checksum after one address of its pseudo-header changed from oldA to newA. */
export function csumUpdate128(csum: number, oldA: Uint32Array, oldOff: number, newA: Uint32Array, newOff: number): number {
  return csumAdjust(csum, csumDelta(ip6WordsSum(oldA, oldOff), ip6WordsSum(newA, newOff)));
}

export function udpCsumUpdate128(csum: number, oldA: Uint32Array, oldOff: number, newA: Uint32Array, newOff: number): number {
  return udpCsumAdjust(csum, csumDelta(ip6WordsSum(oldA, oldOff), ip6WordsSum(newA, newOff)));
}

// ---- full checksums of a TCP segment, UDP datagram or any upper layer ----

/** Checksum field value for buf[off, off+len) of protocol `nextHeader` (field bytes included as they are). */
export function l4Checksum6(buf: Uint8Array, off: number, len: number, nextHeader: number, addrSum: number): number {
  return csumFinish(pseudoHeaderSum6(addrSum, nextHeader, len) + sumBytes(buf, off, len, 0));
}

/** Verifies the TCP checksum with the IPv6 pseudo-header. */
export function tcpChecksumOk6(t: TcpView, addrSum: number): boolean {
  return l4Checksum6(t.buf, t.off, t.len, IPPROTO_TCP, addrSum) === 0;
}

export function tcpExpectedChecksum6(t: TcpView, addrSum: number): number {
  const acc = pseudoHeaderSum6(addrSum, IPPROTO_TCP, t.len) + sumBytes(t.buf, t.off, t.len, 0) -
    get16(t.buf, t.off + TCP_CSUM);
  return csumFinish(acc);
}

export function tcpFillChecksum6(t: TcpView, addrSum: number): void {
  put16(t.buf, t.off + TCP_CSUM, 0);
  put16(t.buf, t.off + TCP_CSUM, l4Checksum6(t.buf, t.off, t.len, IPPROTO_TCP, addrSum));
}

/**
 * Verifies a UDP checksum over IPv6. Unlike IPv4, 0 ("none") is not
 * accepted: the checksum is mandatory (RFC 8200 section 8.1). The length in
 * the pseudo-header is the UDP length field; a datagram not all present
 * (first fragment, quoted in an ICMPv6 error) cannot verify.
 */
export function udpChecksumOk6(u: UdpView, addrSum: number): boolean {
  if (get16(u.buf, u.off + UDP_CSUM) === 0) return false;
  const l = get16(u.buf, u.off + UDP_LEN);
  if (l < UDP_HEADER_LEN || l > u.len) return false;
  return l4Checksum6(u.buf, u.off, l, IPPROTO_UDP, addrSum) === 0;
}

/** The value a sender puts in the field: never 0 (a computed 0 goes out as 0xFFFF). */
export function udpExpectedChecksum6(u: UdpView, addrSum: number): number {
  const l = Math.min(Math.max(get16(u.buf, u.off + UDP_LEN), UDP_HEADER_LEN), u.len);
  const acc = pseudoHeaderSum6(addrSum, IPPROTO_UDP, l) + sumBytes(u.buf, u.off, l, 0) -
    get16(u.buf, u.off + UDP_CSUM);
  const c = csumFinish(acc);
  return c === 0 ? 0xffff : c;
}

export function udpFillChecksum6(u: UdpView, addrSum: number): void {
  put16(u.buf, u.off + UDP_CSUM, 0);
  put16(u.buf, u.off + UDP_CSUM, udpExpectedChecksum6(u, addrSum));
}
