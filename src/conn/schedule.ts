import { Dest, FWD_BYPASS, type Fwd } from '../model/dest.js';
import { AF_INET6, IPPROTO_UDP } from '../model/proto.js';
import { ip6PrefixMask } from '../wire/addr6.js';
import type { Service } from '../model/service.js';
import type { SchedPacket } from '../model/scheduler.js';
import { BAD_PORT, NO_DEST, TABLE_FULL } from './codes.js';
import { CONN_F_ONE_PACKET, CONN_F_TEMPLATE } from './flags.js';
import { INITIAL_TIMEOUT } from './timeouts.js';
import type { ConnTable } from './table.js';

/** Port of the FTP control service: its templates cover every port (data conns). */
const FTP_PORT = 21;
/** IPPROTO_IP: the protocol of fwmark templates, which cover TCP and UDP alike. */
const PROTO_IP = 0;

/**
 * Schedules the first packet of a new connection to `svc` (ip_vs_schedule
 * and ip_vs_sched_persist): picks a real server, or for a persistent service
 * reuses the client's template, creates the conn bound to the dest and counts
 * it in the dest's and service's stats. Returns the new slot, or a negative
 * code: NO_DEST, TABLE_FULL or BAD_PORT. Never throws.
 *
 * The conn starts in state NONE; the director then runs the packet through
 * tcpState()/touch() as for any other packet of the conn.
 */
export function schedule(table: ConnTable, svc: Service, pkt: SchedPacket, now: number): number {
  if (svc.timeout > 0) return schedulePersist(table, svc, pkt, now);

  // A non-persistent service takes only its own port; port 0 ("all ports")
  // needs persistence, as ipvs says.
  if (svc.fwmark === 0 && pkt.vport !== svc.port) return BAD_PORT;
  if (!table.room(1)) {
    table.counters.tableFull++;
    return TABLE_FULL;
  }
  const dest = svc.sched.pick(svc, svc.schedState, pkt, now);
  if (dest === null) return NO_DEST;
  const slot = newConn(table, pkt, dest, dest.port !== 0 ? dest.port : pkt.vport, onePacketFlag(svc, pkt), -1, now);
  if (slot >= 0) countConn(dest, svc);
  return slot;
}

/** Each fwmark service's stand-in real server for its cache_bypass conns (made once per service, never in svc.dests). */
const bypassDests = new WeakMap<Service, Dest>();

/**
 * cache_bypass (ip_vs_leave): a fwmark service that found no real server
 * makes a conn that sends the flow on to its own destination (FWD_BYPASS,
 * xmit/bypass.ts). The conn's daddr:dport are the packet's destination, as
 * the kernel's ip_vs_conn_new with IP_VS_CONN_F_BYPASS; it counts in no
 * statistics. Returns the slot or TABLE_FULL. The caller checks the sysctl
 * and that the destination is a non-local unicast address.
 */
export function scheduleBypass(table: ConnTable, svc: Service, pkt: SchedPacket, now: number): number {
  let dest = bypassDests.get(svc);
  if (dest === undefined) {
    dest = new Dest(svc, svc.af === AF_INET6 ? { addr: 0, addr6: new Uint32Array(4), port: 0 } : { addr: 0, port: 0 });
    dest.fwd = FWD_BYPASS as Fwd;
    bypassDests.set(svc, dest);
  }
  const slot = newConn(table, pkt, dest, pkt.vport, 0, -1, now);
  if (slot >= 0) table.setBypassDaddr(slot, pkt);
  return slot;
}

/** The conn of `pkt` bound to `dest`, in the packet's address family. */
function newConn(table: ConnTable, pkt: SchedPacket, dest: Dest, dport: number, flags: number, control: number, now: number): number {
  if (pkt.af === AF_INET6) {
    return table.create6(pkt.proto, pkt.caddr6, 0, pkt.cport, pkt.vaddr6, 0, pkt.vport, dest, dport, flags, control, INITIAL_TIMEOUT, now);
  }
  return table.create(pkt.proto, pkt.caddr >>> 0, pkt.cport, pkt.vaddr >>> 0, pkt.vport, dest, dport, flags, control, INITIAL_TIMEOUT, now);
}

// Scratch for IPv6 template keys: the masked client, and a fwmark as an address.
const snet6 = new Uint32Array(4);
const mask6 = new Uint32Array(4);
const mark6 = new Uint32Array(4);

function onePacketFlag(svc: Service, pkt: SchedPacket): number {
  return svc.onePacket && pkt.proto === IPPROTO_UDP ? CONN_F_ONE_PACKET : 0;
}

function countConn(dest: Dest, svc: Service): void {
  dest.stats.conns++;
  svc.stats.conns++;
}

/**
 * Persistence. The template key is (proto, client & netmask, cport 0, vaddr,
 * vport), where vport is 0 for port-0 services and FTP, and a fwmark service
 * uses (IPPROTO_IP, fwmark as vaddr, 0): so one client keeps its real server
 * across connections and, for port-0 and fwmark services, across ports.
 */
function schedulePersist(table: ConnTable, svc: Service, pkt: SchedPacket, now: number): number {
  const v6 = pkt.af === AF_INET6;
  const caddr = pkt.caddr >>> 0;
  const vaddr = pkt.vaddr >>> 0;
  const snet = (caddr & svc.netmask) >>> 0;
  if (v6) {
    ip6PrefixMask(svc.prefix6, mask6, 0);
    for (let k = 0; k < 4; k++) snet6[k] = (pkt.caddr6[k]! & mask6[k]!) >>> 0;
  }
  const ownPort = pkt.vport === svc.port;
  let tproto = pkt.proto;
  let tvaddr = vaddr;
  let tvport = 0;
  if (ownPort) {
    if (svc.port !== FTP_PORT) tvport = pkt.vport;
  } else if (svc.fwmark !== 0) {
    tproto = PROTO_IP;
    tvaddr = svc.fwmark >>> 0;
  }
  // an IPv6 template keys on the VIP, or on the fwmark as the address ::mark
  let tv6 = pkt.vaddr6;
  if (v6 && tvaddr !== vaddr) {
    mark6[3] = tvaddr;
    tv6 = mark6;
  }

  let ct = v6 ? table.lookupTemplate6(tproto, snet6, 0, tv6, 0, tvport, now) : table.lookupTemplate(tproto, snet, tvaddr, tvport, now);
  if (ct >= 0 && !templateUsable(table, ct)) {
    table.invalidateTemplate(ct);
    ct = -1;
  }

  let dest: Dest;
  if (ct >= 0) {
    if (!table.room(1)) {
      table.counters.tableFull++;
      return TABLE_FULL;
    }
    dest = table.dest(ct);
    table.refreshTemplate(ct, now);
  } else {
    if (!table.room(2)) {
      table.counters.tableFull++;
      return TABLE_FULL;
    }
    const picked = svc.sched.pick(svc, svc.schedState, pkt, now);
    if (picked === null) return NO_DEST;
    dest = picked;
    const tdport = ownPort && svc.port !== FTP_PORT ? dest.port : 0;
    ct = v6
      ? table.create6(tproto, snet6, 0, 0, tv6, 0, tvport, dest, tdport, CONN_F_TEMPLATE, -1, svc.timeout * 1000, now)
      : table.create(tproto, snet, 0, tvaddr, tvport, dest, tdport, CONN_F_TEMPLATE, -1, svc.timeout * 1000, now);
    if (ct < 0) return ct;
  }

  const dport = pkt.vport === svc.port && dest.port !== 0 ? dest.port : pkt.vport;
  const slot = newConn(table, pkt, dest, dport, onePacketFlag(svc, pkt), ct, now);
  if (slot >= 0) countConn(dest, svc);
  return slot;
}

/**
 * ip_vs_check_template: a template binds new conns only while its dest is
 * still in the service and, with expire_quiescent_template, has weight > 0.
 */
function templateUsable(table: ConnTable, ct: number): boolean {
  const d = table.dest(ct);
  if (!d.available) return false;
  if (table.settings.expireQuiescentTemplate && d.weight === 0) return false;
  return true;
}
