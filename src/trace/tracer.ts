// Builds trace events from the director's state at the moment of each step.
import type { FrameMeta } from '../model/frame.js';
import { completeChecksum } from '../wire/csum-partial.js';
import type { ConnTable } from '../conn/table.js';
import { fwdName, type Dest, type Fwd } from '../model/dest.js';
import { protoName } from '../model/proto.js';
import type { SchedPacket } from '../model/scheduler.js';
import type { Service } from '../model/service.js';
import { DROP_REASONS } from '../model/verdict.js';
import { protoOps } from '../conn/proto/index.js';
import { ipToString, macToString } from '../wire/addr.js';
import { ip6ToString } from '../wire/addr6.js';
import { AF_INET6 } from '../model/proto.js';
import type { ConnRef, TraceSink } from './events.js';

const MODE_NAMES: Record<string, string> = { Masq: 'NAT', Route: 'DR', Tunnel: 'TUN' };

/** "TCP 10.0.0.100:80" or "FWM 1", as the trace and ipvsadm name a service. */
export function svcLabel(svc: Service): string {
  if (svc.fwmark) return `FWM ${svc.fwmark}`;
  if (svc.af === AF_INET6) return `${protoName(svc.proto)} [${ip6ToString(svc.addr6)}]:${svc.port}`;
  return `${protoName(svc.proto)} ${ipToString(svc.addr)}:${svc.port}`;
}

/** addr:port of a real server, [addr]:port for IPv6 (as ipvsadm). */
function destLabel(dest: Dest, port: number): string {
  return dest.af === AF_INET6 ? `[${ip6ToString(dest.addr6)}]:${port}` : `${ipToString(dest.addr)}:${port}`;
}

export function connRef(t: ConnTable, slot: number): ConnRef {
  const v6 = t.af[slot] === AF_INET6;
  const o = slot * 4;
  return {
    proto: protoName(t.proto[slot]!),
    client: v6 ? ip6ToString(t.caddr6, o) : ipToString(t.caddr[slot]!),
    cport: t.cport[slot]!,
    vip: v6 ? ip6ToString(t.vaddr6, o) : ipToString(t.vaddr[slot]!),
    vport: t.vport[slot]!,
    dest: v6 ? ip6ToString(t.daddr6, o) : ipToString(t.daddr[slot]!),
    dport: t.dport[slot]!,
  };
}

/** The state name of a stateful protocol's conn, else undefined. */
function stateOf(t: ConnTable, slot: number): string | undefined {
  const ops = protoOps(t.proto[slot]!);
  return ops && ops.stateful ? ops.stateNames[t.state[slot]!] : undefined;
}

/** A copy of the frame with a partial checksum finished (what the kernel or the egress port makes of it). */
function wireCopy(buf: Uint8Array, off: number, len: number, meta: FrameMeta | undefined): Uint8Array {
  const b = buf.slice(off, off + len);
  if (meta !== undefined && meta.csumStart !== 0) completeChecksum(b, 0, len, meta.csumStart, meta.csumOffset);
  return b;
}

export class Tracer {
  constructor(readonly sink: TraceSink) {}

  /** `meta`: a partial checksum (offload) is shown finished, as the frame is on the wire. */
  frameIn(now: number, port: string, buf: Uint8Array, off: number, len: number, meta?: FrameMeta): void {
    this.sink({ kind: 'frame-in', time: now, port, bytes: wireCopy(buf, off, len, meta) });
  }

  conn(svc: Service, dest: Dest, isNew: boolean, t: ConnTable, slot: number, pkt: SchedPacket): void {
    const to = destLabel(dest, t.dport[slot]!);
    let reason: string | undefined;
    if (isNew) {
      const client = pkt.af === AF_INET6 ? ip6ToString(pkt.caddr6) : ipToString(pkt.caddr);
      if (svc.persistent) reason = `persistent ${svc.timeout}s: client ${client} bound to ${to}`;
      else reason = svc.sched.explain?.(svc, svc.schedState, dest, pkt) ?? `${svc.sched.name} picked ${to}`;
    }
    this.sink({
      kind: 'conn', isNew, service: svcLabel(svc), scheduler: svc.sched.name, dest: to,
      mode: MODE_NAMES[fwdName(t.fwd(slot) as Fwd)]!, reason, state: stateOf(t, slot), conn: connRef(t, slot),
    });
  }

  reply(t: ConnTable, slot: number): void {
    this.sink({ kind: 'reply', state: stateOf(t, slot), conn: connRef(t, slot) });
  }

  icmpForConn(side: 'client' | 'real-server', t: ConnTable, slot: number): void {
    this.sink({ kind: 'icmp-for-conn', side, conn: connRef(t, slot) });
  }

  arpLearned(addr: number, mac: number): void {
    this.sink({ kind: 'arp-learned', addr: ipToString(addr), mac: macToString(mac) });
  }

  arpAnswered(addr: number, vip: boolean): void {
    this.sink({ kind: 'arp-answered', addr: ipToString(addr), owner: vip ? 'VIP' : 'own address' });
  }

  neighbourWait(addr: number, port: string): void {
    this.sink({ kind: 'neighbour-wait', addr: ipToString(addr), port });
  }

  echoReply(from: number, vip: boolean): void {
    this.sink({ kind: 'echo-reply', from: ipToString(from), vip });
  }

  icmpSent(type: number, code: number, to: number): void {
    this.sink({ kind: 'icmp-sent', type, code, to: ipToString(to) });
  }

  // IPv6: addresses as four words, in RFC 5952 text in the events

  ndLearned(addr: Uint32Array, mac: number): void {
    this.sink({ kind: 'nd-learned', addr: ip6ToString(addr), mac: macToString(mac) });
  }

  ndAnswered(addr: Uint32Array, vip: boolean): void {
    this.sink({ kind: 'nd-answered', addr: ip6ToString(addr), owner: vip ? 'VIP' : 'own address' });
  }

  neighbourWait6(addr: Uint32Array, off: number, port: string): void {
    this.sink({ kind: 'neighbour-wait', addr: ip6ToString(addr, off), port, nd: true });
  }

  echoReply6(from: Uint32Array, vip: boolean): void {
    this.sink({ kind: 'echo-reply', from: ip6ToString(from), vip });
  }

  icmpSent6(type: number, code: number, to: Uint32Array): void {
    this.sink({ kind: 'icmp-sent', type, code, to: ip6ToString(to), v6: true });
  }

  frameOut(port: string, buf: Uint8Array, off: number, len: number, meta?: FrameMeta): void {
    this.sink({ kind: 'frame-out', port, bytes: wireCopy(buf, off, len, meta) });
  }

  drop(code: number): void {
    this.sink({ kind: 'drop', reason: DROP_REASONS[code] ?? `reason ${code}` });
  }

  /** Events without data: routed, arp-ignored, nd-ignored, fragment-held, fragment-released. */
  mark(kind: 'routed' | 'arp-ignored' | 'nd-ignored' | 'fragment-held' | 'fragment-released'): void {
    this.sink({ kind });
  }
}
