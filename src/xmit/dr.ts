// LVS-DR (ip_vs_dr_xmit): only the MACs change. The real server holds the
// VIP itself and answers the client directly; the topology validator makes
// sure it shares a LAN with a director port. As __ip_vs_get_out_rt: one hop
// less, fragmentation needed from the VIP for a DF packet too big for the
// link, and one without DF fragmented.
import { DropCode, FORWARDED } from '../model/verdict.js';
import { lvsCheckMtu, lvsDecTtl, lvsOutput } from './out.js';
import type { Transmitter } from './xmit.js';

export const drXmit: Transmitter = {
  name: 'DR',
  toDest(x, pkt, slot) {
    const host = x.host;
    const daddr = x.conns.daddr[slot]!;
    if (!host.route(daddr)) return DropCode['no-route'];
    const port = host.routePort;
    let v = lvsDecTtl(host, pkt);
    if (v !== FORWARDED) return v;
    v = lvsCheckMtu(host, pkt, host.ports[port]!.mtu);
    if (v !== FORWARDED) return v;
    // the frame goes to the real server's own MAC, whatever the route's gateway
    return lvsOutput(host, pkt.buf, pkt.ethOff, pkt.frameLen, pkt, port, daddr, pkt.now);
  },
};
