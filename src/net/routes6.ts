// IPv6 routes: longest-prefix match over the connected prefixes of the
// ports and the static routes, as routes.ts does for IPv4. A handful of
// routes: a linear scan over a list sorted by prefix length, each route's
// network and mask kept as signed 32-bit words in one typed array, so a
// lookup allocates nothing and compares small integers.
import { ip6PrefixMask } from '../wire/addr6.js';

/** Per route: network words 0..3, mask words 4..7 (all as int32). */
const STRIDE = 8;

interface Route6 {
  net: Int32Array;
  prefix: number;
  /** Gateway, or null for a connected route (next hop = the destination itself). */
  via: Uint32Array | null;
  port: number;
}

export class RouteTable6 {
  private routes: Route6[] = [];
  private flat = new Int32Array(0);
  private vias: (Uint32Array | null)[] = [];
  private ports = new Int16Array(0);
  /** Result of the last lookup: the port and the next hop's four words. */
  port = -1;
  readonly nextHop = new Uint32Array(4);

  add(dst: Uint32Array, prefix: number, via: Uint32Array | null, port: number): void {
    const mask = ip6PrefixMask(prefix, new Uint32Array(4));
    const net = new Int32Array(STRIDE);
    for (let k = 0; k < 4; k++) {
      net[k] = dst[k]! & mask[k]!;
      net[4 + k] = mask[k]! | 0;
    }
    this.routes.push({ net, prefix, via: via ? Uint32Array.from(via) : null, port });
    this.routes.sort((a, b) => b.prefix - a.prefix);
    this.flat = new Int32Array(this.routes.length * STRIDE);
    this.routes.forEach((r, i) => this.flat.set(r.net, i * STRIDE));
    this.vias = this.routes.map((r) => r.via);
    this.ports = Int16Array.from(this.routes.map((r) => r.port));
  }

  /** Sets port and nextHop and returns true, or returns false when no route matches a[aOff..]. */
  lookup(a: Uint32Array, aOff = 0): boolean {
    const f = this.flat;
    const w0 = a[aOff]! | 0;
    const w1 = a[aOff + 1]! | 0;
    const w2 = a[aOff + 2]! | 0;
    const w3 = a[aOff + 3]! | 0;
    for (let i = 0, o = 0; o < f.length; i++, o += STRIDE) {
      if ((w0 & f[o + 4]!) === f[o] && (w1 & f[o + 5]!) === f[o + 1] &&
        (w2 & f[o + 6]!) === f[o + 2] && (w3 & f[o + 7]!) === f[o + 3]) {
        this.port = this.ports[i]!;
        const via = this.vias[i]!;
        const nh = this.nextHop;
        if (via === null) {
          nh[0] = w0; nh[1] = w1; nh[2] = w2; nh[3] = w3;
        } else {
          nh[0] = via[0]!; nh[1] = via[1]!; nh[2] = via[2]!; nh[3] = via[3]!;
        }
        return true;
      }
    }
    this.port = -1;
    return false;
  }

  get size(): number {
    return this.routes.length;
  }
}
