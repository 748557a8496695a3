// The bypass transmitter (ip_vs_bypass_xmit): a cache_bypass connection
// (ip_vs_leave: a fwmark service with no real server to take a packet for
// some non-local address) sends its packets on to their own destination, as
// a router would: route to it, one hop less, the MTU, out. Its conn has no
// real server; it exists so that the flow's later packets go the same way.
import { DropCode, FORWARDED } from '../model/verdict.js';
import { lvsCheckMtu, lvsDecTtl, lvsOutput } from './out.js';
import type { Transmitter } from './xmit.js';

export const bypassXmit: Transmitter = {
  name: 'BYPASS',
  toDest(x, pkt) {
    const host = x.host;
    if (!host.route(pkt.ip.dst)) return DropCode['no-route'];
    const port = host.routePort;
    const nh = host.routeNextHop;
    let v = lvsDecTtl(host, pkt);
    if (v !== FORWARDED) return v;
    v = lvsCheckMtu(host, pkt, host.ports[port]!.mtu);
    if (v !== FORWARDED) return v;
    return lvsOutput(host, pkt.buf, pkt.ethOff, pkt.frameLen, pkt, port, nh, pkt.now);
  },
};

/** ip_vs_bypass_xmit_v6: the same through the IPv6 host (hop limit, route, packet too big, out). */
export const bypass6Xmit: Transmitter = {
  name: 'BYPASS',
  toDest(x, pkt) {
    return x.host6.forward(pkt);
  },
};
