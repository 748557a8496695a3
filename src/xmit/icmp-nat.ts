// NAT of ICMP errors about a NAT connection (the kernel's ip_vs_in_icmp /
// ip_vs_out_icmp with the NAT transmitter): the error's own address, the
// packet it quotes (address, port, the quoted IP header checksum, and the
// quoted transport checksum when it is among the quoted bytes) and the ICMP
// checksum, so that the host receiving it can match it to its socket.
import type { ProtoOps } from '../conn/proto/index.js';
import { DropCode, FORWARDED, type Verdict } from '../model/verdict.js';
import type { Packet } from '../net/packet.js';
import { lvsDecTtl, lvsOutput } from './out.js';
import type { XmitEnv } from './xmit.js';

/**
 * An error from the client's side about a packet the director sent the
 * client (VIP:vport -> client): it goes on to the real server, the quoted
 * source becoming the real server's address and port.
 */
export function natIcmpFromClient(x: XmitEnv, pkt: Packet, slot: number, quoted: ProtoOps): Verdict {
  const conns = x.conns;
  const host = x.host;
  const daddr = conns.daddr[slot]!;
  // ip_vs_icmp_xmit: the route to the real server and one hop less first (never frag-needed for an ICMP error)
  if (!host.route(daddr)) return DropCode['no-route'];
  const port = host.routePort;
  const nh = host.routeNextHop;
  const v = lvsDecTtl(host, pkt);
  if (v !== FORWARDED) return v;
  const icmp = pkt.icmp;
  pkt.ip.rewriteDst(daddr);
  const vip = icmp.embeddedSrc;
  icmp.rewriteEmbeddedSrc(daddr);
  quoted.rewriteQuoted(pkt.buf, icmp.embeddedTransportOffset, icmp.embeddedTransportLength, true, conns.dport[slot]!, vip, daddr);
  icmp.fillChecksum();
  return lvsOutput(host, pkt.buf, pkt.ethOff, pkt.frameLen, pkt, port, nh, pkt.now);
}

/**
 * An error from the real server's side about a packet the director sent the
 * real server (client -> real server): it goes on to the client from the
 * VIP, the quoted destination becoming the VIP and its port. TTL already
 * decremented by the caller.
 */
export function natIcmpFromDest(x: XmitEnv, pkt: Packet, slot: number, quoted: ProtoOps): Verdict {
  const conns = x.conns;
  const vaddr = conns.vaddr[slot]!;
  const icmp = pkt.icmp;
  pkt.ip.rewriteSrc(vaddr);
  const rs = icmp.embeddedDst;
  icmp.rewriteEmbeddedDst(vaddr);
  quoted.rewriteQuoted(pkt.buf, icmp.embeddedTransportOffset, icmp.embeddedTransportLength, false, conns.vport[slot]!, rs, vaddr);
  icmp.fillChecksum();
  return x.host.routeOutput(pkt.buf, pkt.ethOff, pkt.frameLen, pkt, pkt.ip.dst, pkt.now);
}
