// A client's packet for a virtual service (the kernel's ip_vs_in): find its
// connection or schedule a new one, move the connection's state, count the
// packet, and hand it to the transmitter the connection was bound to.
import { schedule } from '../conn/schedule.js';
import { CHECK_DROP, BAD_PORT, NO_DEST } from '../conn/codes.js';
import { DIR_INPUT } from '../conn/tcp-states.js';
import type { Service } from '../model/service.js';
import { DropCode, type Verdict } from '../model/verdict.js';
import { FRAG_FIRST, type Packet } from '../net/packet.js';
import { ICMP_DEST_UNREACH, ICMP_PORT_UNREACH } from '../wire/icmp.js';
import { transmitter } from '../xmit/index.js';
import type { Director } from './director.js';
import { decideFragments, releaseHeld } from './fragments.js';
import { countIn } from './stats.js';

export function lvsIn(d: Director, pkt: Packet, svc: Service): Verdict {
  const conns = d.conns;
  const ops = pkt.ops!;
  const flags = pkt.flags;
  const now = pkt.now;
  let slot = conns.lookupIn(pkt.proto, pkt.src, pkt.sport, pkt.dst, pkt.dport, now);
  if (slot >= 0) {
    const c = conns.checkIn(slot, ops.opensNew(flags), now);
    if (c === CHECK_DROP) return DropCode['dest-removed'];
    slot = c;
  }
  let isNew = false;
  if (slot < 0) {
    // as tcp_conn_schedule: only a packet that may open a connection (a TCP SYN) is scheduled
    if (!ops.schedulable(flags)) return DropCode['no-conn-not-syn'];
    slot = scheduleNew(d, pkt, svc);
    if (slot < 0) return notScheduled(d, pkt, slot);
    isNew = true;
  }
  conns.update(slot, DIR_INPUT, flags, now);
  const dest = conns.dest(slot);
  countIn(d.totals, dest, pkt.ip.totalLength);
  if (d.tracer) d.tracer.conn(svc, dest, isNew, conns, slot, d.spkt);
  const first = pkt.fragment === FRAG_FIRST;
  const id = pkt.ip.id;
  if (first) decideFragments(d, pkt.src, pkt.dst, pkt.proto, id, slot, false, now);
  const v = transmitter(conns.fwd(slot)).toDest(d, pkt, slot);
  conns.put(slot);
  if (first) releaseHeld(d, pkt.src, pkt.dst, pkt.proto, id, now);
  return v;
}

/** ip_vs_schedule: a new conn for the packet; its slot, or a schedule code (NO_DEST, TABLE_FULL, BAD_PORT). */
function scheduleNew(d: Director, pkt: Packet, svc: Service): number {
  const sp = d.spkt;
  sp.proto = pkt.proto;
  sp.caddr = pkt.src;
  sp.cport = pkt.sport;
  sp.vaddr = pkt.dst;
  sp.vport = pkt.dport;
  const slot = schedule(d.conns, svc, sp, pkt.now);
  if (slot >= 0) d.totals.conns++;
  return slot;
}

/** Why a packet got no connection. With no real server to take it, the client is told at once (ip_vs_leave). */
function notScheduled(d: Director, pkt: Packet, code: number): Verdict {
  if (code === NO_DEST) {
    d.host.icmpError(pkt.buf, pkt.ethOff, pkt.port, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, pkt.dst, false, pkt.now);
    return DropCode['no-real-server'];
  }
  return code === BAD_PORT ? DropCode['bad-port'] : DropCode['table-full'];
}
