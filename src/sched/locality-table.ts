import { ip6Equal } from '../wire/addr6.js';
import { goldenHash32 } from './hash.js';

// The per-destination-IP table shared by lblc and lblcr, with the kernel's
// garbage collection. The kernel runs a timer every minute; here the timer's
// firings are replayed lazily from pick() for every minute that has passed by
// `now`, with the time each firing would have had, so the table evolves as the
// kernel's does without a clock of its own. An IPv6 address is hashed by its
// fold (its four words XORed, as ip_vs_lblc_hashkey) but an entry matches
// only its whole address (ip_vs_addr_equal), so addresses sharing a fold get
// entries of their own.

/** The addr6 of IPv4 entries (never read). */
const NO_ADDR6 = new Uint32Array(4);

export const LOCALITY_TAB_BITS = 10;
export const LOCALITY_TAB_SIZE = 1 << LOCALITY_TAB_BITS;
const TAB_MASK = LOCALITY_TAB_SIZE - 1;
export const CHECK_EXPIRE_INTERVAL_MS = 60_000;
/** Unused this long, an entry may be collected when the table is over-full. */
export const ENTRY_TIMEOUT_MS = 6 * 60_000;
/** sysctl lblc_expiration / lblcr_expiration default: 24 hours. */
export const DEFAULT_EXPIRATION_MS = 24 * 60 * 60_000;
/** Every 30th firing (half an hour) is a full check against the expiration. */
const COUNT_FOR_FULL_EXPIRATION = 30;

export interface LocalityEntry<T> {
  /** IPv4: the address; IPv6: its fold. */
  readonly addr: number;
  /** IPv6: the whole address (the entry's own copy); IPv4 entries share NO_ADDR6. */
  readonly addr6: Uint32Array;
  lastuse: number;
  value: T;
}

export class LocalityTable<T> {
  readonly buckets: LocalityEntry<T>[][] = [];
  entries = 0;
  /** Over this many entries, firings collect entries unused for ENTRY_TIMEOUT. */
  readonly maxSize = LOCALITY_TAB_SIZE * 16;
  expiration = DEFAULT_EXPIRATION_MS;
  private rover = 0;
  private counter = 1;
  /** Time of the next timer firing; NaN until the first pick starts the clock. */
  private nextCheck = Number.NaN;

  constructor() {
    for (let i = 0; i < LOCALITY_TAB_SIZE; i++) this.buckets.push([]);
  }

  static bucketOf(addr: number): number {
    return goldenHash32(addr, LOCALITY_TAB_BITS);
  }

  /** The entry of an IPv4 address, or with addr6 of an IPv6 one (addr its fold); no allocation. */
  get(addr: number, addr6?: Uint32Array): LocalityEntry<T> | null {
    const b = this.buckets[LocalityTable.bucketOf(addr)]!;
    for (let i = 0; i < b.length; i++) {
      const e = b[i]!;
      if (e.addr !== addr) continue;
      if (addr6 === undefined ? e.addr6 === NO_ADDR6 : e.addr6 !== NO_ADDR6 && ip6Equal(e.addr6, 0, addr6, 0)) return e;
    }
    return null;
  }

  /** A new entry at the head of its bucket (one allocation per new address, as the kernel's kmalloc; an IPv6 address is copied). */
  add(addr: number, value: T, now: number, addr6?: Uint32Array): LocalityEntry<T> {
    const e: LocalityEntry<T> = { addr, addr6: addr6 === undefined ? NO_ADDR6 : Uint32Array.from(addr6), lastuse: now, value };
    this.buckets[LocalityTable.bucketOf(addr)]!.unshift(e);
    this.entries++;
    return e;
  }

  /**
   * Run the collector for every firing due by `now`. The service's creation
   * time is unknown to a scheduler, so the first call starts the clock.
   */
  runTimers(now: number): void {
    if (this.nextCheck !== this.nextCheck) {
      this.nextCheck = now + CHECK_EXPIRE_INTERVAL_MS;
      return;
    }
    while (now >= this.nextCheck) {
      this.checkExpire(this.nextCheck);
      this.nextCheck += CHECK_EXPIRE_INTERVAL_MS;
    }
  }

  private checkExpire(t: number): void {
    if (this.counter % COUNT_FOR_FULL_EXPIRATION === 0) {
      this.fullCheck(t);
      this.counter = 1;
      return;
    }
    if (this.entries <= this.maxSize) {
      this.counter++;
      return;
    }
    let goal = Math.trunc(((this.entries - this.maxSize) * 4) / 3);
    if (goal > this.maxSize / 2) goal = Math.trunc(this.maxSize / 2);
    let j = this.rover;
    for (let i = 0; i < LOCALITY_TAB_SIZE; i++) {
      j = (j + 1) & TAB_MASK;
      goal -= this.sweep(j, t, ENTRY_TIMEOUT_MS);
      if (goal <= 0) break;
    }
    this.rover = j;
  }

  private fullCheck(t: number): void {
    let j = this.rover;
    for (let i = 0; i < LOCALITY_TAB_SIZE; i++) {
      j = (j + 1) & TAB_MASK;
      this.sweep(j, t, this.expiration);
    }
    this.rover = j;
  }

  /** Drop entries of bucket j unused for `age` ms at time t; returns how many. */
  private sweep(j: number, t: number, age: number): number {
    const b = this.buckets[j]!;
    let kept = 0;
    for (let i = 0; i < b.length; i++) {
      const e = b[i]!;
      if (t < e.lastuse + age) b[kept++] = e;
    }
    const dropped = b.length - kept;
    b.length = kept;
    this.entries -= dropped;
    return dropped;
  }
}
