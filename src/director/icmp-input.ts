// ICMP to and through the director: echo requests to its addresses and VIPs
// are answered; an error that quotes a packet of a connection goes where
// that connection's packets go, translated for NAT (the kernel's
// ip_vs_in_icmp / ip_vs_out_icmp); anything else is the host's.
import { protoOps, type L4Info } from '../conn/proto/index.js';
import { ADDR_LOCAL, ADDR_VIP } from '../net/addr-table.js';
import { FRAG_NONE, type Packet } from '../net/packet.js';
import { ANSWERED, CONSUMED, DropCode, FORWARDED, HELD, type Verdict } from '../model/verdict.js';
import { CONN_F_FWD_MASK, CONN_F_TUN_MASK, CONN_F_TUN_SHIFT } from '../conn/flags.js';
import { FWD_TUN, TUN_GRE, TUN_GUE, TUN_IPIP } from '../model/dest.js';
import { GRE_FLAG_C, GRE_PROTO_IPV4, GreView } from '../wire/gre.js';
import { GUE_PROTO_IPIP, GueView } from '../wire/gue.js';
import { Ipv4View } from '../wire/ipv4.js';
import { IPPROTO_GRE, IPPROTO_IPIP, IPPROTO_UDP } from '../wire/ipproto.js';
import { UDP_HEADER_LEN } from '../wire/udp.js';
import { TUN_OUTER_LEN } from '../wire/tunnel.js';
import { countOut } from './stats.js';
import { WIRE_OK } from '../wire/errors.js';
import { ICMP_DEST_UNREACH, ICMP_ECHO_REQUEST, ICMP_FRAG_NEEDED, ICMP_SOURCE_QUENCH, ICMP_TIME_EXCEEDED, icmpIsError, icmpMtuRest } from '../wire/icmp.js';

/** The smallest MTU IPv4 allows (a reported MTU is lowered by the tunnel only above this plus the tunnel's headers). */
const MIN_MTU = 68;
import { schedule } from '../conn/schedule.js';
import { AF_INET } from '../model/proto.js';
import { natIcmpFromClient, natIcmpFromDest, transmitter } from '../xmit/index.js';
import type { Director } from './director.js';
import { notLvs } from './ipv4-input.js';

const OURS = ADDR_LOCAL | ADDR_VIP;
const quotedPorts: L4Info = { sport: 0, dport: 0, flags: 0 };

export function icmpInput(d: Director, pkt: Packet): Verdict {
  if (pkt.fragment !== FRAG_NONE) return notLvs(d, pkt);
  const ip = pkt.ip;
  const icmp = pkt.icmp;
  if (icmp.wrap(pkt.buf, ip.payloadOffset, ip.payloadLength) !== WIRE_OK) return DropCode['malformed-icmp'];
  const type = icmp.type;
  const ours = (d.host.classOf(pkt.dst) & OURS) !== 0;
  if (type === ICMP_ECHO_REQUEST && ours) {
    if (!icmp.checksumOk()) return DropCode['malformed-icmp'];
    return d.host.echoReply(pkt);
  }
  if (icmpIsError(type)) {
    if (!icmp.embeddedComplete) return DropCode['malformed-icmp'];
    const v = errorForConn(d, pkt);
    if (v !== NOT_FOR_A_CONN) {
      if (v === FORWARDED || v === HELD) d.counters.forwarded++;
      return v;
    }
    const t = tunnelError(d, pkt);
    if (t !== NOT_FOR_A_CONN) return t;
    if (ours) return DropCode['icmp-error-no-conn'];
  }
  return notLvs(d, pkt);
}

const NOT_FOR_A_CONN = -100;

const gueV = new GueView();
const greV = new GreView();
const innerV = new Ipv4View();
const innerPorts: L4Info = { sport: 0, dport: 0, flags: 0 };

/**
 * An error about one of the director's own tunnel packets (ip_vs_in_icmp's
 * "special case for errors for IPIP/UDP/GRE tunnel packets"): a real server
 * or a router on the way says need-to-frag, unreachable or time exceeded
 * about an IPIP, GUE or GRE packet the director sent to a tunnelling real
 * server. The quote's inner packet is the client's; its conn found, the error
 * goes to the client about that packet, from the address it was sent to.
 * A need-to-frag teaches the real server's path MTU (Dest.learnPmtu, as
 * ipv4_update_pmtu), and is relayed with that MTU less 20, the outer IPv4
 * header, whatever the tunnel type (as IPVS: for GUE and GRE the client's
 * next packet may still be too big for the tunnel, and then the director's
 * own check, which counts the whole overhead, answers it). A need-to-frag
 * about a client packet without DF is learned from and not relayed.
 * NOT_FOR_A_CONN when it is no such error.
 */
function tunnelError(d: Director, pkt: Packet): Verdict {
  const icmp = pkt.icmp;
  const type = icmp.type;
  if (type !== ICMP_DEST_UNREACH && type !== ICMP_SOURCE_QUENCH && type !== ICMP_TIME_EXCEEDED) return NOT_FOR_A_CONN;
  const outer = icmp.embeddedProtocol;
  if (outer !== IPPROTO_IPIP && outer !== IPPROTO_UDP && outer !== IPPROTO_GRE) return NOT_FOR_A_CONN;
  // "error for our tunnel must arrive at LOCAL_IN": to the director's own address; a first fragment
  if ((d.host.classOf(pkt.dst) & ADDR_LOCAL) === 0 || icmp.embeddedFragOffset !== 0) return NOT_FOR_A_CONN;
  const buf = pkt.buf;
  let off = icmp.embeddedTransportOffset;
  const end = off + icmp.embeddedTransportLength;
  let tunType = TUN_IPIP;
  let tunPort = 0;
  if (outer === IPPROTO_UDP) {
    // ipvs_udp_decap: a GUE version 0 data header carrying IPv4
    if (end - off < UDP_HEADER_LEN) return NOT_FOR_A_CONN;
    tunPort = (buf[off + 2]! << 8) | buf[off + 3]!;
    off += UDP_HEADER_LEN;
    if (gueV.wrap(buf, off, end - off) !== WIRE_OK || gueV.version !== 0 || gueV.control || gueV.protocol !== GUE_PROTO_IPIP) return NOT_FOR_A_CONN;
    off = gueV.payloadOffset;
    tunType = TUN_GUE;
  } else if (outer === IPPROTO_GRE) {
    // ipvs_gre_decap: version 0, no flag but C, IPv4 inside
    if (greV.wrap(buf, off, end - off) !== WIRE_OK || (greV.flags & ~GRE_FLAG_C) !== 0 || greV.protocol !== GRE_PROTO_IPV4) return NOT_FOR_A_CONN;
    off = greV.payloadOffset;
    tunType = TUN_GRE;
  }
  // the client's packet, as much of it as the error quotes: a whole header and its ports
  if (end - off < 20) return NOT_FOR_A_CONN;
  innerV.wrapHeaderOnly(buf, off);
  const ihl = innerV.headerLength;
  if (innerV.version !== 4 || ihl < 20 || off + ihl > end || innerV.fragOffset !== 0) return NOT_FOR_A_CONN;
  const ops = protoOps(innerV.protocol);
  if (ops === undefined || !ops.parseQuoted(buf, off + ihl, end - off - ihl, innerPorts)) return NOT_FOR_A_CONN;
  const conns = d.conns;
  const now = pkt.now;
  const slot = conns.lookupIn(ops.proto, innerV.src, innerPorts.sport, innerV.dst, innerPorts.dport, now);
  if (slot < 0) return NOT_FOR_A_CONN;
  // only for a known tunnel: the conn's real server at the quoted outer destination, of that tunnel type (and GUE port)
  const xm = conns.xmit(slot);
  const dest = conns.dest(slot);
  if ((xm & CONN_F_FWD_MASK) !== FWD_TUN || ((xm & CONN_F_TUN_MASK) >>> CONN_F_TUN_SHIFT) !== tunType ||
    conns.daddr[slot]! !== icmp.embeddedDst || (tunType === TUN_GUE && dest.tunPort !== tunPort)) return NOT_FOR_A_CONN;
  d.tracer?.icmpForConn('real-server', conns, slot);
  let rest = icmp.rest;
  if (type === ICMP_DEST_UNREACH && icmp.code === ICMP_FRAG_NEEDED) {
    // the path toward the real server is narrower: the tunnel's own MTU check uses it from now on
    const linkMtu = d.host.route(conns.daddr[slot]!) ? d.host.ports[d.host.routePort]!.mtu : icmp.nextHopMtu;
    dest.learnPmtu(icmp.nextHopMtu, linkMtu, now);
    // the client does not do path-MTU discovery: nothing to tell it
    if (!innerV.df) return CONSUMED;
    // "prefer the resulting PMTU", less the outer IPv4 header only, whatever the tunnel type, as ip_vs_in_icmp
    let mtu = dest.pathMtu(linkMtu, now);
    if (mtu > MIN_MTU + TUN_OUTER_LEN) mtu -= TUN_OUTER_LEN;
    rest = icmpMtuRest(mtu);
  }
  d.host.icmpErrorAbout(buf, off, end - off, type, icmp.code, rest, innerV.dst, now);
  // ICMP can be shorter but anyways, account it (ip_vs_out_stats)
  countOut(d.totals, dest, end - off);
  return ANSWERED;
}

/** An ICMP error quoting a packet of a connection; NOT_FOR_A_CONN when it concerns none. */
function errorForConn(d: Director, pkt: Packet): Verdict {
  const icmp = pkt.icmp;
  const quoted = protoOps(icmp.embeddedProtocol);
  // a quoted non-first fragment has no ports
  if (quoted === undefined || icmp.embeddedFragOffset !== 0) return NOT_FOR_A_CONN;
  if (!quoted.parseQuoted(pkt.buf, icmp.embeddedTransportOffset, icmp.embeddedTransportLength, quotedPorts)) return NOT_FOR_A_CONN;
  const isrc = icmp.embeddedSrc;
  const idst = icmp.embeddedDst;
  const conns = d.conns;
  const now = pkt.now;

  // about a packet sent to a client (VIP:vport -> client): the error travels client -> real server
  let slot = conns.lookupIn(quoted.proto, idst, quotedPorts.dport, isrc, quotedPorts.sport, now);
  if (slot >= 0) {
    d.tracer?.icmpForConn('client', conns, slot);
    const xmit = transmitter(conns.xmit(slot));
    // NAT translates the error; DR and TUN send it on as it is, like the conn's packets
    return xmit.toClient !== undefined ? natIcmpFromClient(d, pkt, slot, quoted) : xmit.toDest(d, pkt, slot);
  }
  // about a packet sent to a real server (client -> real server): the error travels to the client
  slot = conns.lookupOut(quoted.proto, idst, quotedPorts.dport, isrc, quotedPorts.sport, now);
  if (slot >= 0 && transmitter(conns.xmit(slot)).toClient !== undefined) {
    d.tracer?.icmpForConn('real-server', conns, slot);
    const ttl = d.host.decTtl(pkt);
    if (ttl !== FORWARDED) return ttl;
    return natIcmpFromDest(d, pkt, slot, quoted);
  }
  // schedule_icmp (ip_vs_in_icmp): an error about a packet from a virtual service to a client that has no
  // conn here (lost in a failover, or made by another director) is scheduled as the conn's first packet, the
  // service found by the quoted source and port; only the three error types ip_vs_in_icmp looks at
  if (conns.settings.scheduleIcmp && (d.host.classOf(isrc) & ADDR_VIP) !== 0) {
    const type = icmp.type;
    if (type !== ICMP_DEST_UNREACH && type !== ICMP_SOURCE_QUENCH && type !== ICMP_TIME_EXCEEDED) return NOT_FOR_A_CONN;
    const svc = d.services.find(quoted.proto, isrc, quotedPorts.sport);
    if (svc === undefined || (d.lvsGate !== 0 && d.backupOnly)) return NOT_FOR_A_CONN;
    const sp = d.spkt;
    sp.af = AF_INET;
    sp.proto = quoted.proto;
    sp.caddr = idst;
    sp.cport = quotedPorts.dport;
    sp.vaddr = isrc;
    sp.vport = quotedPorts.sport;
    slot = schedule(conns, svc, sp, now);
    if (slot < 0) return DropCode['no-real-server'];
    d.totals.conns++;
    d.tracer?.conn(svc, conns.dest(slot), true, conns, slot, sp);
    d.tracer?.icmpForConn('client', conns, slot);
    const xmit = transmitter(conns.xmit(slot));
    const v = xmit.toClient !== undefined ? natIcmpFromClient(d, pkt, slot, quoted) : xmit.toDest(d, pkt, slot);
    conns.put(slot);
    return v;
  }
  return NOT_FOR_A_CONN;
}
