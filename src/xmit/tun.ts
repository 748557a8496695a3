// LVS-TUN (ip_vs_tunnel_xmit): an outer IPv4 header from the director to the
// real server in front of the client's packet, in the headroom before the
// frame, and a fresh Ethernet header before that. The tunnel type is the
// real server's (--tun-type), copied into the conn when it is made: IPIP
// here (the outer header alone), GUE (xmit/gue.ts: UDP and GUE headers
// between) and GRE (xmit/gre.ts). All three go the kernel's way: the route
// to the real server, one hop less, the MTU (the path MTU a need-to-frag
// taught, else the link's) less the tunnel's headers (under 68 nothing is
// tunnelled), fragmentation needed to the client from the VIP
// when a DF packet does not fit (unless pmtu_disc is 0: then it is tunnelled
// and the outer packet fragmented), then the outer header: TOS copied with
// CE sent as ECT(0), DF copied when pmtu_disc is on, the inner TTL, and an
// identification taken only now, once the packet is sure to be sent.
import type { Dest } from '../model/dest.js';
import { DropCode, FORWARDED, type Verdict } from '../model/verdict.js';
import type { Packet } from '../net/packet.js';
import { sourceAddrFor } from '../net/port.js';
import { ETH_HEADER_LEN, ETHERTYPE_IPV4, setEtherType } from '../wire/ethernet.js';
import { WIRE_OK } from '../wire/errors.js';
import { IPPROTO_IPIP } from '../wire/ipproto.js';
import { TUN_OUTER_LEN, writeTunnelOuterIpv4 } from '../wire/tunnel.js';
import { lvsCheckMtu, lvsDecTtl, sendFragmented } from './out.js';
import type { Transmitter, XmitEnv } from './xmit.js';

/** Below this the kernel tunnels nothing (__ip_vs_get_out_rt: "mtu less than 68"). */
const MIN_TUNNEL_MTU = 68;

/** One tunnel type: how many bytes it puts before the inner packet, and how it writes them. */
export interface Encapsulation {
  /** Outer IPv4 and the type's own headers, for this real server's settings. */
  overhead(dest: Dest): number;
  /**
   * Writes the headers into buf[ipOff - overhead, ipOff) for the inner IPv4
   * packet at buf[ipOff, ipOff+ipLen): WIRE_OK or a wire error.
   */
  write(buf: Uint8Array, ipOff: number, ipLen: number, src: number, dst: number, id: number, pmtuDisc: boolean, dest: Dest): number;
}

/** The common path of every IPv4 tunnel type. */
export function tunnelToDest(x: XmitEnv, pkt: Packet, slot: number, e: Encapsulation): Verdict {
  const host = x.host;
  const conns = x.conns;
  const daddr = conns.daddr[slot]!;
  if (!host.route(daddr)) return DropCode['no-route'];
  const egress = host.routePort;
  const nh = host.routeNextHop;
  const p = host.ports[egress]!;
  let v = lvsDecTtl(host, pkt);
  if (v !== FORWARDED) return v;
  const dest = conns.dest(slot);
  const over = e.overhead(dest);
  // the link's MTU, or less where a router on the way said so (dest.pmtu, icmp-input.ts)
  const pathMtu = dest.pathMtu(p.mtu, pkt.now);
  if (pathMtu - over < MIN_TUNNEL_MTU) return DropCode['tunnel-mtu-too-small'];
  const pmtuDisc = conns.settings.pmtuDisc;
  // the client must send smaller packets: say how small, from the VIP it talked to
  if (pmtuDisc) {
    v = lvsCheckMtu(host, pkt, pathMtu - over);
    if (v !== FORWARDED) return v;
  }
  const buf = pkt.buf;
  const ipOff = pkt.ethOff + ETH_HEADER_LEN;
  const ipLen = pkt.frameLen - ETH_HEADER_LEN;
  const ethOff = ipOff - over - ETH_HEADER_LEN;
  if (ethOff < 0) return DropCode['no-headroom'];
  pkt.checksumForTunnel(); // a partial checksum's offsets are the inner frame's
  const rc = e.write(buf, ipOff, ipLen, sourceAddrFor(p, nh), daddr, host.nextId(), pmtuDisc, dest);
  if (rc !== WIRE_OK) return DropCode['frame-too-big'];
  setEtherType(buf, ethOff, ETHERTYPE_IPV4);
  const len = ETH_HEADER_LEN + over + ipLen;
  if (len - ETH_HEADER_LEN > pathMtu && !pkt.isSuperFrame) return sendFragmented(host, egress, nh, buf, ethOff + ETH_HEADER_LEN, len - ETH_HEADER_LEN, pathMtu, pkt.now);
  return host.output(buf, ethOff, len, pkt, egress, nh, pkt.now);
}

/** IP-in-IP (RFC 2003, protocol 4): the outer header and nothing else. */
export const IPIP_ENCAP: Encapsulation = {
  overhead: () => TUN_OUTER_LEN,
  write(buf, ipOff, ipLen, src, dst, id, pmtuDisc) {
    const total = TUN_OUTER_LEN + ipLen;
    if (total > 0xffff) return -1;
    writeTunnelOuterIpv4(buf, ipOff - TUN_OUTER_LEN, total, IPPROTO_IPIP, src, dst, id, -1, pmtuDisc, ipOff, 4);
    return WIRE_OK;
  },
};

export const tunXmit: Transmitter = {
  name: 'TUN',
  toDest(x, pkt, slot) {
    return tunnelToDest(x, pkt, slot, IPIP_ENCAP);
  },
};
