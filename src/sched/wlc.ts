import { destStr } from './format.js';
import type { LoadState } from './lc.js';
import { COST_OVERHEAD, leastWeighted } from './load.js';
import { registerScheduler, type Scheduler } from '../model/scheduler.js';

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
    return leastWeighted(svc.dests, COST_OVERHEAD, st);
  },

  explain(_svc, st, dest) {
    return `wlc: ${destStr(dest)} overhead ${st.loh}/weight ${dest.weight} (lowest)`;
  },
};

registerScheduler(wlc);
