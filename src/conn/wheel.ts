/**
 * A lazy timer wheel over connection slots. Each slot is filed under the
 * wheel tick of its expiry; refreshing a connection only moves `expires` in
 * the table and leaves the entry where it is. When the wheel reaches an
 * entry, the owner looks at the real expiry and either frees the slot or
 * files it again further on. So a busy connection costs one re-filing per
 * timeout period instead of one list move per packet.
 *
 * Lists are circular and doubly linked through `next`/`prev`, with one
 * sentinel per wheel slot at index `max + s`, so any entry can be unlinked in
 * O(1) (freeing a conn early) without knowing its wheel slot.
 */
export class TimerWheel {
  readonly slots: number;
  readonly tickMs: number;
  private readonly max: number;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  /** Next tick to process: every tick before it has been emptied. NaN until started. */
  cursor = Number.NaN;

  constructor(max: number, slots = 1024, tickMs = 1000) {
    if (!Number.isInteger(slots) || slots < 2) throw new Error('wheel: slots must be an integer >= 2');
    if (!(tickMs > 0)) throw new Error('wheel: tickMs must be > 0');
    this.max = max;
    this.slots = slots;
    this.tickMs = tickMs;
    this.next = new Int32Array(max + slots).fill(-1);
    this.prev = new Int32Array(max + slots).fill(-1);
    for (let s = 0; s < slots; s++) {
      const h = max + s;
      this.next[h] = h;
      this.prev[h] = h;
    }
  }

  /** Starts the clock at the first time seen. */
  start(now: number): void {
    if (this.cursor !== this.cursor) this.cursor = Math.floor(now / this.tickMs);
  }

  linked(i: number): boolean {
    return this.next[i]! >= 0;
  }

  /** Files slot `i` (not linked) under the tick of `expires`. */
  file(i: number, expires: number): void {
    const c = this.cursor;
    let t = Math.floor(expires / this.tickMs);
    // Before the cursor: the next tick processed. Beyond the horizon: the
    // last tick of the horizon, from where it is filed again.
    if (t < c) t = c;
    else if (t - c >= this.slots) t = c + this.slots - 1;
    const h = this.max + (t % this.slots);
    const last = this.prev[h]!;
    this.next[last] = i;
    this.prev[i] = last;
    this.next[i] = h;
    this.prev[h] = i;
  }

  unlink(i: number): void {
    const n = this.next[i]!;
    if (n < 0) return;
    const p = this.prev[i]!;
    this.next[p] = n;
    this.prev[n] = p;
    this.next[i] = -1;
    this.prev[i] = -1;
  }

  /**
   * Hands every entry filed under a tick that has fully elapsed by `now` to
   * `visit` (already unlinked; it must free or re-file it), doing at most
   * `budget` units of work: one per entry and one per tick passed. Stops
   * mid-tick when the budget runs out and carries on there next time.
   * Returns the work done.
   */
  run(now: number, budget: number, visit: (i: number) => void): number {
    if (this.cursor !== this.cursor) return 0;
    const nowTick = Math.floor(now / this.tickMs);
    // Far behind: every wheel slot is visited within `slots` ticks anyway, so
    // jump to one lap before now rather than walking empty laps.
    if (nowTick - this.cursor > this.slots) this.cursor = nowTick - this.slots;
    let work = 0;
    while (this.cursor < nowTick && work < budget) {
      const h = this.max + (this.cursor % this.slots);
      let i = this.next[h]!;
      while (i !== h && work < budget) {
        this.unlink(i);
        visit(i);
        work++;
        i = this.next[h]!;
      }
      if (i !== h || work >= budget) break;
      this.cursor++;
      work++;
    }
    return work;
  }

  bytesAllocated(): number {
    return this.next.byteLength + this.prev.byteLength;
  }

  /** Number of filed entries (walks every list: for tests and checks only). */
  count(): number {
    let n = 0;
    for (let s = 0; s < this.slots; s++) {
      const h = this.max + s;
      for (let i = this.next[h]!; i !== h; i = this.next[i]!) n++;
    }
    return n;
  }
}
