import type { Dest } from '../model/dest.js';
import { destStr } from './format.js';
import type { LoadState } from './lc.js';
import { connOverhead } from './load.js';
import { registerScheduler } from './registry.js';
import type { Scheduler } from './scheduler.js';

/**
 * Weighted least connection, as ip_vs_wlc.c: the lowest overhead/weight,
 * compared as loh*dw > doh*lw. The first usable dest (weight > 0, not
 * overloaded) seeds the search; later weight-0 dests can never win the
 * comparison. Ties keep the earlier dest.
 */
export const wlc: Scheduler<LoadState> = {
  name: 'wlc',
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
        loh = connOverhead(d);
        break;
      }
    }
    if (least === null) return null;
    for (i++; i < n; i++) {
      const d = ds[i]!;
      if (d.overloaded) continue;
      const doh = connOverhead(d);
      if (loh * d.weight > doh * least.weight) {
        least = d;
        loh = doh;
      }
    }
    st.loh = loh;
    return least;
  },

  explain(_svc, st, dest) {
    return `wlc: ${destStr(dest)} overhead ${st.loh}/weight ${dest.weight} (lowest)`;
  },
};

registerScheduler(wlc);
