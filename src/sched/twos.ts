import type { Dest } from '../model/dest.js';
import type { Service } from '../model/service.js';
import { destStr } from './format.js';
import { keyedHash32 } from './hash.js';
import { connOverhead } from './load.js';
import { makePrng, nextU32, type Prng } from './prng.js';
import { registerScheduler, type Scheduler } from '../model/scheduler.js';

/**
 * Power of two choices, as ip_vs_twos.c: draw two dests at random, each with
 * probability about proportional to its weight, and take the one with the
 * lower overhead/weight (the first draw on a tie).
 *
 * The kernel draws from prandom; here the draws come from a PRNG kept in the
 * service's state, seeded from the service's identity (protocol, VIP, port,
 * fwmark), so a replay of the same traffic makes the same choices.
 */
export interface TwosState {
  rng: Prng;
  // the last draw, for explain()
  other: Dest | null;
}

export function twosSeed(svc: Service): number {
  let h = keyedHash32(svc.addr, 0x74776f73); // "twos"
  h = keyedHash32(h ^ svc.port, svc.proto);
  return keyedHash32(h ^ svc.fwmark, 0x5eed);
}

/** Restart the service's random sequence from `seed` (tests, replays). */
export function twosReseed(st: TwosState, seed: number): void {
  st.rng = makePrng(seed);
}

export const twos: Scheduler<TwosState> = {
  name: 'twos',

  init(svc) {
    return { rng: makePrng(twosSeed(svc)), other: null };
  },

  pick(svc, st) {
    const ds = svc.dests;
    const n = ds.length;
    let total = 0;
    let choice1: Dest | null = null;
    for (let i = 0; i < n; i++) {
      const d = ds[i]!;
      if (!d.overloaded && d.weight > 0) {
        total += d.weight;
        choice1 = d;
      }
    }
    if (choice1 === null) return null;

    // As the kernel: draws are in [0, total] inclusive, and a dest is hit
    // when the running remainder reaches <= 0.
    total += 1;
    let r1 = nextU32(st.rng) % total;
    let r2 = nextU32(st.rng) % total;
    let choice2: Dest | null = null;
    let w1 = -1;
    let w2 = -1;
    let oh1 = 0;
    let oh2 = 0;
    for (let i = 0; i < n; i++) {
      const d = ds[i]!;
      if (d.overloaded || d.weight <= 0) continue;
      r1 -= d.weight;
      r2 -= d.weight;
      if (r1 <= 0 && w1 === -1) {
        choice1 = d;
        w1 = d.weight;
        oh1 = connOverhead(d);
      }
      if (r2 <= 0 && w2 === -1) {
        choice2 = d;
        w2 = d.weight;
        oh2 = connOverhead(d);
      }
      if (w1 !== -1 && w2 !== -1) break;
    }
    if (choice2 !== null && w2 * oh1 > w1 * oh2) {
      st.other = choice1;
      return choice2;
    }
    st.other = choice2;
    return choice1;
  },

  explain(_svc, st, dest) {
    const o = st.other;
    if (o === null || o === dest) return `twos: ${destStr(dest)} drawn twice`;
    return (
      `twos: ${destStr(dest)} overhead ${connOverhead(dest)}/weight ${dest.weight} ` +
      `vs ${destStr(o)} overhead ${connOverhead(o)}/weight ${o.weight}`
    );
  },
};

registerScheduler(twos);
