import type { Dest } from '../model/dest.js';
import type { Service } from '../model/service.js';
import { destStr, ipStr } from './format.js';
import { keyedHash32 } from './hash.js';
import { fls, gcd, usable } from './load.js';
import { registerScheduler, type Scheduler } from '../model/scheduler.js';
import { hashPortOf } from './sh.js';

/** The kernel's prime table sizes; CONFIG_IP_VS_MH_TAB_INDEX picks one. */
export const MH_PRIMES = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071] as const;
/**
 * CONFIG_IP_VS_MH_TAB_INDEX, kernel default 12: the table size is
 * primes[12 - 8] = 4093 slots (the kernel's own arithmetic, not 251).
 */
const MH_TAB_INDEX_CONFIG = 12;
/** Weights are scaled down (after the gcd) to at most this many bits. */
const MH_TAB_BITS = MH_TAB_INDEX_CONFIG / 2;
export const MH_TAB_SIZE = MH_PRIMES[MH_TAB_INDEX_CONFIG - 8]!;

// The two keys play the role of the kernel's two fixed hsiphash keys.
const KEY1 = 2654435761 | 0;
const KEY2 = 2654446892 | 0;

/**
 * Maglev hashing, as ip_vs_mh.c (the NSDI'16 paper, section 3.4). Each dest
 * gets a permutation of the table slots (offset and skip from two hashes of
 * its address+port); dests take turns claiming their next free preferred
 * slot, `turns` slots per round (weight / gcd of weights, shifted down to
 * MH_TAB_BITS bits), until every slot is owned. The client address (plus port
 * with mh-port) hashes to a slot. As the kernel, the weight used is the last
 * non-zero one, so setting a dest's weight to 0 keeps the table (its slots
 * become unusable: null, or with mh-fallback a rehash with growing offset).
 */
export interface MhState {
  lookup: (Dest | null)[];
  /** The kernel's dest->last_weight: the latest non-zero weight (or the weight at add). */
  lastWeight: Map<Dest, number>;
  gcd: number;
  rshift: number;
}

export function mhHash(addr: number, port: number, key: number, offset: number): number {
  return keyedHash32((offset + port + addr) >>> 0, key);
}

function trackWeights(svc: Service, st: MhState): void {
  const seen = new Map<Dest, number>();
  for (const d of svc.dests) {
    const prev = st.lastWeight.get(d);
    seen.set(d, prev === undefined || d.weight !== 0 ? d.weight : prev);
  }
  st.lastWeight = seen;
}

function reassign(svc: Service, st: MhState): void {
  const ds = svc.dests;
  const M = MH_TAB_SIZE;
  let g = 0;
  let maxw = 0;
  for (const d of ds) {
    const w = st.lastWeight.get(d)!;
    if (w > 0) g = g > 0 ? gcd(w, g) : w;
    if (w > maxw) maxw = w;
  }
  st.gcd = g;
  st.rshift = g < 1 ? 0 : Math.max(0, fls(Math.trunc(maxw / g)) - MH_TAB_BITS);
  if (g < 1) {
    st.lookup.fill(null);
    return;
  }

  const n = ds.length;
  const perm = new Array<number>(n);
  const skip = new Array<number>(n);
  const turns = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const d = ds[i]!;
    const lw = st.lastWeight.get(d)!;
    perm[i] = mhHash(d.addr, d.port, KEY1, 0) % M;
    skip[i] = (mhHash(d.addr, d.port, KEY2, 0) % (M - 1)) + 1;
    turns[i] = (Math.trunc(lw / g) >> st.rshift) || (lw !== 0 ? 1 : 0);
  }

  const taken = new Uint8Array(M);
  let filled = 0;
  let dtCount = 0;
  let i = 0;
  for (;;) {
    if (turns[i]! < 1) {
      // a dest added with weight 0 never owns a slot
      i = (i + 1) % n;
      continue;
    }
    let c = perm[i]!;
    while (taken[c]) {
      c += skip[i]!;
      if (c >= M) c -= M;
    }
    perm[i] = c;
    taken[c] = 1;
    st.lookup[c] = ds[i]!;
    if (++filled === M) return;
    if (++dtCount >= turns[i]!) {
      dtCount = 0;
      i = (i + 1) % n;
    }
  }
}

/** Slot that serves (addr, port), or -1: the kernel's mh_get / mh_get_fallback. */
function mhLookup(lookup: (Dest | null)[], addr: number, port: number, fallback: boolean): number {
  const M = MH_TAB_SIZE;
  const ihash = mhHash(addr, port, KEY1, 0) % M;
  const d = lookup[ihash]!;
  if (d === null) return -1;
  if (usable(d)) return ihash;
  if (!fallback) return -1;
  for (let off = 0; off < M; off++) {
    const h = mhHash(addr, port, KEY1, (off + ihash) % M) % M;
    const e = lookup[h]!;
    if (e === null) break;
    if (usable(e)) return h;
  }
  return -1;
}

export const mh: Scheduler<MhState> = {
  name: 'mh',

  init(svc) {
    const st: MhState = {
      lookup: new Array<Dest | null>(MH_TAB_SIZE).fill(null),
      lastWeight: new Map(),
      gcd: 0,
      rshift: 0,
    };
    mh.update!(svc, st);
    return st;
  },

  update(svc, st) {
    trackWeights(svc, st);
    reassign(svc, st);
  },

  pick(svc, st, pkt) {
    const port = hashPortOf(pkt, svc.flags.mhPort);
    const s = mhLookup(st.lookup, pkt.caddr, port, svc.flags.mhFallback);
    return s < 0 ? null : st.lookup[s]!;
  },

  explain(svc, st, dest, pkt) {
    const port = hashPortOf(pkt, svc.flags.mhPort);
    const key = svc.flags.mhPort ? `${ipStr(pkt.caddr)}:${port}` : ipStr(pkt.caddr);
    const ihash = mhHash(pkt.caddr, port, KEY1, 0) % MH_TAB_SIZE;
    const home = st.lookup[ihash];
    if (home === dest) return `mh: hash(${key}) -> slot ${ihash}/${MH_TAB_SIZE} -> ${destStr(dest)}`;
    const s = mhLookup(st.lookup, pkt.caddr, port, svc.flags.mhFallback);
    return `mh: hash(${key}) -> slot ${ihash} (${home ? destStr(home) : 'empty'} unusable), fallback slot ${s} -> ${destStr(dest)}`;
  },
};

registerScheduler(mh);
