// IPv6 tunnelling as LVS-TUN does it towards an IPv6 real server (RFC 2473
// without the encapsulation limit option): the director puts a 40-byte outer
// IPv6 header in front of the client's unchanged packet, next header 41 for
// an IPv6 packet, 4 for an IPv4 one (a mixed-family service).

import { writeTunnelOuterIpv6 } from './tunnel.js';
import { IP6IP6_NOT_IP6IP6, IP6IP6_NO_HEADROOM, IP6_BAD_PAYLOAD_LENGTH, WIRE_OK, WireError } from './errors.js';
import { Ipv4View } from './ipv4.js';
import {
  emitIpv6, NEXTHDR_IPV4, NEXTHDR_IPV6, Ipv6Headers, IPV6_HEADER_LEN, Ipv6View, parseIpv6, type Ipv6Header,
} from './ipv6.js';

export const IP6IP6_OUTER_LEN = IPV6_HEADER_LEN;

/**
 * Writes an outer IPv6 header into the 40 bytes of headroom before the inner
 * packet at innerOff; the packet then starts at innerOff - 40.
 *
 * The outer fields follow the kernel's ip_vs_tunnel_xmit_v6 (with
 * ip_vs_prepare_tunneled_skb), see tunnel.ts: the traffic class from the
 * inner packet (its TOS byte for IPv4) with CE sent as ECT(0), flow label 0,
 * the hop limit the inner hop limit (TTL) unless `hopLimit` is given (>= 0),
 * and the payload length the inner packet's length. The inner packet (IPv6,
 * or IPv4) must have been wrapped already. Returns WIRE_OK,
 * IP6IP6_NO_HEADROOM, IP6IP6_NOT_IP6IP6 when the inner packet is neither IPv6
 * nor IPv4, or IP6_BAD_PAYLOAD_LENGTH over 65535 bytes.
 */
export function encapIp6ip6(
  buf: Uint8Array, innerOff: number, innerLen: number,
  src: Uint32Array, srcOff: number, dst: Uint32Array, dstOff: number, hopLimit = -1,
): number {
  if (innerOff < IP6IP6_OUTER_LEN || innerLen < 1 || innerOff + innerLen > buf.length) return IP6IP6_NO_HEADROOM;
  if (innerLen > 0xffff) return IP6_BAD_PAYLOAD_LENGTH;
  const version = buf[innerOff]! >>> 4;
  if (version !== 6 && version !== 4) return IP6IP6_NOT_IP6IP6;
  writeTunnelOuterIpv6(buf, innerOff - IP6IP6_OUTER_LEN, innerLen, version === 6 ? NEXTHDR_IPV6 : NEXTHDR_IPV4,
    src, srcOff, dst, dstOff, hopLimit, innerOff, version);
  return WIRE_OK;
}

const walker = new Ipv6Headers();

/**
 * Wraps `inner` over the IPv6 packet carried by `outer`, past any extension
 * headers of the outer packet. Returns IP6IP6_NOT_IP6IP6 for another upper
 * protocol, an IP6_EXT_* code for a bad outer chain, else the inner wrap's code.
 */
export function ip6ip6Inner(outer: Ipv6View, inner: Ipv6View): number {
  const rc = tunnelPayload(outer, NEXTHDR_IPV6);
  if (rc !== WIRE_OK) return rc;
  return inner.wrap(outer.buf, walker.upperOffset, walker.upperLength);
}

/** The same for an IPv4 packet inside IPv6 (next header 4). */
export function ip4in6Inner(outer: Ipv6View, inner: Ipv4View): number {
  const rc = tunnelPayload(outer, NEXTHDR_IPV4);
  if (rc !== WIRE_OK) return rc;
  return inner.wrap(outer.buf, walker.upperOffset, walker.upperLength);
}

function tunnelPayload(outer: Ipv6View, proto: number): number {
  const rc = walker.walk(outer);
  if (rc !== WIRE_OK) return rc;
  if (walker.upperProtocol !== proto || walker.isFragment) return IP6IP6_NOT_IP6IP6;
  return WIRE_OK;
}

export interface Ip6ip6Packet {
  outer: Ipv6Header;
  inner: Ipv6Header;
}

export function parseIp6ip6(buf: Uint8Array, off = 0, len = buf.length - off): Ip6ip6Packet {
  const outer = new Ipv6View();
  let rc = outer.wrap(buf, off, len);
  if (rc !== WIRE_OK) throw new WireError(rc, 'ip6ip6 outer');
  const inner = new Ipv6View();
  rc = ip6ip6Inner(outer, inner);
  if (rc !== WIRE_OK) throw new WireError(rc, 'ip6ip6 inner');
  return { outer: parseIpv6(buf, off, len), inner: parseIpv6(buf, inner.off, inner.len) };
}

/**
 * Writes `outer` (next header and payload length forced to IPv6-in-IPv6 and
 * to fit) then the inner packet bytes; returns the bytes written.
 */
export function emitIp6ip6(outer: Ipv6Header, innerPacket: Uint8Array, buf: Uint8Array, off: number): number {
  const n = emitIpv6({ ...outer, nextHeader: NEXTHDR_IPV6, payloadLength: innerPacket.length }, buf, off);
  buf.set(innerPacket, off + n);
  return n + innerPacket.length;
}
