// ICMP to and through the director: echo requests to its addresses and VIPs
// are answered; an error that quotes a packet of a connection goes where
// that connection's packets go, translated for NAT (the kernel's
// ip_vs_in_icmp / ip_vs_out_icmp); anything else is the host's.
import { protoOps, type L4Info } from '../conn/proto/index.js';
import { ADDR_LOCAL, ADDR_VIP } from '../net/addr-table.js';
import { FRAG_NONE, type Packet } from '../net/packet.js';
import { DropCode, FORWARDED, type Verdict } from '../model/verdict.js';
import { WIRE_OK } from '../wire/errors.js';
import { ICMP_DEST_UNREACH, ICMP_ECHO_REQUEST, ICMP_SOURCE_QUENCH, ICMP_TIME_EXCEEDED, icmpIsError } from '../wire/icmp.js';
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
    if (v !== NOT_FOR_A_CONN) return v;
    if (ours) return DropCode['icmp-error-no-conn'];
  }
  return notLvs(d, pkt);
}

const NOT_FOR_A_CONN = -100;

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
