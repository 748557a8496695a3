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
