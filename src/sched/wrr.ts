import type { Dest } from '../model/dest.js';
import type { Service } from '../model/service.js';
import { destStr } from './format.js';
import { gcd } from './load.js';
import { registerScheduler, type Scheduler } from '../model/scheduler.js';

/**
 * Weighted round robin, as ip_vs_wrr.c. The scan walks the list repeatedly
 * with a falling required weight cw: starting at mw (max weight, lowered by
 * di - 1 so the last pass asks for weight >= 1), each full pass lowers cw by
 * di (gcd of the positive weights) and any dest with weight >= cw is picked.
 */
export interface WrrState {
  /** Current dest; null stands for the list head. */
  cl: Dest | null;
  clIdx: number;
  cw: number; // current required weight
  mw: number; // max weight - (di - 1)
  di: number; // step: gcd of the positive weights
}

function gcdWeight(svc: Service): number {
  let g = 0;
  for (const d of svc.dests) {
    if (d.weight > 0) g = g > 0 ? gcd(d.weight, g) : d.weight;
  }
  return g || 1;
}

function maxWeight(svc: Service): number {
  let w = 0;
  for (const d of svc.dests) if (d.weight > w) w = d.weight;
  return w;
}

function indexOfCl(svc: Service, st: WrrState): number {
  if (st.cl === null) return -1;
  if (svc.dests[st.clIdx] === st.cl) return st.clIdx;
  const i = svc.dests.indexOf(st.cl);
  st.clIdx = i;
  return i;
}

export const wrr: Scheduler<WrrState> = {
  name: 'wrr',

  init(svc) {
    const di = gcdWeight(svc);
    const mw = maxWeight(svc) - (di - 1);
    return { cl: null, clIdx: -1, cw: mw, mw, di };
  },

  // ip_vs_wrr_dest_changed: any add/edit/remove restarts from the head and
  // keeps cw on the new step grid.
  update(svc, st) {
    st.cl = null;
    st.clIdx = -1;
    st.di = gcdWeight(svc);
    st.mw = maxWeight(svc) - (st.di - 1);
    if (st.cw > st.mw || st.cw === 0) st.cw = st.mw;
    else if (st.di > 1) st.cw = Math.trunc(st.cw / st.di) * st.di + 1;
  },

  pick(svc, st) {
    if (st.mw === 0) return null;
    const ds = svc.dests;
    const n = ds.length;
    const last = indexOfCl(svc, st);
    let from = last;
    let stop = -2; // index that ends the scan once reached; -2 = none yet
    let lastPass = false;
    let restarted = false;
    for (;;) {
      for (let i = from + 1; i < n; i++) {
        const d = ds[i]!;
        if (!d.overloaded && d.weight >= st.cw) {
          st.cl = d;
          st.clIdx = i;
          return d;
        }
        if (i === stop) {
          st.cl = d;
          st.clIdx = i;
          return null;
        }
      }
      from = -1; // the scan wrapped through the head
      st.cw -= st.di;
      if (st.cw <= 0) {
        st.cw = st.mw;
        // A pass for weight >= 1 over every dest already happened.
        if (lastPass || last < 0) {
          st.cl = null;
          st.clIdx = -1;
          return null;
        }
        restarted = true;
      }
      lastPass = st.cw <= st.di;
      // The first low-weight pass only covered dests after `last`: now
      // cover the ones up to it, then give up.
      if (lastPass && restarted && last >= 0) stop = last;
    }
  },

  explain(_svc, st, dest) {
    return `wrr: ${destStr(dest)} weight ${dest.weight} >= current weight ${st.cw} (step ${st.di}, max ${st.mw + st.di - 1})`;
  },
};

registerScheduler(wrr);
