// ICMPv6 to and through the director: neighbour discovery is the host's;
// echo requests to its addresses and VIPs are answered; an error that
// quotes a packet of a connection goes where that connection's packets go,
// translated for NAT (the kernel's ip_vs_in_icmp_v6 / ip_vs_out_icmp_v6);
// anything else is the host's. The IPv6 twin of icmp-input.ts.
import { protoOps, type L4Info } from '../conn/proto/index.js';
import { schedule } from '../conn/schedule.js';
import { AF_INET6 } from '../model/proto.js';
import { ADDR_LOCAL, ADDR_VIP } from '../net/addr-table.js';
import { FRAG_NONE, type Packet } from '../net/packet.js';
import { CONSUMED, DropCode, FORWARDED, type Verdict } from '../model/verdict.js';
import { ip6Fold, ip6IsMulticast } from '../wire/addr6.js';
import { WIRE_OK } from '../wire/errors.js';
import {
  ICMPV6_ECHO_REQUEST, ICMPV6_NEIGHBOR_ADVERT, ICMPV6_NEIGHBOR_SOLICIT, ICMPV6_REDIRECT, ICMPV6_ROUTER_ADVERT,
  ICMPV6_ROUTER_SOLICIT, icmpv6IsError,
} from '../wire/icmpv6.js';
import { natIcmp6FromClient, natIcmp6FromDest, transmitter6 } from '../xmit/index.js';
import type { Director } from './director.js';
import { notLvs6 } from './ipv6-input.js';

const OURS = ADDR_LOCAL | ADDR_VIP;
const quotedPorts: L4Info = { sport: 0, dport: 0, flags: 0 };
const qsrc = new Uint32Array(4);
const qdst = new Uint32Array(4);

export function icmp6Input(d: Director, pkt: Packet): Verdict {
  // errors are never fragmented: a fragment of ICMPv6 is routed (or refused) as a packet of no service
  if (pkt.fragment !== FRAG_NONE) return notLvs6(d, pkt);
  const ext = pkt.ext6;
  const icmp = pkt.icmp6;
  if (icmp.wrap(pkt.buf, ext.upperOffset, ext.upperLength) !== WIRE_OK) return DropCode['malformed-icmp'];
  const type = icmp.type;
  const host = d.host6;
  if (type === ICMPV6_NEIGHBOR_SOLICIT || type === ICMPV6_NEIGHBOR_ADVERT) return host.ndInput(pkt);
  // the director routes and has its routes configured: router solicitations, advertisements and redirects change nothing
  if (type === ICMPV6_ROUTER_SOLICIT || type === ICMPV6_ROUTER_ADVERT || type === ICMPV6_REDIRECT) return CONSUMED;
  if (ip6IsMulticast(pkt.dst6)) return DropCode['to-director-unhandled'];
  const ours = (host.classOf(pkt.dst6) & OURS) !== 0;
  if (type === ICMPV6_ECHO_REQUEST && ours) {
    if (!icmp.checksumOk(ext.pseudoAddrSum())) return DropCode['malformed-icmp'];
    return host.echoReply(pkt);
  }
  if (icmpv6IsError(type)) {
    if (!icmp.embeddedComplete) return ours ? DropCode['malformed-icmp'] : notLvs6(d, pkt);
    const v = errorForConn(d, pkt);
    if (v !== NOT_FOR_A_CONN) return v;
    if (ours) return DropCode['icmp-error-no-conn'];
  }
  return notLvs6(d, pkt);
}

const NOT_FOR_A_CONN = -100;

/** An ICMPv6 error quoting a packet of a connection; NOT_FOR_A_CONN when it concerns none. */
function errorForConn(d: Director, pkt: Packet): Verdict {
  const icmp = pkt.icmp6;
  const quoted = protoOps(icmp.embeddedProtocol);
  // embeddedComplete has ruled out a quoted later fragment (no ports)
  if (quoted === undefined) return NOT_FOR_A_CONN;
  const qOff = icmp.embeddedTransportOffset;
  if (!quoted.parseQuoted(pkt.buf, qOff, icmp.off + icmp.len - qOff, quotedPorts)) return NOT_FOR_A_CONN;
  icmp.readEmbeddedSrc(qsrc, 0);
  icmp.readEmbeddedDst(qdst, 0);
  const conns = d.conns;
  const now = pkt.now;

  // about a packet sent to a client (VIP:vport -> client): the error travels client -> real server
  let slot = conns.lookupIn6(quoted.proto, qdst, 0, quotedPorts.dport, qsrc, 0, quotedPorts.sport, now);
  if (slot >= 0) {
    const xmit = transmitter6(conns.xmit(slot));
    // the ICMPv6 checksum is redone for NAT: a damaged message must not be made whole
    if (xmit.toClient !== undefined && !icmp.checksumOk(pkt.ext6.pseudoAddrSum())) return DropCode['malformed-icmp'];
    d.tracer?.icmpForConn('client', conns, slot);
    // NAT translates the error; DR and TUN send it on as it is, like the conn's packets
    return xmit.toClient !== undefined ? natIcmp6FromClient(d, pkt, slot, quoted) : xmit.toDest(d, pkt, slot);
  }
  // about a packet sent to a real server (client -> real server): the error travels to the client
  slot = conns.lookupOut6(quoted.proto, qdst, 0, quotedPorts.dport, qsrc, 0, quotedPorts.sport, now);
  if (slot >= 0 && transmitter6(conns.xmit(slot)).toClient !== undefined) {
    if (!icmp.checksumOk(pkt.ext6.pseudoAddrSum())) return DropCode['malformed-icmp'];
    d.tracer?.icmpForConn('real-server', conns, slot);
    const hl = d.host6.decHopLimit(pkt);
    if (hl !== FORWARDED) return hl;
    return natIcmp6FromDest(d, pkt, slot, quoted);
  }
  // schedule_icmp (ip_vs_in_icmp_v6): an error about a packet from a virtual service to a client that has no
  // conn here (lost in a failover, or made by another director) is scheduled as the conn's first packet, the
  // service found by the quoted source and port; every error type counts (only informational ones are passed by)
  if (conns.settings.scheduleIcmp && (d.host6.classOf(qsrc, 0) & ADDR_VIP) !== 0) {
    const svc = d.services.find6(quoted.proto, qsrc, 0, quotedPorts.sport);
    if (svc === undefined || (d.lvsGate !== 0 && d.backupOnly)) return NOT_FOR_A_CONN;
    const sp = d.spkt;
    sp.af = AF_INET6;
    sp.caddr6 = qdst;
    sp.vaddr6 = qsrc;
    sp.proto = quoted.proto;
    sp.caddr = ip6Fold(qdst);
    sp.cport = quotedPorts.dport;
    sp.vaddr = ip6Fold(qsrc);
    sp.vport = quotedPorts.sport;
    slot = schedule(conns, svc, sp, now);
    if (slot < 0) return DropCode['no-real-server'];
    d.totals.conns++;
    d.tracer?.conn(svc, conns.dest(slot), true, conns, slot, sp);
    const xmit = transmitter6(conns.xmit(slot));
    if (xmit.toClient !== undefined && !icmp.checksumOk(pkt.ext6.pseudoAddrSum())) {
      conns.put(slot);
      return DropCode['malformed-icmp'];
    }
    d.tracer?.icmpForConn('client', conns, slot);
    const v = xmit.toClient !== undefined ? natIcmp6FromClient(d, pkt, slot, quoted) : xmit.toDest(d, pkt, slot);
    conns.put(slot);
    return v;
  }
  return NOT_FOR_A_CONN;
}
