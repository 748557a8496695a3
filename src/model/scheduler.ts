import type { Dest } from '../model/dest.js';
import type { Service } from '../model/service.js';

/**
 * What a scheduler may look at of the packet that opens a connection. The
 * director fills one reusable object per packet: no allocation on the hot path.
 */
export interface SchedPacket {
  /** AF_INET or AF_INET6. */
  af: number;
  proto: number;
  /** The client's address: IPv4, or for IPv6 its four words XORed (what the kernel's schedulers hash). */
  caddr: number;
  cport: number;
  /** The packet's destination (the VIP), as caddr. */
  vaddr: number;
  vport: number;
  /** IPv6 only: the full addresses (four words each). */
  caddr6: Uint32Array;
  vaddr6: Uint32Array;
}

const NO_ADDR6 = new Uint32Array(4);

/** An IPv4 SchedPacket (tests, benchmarks, and the director's reused one to start from). */
export function schedPacket(proto: number, caddr: number, cport: number, vaddr: number, vport: number): SchedPacket {
  return { af: 2, proto, caddr, cport, vaddr, vport, caddr6: NO_ADDR6, vaddr6: NO_ADDR6 };
}

/**
 * One IPVS scheduler. `init` builds per-service state (kept on svc.schedState),
 * `update` is called after real servers are added, edited or removed
 * (the kernel's add_dest/upd_dest/del_dest/update_service), `pick` chooses a
 * real server or returns null ("no destination available", counted by the
 * caller). `explain` is only called when tracing, to say why a dest was picked.
 */
export interface Scheduler<S = any> {
  readonly name: string;
  init(svc: Service): S;
  update?(svc: Service, state: S): void;
  pick(svc: Service, state: S, pkt: SchedPacket, now: number): Dest | null;
  explain?(svc: Service, state: S, dest: Dest, pkt: SchedPacket): string;
}

// The registry by name. It lives beside the interface (not in sched/) so that
// a service can find its scheduler without model/ importing sched/; every
// scheduler module registers itself when sched/index.ts loads it.
const schedulers = new Map<string, Scheduler>();

export function registerScheduler(s: Scheduler): void {
  schedulers.set(s.name, s);
}

export function getScheduler(name: string): Scheduler | undefined {
  return schedulers.get(name);
}

export function schedulerNames(): string[] {
  return [...schedulers.keys()];
}
