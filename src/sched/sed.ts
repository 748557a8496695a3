import { destStr } from './format.js';
import type { LoadState } from './lc.js';
import { COST_SED, leastWeighted } from './load.js';
import { registerScheduler, type Scheduler } from '../model/scheduler.js';

/**
 * Shortest expected delay, as ip_vs_sed.c: the lowest (active + 1)/weight.
 * Inactive connections do not count, and the +1 (the incoming job) makes a
 * heavy server win over a light one sooner than under wlc.
 */
export const sed: Scheduler<LoadState> = {
  name: 'sed',
  init: () => ({ loh: 0 }),

  pick(svc, st) {
    return leastWeighted(svc.dests, COST_SED, st);
  },

  explain(_svc, st, dest) {
    return `sed: ${destStr(dest)} (active+1) ${st.loh}/weight ${dest.weight} (lowest)`;
  },
};

registerScheduler(sed);
