import type { Dest } from '../model/dest.js';
import { destStr, hashKeyStr } from './format.js';
import { goldenHash32 } from './hash.js';
import { usable } from './load.js';
import { registerScheduler, type Scheduler } from '../model/scheduler.js';

export const DH_TAB_BITS = 8;
export const DH_TAB_SIZE = 1 << DH_TAB_BITS;

/**
 * Destination hashing, as ip_vs_dh.c: a 256-bucket table filled with the
 * dests in list order, one bucket each, round and round (weights do not
 * matter to dh). The packet's destination address (the VIP, or the origin
 * server's address for a fwmark cache cluster) picks the bucket; if that
 * dest has weight 0 or is overloaded, there is no fallback: null.
 */
export interface HashTableState {
  table: (Dest | null)[];
}

export function dhBucket(vaddr: number): number {
  return goldenHash32(vaddr, DH_TAB_BITS);
}

export const dh: Scheduler<HashTableState> = {
  name: 'dh',

  init(svc) {
    const st: HashTableState = { table: new Array<Dest | null>(DH_TAB_SIZE).fill(null) };
    dh.update!(svc, st);
    return st;
  },

  update(svc, st) {
    const ds = svc.dests;
    for (let i = 0; i < DH_TAB_SIZE; i++) st.table[i] = ds.length === 0 ? null : ds[i % ds.length]!;
  },

  pick(_svc, st, pkt) {
    const d = st.table[dhBucket(pkt.vaddr)]!;
    return d !== null && d.available && usable(d) ? d : null;
  },

  explain(_svc, _st, dest, pkt) {
    return `dh: hash(${hashKeyStr(pkt, 'v')}) -> bucket ${dhBucket(pkt.vaddr)} -> ${destStr(dest)}`;
  },
};

registerScheduler(dh);
