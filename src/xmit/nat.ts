// LVS-NAT (ip_vs_nat_xmit, and the reply path of masquerading): the
// destination becomes the real server on the way in, the source becomes the
// VIP on the way back; IP and transport checksums are patched incrementally.
// A later fragment has no transport header: its checksum lives in the first
// fragment and covers the whole datagram, so patching it there is enough.
import { DropCode } from '../model/verdict.js';
import type { Transmitter } from './xmit.js';

export const natXmit: Transmitter = {
  name: 'NAT',
  toDest(x, pkt, slot) {
    const conns = x.conns;
    const daddr = conns.daddr[slot]!;
    const ip = pkt.ip;
    const old = ip.dst;
    ip.rewriteDst(daddr);
    pkt.ops?.dnat(pkt.buf, pkt.l4Off, pkt.l4Len, old, daddr, conns.dport[slot]!);
    return x.host.routeOutput(pkt.buf, pkt.ethOff, pkt.frameLen, pkt, daddr, pkt.now);
  },

  toClient(x, pkt, slot) {
    const conns = x.conns;
    const vaddr = conns.vaddr[slot]!;
    const ip = pkt.ip;
    const old = ip.src;
    ip.rewriteSrc(vaddr);
    pkt.ops?.snat(pkt.buf, pkt.l4Off, pkt.l4Len, old, vaddr, conns.vport[slot]!);
    const caddr = conns.caddr[slot]!;
    if (!x.host.route(caddr)) return DropCode['no-route'];
    return x.host.output(pkt.buf, pkt.ethOff, pkt.frameLen, pkt, x.host.routePort, x.host.routeNextHop, pkt.now);
  },
};
