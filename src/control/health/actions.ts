// What a health verdict does to the live service table, as keepalived does
// it to kernel IPVS: take a real server out (or set its weight to 0 with
// inhibit_on_failure), put it back exactly as it was, and swap the sorry
// server in while no real server with weight > 0 is left.
import type { Director } from '../../director/director.js';
import type { DestSpec } from '../../model/dest.js';
import type { Dest } from '../../model/dest.js';
import type { Service } from '../../model/service.js';
import { AF_INET6 } from '../../model/proto.js';
import { formatServiceKey } from '../ipvsadm-args.js';
import { keyOfService } from '../keys.js';

/** How a real server was taken out, so that it can be put back exactly. */
export type TakenOut =
  | { how: 'removed'; spec: DestSpec }
  | { how: 'inhibited'; weight: number }
  /** It was not in the service (the operator removed it): nothing to restore. */
  | { how: 'absent' };

export function serviceKeyText(svc: Service): string {
  return formatServiceKey(keyOfService(svc));
}

/** The live service named by a check's service key ("-t 10.0.0.100:80", "-f 1"). */
export function findService(director: Director, key: string): Service | undefined {
  return director.services.all.find((s) => serviceKeyText(s) === key);
}

function specOf(d: Dest): DestSpec {
  const spec: DestSpec = { addr: d.addr, port: d.port, weight: d.weight, fwd: d.fwd, uThreshold: d.uThreshold, lThreshold: d.lThreshold };
  if (d.af === AF_INET6) spec.addr6 = Uint32Array.from(d.addr6);
  return spec;
}

export function takeOut(director: Director, svc: Service, addr: number, port: number, inhibit: boolean, addr6?: Uint32Array): TakenOut {
  const d = svc.findDest(addr, port, addr6);
  if (!d) return { how: 'absent' };
  if (inhibit) {
    const weight = d.weight;
    director.mutate.editDest(d, { weight: 0 });
    return { how: 'inhibited', weight };
  }
  const spec = specOf(d);
  // with expire_nodest_conn its connections end now, otherwise they run out
  director.mutate.removeDest(d);
  return { how: 'removed', spec };
}

/** Undoes takeOut. Returns false when there was nothing to do (or the operator changed it meanwhile). */
export function putBack(director: Director, svc: Service, addr: number, port: number, t: TakenOut, addr6?: Uint32Array): boolean {
  if (t.how === 'absent') return false;
  const d = svc.findDest(addr, port, addr6);
  if (t.how === 'inhibited') {
    // a weight the operator set while the server was down is theirs: leave it
    if (!d || d.weight !== 0) return false;
    director.mutate.editDest(d, { weight: t.weight });
  } else {
    if (d) return false;
    director.mutate.addDest(svc, { ...t.spec });
  }
  return true;
}

/**
 * keepalived's sorry_server: in while no other real server of the service
 * has weight > 0, out as soon as one has. Returns what changed, if anything.
 */
export function applySorry(director: Director, svc: Service, sorry: DestSpec): 'added' | 'removed' | null {
  const isSorry = (d: Dest): boolean => d.is(sorry);
  const present = svc.dests.find(isSorry);
  const alive = svc.dests.some((d) => !isSorry(d) && d.weight > 0);
  if (!alive && !present) {
    director.mutate.addDest(svc, { ...sorry });
    return 'added';
  }
  if (alive && present) {
    director.mutate.removeDest(present);
    return 'removed';
  }
  return null;
}
