// LVS-TUN for IPv6 (ip_vs_tunnel_xmit_v6): an outer IPv6 header from the
// director to the real server in front of the client's packet
// (IPv6-in-IPv6, next header 41), in the headroom before the frame: the
// traffic class and hop limit copied from the inner packet, flow label 0, no
// encapsulation-limit option. As the kernel: the room inside the tunnel is
// the egress MTU less the tunnel's headers (40 for IPv6-in-IPv6); under the IPv6 minimum (1280) nothing is tunnelled;
// a packet that does not fit gets packet-too-big (that room) from the VIP.
// IPv6 packets are never fragmented on the way. GUE and GRE real servers
// (gue6.ts, gre6.ts) take the same path with their headers between the
// outer IPv6 header and the client's packet, the room shrinking by them.
import type { Dest } from '../model/dest.js';
import { DropCode, FORWARDED, type Verdict } from '../model/verdict.js';
import type { Packet } from '../net/packet.js';
import { lvsDecHopLimit6 } from './out.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV6, setEtherType } from '../wire/ethernet.js';
import { WIRE_OK } from '../wire/errors.js';
import { IP6IP6_OUTER_LEN, encapIp6ip6 } from '../wire/ip6ip6.js';
import { IPV6_MIN_MTU } from '../wire/ipv6.js';
import type { Transmitter, XmitEnv } from './xmit.js';

/** The tunnel's source, chosen per packet (reused, no allocation). */
const src = new Uint32Array(4);

/** One IPv6 tunnel type: the bytes it puts before the inner packet, and how it writes them. */
export interface Encapsulation6 {
  /** Outer IPv6 and the type's own headers, for this real server's settings. */
  overhead(dest: Dest): number;
  /** Writes them into buf[ipOff - overhead, ipOff): WIRE_OK or a wire error. */
  write(buf: Uint8Array, ipOff: number, ipLen: number, src: Uint32Array, dst: Uint32Array, dstOff: number, dest: Dest): number;
}

/** IPv6-in-IPv6: the outer header alone. */
export const IP6IP6_ENCAP: Encapsulation6 = {
  overhead: () => IP6IP6_OUTER_LEN,
  write: (buf, ipOff, ipLen, s, dst, dstOff) => encapIp6ip6(buf, ipOff, ipLen, s, 0, dst, dstOff),
};

/** The common path of every IPv6 tunnel type. */
export function tunnel6ToDest(x: XmitEnv, pkt: Packet, slot: number, e: Encapsulation6): Verdict {
  const host = x.host6;
  const o = slot * 4;
  const daddr = x.conns.daddr6;
  if (!host.route(daddr, o)) return DropCode['no-route'];
  const egress = host.routePort;
  const v = lvsDecHopLimit6(host, pkt);
  if (v !== FORWARDED) return v;
  const dest = x.conns.dest(slot);
  const over = e.overhead(dest);
  const mtu = host.ports[egress]!.mtu - over;
  if (mtu < IPV6_MIN_MTU) return DropCode['tunnel-mtu-too-small'];
  if (host.tooBig(pkt, mtu, pkt.dst6)) return DropCode['frag-needed'];
  const buf = pkt.buf;
  const ipOff = pkt.ethOff + ETH_HEADER_LEN;
  const ipLen = pkt.frameLen - ETH_HEADER_LEN;
  const ethOff = ipOff - over - ETH_HEADER_LEN;
  if (ethOff < 0) return DropCode['no-headroom'];
  pkt.checksumForTunnel(); // a partial checksum's offsets are the inner frame's
  host.sourceFor(egress, daddr, o, src);
  // the headroom was checked above: what write can still refuse is a packet too long for the outer header
  if (e.write(buf, ipOff, ipLen, src, daddr, o, dest) !== WIRE_OK) return DropCode['frame-too-big'];
  setEtherType(buf, ethOff, ETHERTYPE_IPV6);
  return host.output(buf, ethOff, ETH_HEADER_LEN + over + ipLen, pkt, egress, host.routeNextHop, 0, pkt.now);
}

export const tun6Xmit: Transmitter = {
  name: 'TUN',
  toDest(x, pkt, slot) {
    return tunnel6ToDest(x, pkt, slot, IP6IP6_ENCAP);
  },
};
