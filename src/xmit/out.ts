// What every IPv4 transmitter does between its route lookup and the send,
// in the kernel's order (__ip_vs_get_out_rt, then ip_output): one hop less
// (time exceeded at TTL 1, as decrement_ttl does since Linux 5.2), the MTU
// check (fragmentation needed for a DF packet that does not fit, told in
// the units of the packet before any rewrite), and on the way out the
// fragmentation of a packet that does not fit and may be fragmented
// (ip_fragment; IPVS sets ignore_df, so a forwarded ICMP error is
// fragmented even with DF). The errors come from the address the client
// sent to: the kernel's icmp_send takes the packet's own destination as
// source when the packet was routed locally, which a VIP is.
import { ADDR_LOCAL, ADDR_VIP } from '../net/addr-table.js';
import type { Host4 } from '../net/host4.js';
import type { Host6 } from '../net/host6.js';
import type { Packet } from '../net/packet.js';
import { PLAIN_FRAME, type FrameMeta } from '../model/frame.js';
import { DropCode, FORWARDED, type Verdict } from '../model/verdict.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV4, setEtherType } from '../wire/ethernet.js';
import { ICMP_DEST_UNREACH, ICMP_EXC_TTL, ICMP_FRAG_NEEDED, ICMP_TIME_EXCEEDED, icmpMtuRest } from '../wire/icmp.js';
import { ICMPV6_EXC_HOPLIMIT, ICMPV6_TIME_EXCEEDED } from '../wire/icmpv6.js';
import { IPPROTO_ICMP } from '../wire/ipproto.js';
import { fragmentIpv4 } from '../wire/ipv4-fragment.js';

const OURS = ADDR_LOCAL | ADDR_VIP;

/**
 * The source of an error about a client's packet: the VIP (or director
 * address) it was sent to; 0 (the egress port's address towards the
 * client) for a packet to some other address, as a fwmark service may
 * take (icmp_send: no local route, so the source is chosen by routing).
 */
export function errorSource(host: Host4, pkt: Packet): number {
  return (host.classOf(pkt.dst) & OURS) !== 0 ? pkt.dst : 0;
}

/** decrement_ttl: a packet with TTL 1 is answered with time exceeded and dropped; others lose one. */
export function lvsDecTtl(host: Host4, pkt: Packet): Verdict {
  const ip = pkt.ip;
  if (ip.ttl <= 1) {
    host.icmpError(pkt.buf, pkt.ethOff, pkt.port, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0, errorSource(host, pkt), true, pkt.now);
    return DropCode['ttl-exceeded'];
  }
  ip.decTtl();
  return FORWARDED;
}

/**
 * ensure_mtu_is_adequate: a packet of `len` IP bytes (the packet as it
 * will be sent less what the transmitter adds) that exceeds `mtu` with DF
 * set gets fragmentation needed telling `mtu` and is dropped; a
 * super-frame (the port segments it) and an ICMP error being forwarded
 * never do.
 */
export function lvsCheckMtu(host: Host4, pkt: Packet, mtu: number): Verdict {
  if (pkt.frameLen - ETH_HEADER_LEN <= mtu || pkt.isSuperFrame) return FORWARDED;
  if (!pkt.ip.df || pkt.proto === IPPROTO_ICMP) return FORWARDED;
  host.icmpError(pkt.buf, pkt.ethOff, pkt.port, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, icmpMtuRest(mtu), errorSource(host, pkt), true, pkt.now);
  return DropCode['frag-needed'];
}

/**
 * Sends the frame at buf[ethOff, ethOff+len) out of `port` to `nh`; when
 * its IP packet exceeds the port's MTU (and it is no super-frame), as
 * fragments that fit, each its own frame (a slow path: they are new arrays).
 */
export function lvsOutput(host: Host4, buf: Uint8Array, ethOff: number, len: number, meta: FrameMeta, port: number, nh: number, now: number): Verdict {
  const mtu = host.ports[port]!.mtu;
  if (len - ETH_HEADER_LEN <= mtu || meta.gsoSize !== 0) return host.output(buf, ethOff, len, meta, port, nh, now);
  return sendFragmented(host, port, nh, buf, ethOff + ETH_HEADER_LEN, len - ETH_HEADER_LEN, mtu, now);
}

/** The IPv4 packet at buf[ipOff, ipOff+ipLen) in fragments that fit `mtu`, each its own frame. */
export function sendFragmented(host: Host4, port: number, nh: number, buf: Uint8Array, ipOff: number, ipLen: number, mtu: number, now: number): Verdict {
  let v: Verdict = DropCode['frame-too-big'];
  for (const f of fragmentIpv4(buf, ipOff, ipLen, mtu)) {
    const frame = new Uint8Array(ETH_HEADER_LEN + f.length);
    frame.set(f, ETH_HEADER_LEN);
    setEtherType(frame, 0, ETHERTYPE_IPV4);
    const r = host.output(frame, 0, frame.length, PLAIN_FRAME, port, nh, now);
    if (r < 0 || v >= 0) v = r;
  }
  return v;
}

/** lvsDecTtl for IPv6 (decrement_ttl's IPv6 half): time exceeded from the VIP at hop limit 1, else one hop less. */
export function lvsDecHopLimit6(host6: Host6, pkt: Packet): Verdict {
  const ip = pkt.ip6;
  if (ip.hopLimit <= 1) {
    const from = (host6.classOf(pkt.dst6) & OURS) !== 0 ? pkt.dst6 : null;
    host6.icmpError(pkt.buf, pkt.ethOff, pkt.port, ICMPV6_TIME_EXCEEDED, ICMPV6_EXC_HOPLIMIT, 0, from, true, pkt.now);
    return DropCode['ttl-exceeded'];
  }
  ip.decHopLimit();
  return FORWARDED;
}
