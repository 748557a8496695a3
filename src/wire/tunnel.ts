// What the GRE and GUE encapsulations share: the inner packet's family and
// the outer IPv4 header, written as the kernel's IPVS writes it for every
// tunnel type (ip_vs_tunnel_xmit after ip_vs_prepare_tunneled_skb):
//   - version 4, IHL 5, no options, fragment offset 0, MF clear;
//   - DS field: the inner DSCP, and the inner ECN bits except that CE becomes
//     ECT(0) (INET_ECN_encapsulate: congestion marks are not copied out);
//   - DF copied from an IPv4 inner packet when path-MTU discovery is on (the
//     sysctl pmtu_disc, 1 by default), never set for an IPv6 inner packet;
//   - TTL: the inner TTL / hop limit unless one is configured;
//   - the identification the caller picked (the kernel's ip_select_ident).
// And the outer IPv6 header of every IPv6 tunnel (ip_vs_tunnel_xmit_v6, the
// same prepare step): traffic class from the inner DS field with the same
// ECN rule, flow label 0, the inner hop limit (TTL), the payload length of
// everything after it, the next header of the tunnel type; no
// encapsulation-limit option.

import { writeIp6 } from './addr6.js';
import { put16, put32 } from './bytes.js';
import { checksum } from './checksum.js';

export const TUN_OUTER_LEN = 20;
export const TUN6_OUTER_LEN = 40;

// inner IPv4 header
const V4_TOS = 1;
const V4_FRAG = 6;
const V4_TTL = 8;
const V4_DF_BIT = 0x40;
// inner IPv6 header
const V6_HOP_LIMIT = 7;
const V6_HEADER_LEN = 40;
// outer header
const O_VER_IHL = 0;
const O_TOS = 1;
const O_TOTAL_LEN = 2;
const O_ID = 4;
const O_FRAG = 6;
const O_TTL = 8;
const O_PROTO = 9;
const O_CSUM = 10;
const O_SRC = 12;
const O_DST = 16;

const ECN_MASK = 3;
const ECN_CE = 3;
const ECN_ECT0 = 2;

/**
 * 4 or 6 when buf[off, off+len) starts with an IPv4 (20+ bytes) or IPv6
 * (40+ bytes) header, by its version nibble; 0 otherwise.
 */
export function innerIpVersion(buf: Uint8Array, off: number, len: number): number {
  if (len < 1 || off < 0 || off + len > buf.length) return 0;
  const v = buf[off]! >>> 4;
  if (v === 4 && len >= TUN_OUTER_LEN) return 4;
  if (v === 6 && len >= V6_HEADER_LEN) return 6;
  return 0;
}

/** The inner packet's DS field (IPv4 TOS or IPv6 traffic class). */
function innerDsfield(buf: Uint8Array, off: number, version: number): number {
  return version === 4 ? buf[off + V4_TOS]! : ((buf[off]! & 0x0f) << 4) | (buf[off + 1]! >>> 4);
}

/** INET_ECN_encapsulate(ds, ds): keep DSCP and ECN, but send CE as ECT(0). */
export function ecnEncapsulate(ds: number): number {
  return (ds & ECN_MASK) === ECN_CE ? (ds & ~ECN_MASK & 0xff) | ECN_ECT0 : ds & 0xff;
}

/**
 * Writes the 20-byte outer IPv4 header at `o` for a tunnel packet of
 * `total` bytes whose inner IP packet (version 4 or 6, see innerIpVersion)
 * starts at innerOff. ttl < 0 copies the inner TTL / hop limit.
 */
export function writeTunnelOuterIpv4(
  buf: Uint8Array, o: number, total: number, protocol: number,
  src: number, dst: number, id: number, ttl: number, pmtuDisc: boolean,
  innerOff: number, innerVersion: number,
): void {
  buf[o + O_VER_IHL] = 0x45;
  buf[o + O_TOS] = ecnEncapsulate(innerDsfield(buf, innerOff, innerVersion));
  put16(buf, o + O_TOTAL_LEN, total);
  put16(buf, o + O_ID, id);
  buf[o + O_FRAG] = pmtuDisc && innerVersion === 4 ? buf[innerOff + V4_FRAG]! & V4_DF_BIT : 0;
  buf[o + O_FRAG + 1] = 0;
  buf[o + O_TTL] = ttl >= 0 ? ttl : buf[innerOff + (innerVersion === 4 ? V4_TTL : V6_HOP_LIMIT)]!;
  buf[o + O_PROTO] = protocol;
  put16(buf, o + O_CSUM, 0);
  put32(buf, o + O_SRC, src);
  put32(buf, o + O_DST, dst);
  put16(buf, o + O_CSUM, checksum(buf, o, TUN_OUTER_LEN));
}

// outer IPv6 header
const O6_PLEN = 4;
const O6_NEXT = 6;
const O6_HLIM = 7;
const O6_SRC = 8;
const O6_DST = 24;

/**
 * Writes the 40-byte outer IPv6 header at `o`, carrying `payloadLen` bytes
 * of `nextHeader` after it, for the inner IP packet (version 4 or 6) at
 * innerOff. hopLimit < 0 copies the inner hop limit / TTL.
 */
export function writeTunnelOuterIpv6(
  buf: Uint8Array, o: number, payloadLen: number, nextHeader: number,
  src: Uint32Array, srcOff: number, dst: Uint32Array, dstOff: number,
  hopLimit: number, innerOff: number, innerVersion: number,
): void {
  const tc = ecnEncapsulate(innerDsfield(buf, innerOff, innerVersion));
  put32(buf, o, ((6 << 28) | (tc << 20)) >>> 0); // flow label 0
  put16(buf, o + O6_PLEN, payloadLen);
  buf[o + O6_NEXT] = nextHeader;
  buf[o + O6_HLIM] = hopLimit >= 0 ? hopLimit : buf[innerOff + (innerVersion === 4 ? V4_TTL : V6_HOP_LIMIT)]!;
  writeIp6(buf, o + O6_SRC, src, srcOff);
  writeIp6(buf, o + O6_DST, dst, dstOff);
}
