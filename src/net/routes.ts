import { prefixToMask } from '../wire/addr.js';

export interface Route {
  dst: number;
  prefix: number;
  mask: number;
  /** Gateway, or 0 for a connected route (next hop = the destination itself). */
  via: number;
  port: number; // port index
}

/**
 * Longest-prefix-match over a handful of routes: connected subnets of the
 * ports plus static routes. A linear scan over a list sorted by prefix length
 * is faster than any trie at this size, and allocation-free.
 */
export class RouteTable {
  private routes: Route[] = [];
  /** Result of the last lookup (no allocation): next hop and port. */
  nextHop = 0;
  port = -1;

  add(dst: number, prefix: number, via: number, port: number): void {
    const mask = prefixToMask(prefix);
    this.routes.push({ dst: (dst & mask) >>> 0, prefix, mask, via: via >>> 0, port });
    this.routes.sort((a, b) => b.prefix - a.prefix);
  }

  /** Sets nextHop/port and returns true, or returns false when no route matches. */
  lookup(addr: number): boolean {
    const rs = this.routes;
    for (let i = 0; i < rs.length; i++) {
      const r = rs[i]!;
      if (((addr & r.mask) >>> 0) === r.dst) {
        this.port = r.port;
        this.nextHop = r.via === 0 ? addr >>> 0 : r.via;
        return true;
      }
    }
    this.port = -1;
    return false;
  }
}
