// The IPv6 neighbour cache (RFC 4861 section 7.3, as Linux keeps it in
// its simplest form): which MAC for an on-link IPv6 next hop, a few frames
// held while one is being resolved, solicitations retried, and a counted
// drop when resolution fails. The same life as the ARP cache (neighbours.ts):
// learned entries are trusted for a while, then resolved again.
//
// Keyed by the address's fold as a signed 32-bit integer (a small integer
// to V8, cheap to hash) with the full address compared on a hit; the rare
// collisions of folds chain through `next`.
import type { FrameMeta } from '../model/frame.js';
import { MAC_BROADCAST, MAC_ZERO } from '../wire/addr.js';
import { ip6Equal, ip6Fold, ip6ToString } from '../wire/addr6.js';
import {
  ST_INCOMPLETE, ST_PERMANENT, ST_REACHABLE, STATE_NAMES, holdOn, reach, retryDue, type NeighbourEntry,
} from './neighbour-entry.js';

interface Neighbour6 extends NeighbourEntry {
  ip: Uint32Array;
  /** Another address with the same fold. */
  next: Neighbour6 | null;
}

export interface Neighbour6Io {
  send(port: number, buf: Uint8Array, off: number, len: number, meta: FrameMeta): void;
  /** Sends a neighbour solicitation for `target` on `port`; `held` is the first frame waiting (its source may be the solicitation's). */
  solicit(port: number, target: Uint32Array, held: Uint8Array | undefined): void;
  /** Counted drop: the frames given up on when resolution failed. */
  dropUnresolved(n: number): void;
}

export interface Neighbour6Options {
  queue: number;
  retries: number;
  retryMs: number;
  reachableMs: number;
}

export class NeighbourTable6 {
  private table = new Map<number, Neighbour6>();

  constructor(private io: Neighbour6Io, private opts: Neighbour6Options) {}

  private find(a: Uint32Array, aOff: number): Neighbour6 | undefined {
    let n = this.table.get(ip6Fold(a, aOff) | 0);
    while (n !== undefined && !ip6Equal(n.ip, 0, a, aOff)) n = n.next ?? undefined;
    return n;
  }

  private insert(a: Uint32Array, aOff: number, port: number, mac: number, state: number, now: number): Neighbour6 {
    const k = ip6Fold(a, aOff) | 0;
    const n: Neighbour6 = {
      ip: Uint32Array.from(a.subarray(aOff, aOff + 4)), port, mac, state, updated: now, tries: 0, nextTry: 0, held: [],
      next: this.table.get(k) ?? null,
    };
    this.table.set(k, n);
    return n;
  }

  /** MAC for the next hop at a[aOff..], or -1 when unknown or stale. Hot path: one Map lookup and a compare. */
  lookup(a: Uint32Array, aOff: number, now: number): number {
    const n = this.find(a, aOff);
    if (n === undefined) return -1;
    if (n.state === ST_PERMANENT) return n.mac;
    if (n.state === ST_REACHABLE && now - n.updated < this.opts.reachableMs) return n.mac;
    return -1;
  }

  /** Whether an entry exists (resolving, known or failed): an advertisement updates only those. */
  has(a: Uint32Array, aOff = 0): boolean {
    return this.find(a, aOff) !== undefined;
  }

  addPermanent(a: Uint32Array, mac: number, port: number): void {
    const n = this.find(a, 0);
    if (n) {
      n.mac = mac;
      n.port = port;
      n.state = ST_PERMANENT;
      return;
    }
    this.insert(a, 0, port, mac, ST_PERMANENT, 0);
  }

  /** Learns a -> mac (from a solicitation's or advertisement's link-layer option) and releases frames held for it. */
  learn(a: Uint32Array, aOff: number, mac: number, port: number, now: number): void {
    if (mac === MAC_ZERO || mac === MAC_BROADCAST || mac < 0) return;
    let n = this.find(a, aOff);
    if (n === undefined) {
      this.insert(a, aOff, port, mac, ST_REACHABLE, now);
      return;
    }
    if (n.state === ST_PERMANENT) return;
    reach(n, mac, port, now, this.io);
  }

  /** Holds a copy of a frame until a[aOff..] resolves, soliciting it now for the first frame. False when the queue is full. */
  hold(a: Uint32Array, aOff: number, port: number, buf: Uint8Array, off: number, len: number, meta: FrameMeta, now: number): boolean {
    let n = this.find(a, aOff);
    if (n === undefined) n = this.insert(a, aOff, port, 0, ST_INCOMPLETE, now);
    if (!holdOn(n, port, buf, off, len, meta, this.opts.queue)) return false;
    if (n.tries === 0) this.request(n, now);
    return true;
  }

  private request(n: Neighbour6, now: number): void {
    n.tries++;
    n.nextTry = now + this.opts.retryMs;
    this.io.solicit(n.port, n.ip, n.held[0]?.frame);
  }

  /** Retries and gives up on unresolved addresses. */
  tick(now: number): void {
    for (const first of this.table.values()) {
      for (let n: Neighbour6 | null = first; n !== null; n = n.next) {
        if (retryDue(n, now, this.opts.retries, this.io)) this.request(n, now);
      }
    }
  }

  entries(): { ip: string; mac: number; port: number; state: string; held: number }[] {
    const out: { ip: string; mac: number; port: number; state: string; held: number }[] = [];
    for (const first of this.table.values()) {
      for (let n: Neighbour6 | null = first; n !== null; n = n.next) {
        out.push({ ip: ip6ToString(n.ip), mac: n.mac, port: n.port, state: STATE_NAMES[n.state]!, held: n.held.length });
      }
    }
    return out;
  }
}
