// LVS-NAT for IPv6 (ip_vs_nat_xmit_v6, and the reply path of
// masquerading): the destination becomes the real server on the way in,
// the source the VIP on the way back. IPv6 has no header checksum, so the
// 128-bit address change goes into the transport checksum as a delta
// (pseudo-header), with the port change. The MTU is checked before anything
// is rewritten, as the kernel checks it while routing (packet-too-big then
// quotes the packet as its sender sent it). A later fragment has no
// transport header: its addresses change, its checksum lives in the first.
import { CONN_F_APP, CONN_F_NO_CPORT } from '../conn/flags.js';
import { DropCode, FORWARDED } from '../model/verdict.js';
import { ftpIn, ftpOut } from './ftp.js';
import { lvsDecHopLimit6 } from './out.js';
import { FRAG_FIRST } from '../net/packet.js';
import type { Transmitter } from './xmit.js';

export const nat6Xmit: Transmitter = {
  name: 'NAT',
  toDest(x, pkt, slot) {
    const conns = x.conns;
    const host = x.host6;
    const o = slot * 4;
    const daddr = conns.daddr6;
    if (!host.route(daddr, o)) return DropCode['no-route'];
    const port = host.routePort;
    // one hop less (decrement_ttl), then the MTU: told from the VIP the client sent to
    const v = lvsDecHopLimit6(host, pkt);
    if (v !== FORWARDED) return v;
    if (host.tooBig(pkt, host.ports[port]!.mtu, pkt.dst6)) return DropCode['frag-needed'];
    const ops = pkt.ops;
    if (ops?.natVerify !== undefined) {
      const c = ops.natVerify(pkt.buf, pkt.l4Off, pkt.l4Len, pkt.fragment === FRAG_FIRST, false, conns.dport[slot]!);
      if (c !== FORWARDED) return c;
    }
    const ip = pkt.ip6;
    const delta = ip.rewriteDst(daddr, o);
    pkt.ops?.nat6(pkt.buf, pkt.l4Off, pkt.l4Len, pkt.fragment === FRAG_FIRST, false, conns.dport[slot]!, delta, ip, pkt.csumStart !== 0);
    const f = conns.flags[slot]!;
    if ((f & (CONN_F_APP | CONN_F_NO_CPORT)) !== 0 && pkt.ops !== undefined) {
      if ((f & CONN_F_NO_CPORT) !== 0) conns.fillCport(slot, pkt.sport);
      if ((f & CONN_F_APP) !== 0) ftpIn(conns, pkt, slot);
    }
    return host.output(pkt.buf, pkt.ethOff, pkt.frameLen, pkt, port, host.routeNextHop, 0, pkt.now);
  },

  /** A real server's reply; its hop limit checked (lvs-out), decremented here after the MTU check. */
  toClient(x, pkt, slot) {
    const conns = x.conns;
    const host = x.host6;
    const o = slot * 4;
    if (!host.route(conns.caddr6, o)) return DropCode['no-route'];
    const port = host.routePort;
    // as ip6_forward, before the reply is translated: the real server is told; then one hop less
    // (lvs-out has checked the hop limit)
    if (host.tooBig(pkt, host.ports[port]!.mtu, null)) return DropCode['frag-needed'];
    const ip = pkt.ip6;
    ip.decHopLimit();
    const delta = ip.rewriteSrc(conns.vaddr6, o);
    pkt.ops?.nat6(pkt.buf, pkt.l4Off, pkt.l4Len, pkt.fragment === FRAG_FIRST, true, conns.vport[slot]!, delta, ip, pkt.csumStart !== 0);
    // IPv6: EPSV/EPRT only, whose replies keep their length
    if ((conns.flags[slot]! & CONN_F_APP) !== 0) ftpOut(conns, pkt, slot);
    return host.output(pkt.buf, pkt.ethOff, pkt.frameLen, pkt, port, host.routeNextHop, 0, pkt.now);
  },
};
