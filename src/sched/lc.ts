import type { Dest } from '../model/dest.js';
import { destStr } from './format.js';
import { connOverhead } from './load.js';
import { registerScheduler, type Scheduler } from '../model/scheduler.js';

/**
 * Least connection, as ip_vs_lc.c: the lowest active*256 + inactive among
 * dests with weight > 0 that are not overloaded; weights do not scale it.
 * Ties go to the first in list order (strict <).
 */
export interface LoadState {
  /** Overhead of the picked dest at pick time, for explain(). */
  loh: number;
}

export const lc: Scheduler<LoadState> = {
  name: 'lc',
  init: () => ({ loh: 0 }),

  pick(svc, st) {
    const ds = svc.dests;
    let least: Dest | null = null;
    let loh = 0;
    for (let i = 0; i < ds.length; i++) {
      const d = ds[i]!;
      if (d.overloaded || d.weight === 0) continue;
      const doh = connOverhead(d);
      if (least === null || doh < loh) {
        least = d;
        loh = doh;
      }
    }
    st.loh = loh;
    return least;
  },

  explain(_svc, st, dest) {
    return `lc: ${destStr(dest)} overhead ${st.loh} (lowest, active*256+inactive)`;
  },
};

registerScheduler(lc);
