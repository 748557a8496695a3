// mh: Maglev hashing, picking the real server kernel IPVS picks.
//
// Matched against net/netfilter/ipvs/ip_vs_mh.c, lib/siphash.c and
// include/linux/siphash.h, as a 64-bit little-endian kernel (x86_64, arm64)
// runs them with the default CONFIG_IP_VS_MH_TAB_INDEX=12:
// - hash: hsiphash, which on 64-bit kernels is SipHash-1-3 with two u64 key
//   words and the result cut to its low 32 bits (src/sched/hsiphash.ts);
// - keys: fixed, not random: hash1 = {2654435761, 2654435761} for the slot
//   offsets and the client lookup, hash2 = {2654446892, 2654446892} for skips;
// - hashed value: one u32 v = offset + port + addr, wrapping, with the port
//   and address in host order (the kernel's ntohs/ntohl), hashed as its 4
//   bytes in memory, which on a little-endian CPU is hsiphash_1u32(v). An IPv6
//   address is folded to one u32 first: the XOR of its four 32-bit words;
// - table: 4093 slots (primes[12 - 8]); per dest offset = hash1 % 4093, skip
//   = hash2 % 4092 + 1; weights divided by their gcd, then shifted right by
//   fls(max / gcd) - 6 when that is positive, at least 1 turn for a non-zero
//   weight; dests take turns in list order (newest first), `turns` slots a
//   round, each claiming the next free slot of its offset + k*skip walk;
// - last weight: a dest edited to weight 0 keeps its slots (the table is
//   built from the last non-zero weight) but is unusable, as is an overloaded
//   one; a dest added with weight 0 owns no slot;
// - lookup: slot hash1(client) % 4093; an unusable owner gives no dest, or
//   with mh-fallback the kernel's probe i = 0, 1, ... of slot
//   hash1(client, offset = (i + home) % 4093) % 4093, stopping at an empty slot;
// - mh-port: the client port joins the hash for TCP, UDP and SCTP only.
// Not matched: 32-bit kernels, where hsiphash is HalfSipHash-1-3 (32-bit
// lanes, 32-bit key words: different values, so different slots and picks);
// big-endian 64-bit kernels (s390x, ppc64), where hsiphash reads the 4 bytes
// of v little-endian and so hashes v byte-swapped; kernels built with another
// CONFIG_IP_VS_MH_TAB_INDEX (another table size and weight shift).

import type { Dest } from '../model/dest.js';
import type { Service } from '../model/service.js';
import { destStr, hashKeyStr } from './format.js';
import { hsiphash1u32, hsiphashKey, type HsiphashKey } from './hsiphash.js';
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

/** The kernel's two fixed keys (generate_hash_secret): both words the same value. */
export const MH_HASH1: HsiphashKey = hsiphashKey(2654435761, 2654435761);
export const MH_HASH2: HsiphashKey = hsiphashKey(2654446892, 2654446892);

/**
 * Maglev hashing state, as ip_vs_mh.c (the NSDI'16 paper, section 3.4): the
 * lookup table and what it was built from. As the kernel, the weight used is
 * the last non-zero one, so setting a dest's weight to 0 keeps the table (its
 * slots become unusable: null, or with mh-fallback the kernel's probe).
 */
export interface MhState {
  lookup: (Dest | null)[];
  /** The kernel's dest->last_weight: the latest non-zero weight (or the weight at add). */
  lastWeight: Map<Dest, number>;
  gcd: number;
  rshift: number;
}

/**
 * ip_vs_mh_hashkey: hsiphash of the u32 offset + port + addr. `addr` is an
 * IPv4 address as a host-order uint32, or an IPv6 address folded by
 * mhAddrFold6; `port` is in host order (0 when mh-port is off).
 */
export function mhHashKey(addr: number, port: number, key: HsiphashKey, offset: number): number {
  return hsiphash1u32((offset + port + addr) >>> 0, key);
}

/**
 * The u32 the kernel hashes for an IPv6 address (16 bytes, network order, at
 * `off`): the XOR of its four 32-bit words, read big-endian. (The kernel
 * XORs the raw __be32 words and then applies ntohl, which is the same thing.)
 * The director hands schedulers this fold already made (SchedPacket.caddr,
 * ip6Fold of the address's words); this byte form is what the kernel
 * fixtures are checked against (test/sched/mh-kernel.test.ts).
 */
export function mhAddrFold6(a: Uint8Array, off = 0): number {
  let x = 0;
  for (let i = 0; i < 16; i += 4) {
    x ^= (a[off + i]! << 24) | (a[off + i + 1]! << 16) | (a[off + i + 2]! << 8) | a[off + i + 3]!;
  }
  return x >>> 0;
}

/** The slot a client key hashes to before any fallback (the kernel's ihash). */
export function mhHomeSlot(addr: number, port: number): number {
  return mhHashKey(addr, port, MH_HASH1, 0) % MH_TAB_SIZE;
}

function trackWeights(svc: Service, st: MhState): void {
  const seen = new Map<Dest, number>();
  for (const d of svc.dests) {
    const prev = st.lastWeight.get(d);
    seen.set(d, prev === undefined || d.weight !== 0 ? d.weight : prev);
  }
  st.lastWeight = seen;
}

/** ip_vs_mh_gcd_weight + ip_vs_mh_shift_weight + ip_vs_mh_permutate + ip_vs_mh_populate. */
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
    perm[i] = mhHashKey(d.addr, d.port, MH_HASH1, 0) % M;
    skip[i] = (mhHashKey(d.addr, d.port, MH_HASH2, 0) % (M - 1)) + 1;
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

/** Slot that serves (addr, port), or -1: the kernel's ip_vs_mh_get / ip_vs_mh_get_fallback. */
export function mhServingSlot(st: MhState, addr: number, port: number, fallback: boolean): number {
  const M = MH_TAB_SIZE;
  const lookup = st.lookup;
  const ihash = mhHomeSlot(addr, port);
  const d = lookup[ihash]!;
  if (d === null) return -1;
  if (usable(d)) return ihash;
  if (!fallback) return -1;
  for (let off = 0; off < M; off++) {
    const h = mhHashKey(addr, port, MH_HASH1, (off + ihash) % M) % M;
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
    const s = mhServingSlot(st, pkt.caddr, port, svc.flags.mhFallback);
    return s < 0 ? null : st.lookup[s]!;
  },

  explain(svc, st, dest, pkt) {
    const port = hashPortOf(pkt, svc.flags.mhPort);
    const key = hashKeyStr(pkt, 'c', svc.flags.mhPort ? port : undefined);
    const ihash = mhHomeSlot(pkt.caddr, port);
    const home = st.lookup[ihash];
    if (home === dest) return `mh: hash(${key}) -> slot ${ihash}/${MH_TAB_SIZE} -> ${destStr(dest)}`;
    const s = mhServingSlot(st, pkt.caddr, port, svc.flags.mhFallback);
    return `mh: hash(${key}) -> slot ${ihash} (${home ? destStr(home) : 'empty'} unusable), fallback slot ${s} -> ${destStr(dest)}`;
  },
};

registerScheduler(mh);
