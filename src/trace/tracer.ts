// Builds trace events from the director's state at the moment of each step.
import type { ConnTable } from '../conn/table.js';
import { fwdName, type Dest, type Fwd } from '../model/dest.js';
import { protoName } from '../model/proto.js';
import type { SchedPacket } from '../model/scheduler.js';
import type { Service } from '../model/service.js';
import { DROP_REASONS } from '../model/verdict.js';
import { protoOps } from '../conn/proto/index.js';
import { ipToString, macToString } from '../wire/addr.js';
import type { ConnRef, TraceSink } from './events.js';

const MODE_NAMES: Record<string, string> = { Masq: 'NAT', Route: 'DR', Tunnel: 'TUN' };

/** "TCP 10.0.0.100:80" or "FWM 1", as the trace and ipvsadm name a service. */
export function svcLabel(svc: Service): string {
  if (svc.fwmark) return `FWM ${svc.fwmark}`;
  return `${protoName(svc.proto)} ${ipToString(svc.addr)}:${svc.port}`;
}

export function connRef(t: ConnTable, slot: number): ConnRef {
  return {
    proto: protoName(t.proto[slot]!),
    client: ipToString(t.caddr[slot]!),
    cport: t.cport[slot]!,
    vip: ipToString(t.vaddr[slot]!),
    vport: t.vport[slot]!,
    dest: ipToString(t.daddr[slot]!),
    dport: t.dport[slot]!,
  };
}

/** The state name of a stateful protocol's conn, else undefined. */
function stateOf(t: ConnTable, slot: number): string | undefined {
  const ops = protoOps(t.proto[slot]!);
  return ops && ops.stateful ? ops.stateNames[t.state[slot]!] : undefined;
}

export class Tracer {
  constructor(readonly sink: TraceSink) {}

  frameIn(now: number, port: string, buf: Uint8Array, off: number, len: number): void {
    this.sink({ kind: 'frame-in', time: now, port, bytes: buf.slice(off, off + len) });
  }

  conn(svc: Service, dest: Dest, isNew: boolean, t: ConnTable, slot: number, pkt: SchedPacket): void {
    const to = `${ipToString(dest.addr)}:${t.dport[slot]}`;
    let reason: string | undefined;
    if (isNew) {
      if (svc.persistent) reason = `persistent ${svc.timeout}s: client ${ipToString(pkt.caddr)} bound to ${to}`;
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

  frameOut(port: string, buf: Uint8Array, off: number, len: number): void {
    this.sink({ kind: 'frame-out', port, bytes: buf.slice(off, off + len) });
  }

  drop(code: number): void {
    this.sink({ kind: 'drop', reason: DROP_REASONS[code] ?? `reason ${code}` });
  }

  /** Events without data: routed, arp-ignored, fragment-held, fragment-released. */
  mark(kind: 'routed' | 'arp-ignored' | 'fragment-held' | 'fragment-released'): void {
    this.sink({ kind });
  }
}
