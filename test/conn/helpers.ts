import type { Dest } from '../../src/model/dest.js';
import { FWD_DR, FWD_MASQ, type Fwd } from '../../src/model/dest.js';
import { IPPROTO_TCP } from '../../src/model/proto.js';
import { Service, type ServiceSpec } from '../../src/model/service.js';
import { registerScheduler } from '../../src/sched/index.js';
import { schedPacket, type SchedPacket } from '../../src/model/scheduler.js';

/** 10.0.0.1 -> uint32 */
export function ip(s: string): number {
  const p = s.split('.').map(Number);
  return (((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0);
}

// A plain round robin over dests with weight > 0 that are not overloaded,
// defined here so these tests do not depend on the real schedulers.
interface RrState { next: number; picks: number }
registerScheduler({
  name: 'conn-test-rr',
  init: () => ({ next: 0, picks: 0 }),
  pick(svc: Service, st: RrState): Dest | null {
    const n = svc.dests.length;
    for (let k = 0; k < n; k++) {
      const d = svc.dests[(st.next + k) % n]!;
      if (d.weight > 0 && !d.overloaded) {
        st.next = (st.next + k + 1) % n;
        st.picks++;
        return d;
      }
    }
    return null;
  },
});

export function rrPicks(svc: Service): number {
  return (svc.schedState as RrState).picks;
}

export const VIP = ip('192.0.2.10');
export const RS1 = ip('10.1.0.1');
export const RS2 = ip('10.1.0.2');
export const RS3 = ip('10.1.0.3');

/** A service with real servers RS1..RSn (added in order, so the list reads RSn..RS1). */
export function makeService(spec: Partial<ServiceSpec> = {}, n = 2, fwd: Fwd = FWD_MASQ, port = 8080): Service {
  const svc = new Service({ proto: IPPROTO_TCP, addr: VIP, port: 80, scheduler: 'conn-test-rr', ...spec });
  const addrs = [RS1, RS2, RS3];
  for (let k = 0; k < n; k++) svc.addDest({ addr: addrs[k]!, port, fwd, weight: 1 });
  return svc;
}

export { FWD_DR, FWD_MASQ };

export function pkt(proto: number, caddr: number, cport: number, vaddr: number, vport: number): SchedPacket {
  return schedPacket(proto, caddr, cport, vaddr, vport);
}
