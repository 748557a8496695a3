// An IPv4 packet arrives: check it, tell fragments apart, read the transport
// header through its protocol's entry, and hand it to the step it belongs
// to — a virtual service (lvs-in), a connection's reply (lvs-out), ICMP
// (icmp-input), or, belonging to no service, the host.
import { protoOps } from '../conn/proto/index.js';
import { ADDR_LOCAL, ADDR_REAL_SERVER, ADDR_VIP } from '../net/addr-table.js';
import { FRAG_FIRST, FRAG_LATER, FRAG_NONE, type Packet } from '../net/packet.js';
import { AF_INET } from '../model/proto.js';
import { DropCode, type Verdict } from '../model/verdict.js';
import { WIRE_OK } from '../wire/errors.js';
import { ETH_HEADER_LEN } from '../wire/ethernet.js';
import { ICMP_DEST_UNREACH, ICMP_PORT_UNREACH } from '../wire/icmp.js';
import { IPPROTO_ICMP, IPPROTO_UDP } from '../wire/ipproto.js';
import type { Director } from './director.js';
import { FRAG_ROUTED, decideFragments, firstFragmentSettled, laterFragment } from './fragments.js';
import { lvsAllowed } from './ha.js';
import { icmpInput } from './icmp-input.js';
import { lvsIn } from './lvs-in.js';
import { lvsOut } from './lvs-out.js';
import { natIcmpSend } from './nat-icmp-send.js';
import { notLvs6 } from './ipv6-input.js';

const OURS = ADDR_LOCAL | ADDR_VIP;

export function ipv4Input(d: Director, pkt: Packet): Verdict {
  const ip = pkt.ip;
  const ipOff = pkt.ethOff + ETH_HEADER_LEN;
  if (ip.wrap(pkt.buf, ipOff, pkt.len - ETH_HEADER_LEN) !== WIRE_OK) return DropCode['malformed-ip'];
  if (!ip.checksumOk()) return DropCode['bad-ip-checksum'];
  pkt.proto = ip.protocol;
  pkt.src = ip.src;
  pkt.dst = ip.dst;
  // Ethernet padding is not forwarded
  pkt.frameLen = ETH_HEADER_LEN + ip.totalLength;
  const host = d.host;
  // a group the director joined (VRRP, IPVS sync): its own traffic, never routed
  if (pkt.mcast) return host.local !== null ? host.local.input(pkt) : DropCode['not-for-us'];
  if (pkt.bcast && (host.classOf(pkt.dst) & OURS) === 0) return DropCode['not-for-us'];
  if ((host.classOf(pkt.src) & OURS) !== 0) return DropCode['martian-source'];
  // ip_route_input_slow's martians: a source that is multicast, the limited broadcast, 0.0.0.0/8 or
  // loopback (127.0.0.0/8, route_localnet being off), a destination in 0.0.0.0/8 or 127.0.0.0/8
  const s8 = pkt.src >>> 24;
  if (s8 === 0 || s8 === 127 || (s8 & 0xf0) === 0xe0 || pkt.src >>> 0 === 0xffffffff) return DropCode['martian-source'];
  const d8 = pkt.dst >>> 24;
  if (d8 === 0 || d8 === 127) return DropCode['martian-destination'];
  if (ip.isFragment) {
    if (ip.fragOffset !== 0) {
      pkt.fragment = FRAG_LATER;
      return laterFragment(d, pkt);
    }
    pkt.fragment = FRAG_FIRST;
    // whatever becomes of a first fragment, its later fragments follow it
    const id = ip.id;
    const v = transportInput(d, pkt);
    firstFragmentSettled(d, AF_INET, pkt.src, pkt.dst, pkt.proto, id, pkt.now);
    return v;
  }
  return transportInput(d, pkt);
}

function transportInput(d: Director, pkt: Packet): Verdict {
  if (pkt.proto === IPPROTO_ICMP) return icmpInput(d, pkt);
  const ops = protoOps(pkt.proto);
  if (ops === undefined) return notLvs(d, pkt);
  const ip = pkt.ip;
  pkt.l4Off = ip.payloadOffset;
  pkt.l4Len = ip.payloadLength;
  if (ops.parse(pkt.buf, pkt.l4Off, pkt.l4Len, pkt.fragment === FRAG_FIRST, pkt) !== WIRE_OK) return DropCode['malformed-l4'];
  pkt.ops = ops;
  const svc = d.services.find(pkt.proto, pkt.dst, pkt.dport);
  if (svc !== undefined && (d.lvsGate === 0 || lvsAllowed(d, pkt))) return lvsIn(d, pkt, svc);
  // a client's packet of a conn an app helper made (an FTP data conn, its port without a service)
  if (svc === undefined && d.conns.appChildren !== 0) {
    const s = d.conns.lookupIn(pkt.proto, pkt.src, pkt.sport, pkt.dst, pkt.dport, pkt.now);
    if (s >= 0 && (d.lvsGate === 0 || lvsAllowed(d, pkt))) return lvsIn(d, pkt, d.conns.svc(s), s);
  }
  const slot = d.conns.lookupOut(pkt.proto, pkt.src, pkt.sport, pkt.dst, pkt.dport, pkt.now);
  if (slot >= 0) return lvsOut(d, pkt, slot);
  if (d.conns.settings.natIcmpSend && natIcmpSend(d, pkt)) return DropCode['unmatched-from-real-server'];
  return notLvs(d, pkt);
}

/**
 * Traffic that belongs to no virtual service and no connection: for the
 * director itself (a VIP port with no service answers port-unreachable to
 * UDP, as the director's stack would), from a real server when that is
 * refused, or else routed as a router routes it. IPv6 packets: notLvs6.
 */
export function notLvs(d: Director, pkt: Packet): Verdict {
  if (pkt.af !== AF_INET) return notLvs6(d, pkt);
  if (pkt.fragment === FRAG_FIRST) decideFragments(d, AF_INET, pkt.src, pkt.dst, pkt.proto, pkt.ip.id, FRAG_ROUTED, false, pkt.now);
  const host = d.host;
  const dst = host.classOf(pkt.dst);
  if ((dst & OURS) !== 0) {
    if ((dst & ADDR_LOCAL) === 0) {
      if (pkt.proto === IPPROTO_UDP && pkt.fragment === FRAG_NONE) {
        host.icmpError(pkt.buf, pkt.ethOff, pkt.port, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, pkt.dst, false, pkt.now);
      }
      return DropCode['no-service'];
    }
    // the director's own traffic (net/local4.ts), when something listens
    return host.local !== null ? host.local.input(pkt) : DropCode['to-director-unhandled'];
  }
  if (d.unmatchedDrop && (host.classOf(pkt.src) & ADDR_REAL_SERVER) !== 0) return DropCode['unmatched-from-real-server'];
  d.tracer?.mark('routed');
  return host.forward(pkt);
}
