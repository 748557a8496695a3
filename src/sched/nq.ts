import type { Dest } from '../model/dest.js';
import { destStr } from './format.js';
import { registerScheduler, type Scheduler } from '../model/scheduler.js';

/**
 * Never queue, as ip_vs_nq.c: the first usable dest with no active
 * connection, else the sed choice ((active + 1)/weight, lowest).
 */
export interface NqState {
  loh: number;
  idle: boolean;
}

export const nq: Scheduler<NqState> = {
  name: 'nq',
  init: () => ({ loh: 0, idle: false }),

  pick(svc, st) {
    const ds = svc.dests;
    let least: Dest | null = null;
    let loh = 0;
    for (let i = 0; i < ds.length; i++) {
      const d = ds[i]!;
      if (d.overloaded || d.weight === 0) continue;
      const doh = d.activeConns + 1;
      if (d.activeConns === 0) {
        st.loh = doh;
        st.idle = true;
        return d;
      }
      if (least === null || loh * d.weight > doh * least.weight) {
        least = d;
        loh = doh;
      }
    }
    st.loh = loh;
    st.idle = false;
    return least;
  },

  explain(_svc, st, dest) {
    return st.idle
      ? `nq: ${destStr(dest)} idle (no active connection)`
      : `nq: ${destStr(dest)} no idle server; (active+1) ${st.loh}/weight ${dest.weight} (lowest)`;
  },
};

registerScheduler(nq);
