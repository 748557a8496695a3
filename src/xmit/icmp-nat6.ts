// NAT of ICMPv6 errors about an IPv6 NAT connection (the kernel's
// ip_vs_in_icmp_v6 / ip_vs_out_icmp_v6 with ip_vs_nat_icmp_v6): the error's
// own address, the packet it quotes (its address and port, and the quoted
// transport checksum when it is among the quoted bytes, as for IPv4 here),
// and the ICMPv6 checksum computed afresh over the new pseudo-header, so the
// host receiving it can match it to its socket.
import type { ProtoOps } from '../conn/proto/index.js';
import { FORWARDED, type Verdict } from '../model/verdict.js';
import type { Packet } from '../net/packet.js';
import { ip6WordsSum, csumDelta } from '../wire/checksum6.js';
import { lvsDecHopLimit6 } from './out.js';
import type { XmitEnv } from './xmit.js';

const quotedAddr = new Uint32Array(4);

/** Bytes of the quoted transport header present in the error. */
function quotedAvail(pkt: Packet): number {
  const icmp = pkt.icmp6;
  return icmp.off + icmp.len - icmp.embeddedTransportOffset;
}

/**
 * An error from the client's side about a packet the director sent the
 * client (VIP:vport -> client): it goes on to the real server, the quoted
 * source becoming the real server's address and port.
 */
export function natIcmp6FromClient(x: XmitEnv, pkt: Packet, slot: number, quoted: ProtoOps): Verdict {
  const conns = x.conns;
  const o = slot * 4;
  const daddr = conns.daddr6;
  // ip_vs_icmp_xmit_v6: one hop less on the way to the real server, as every packet of the conn
  const v = lvsDecHopLimit6(x.host6, pkt);
  if (v !== FORWARDED) return v;
  const icmp = pkt.icmp6;
  pkt.ip6.writeDst(daddr, o);
  icmp.readEmbeddedSrc(quotedAddr, 0);
  const delta = csumDelta(ip6WordsSum(quotedAddr, 0), ip6WordsSum(daddr, o));
  icmp.writeEmbeddedSrc(daddr, o);
  quoted.rewriteQuoted6(pkt.buf, icmp.embeddedTransportOffset, quotedAvail(pkt), true, conns.dport[slot]!, delta);
  icmp.fillChecksum(pkt.ext6.pseudoAddrSum());
  return x.host6.routeOutput(pkt.buf, pkt.ethOff, pkt.frameLen, pkt, daddr, o, pkt.now);
}

/**
 * An error from the real server's side about a packet the director sent the
 * real server (client -> real server): it goes on to the client from the
 * VIP, the quoted destination becoming the VIP and its port. Hop limit
 * already decremented by the caller.
 */
export function natIcmp6FromDest(x: XmitEnv, pkt: Packet, slot: number, quoted: ProtoOps): Verdict {
  const conns = x.conns;
  const o = slot * 4;
  const vaddr = conns.vaddr6;
  const icmp = pkt.icmp6;
  pkt.ip6.writeSrc(vaddr, o);
  icmp.readEmbeddedDst(quotedAddr, 0);
  const delta = csumDelta(ip6WordsSum(quotedAddr, 0), ip6WordsSum(vaddr, o));
  icmp.writeEmbeddedDst(vaddr, o);
  quoted.rewriteQuoted6(pkt.buf, icmp.embeddedTransportOffset, quotedAvail(pkt), false, conns.vport[slot]!, delta);
  icmp.fillChecksum(pkt.ext6.pseudoAddrSum());
  return x.host6.routeOutput(pkt.buf, pkt.ethOff, pkt.frameLen, pkt, pkt.dst6, 0, pkt.now);
}
