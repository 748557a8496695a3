import type { Dest } from '../model/dest.js';

/**
 * The kernel's ip_vs_dest_conn_overhead(): an active connection is taken to
 * cost 256 times an inactive one. lc, wlc, lblc, lblcr and twos rank by it.
 */
export function connOverhead(d: Dest): number {
  return d.activeConns * 256 + d.inactConns;
}

/** May this dest take new connections at all (weight > 0, not over its upper threshold)? */
export function usable(d: Dest): boolean {
  return !d.overloaded && d.weight > 0;
}

export function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** Index of the most significant set bit, counted from 1 (the kernel's fls()). */
export function fls(x: number): number {
  return x === 0 ? 0 : 32 - Math.clz32(x);
}

/** What a weighted least-load pick ranks by. */
export const COST_OVERHEAD = 0; // active*256 + inactive (wlc, lblc, lblcr)
export const COST_SED = 1; // active + 1 (sed)

/**
 * The weighted least-load walk of ip_vs_wlc.c / ip_vs_sed.c / lblc(r)'s
 * fallback, over a service's dests: the first usable dest seeds the search, then the lowest
 * cost/weight wins, compared as loh*dw > doh*lw so no division is needed;
 * later weight-0 dests can never win; ties keep the earlier dest. The cost
 * of the winner is left in `out.loh` for explain().
 */
export function leastWeighted(ds: readonly Dest[], cost: number, out: { loh: number }): Dest | null {
  const n = ds.length;
  let i = 0;
  let least: Dest | null = null;
  let loh = 0;
  for (; i < n; i++) {
    const d = ds[i]!;
    if (!d.overloaded && d.weight > 0) {
      least = d;
      loh = cost === COST_SED ? d.activeConns + 1 : connOverhead(d);
      break;
    }
  }
  if (least === null) return null;
  for (i++; i < n; i++) {
    const d = ds[i]!;
    if (d.overloaded) continue;
    const doh = cost === COST_SED ? d.activeConns + 1 : connOverhead(d);
    if (loh * d.weight > doh * least.weight) {
      least = d;
      loh = doh;
    }
  }
  out.loh = loh;
  return least;
}
