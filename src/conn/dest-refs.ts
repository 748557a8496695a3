import type { Dest } from '../model/dest.js';

/**
 * Small integers for Dest objects, so a connection holds its real server in an
 * Int32Array cell instead of an object field. A dest keeps its number while
 * any connection or template refers to it (a removed dest still has conns
 * to expire), and the number is recycled after the last reference goes.
 */
export class DestRefs {
  private readonly byRef: (Dest | undefined)[] = [];
  private readonly refs: number[] = [];
  private readonly byDest = new Map<Dest, number>();
  private readonly free: number[] = [];

  /** The dest's number, taking one reference. */
  acquire(d: Dest): number {
    let r = this.byDest.get(d);
    if (r === undefined) {
      r = this.free.length > 0 ? this.free.pop()! : this.byRef.length;
      this.byRef[r] = d;
      this.refs[r] = 0;
      this.byDest.set(d, r);
    }
    this.refs[r]!++;
    return r;
  }

  release(r: number): void {
    const n = --this.refs[r]!;
    if (n > 0) return;
    const d = this.byRef[r]!;
    this.byDest.delete(d);
    this.byRef[r] = undefined;
    this.free.push(r);
  }

  get(r: number): Dest {
    return this.byRef[r]!;
  }

  /** The dest's number if some connection refers to it, else -1. */
  find(d: Dest): number {
    return this.byDest.get(d) ?? -1;
  }

  /** Number of dests referred to. */
  get size(): number {
    return this.byDest.size;
  }
}
