// The ICMPv6 messages the director itself sends (RFC 4443, RFC 4861):
// errors about packets it cannot deliver, echo replies, and neighbour
// solicitations and advertisements. Slow paths: each builds a whole frame
// into a caller's scratch buffer.
import { ip6MulticastMac, ip6SolicitedNode } from '../wire/addr6.js';
import { pseudoAddrSum6Words } from '../wire/checksum6.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV6, emitEthernet } from '../wire/ethernet.js';
import {
  ICMPV6_HEADER_LEN, ICMPV6_NEIGHBOR_ADVERT, ICMPV6_NEIGHBOR_SOLICIT, ND_HOP_LIMIT, ND_OPT_SOURCE_LL_ADDR,
  ND_OPT_TARGET_LL_ADDR, Icmpv6View, emitIcmpv6, emitNd, ndLinkAddrOption, type NdOption,
} from '../wire/icmpv6.js';
import { IPV6_HEADER_LEN, IPV6_MIN_MTU, NEXTHDR_ICMP, emitIpv6 } from '../wire/ipv6.js';

/** Hop limit of what the director originates (Linux's default hop_limit sysctl). */
export const DEFAULT_HOP_LIMIT = 64;
/**
 * How much of the offending packet an error quotes: as much as keeps the
 * error within the IPv6 minimum MTU (RFC 4443 section 2.4 (c)), as Linux.
 */
export const ICMP6_MAX_QUOTE = IPV6_MIN_MTU - IPV6_HEADER_LEN - ICMPV6_HEADER_LEN;
/** The largest frame these builders write: an error quoting ICMP6_MAX_QUOTE bytes. */
export const ICMP6_FRAME_MAX = ETH_HEADER_LEN + IPV6_MIN_MTU;

const icmp = new Icmpv6View();
const snm = new Uint32Array(4);

function ipv6Header(out: Uint8Array, src: Uint32Array, dst: Uint32Array, payloadLength: number, hopLimit: number): void {
  emitIpv6({ trafficClass: 0, flowLabel: 0, payloadLength, nextHeader: NEXTHDR_ICMP, hopLimit, src, dst }, out, ETH_HEADER_LEN);
}

function fillChecksum(out: Uint8Array, src: Uint32Array, dst: Uint32Array, len: number): void {
  const o = ETH_HEADER_LEN + IPV6_HEADER_LEN;
  icmp.buf = out;
  icmp.off = o;
  icmp.len = len;
  icmp.fillChecksum(pseudoAddrSum6Words(src, 0, dst, 0));
}

/**
 * An ICMPv6 error (type, code, the 32-bit field after the checksum) about
 * the IPv6 packet at buf[ipOff, ipOff+ipLen), from src to dst: the whole
 * Ethernet frame into `out` (ICMP6_FRAME_MAX bytes). Returns its length.
 */
export function buildIcmp6Error(
  out: Uint8Array, dstMac: number, srcMac: number, src: Uint32Array, dst: Uint32Array,
  type: number, code: number, info: number, buf: Uint8Array, ipOff: number, ipLen: number,
): number {
  const quoted = Math.min(ipLen, ICMP6_MAX_QUOTE);
  const len = ICMPV6_HEADER_LEN + quoted;
  emitEthernet({ dst: dstMac, src: srcMac, etherType: ETHERTYPE_IPV6 }, out, 0);
  ipv6Header(out, src, dst, len, DEFAULT_HOP_LIMIT);
  const o = ETH_HEADER_LEN + IPV6_HEADER_LEN;
  emitIcmpv6({ type, code, rest: info >>> 0 }, out, o);
  out.set(buf.subarray(ipOff, ipOff + quoted), o + ICMPV6_HEADER_LEN);
  fillChecksum(out, src, dst, len);
  return ETH_HEADER_LEN + IPV6_HEADER_LEN + len;
}

/**
 * A neighbour advertisement for `target` (ours), from `target`, to `dst`
 * (the solicitor, or all-nodes): flags ND_NA_*, with the target link-layer
 * address option when `withTll`. Returns the frame length.
 */
export function buildNa(
  out: Uint8Array, dstMac: number, srcMac: number, target: Uint32Array, dst: Uint32Array, flags: number, withTll: boolean,
): number {
  const options: NdOption[] = withTll ? [ndLinkAddrOption(ND_OPT_TARGET_LL_ADDR, srcMac)] : [];
  emitEthernet({ dst: dstMac, src: srcMac, etherType: ETHERTYPE_IPV6 }, out, 0);
  const o = ETH_HEADER_LEN + IPV6_HEADER_LEN;
  const len = emitNd({ type: ICMPV6_NEIGHBOR_ADVERT, code: 0, flags, target, options }, out, o);
  ipv6Header(out, target, dst, len, ND_HOP_LIMIT);
  fillChecksum(out, target, dst, len);
  return o + len;
}

/**
 * A multicast neighbour solicitation for `target` from `src`, to the
 * target's solicited-node group, with the source link-layer address option.
 * Returns the frame length.
 */
export function buildNs(out: Uint8Array, srcMac: number, src: Uint32Array, target: Uint32Array): number {
  ip6SolicitedNode(target, 0, snm, 0);
  emitEthernet({ dst: ip6MulticastMac(snm, 0), src: srcMac, etherType: ETHERTYPE_IPV6 }, out, 0);
  const o = ETH_HEADER_LEN + IPV6_HEADER_LEN;
  const len = emitNd({
    type: ICMPV6_NEIGHBOR_SOLICIT, code: 0, flags: 0, target, options: [ndLinkAddrOption(ND_OPT_SOURCE_LL_ADDR, srcMac)],
  }, out, o);
  ipv6Header(out, src, snm, len, ND_HOP_LIMIT);
  fillChecksum(out, src, snm, len);
  return o + len;
}
