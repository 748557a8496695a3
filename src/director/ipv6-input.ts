// An IPv6 packet arrives (ethertype 0x86dd): check the fixed header, walk
// its extension headers to the upper layer (anything the walk cannot pass is
// a named drop), check the hop-by-hop options, refuse martian sources, keep
// multicast (neighbour discovery) for the host, tell fragments apart, and
// hand the packet to the step it belongs to — a virtual service (lvs-in), a
// connection's reply (lvs-out), ICMPv6 (icmp6-input), or the host. The IPv6
// twin of ipv4-input.ts: the same steps, the same verdicts.
import { protoOps } from '../conn/proto/index.js';
import { AF_INET6 } from '../model/proto.js';
import { DropCode, type Verdict } from '../model/verdict.js';
import { ADDR_LOCAL, ADDR_REAL_SERVER, ADDR_VIP } from '../net/addr-table.js';
import { FRAG_FIRST, FRAG_LATER, FRAG_NONE, type Packet } from '../net/packet.js';
import { ip6Fold, ip6IsLinkLocal, ip6IsLoopback, ip6IsMulticast, ip6IsUnspecified } from '../wire/addr6.js';
import { IP6_EXT_UNKNOWN, WIRE_OK } from '../wire/errors.js';
import { ETH_HEADER_LEN } from '../wire/ethernet.js';
import { ICMPV6_DEST_UNREACH, ICMPV6_NOT_NEIGHBOUR, ICMPV6_PARAM_PROBLEM, ICMPV6_PORT_UNREACH, ICMPV6_UNK_OPTION } from '../wire/icmpv6.js';
import { IPPROTO_UDP } from '../wire/ipproto.js';
import {
  IP6OPT_ACTION_DISCARD_ICMP, IP6OPT_ACTION_DISCARD_ICMP_UNICAST, NEXTHDR_ICMP, ip6FirstUnknownOption, ip6OptionAction,
} from '../wire/ipv6.js';
import type { Director } from './director.js';
import { FRAG_ROUTED, decideFragments, firstFragmentSettled, laterFragment } from './fragments.js';
import { icmp6Input } from './icmp6-input.js';
import { lvsIn } from './lvs-in.js';
import { lvsOut } from './lvs-out.js';
import { natIcmpSend } from './nat-icmp-send.js';

const OURS = ADDR_LOCAL | ADDR_VIP;

export function ipv6Input(d: Director, pkt: Packet): Verdict {
  const ip = pkt.ip6;
  const ipOff = pkt.ethOff + ETH_HEADER_LEN;
  if (ip.wrap(pkt.buf, ipOff, pkt.len - ETH_HEADER_LEN) !== WIRE_OK) return DropCode['malformed-ip'];
  pkt.af = AF_INET6;
  // Ethernet padding is not forwarded
  pkt.frameLen = ETH_HEADER_LEN + ip.totalLength;
  const src6 = pkt.src6;
  const dst6 = pkt.dst6;
  ip.readSrc(src6, 0);
  ip.readDst(dst6, 0);
  pkt.src = ip6Fold(src6);
  pkt.dst = ip6Fold(dst6);
  const ext = pkt.ext6;
  const rc = ext.walk(ip);
  if (rc !== WIRE_OK) return rc === IP6_EXT_UNKNOWN ? DropCode['ipv6-unknown-ext-header'] : DropCode['ipv6-bad-ext-header'];
  pkt.proto = ext.upperProtocol;
  const host = d.host6;
  const mcastDst = ip6IsMulticast(dst6);
  // a frame to a group MAC must be to a group address (and a group address to a group this port listens to)
  if ((pkt.mcast || pkt.bcast) && !mcastDst) return DropCode['not-for-us'];
  if (mcastDst && !host.listens(pkt.port.index, dst6)) return DropCode['not-for-us'];
  if (ip6IsMulticast(src6) || ip6IsLoopback(src6) || (host.classOf(src6) & OURS) !== 0) return DropCode['martian-source'];
  // the unspecified source is a host without an address yet: only its duplicate-address solicitations (to a group) make sense
  if (ip6IsUnspecified(src6) && (!mcastDst || pkt.proto !== NEXTHDR_ICMP)) return DropCode['martian-source'];
  if (ext.hopByHopOffset >= 0) {
    const v = hopByHop(d, pkt);
    if (v >= 0) return v;
  }
  if (mcastDst) {
    // nothing multicast is routed or balanced: only the director's own neighbour discovery
    if (pkt.proto === NEXTHDR_ICMP && !ext.isFragment) return icmp6Input(d, pkt);
    return DropCode['to-director-unhandled'];
  }
  if (ext.isFragment) {
    pkt.fragId = ext.fragId;
    if (ext.isLaterFragment) {
      pkt.fragment = FRAG_LATER;
      return laterFragment(d, pkt);
    }
    pkt.fragment = FRAG_FIRST;
    // whatever becomes of a first fragment, its later fragments follow it
    const v = transportInput6(d, pkt);
    firstFragmentSettled(d, AF_INET6, pkt.src, pkt.dst, 0, pkt.fragId, pkt.now);
    return v;
  }
  return transportInput6(d, pkt);
}

/** Hop-by-hop options (RFC 8200 section 4.2): an option not known here whose type says discard; else -1 (go on). */
function hopByHop(d: Director, pkt: Packet): Verdict {
  const ext = pkt.ext6;
  const h = ext.hopByHopOffset;
  const at = ip6FirstUnknownOption(pkt.buf, h);
  if (at < 0) return -1;
  const action = ip6OptionAction(pkt.buf, h, at);
  if (action === IP6OPT_ACTION_DISCARD_ICMP || (action === IP6OPT_ACTION_DISCARD_ICMP_UNICAST && !ip6IsMulticast(pkt.dst6))) {
    // parameter problem pointing at the option, from the address the packet was sent to
    const from = (d.host6.classOf(pkt.dst6) & OURS) !== 0 ? pkt.dst6 : null;
    d.host6.icmpError(pkt.buf, pkt.ethOff, pkt.port, ICMPV6_PARAM_PROBLEM, ICMPV6_UNK_OPTION, at - pkt.ip6.off, from, false, pkt.now);
  }
  return DropCode['ipv6-unknown-option'];
}

function transportInput6(d: Director, pkt: Packet): Verdict {
  const ext = pkt.ext6;
  const proto = pkt.proto;
  if (proto === NEXTHDR_ICMP) return icmp6Input(d, pkt);
  const ops = protoOps(proto);
  if (ops === undefined) return notLvs6(d, pkt);
  pkt.l4Off = ext.upperOffset;
  pkt.l4Len = ext.upperLength;
  if (ops.parse(pkt.buf, pkt.l4Off, pkt.l4Len, pkt.fragment === FRAG_FIRST, pkt) !== WIRE_OK) return DropCode['malformed-l4'];
  pkt.ops = ops;
  const svc = d.services.find6(proto, pkt.dst6, 0, pkt.dport);
  if (svc !== undefined) {
    // a link-local client could not be answered beyond its link, and a source-routed packet's checksum covers its final hop
    if (ip6IsLinkLocal(pkt.src6)) return DropCode['ipv6-link-local-not-routed'];
    if (ext.segmentsLeft !== 0) return DropCode['ipv6-bad-ext-header'];
    return lvsIn(d, pkt, svc);
  }
  // a client's packet of a conn an app helper made (an FTP data conn, its port without a service)
  if (d.conns.appChildren !== 0) {
    const s = d.conns.lookupIn6(proto, pkt.src6, 0, pkt.sport, pkt.dst6, 0, pkt.dport, pkt.now);
    if (s >= 0 && !ip6IsLinkLocal(pkt.src6) && ext.segmentsLeft === 0) {
      return lvsIn(d, pkt, d.conns.svc(s), s);
    }
  }
  const slot = d.conns.lookupOut6(proto, pkt.src6, 0, pkt.sport, pkt.dst6, 0, pkt.dport, pkt.now);
  if (slot >= 0) return lvsOut(d, pkt, slot);
  if (d.conns.settings.natIcmpSend && natIcmpSend(d, pkt)) return DropCode['unmatched-from-real-server'];
  return notLvs6(d, pkt);
}

/**
 * notLvs() for IPv6: for the director itself (a VIP port with no service
 * answers UDP with port-unreachable, as the director's stack would), from a
 * real server when that is refused, or else routed as a router routes it.
 */
export function notLvs6(d: Director, pkt: Packet): Verdict {
  if (pkt.fragment === FRAG_FIRST) decideFragments(d, AF_INET6, pkt.src, pkt.dst, 0, pkt.fragId, FRAG_ROUTED, false, pkt.now);
  const host = d.host6;
  const dst = host.classOf(pkt.dst6);
  if ((dst & OURS) !== 0) {
    if ((dst & ADDR_LOCAL) === 0) {
      if (pkt.proto === IPPROTO_UDP && pkt.fragment === FRAG_NONE) {
        host.icmpError(pkt.buf, pkt.ethOff, pkt.port, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH, 0, pkt.dst6, false, pkt.now);
      }
      return DropCode['no-service'];
    }
    return DropCode['to-director-unhandled'];
  }
  if (ip6IsLinkLocal(pkt.dst6)) return DropCode['ipv6-link-local-not-routed'];
  if (ip6IsLinkLocal(pkt.src6)) {
    // as ip6_forward: beyond the scope of the source address
    host.icmpError(pkt.buf, pkt.ethOff, pkt.port, ICMPV6_DEST_UNREACH, ICMPV6_NOT_NEIGHBOUR, 0, null, false, pkt.now);
    return DropCode['ipv6-link-local-not-routed'];
  }
  if (d.unmatchedDrop && (host.classOf(pkt.src6) & ADDR_REAL_SERVER) !== 0) return DropCode['unmatched-from-real-server'];
  d.tracer?.mark('routed');
  return host.forward(pkt);
}
