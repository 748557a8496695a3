// LVS-NAT (ip_vs_nat_xmit, and the reply path of masquerading): the
// destination becomes the real server on the way in, the source becomes the
// VIP on the way back; IP and transport checksums are patched incrementally.
// On the way in, as __ip_vs_get_out_rt: the route to the real server, one
// hop less, the MTU checked against the packet as the client sent it (DF:
// fragmentation needed from the VIP), then the rewrite, and a packet without
// DF too big for the egress link is fragmented.
// A later fragment has no transport header: its checksum lives in the first
// fragment and covers the whole datagram, so patching it there is enough.
// A protocol whose checksum is computed afresh (SCTP's CRC32c) is checked
// first (ProtoOps.natVerify): NAT never makes a damaged packet look whole;
// a reply is checked in lvs-out, before it moves the conn's state.
import { CONN_F_APP, CONN_F_NO_CPORT } from '../conn/flags.js';
import { DropCode, FORWARDED } from '../model/verdict.js';
import { ftpIn, ftpOut } from './ftp.js';
import { FRAG_FIRST, FRAG_NONE } from '../net/packet.js';
import { lvsCheckMtu, lvsDecTtl, lvsOutput } from './out.js';
import { sourceAddrFor } from '../net/port.js';
import { ETH_HEADER_LEN } from '../wire/ethernet.js';
import { ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, icmpMtuRest } from '../wire/icmp.js';
import type { Transmitter } from './xmit.js';

export const natXmit: Transmitter = {
  name: 'NAT',
  toDest(x, pkt, slot) {
    const conns = x.conns;
    const host = x.host;
    const daddr = conns.daddr[slot]!;
    if (!host.route(daddr)) return DropCode['no-route'];
    const port = host.routePort;
    const nh = host.routeNextHop;
    let v = lvsDecTtl(host, pkt);
    if (v !== FORWARDED) return v;
    v = lvsCheckMtu(host, pkt, host.ports[port]!.mtu);
    if (v !== FORWARDED) return v;
    const ops = pkt.ops;
    if (ops?.natVerify !== undefined) {
      v = ops.natVerify(pkt.buf, pkt.l4Off, pkt.l4Len, pkt.fragment === FRAG_FIRST, false, conns.dport[slot]!);
      if (v !== FORWARDED) return v;
    }
    const ip = pkt.ip;
    const old = ip.dst;
    ip.rewriteDst(daddr);
    pkt.ops?.dnat(pkt.buf, pkt.l4Off, pkt.l4Len, old, daddr, conns.dport[slot]!, pkt.csumStart !== 0, pkt.fragment === FRAG_NONE ? pkt.ip.src : undefined);
    const f = conns.flags[slot]!;
    if ((f & (CONN_F_APP | CONN_F_NO_CPORT)) !== 0 && pkt.ops !== undefined) {
      // the first packet of a passive FTP data conn gives it its client port (ip_vs_nat_xmit)
      if ((f & CONN_F_NO_CPORT) !== 0) conns.fillCport(slot, pkt.sport);
      if ((f & CONN_F_APP) !== 0) ftpIn(conns, pkt, slot);
    }
    return lvsOutput(host, pkt.buf, pkt.ethOff, pkt.frameLen, pkt, port, nh, pkt.now);
  },

  toClient(x, pkt, slot) {
    const conns = x.conns;
    const host = x.host;
    const caddr = conns.caddr[slot]!;
    if (!host.route(caddr)) return DropCode['no-route'];
    const port = host.routePort;
    const nh = host.routeNextHop;
    // ip_forward checks the MTU before the hook that translates the reply: a DF reply too big for the way
    // out draws frag-needed to the real server about its own packet, from the port it came in on
    const mtu = host.ports[port]!.mtu;
    if (pkt.frameLen - ETH_HEADER_LEN > mtu && pkt.ip.df && !pkt.isSuperFrame) {
      host.icmpError(pkt.buf, pkt.ethOff, pkt.port, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, icmpMtuRest(mtu), sourceAddrFor(pkt.port, pkt.src), false, pkt.now);
      return DropCode['frag-needed'];
    }
    const vaddr = conns.vaddr[slot]!;
    const ip = pkt.ip;
    const old = ip.src;
    ip.rewriteSrc(vaddr);
    pkt.ops?.snat(pkt.buf, pkt.l4Off, pkt.l4Len, old, vaddr, conns.vport[slot]!, pkt.csumStart !== 0, pkt.fragment === FRAG_NONE ? pkt.ip.dst : undefined);
    if ((conns.flags[slot]! & CONN_F_APP) !== 0) ftpOut(conns, pkt, slot);
    // without DF a reply too big leaves in fragments (ip_fragment), never as one oversized frame
    return lvsOutput(host, pkt.buf, pkt.ethOff, pkt.frameLen, pkt, port, nh, pkt.now);
  },
};
