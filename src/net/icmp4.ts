// The ICMP messages the director itself sends (RFC 792, RFC 1812 §4.3.2):
// errors about a packet it cannot deliver, and echo replies. Slow paths:
// errors are rare and rate-limited.
import { IPPROTO_ICMP } from '../wire/ipproto.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV4, EthernetView, emitEthernet } from '../wire/ethernet.js';
import { ICMP_ECHO_REPLY, ICMP_HEADER_LEN, IcmpView, emitIcmp } from '../wire/icmp.js';
import { IPV4_MIN_HEADER_LEN, Ipv4View, emitIpv4 } from '../wire/ipv4.js';
import { WIRE_OK } from '../wire/errors.js';

/**
 * What Linux quotes of the offending packet: as much as keeps the error
 * within 576 bytes (icmp_send: room = 576 - the outer IPv4 header - the ICMP
 * header), header included.
 */
const QUOTED_MAX = 576 - IPV4_MIN_HEADER_LEN - ICMP_HEADER_LEN;
/** TOS of ICMP errors: internetwork control precedence, as Linux marks them. */
const ERROR_TOS = 0xc0;
/** TTL of what the director originates (Linux's default ip_default_ttl). */
export const DEFAULT_TTL = 64;

const orig = new Ipv4View();
const icmp = new IcmpView();
const eth = new EthernetView();
const ip = new Ipv4View();

/**
 * Builds an ICMP error about the IPv4 packet at buf[ipOff, ipOff+ipLen):
 * the whole Ethernet frame, into `out`. Returns its length, 0 when the
 * packet is not a valid IPv4 packet.
 */
export function buildIcmpError(
  out: Uint8Array, dstMac: number, srcMac: number, src: number, dst: number, id: number,
  type: number, code: number, rest: number, buf: Uint8Array, ipOff: number, ipLen: number,
): number {
  if (orig.wrap(buf, ipOff, ipLen) !== WIRE_OK) {
    // a packet known only by the start of it (the quote of an ICMP error being relayed): its header must be whole
    const b0 = ipOff >= 0 && ipOff < buf.length ? buf[ipOff]! : 0;
    if (b0 >>> 4 !== 4 || (b0 & 15) < 5 || (b0 & 15) * 4 > ipLen || ipOff + ipLen > buf.length) return 0;
    orig.wrapHeaderOnly(buf, ipOff);
  }
  const quoted = Math.min(orig.totalLength, ipLen, QUOTED_MAX);
  emitEthernet({ dst: dstMac, src: srcMac, etherType: ETHERTYPE_IPV4 }, out, 0);
  const total = IPV4_MIN_HEADER_LEN + ICMP_HEADER_LEN + quoted;
  emitIpv4({
    tos: ERROR_TOS, totalLength: total, id, flags: 0, fragOffset: 0, ttl: DEFAULT_TTL, protocol: IPPROTO_ICMP, src, dst,
  }, out, ETH_HEADER_LEN);
  const ic = ETH_HEADER_LEN + IPV4_MIN_HEADER_LEN;
  emitIcmp({ type, code, rest }, out, ic);
  out.set(buf.subarray(ipOff, ipOff + quoted), ic + ICMP_HEADER_LEN);
  icmp.wrap(out, ic, ICMP_HEADER_LEN + quoted);
  icmp.fillChecksum();
  return ETH_HEADER_LEN + total;
}

/**
 * Turns the echo request frame at buf[ethOff..] (IPv4 header at ipOff) into
 * its reply in place: to the asker's MAC from the port's (`portMac`: the
 * request may have been sent to the broadcast MAC, never a source), the
 * addresses swapped (the reply comes from the address that was asked,
 * `replySrc`), type 0, a fresh TTL, DF cleared, both checksums redone.
 * Returns the frame length.
 */
export function echoReplyInPlace(buf: Uint8Array, ethOff: number, ipOff: number, ipTotal: number, replySrc: number, portMac: number): number {
  eth.wrap(buf, ethOff, ipOff - ethOff + ipTotal);
  eth.dst = eth.src;
  eth.src = portMac;
  ip.wrap(buf, ipOff, ipTotal);
  ip.dst = ip.src;
  ip.src = replySrc;
  ip.ttl = DEFAULT_TTL;
  ip.setFragment(false, false, 0);
  ip.fillChecksum();
  icmp.wrap(buf, ip.payloadOffset, ipTotal - ip.headerLength);
  icmp.type = ICMP_ECHO_REPLY;
  icmp.code = 0;
  icmp.fillChecksum();
  return ipOff - ethOff + ipTotal;
}
