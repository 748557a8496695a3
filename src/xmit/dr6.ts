// LVS-DR for IPv6 (ip_vs_dr_xmit_v6): only the MACs change; the frame goes
// to the real server's own MAC (found with neighbour discovery), which holds
// the VIP itself. The topology validator makes sure it shares a LAN with a
// director port. A packet too big for that LAN is answered with
// packet-too-big from the VIP, as the kernel does while routing it.
import { DropCode, FORWARDED } from '../model/verdict.js';
import { lvsDecHopLimit6 } from './out.js';
import type { Transmitter } from './xmit.js';

export const dr6Xmit: Transmitter = {
  name: 'DR',
  toDest(x, pkt, slot) {
    const host = x.host6;
    const o = slot * 4;
    const daddr = x.conns.daddr6;
    if (!host.route(daddr, o)) return DropCode['no-route'];
    const port = host.routePort;
    const v = lvsDecHopLimit6(host, pkt);
    if (v !== FORWARDED) return v;
    if (host.tooBig(pkt, host.ports[port]!.mtu, pkt.dst6)) return DropCode['frag-needed'];
    return host.output(pkt.buf, pkt.ethOff, pkt.frameLen, pkt, port, daddr, o, pkt.now);
  },
};
