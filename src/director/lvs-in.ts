// A client's packet for a virtual service (the kernel's ip_vs_in): find its
// connection or schedule a new one, move the connection's state, count the
// packet, and hand it to the transmitter the connection was bound to.
import { schedule, scheduleBypass } from '../conn/schedule.js';
import { ADDR_LOCAL, ADDR_VIP } from '../net/addr-table.js';
import { CHECK_DROP, BAD_PORT, NO_DEST } from '../conn/codes.js';
import { DIR_INPUT } from '../conn/tcp-states.js';
import { AF_INET, AF_INET6 } from '../model/proto.js';
import type { Service } from '../model/service.js';
import { DropCode, FORWARDED, HELD, type Verdict } from '../model/verdict.js';
import { FRAG_FIRST, type Packet } from '../net/packet.js';
import { ETH_HEADER_LEN } from '../wire/ethernet.js';
import { ICMP_DEST_UNREACH, ICMP_PORT_UNREACH } from '../wire/icmp.js';
import { ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH } from '../wire/icmpv6.js';
import { transmitter, transmitter6 } from '../xmit/index.js';
import type { Director } from './director.js';
import { decideFragments, fragIdOf, fragProto, releaseHeld } from './fragments.js';
import { countIn } from './stats.js';

const OURS = ADDR_LOCAL | ADDR_VIP;

/** `found`: the packet's conn when the caller has looked it up already (an app's data conn, whose port has no service). */
export function lvsIn(d: Director, pkt: Packet, svc: Service, found = -1): Verdict {
  const conns = d.conns;
  const ops = pkt.ops!;
  const flags = pkt.flags;
  const now = pkt.now;
  const v4 = pkt.af === AF_INET;
  let slot = found >= 0 ? found : v4
    ? conns.lookupIn(pkt.proto, pkt.src, pkt.sport, pkt.dst, pkt.dport, now)
    : conns.lookupIn6(pkt.proto, pkt.src6, 0, pkt.sport, pkt.dst6, 0, pkt.dport, now);
  if (slot >= 0) {
    const c = conns.checkIn(slot, ops.opensNew(flags), now);
    if (c === CHECK_DROP) return DropCode['dest-removed'];
    slot = c;
  }
  let isNew = false;
  if (slot < 0) {
    // as tcp_conn_schedule: only a packet that may open a connection (a TCP SYN; with sloppy_tcp, no RST) is scheduled
    if (!ops.schedulable(flags) && !(ops.sloppyOpens !== undefined && ops.sloppyOpens(flags, conns.settings))) return DropCode['no-conn-not-syn'];
    // drop_packet (conn/defense.ts): under pressure, 1 in dropRate new connections is refused before scheduling
    if (conns.dropRate !== 0 && conns.dropNewPacket()) return DropCode['drop-packet'];
    slot = scheduleNew(d, pkt, svc);
    // cache_bypass (ip_vs_leave): a fwmark service with no real server sends the flow on to its own destination
    if (slot === NO_DEST && svc.fwmark !== 0 && conns.settings.cacheBypass && bypassable(d, pkt)) slot = scheduleBypass(conns, svc, d.spkt, now);
    if (slot < 0) return notScheduled(d, pkt, slot);
    isNew = true;
  }
  conns.update(slot, DIR_INPUT, flags, now);
  const dest = conns.dest(slot);
  // the IP length (header and payload, for IPv6 40 + payload length), as ip_vs_in_stats counts skb->len
  countIn(d.totals, dest, pkt.frameLen - ETH_HEADER_LEN);
  if (d.tracer) d.tracer.conn(svc, dest, isNew, conns, slot, d.spkt);
  const first = pkt.fragment === FRAG_FIRST;
  const id = first ? fragIdOf(pkt) : 0;
  if (first) decideFragments(d, pkt.af, pkt.src, pkt.dst, fragProto(pkt), id, slot, false, now);
  const xm = conns.xmit(slot);
  const v = (v4 ? transmitter(xm) : transmitter6(xm)).toDest(d, pkt, slot);
  // tapvs_frames_forwarded_total: through a connection as through a route (a frame waiting for its neighbour too)
  if (v === FORWARDED || v === HELD) d.counters.forwarded++;
  // the master sync daemon looks at every client packet of a conn, as ip_vs_in calls ip_vs_sync_conn
  if (d.sync !== null) d.sync.inPacket(slot, now);
  conns.put(slot);
  if (first) releaseHeld(d, pkt.af, pkt.src, pkt.dst, fragProto(pkt), id, now);
  return v;
}

/** ip_vs_addr_is_unicast: the destination is neither the director's own, nor broadcast, nor multicast. */
function bypassable(d: Director, pkt: Packet): boolean {
  if (pkt.af === AF_INET6) return pkt.dst6[0]! >>> 24 !== 0xff && (d.host6.classOf(pkt.dst6, 0) & OURS) === 0;
  const a = pkt.dst >>> 0;
  return !pkt.bcast && a >>> 28 !== 0xe && a !== 0xffffffff && (d.host.classOf(a) & OURS) === 0;
}

/** ip_vs_schedule: a new conn for the packet; its slot, or a schedule code (NO_DEST, TABLE_FULL, BAD_PORT). */
function scheduleNew(d: Director, pkt: Packet, svc: Service): number {
  const sp = d.spkt;
  sp.af = pkt.af;
  if (pkt.af === AF_INET6) {
    // the schedulers hash the folds, as the kernel's do; the conn keeps the full addresses
    sp.caddr6 = pkt.src6;
    sp.vaddr6 = pkt.dst6;
  }
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
    if (pkt.af === AF_INET6) {
      d.host6.icmpError(pkt.buf, pkt.ethOff, pkt.port, ICMPV6_DEST_UNREACH, ICMPV6_PORT_UNREACH, 0, pkt.dst6, false, pkt.now);
    } else {
      d.host.icmpError(pkt.buf, pkt.ethOff, pkt.port, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, pkt.dst, false, pkt.now);
    }
    return DropCode['no-real-server'];
  }
  return code === BAD_PORT ? DropCode['bad-port'] : DropCode['table-full'];
}
