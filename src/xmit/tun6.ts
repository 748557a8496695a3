// LVS-TUN for IPv6 (ip_vs_tunnel_xmit_v6): an outer IPv6 header from the
// director to the real server in front of the client's packet
// (IPv6-in-IPv6, next header 41), in the headroom before the frame: the
// traffic class and hop limit copied from the inner packet, flow label 0, no
// encapsulation-limit option. As the kernel: the room inside the tunnel is
// the egress MTU less 40; under the IPv6 minimum (1280) nothing is tunnelled;
// a packet that does not fit gets packet-too-big (that room) from the VIP.
// IPv6 packets are never fragmented on the way.
import { DropCode, FORWARDED } from '../model/verdict.js';
import { lvsDecHopLimit6 } from './out.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV6, setEtherType } from '../wire/ethernet.js';
import { IP6IP6_NO_HEADROOM, WIRE_OK } from '../wire/errors.js';
import { IP6IP6_OUTER_LEN, encapIp6ip6 } from '../wire/ip6ip6.js';
import { IPV6_MIN_MTU } from '../wire/ipv6.js';
import type { Transmitter } from './xmit.js';

/** The tunnel's source, chosen per packet (reused, no allocation). */
const src = new Uint32Array(4);

export const tun6Xmit: Transmitter = {
  name: 'TUN',
  toDest(x, pkt, slot) {
    const host = x.host6;
    const o = slot * 4;
    const daddr = x.conns.daddr6;
    if (!host.route(daddr, o)) return DropCode['no-route'];
    const egress = host.routePort;
    const v = lvsDecHopLimit6(host, pkt);
    if (v !== FORWARDED) return v;
    const mtu = host.ports[egress]!.mtu - IP6IP6_OUTER_LEN;
    if (mtu < IPV6_MIN_MTU) return DropCode['tunnel-mtu-too-small'];
    if (host.tooBig(pkt, mtu, pkt.dst6)) return DropCode['frag-needed'];
    const buf = pkt.buf;
    const ipOff = pkt.ethOff + ETH_HEADER_LEN;
    const ipLen = pkt.frameLen - ETH_HEADER_LEN;
    const ethOff = ipOff - IP6IP6_OUTER_LEN - ETH_HEADER_LEN;
    if (ethOff < 0) return DropCode['no-headroom'];
    pkt.checksumForTunnel(); // a partial checksum's offsets are the inner frame's
    host.sourceFor(egress, daddr, o, src);
    const rc = encapIp6ip6(buf, ipOff, ipLen, src, 0, daddr, o);
    if (rc === IP6IP6_NO_HEADROOM) return DropCode['no-headroom'];
    if (rc !== WIRE_OK) return DropCode['frame-too-big'];
    setEtherType(buf, ethOff, ETHERTYPE_IPV6);
    return host.output(buf, ethOff, ETH_HEADER_LEN + IP6IP6_OUTER_LEN + ipLen, pkt, egress, host.routeNextHop, 0, pkt.now);
  },
};
