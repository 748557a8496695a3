import type { Dest } from '../model/dest.js';
import type { Service } from '../model/service.js';
import { destStr } from './format.js';
import { usable } from './load.js';
import { registerScheduler, type Scheduler } from '../model/scheduler.js';

/**
 * Round robin, as ip_vs_rr.c. The kernel keeps a pointer into the dest list
 * (initially the list head) and scans circularly from the entry after it for
 * a dest with weight > 0 that is not overloaded; the scan ends after looking
 * at the last-picked dest itself.
 */
export interface RrState {
  /** Last picked dest; null stands for the list head (nothing picked yet). */
  last: Dest | null;
  /** Cached index of `last` in svc.dests (re-found if the list moved). */
  lastIdx: number;
  /** The dest before `last` at pick time, for explain(). */
  prev: Dest | null;
  /** svc.dests as of the last update, to find where a removed dest stood. */
  known: Dest[];
}

function indexOfLast(svc: Service, st: RrState): number {
  if (st.last === null) return -1;
  const ds = svc.dests;
  if (ds[st.lastIdx] === st.last) return st.lastIdx;
  const i = ds.indexOf(st.last);
  st.lastIdx = i;
  return i;
}

export const rr: Scheduler<RrState> = {
  name: 'rr',

  init(svc) {
    return { last: null, lastIdx: -1, prev: null, known: svc.dests.slice() };
  },

  update(svc, st) {
    // Like ip_vs_rr_del_dest: if the pointed-to dest was unlinked, step back
    // to the entry that preceded it, so the next pick is the one after it.
    if (st.last !== null && !svc.dests.includes(st.last)) {
      let i = st.known.indexOf(st.last) - 1;
      while (i >= 0 && !svc.dests.includes(st.known[i]!)) i--;
      st.last = i >= 0 ? st.known[i]! : null;
    }
    st.known = svc.dests.slice();
  },

  pick(svc, st) {
    const ds = svc.dests;
    const n = ds.length;
    const start = indexOfLast(svc, st);
    // First pass: after `last` to the end of the list.
    for (let i = start + 1; i < n; i++) {
      const d = ds[i]!;
      if (usable(d)) return hit(st, d, i);
    }
    // From the head there is nothing left to scan; otherwise wrap to the
    // front and stop after checking `last` itself.
    if (start < 0) return null;
    for (let i = 0; i <= start; i++) {
      const d = ds[i]!;
      if (usable(d)) return hit(st, d, i);
    }
    return null;
  },

  explain(_svc, st, dest) {
    return st.prev === null || st.prev === dest
      ? `rr: ${destStr(dest)} (${st.prev === null ? 'first in list' : 'only usable dest'})`
      : `rr: ${destStr(dest)} next after ${destStr(st.prev)}`;
  },
};

function hit(st: RrState, d: Dest, i: number): Dest {
  st.prev = st.last;
  st.last = d;
  st.lastIdx = i;
  return d;
}

registerScheduler(rr);
