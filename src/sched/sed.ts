import type { Dest } from '../model/dest.js';
import { destStr } from './format.js';
import type { LoadState } from './lc.js';
import { registerScheduler } from './registry.js';
import type { Scheduler } from './scheduler.js';

/**
 * Shortest expected delay, as ip_vs_sed.c: the lowest (active + 1)/weight.
 * Inactive connections do not count, and the +1 (the incoming job) makes a
 * heavy server win over a light one sooner than under wlc.
 */
export const sed: Scheduler<LoadState> = {
  name: 'sed',
  init: () => ({ loh: 0 }),

  pick(svc, st) {
    const ds = svc.dests;
    const n = ds.length;
    let i = 0;
    let least: Dest | null = null;
    let loh = 0;
    for (; i < n; i++) {
      const d = ds[i]!;
      if (!d.overloaded && d.weight > 0) {
        least = d;
        loh = d.activeConns + 1;
        break;
      }
    }
    if (least === null) return null;
    for (i++; i < n; i++) {
      const d = ds[i]!;
      if (d.overloaded) continue;
      const doh = d.activeConns + 1;
      if (loh * d.weight > doh * least.weight) {
        least = d;
        loh = doh;
      }
    }
    st.loh = loh;
    return least;
  },

  explain(_svc, st, dest) {
    return `sed: ${destStr(dest)} (active+1) ${st.loh}/weight ${dest.weight} (lowest)`;
  },
};

registerScheduler(sed);
