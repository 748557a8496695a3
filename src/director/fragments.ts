/**
 * Fragments follow their first fragment. tapvs does not reassemble: the
 * first fragment (offset 0, which carries the ports) is scheduled like any
 * packet and the decision is remembered under (src, dst, proto, id); later
 * fragments are sent the same way, rewritten at the IP layer only. Fragments
 * that arrive before their first are held (a bounded number, for a bounded
 * time) and released when it comes. This keeps every frame byte-for-byte
 * what a real host would expect, with no re-fragmentation, and bounds memory.
 */

export const FRAG_VERDICT_PENDING = -1;

export interface FragEntry {
  /** The connection slot chosen by the first fragment, or a FRAG_* verdict. */
  slot: number;
  /** true when the first fragment was NAT reply traffic (real server -> client). */
  outbound: boolean;
  /** Later fragments waiting for the first: copies of whole frames. */
  held: { port: number; frame: Uint8Array }[];
  expires: number;
}

export class FragmentTable {
  private map = new Map<string, FragEntry>();
  heldCount = 0;

  constructor(private maxHeld: number, private timeoutMs: number) {}

  private static key(src: number, dst: number, proto: number, id: number): string {
    return `${src}/${dst}/${proto}/${id}`;
  }

  get(src: number, dst: number, proto: number, id: number): FragEntry | undefined {
    return this.map.get(FragmentTable.key(src, dst, proto, id));
  }

  /** Records the first fragment's decision; returns the entry (with any held fragments to release). */
  decide(src: number, dst: number, proto: number, id: number, slot: number, outbound: boolean, now: number): FragEntry {
    const k = FragmentTable.key(src, dst, proto, id);
    let e = this.map.get(k);
    if (!e) {
      e = { slot, outbound, held: [], expires: now + this.timeoutMs };
      this.map.set(k, e);
    } else {
      e.slot = slot;
      e.outbound = outbound;
      e.expires = now + this.timeoutMs;
    }
    return e;
  }

  /** Holds a later fragment whose first has not been seen; false when the queue is full. */
  hold(src: number, dst: number, proto: number, id: number, port: number, frame: Uint8Array, now: number): boolean {
    if (this.heldCount >= this.maxHeld) return false;
    const k = FragmentTable.key(src, dst, proto, id);
    let e = this.map.get(k);
    if (!e) {
      e = { slot: FRAG_VERDICT_PENDING, outbound: false, held: [], expires: now + this.timeoutMs };
      this.map.set(k, e);
    }
    e.held.push({ port, frame });
    this.heldCount++;
    return true;
  }

  take(e: FragEntry): { port: number; frame: Uint8Array }[] {
    const h = e.held;
    e.held = [];
    this.heldCount -= h.length;
    return h;
  }

  /** Forgets entries past their time; returns how many held fragments were given up. */
  expire(now: number): number {
    let dropped = 0;
    for (const [k, e] of this.map) {
      if (e.expires > now) continue;
      dropped += e.held.length;
      this.heldCount -= e.held.length;
      this.map.delete(k);
    }
    return dropped;
  }

  get size(): number {
    return this.map.size;
  }
}
