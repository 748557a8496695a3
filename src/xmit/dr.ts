// LVS-DR (ip_vs_dr_xmit): only the MACs change. The real server holds the
// VIP itself and answers the client directly; the topology validator makes
// sure it shares a LAN with a director port.
import { DropCode } from '../model/verdict.js';
import type { Transmitter } from './xmit.js';

export const drXmit: Transmitter = {
  name: 'DR',
  toDest(x, pkt, slot) {
    const daddr = x.conns.daddr[slot]!;
    if (!x.host.route(daddr)) return DropCode['no-route'];
    // the frame goes to the real server's own MAC, whatever the route's gateway
    return x.host.output(pkt.buf, pkt.ethOff, pkt.frameLen, pkt, x.host.routePort, daddr, pkt.now);
  },
};
