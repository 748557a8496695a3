import type { Dest } from '../model/dest.js';
import { destStr } from './format.js';
import { registerScheduler, type Scheduler } from '../model/scheduler.js';

/**
 * Weighted failover, as ip_vs_fo.c: the not-overloaded dest with the highest
 * weight (> 0) takes everything; ties go to the first in list order.
 */
export const fo: Scheduler<null> = {
  name: 'fo',
  init: () => null,

  pick(svc) {
    const ds = svc.dests;
    let best: Dest | null = null;
    let hw = 0;
    for (let i = 0; i < ds.length; i++) {
      const d = ds[i]!;
      if (!d.overloaded && d.weight > hw) {
        best = d;
        hw = d.weight;
      }
    }
    return best;
  },

  explain(_svc, _st, dest) {
    return `fo: ${destStr(dest)} highest weight ${dest.weight} not overloaded`;
  },
};

registerScheduler(fo);
