import type { Dest } from '../model/dest.js';
import { destStr } from './format.js';
import { registerScheduler, type Scheduler } from '../model/scheduler.js';

/**
 * Overflow connection, as ip_vs_ovf.c: the highest-weight dest whose active
 * connections do not exceed its weight (active <= weight, as the kernel
 * tests `active > weight` to skip); when it fills up, the next highest takes
 * the overflow. Ties go to the first in list order.
 */
export const ovf: Scheduler<null> = {
  name: 'ovf',
  init: () => null,

  pick(svc) {
    const ds = svc.dests;
    let best: Dest | null = null;
    let hw = 0;
    for (let i = 0; i < ds.length; i++) {
      const d = ds[i]!;
      const w = d.weight;
      if (d.overloaded || d.activeConns > w || w === 0) continue;
      if (best === null || w > hw) {
        best = d;
        hw = w;
      }
    }
    return best;
  },

  explain(_svc, _st, dest) {
    return `ovf: ${destStr(dest)} highest weight ${dest.weight} with active ${dest.activeConns} <= weight`;
  },
};

registerScheduler(ovf);
