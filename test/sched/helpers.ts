import type { Dest } from '../../src/model/dest.js';
import { IPPROTO_TCP } from '../../src/model/proto.js';
import { Service, type SchedFlags } from '../../src/model/service.js';
import '../../src/sched/index.js';
import { schedPacket, type SchedPacket } from '../../src/model/scheduler.js';

export const VIP = ip('10.0.0.1');

export function ip(s: string): number {
  const p = s.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

export interface D {
  name: string; // last octet of 192.168.10.x
  weight?: number;
  active?: number;
  inact?: number;
  overloaded?: boolean;
}

/**
 * A service whose svc.dests ends up in exactly the given order. The kernel
 * puts each new dest at the head, so they are added last-to-first.
 */
export function makeSvc(scheduler: string, dests: D[], flags: Partial<SchedFlags> = {}): { svc: Service; by: Record<string, Dest> } {
  const svc = new Service({ proto: IPPROTO_TCP, addr: VIP, port: 80, scheduler, flags });
  const by: Record<string, Dest> = {};
  for (let i = dests.length - 1; i >= 0; i--) {
    const s = dests[i]!;
    const d = svc.addDest({ addr: ip(`192.168.10.${s.name}`), port: 80, weight: s.weight ?? 1 });
    d.activeConns = s.active ?? 0;
    d.inactConns = s.inact ?? 0;
    d.overloaded = s.overloaded ?? false;
    by[s.name] = d;
  }
  return { svc, by };
}

export function pkt(caddr = ip('172.16.0.5'), cport = 40000, vaddr = VIP, proto = IPPROTO_TCP): SchedPacket {
  return schedPacket(proto, caddr, cport, vaddr, 80);
}

export function pick(svc: Service, p: SchedPacket = pkt(), now = 0): Dest | null {
  return svc.sched.pick(svc, svc.schedState, p, now);
}

/** Name (last octet) of the picked dest, or null. */
export function pickName(svc: Service, p: SchedPacket = pkt(), now = 0): string | null {
  const d = pick(svc, p, now);
  return d === null ? null : String(d.addr & 255);
}

export function seq(svc: Service, n: number): (string | null)[] {
  const out: (string | null)[] = [];
  for (let i = 0; i < n; i++) out.push(pickName(svc));
  return out;
}

/** Deterministic client addresses for distribution tests (xorshift32). */
export function clients(n: number, seed = 12345): number[] {
  let x = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.push(x);
  }
  return out;
}
