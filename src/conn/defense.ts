// Defences of the connection table against floods of new connections.
//
// IPVS's own (Documentation/networking/ipvs-sysctl.rst): drop_entry,
// drop_packet and secure_tcp, each 0 (never), 1 or 2 (automatic: on while
// "memory is low", the value then reads 2, else 1) or 3 (always), with
// amemthresh saying when memory is low and am_droprate the rate of
// drop_packet's mode 3. tapvs's memory is its connection table, allocated
// once: "low" here means fewer than `amemthresh` free slots (the kernel
// counts free pages). The levels are worked out once a second and at once
// when a setting changes, as the kernel's defence timer and sysctl handlers do.
//
// Beyond IPVS, evict_embryonic: when the table is full, the oldest TCP
// connection still in its handshake (NONE, SYN_RECV or SYNACK) gives its
// slot to the new one, instead of every new connection being refused until
// the flood's entries time out. The embryonic connections are kept in
// creation order in a doubly linked list through their slots (EmbryonicList),
// so finding the oldest, and taking a connection out when its handshake
// completes or it ends, costs O(1) and allocates nothing.
import type { DirectorOptions } from '../model/config.js';
import { TCP_S_NONE, TCP_S_SYNACK, TCP_S_SYN_RECV } from './tcp-states.js';

/** The defence settings as ConnTable.settings holds them (the kernel's sysctl values). */
export interface DefenseSettings {
  /** drop_entry 0..3: once a second, drop SYN_RECV/SYNACK entries in 1/32 of the table. */
  dropEntry: number;
  /** drop_packet 0..3: drop 1 in `rate` packets that would open a connection. */
  dropPacket: number;
  /** secure_tcp 0..3: the stricter TCP state table (tcp-states.ts, SECURE). */
  secureTcp: number;
  /** amemthresh: below this many free slots, the automatic modes turn on (kernel default 1024, in pages). */
  amemthresh: number;
  /** am_droprate: drop_packet's rate in mode 3 (kernel default 10). */
  amDroprate: number;
  /** evict_embryonic (tapvs): a full table gives the oldest embryonic TCP conn's slot to a new conn. */
  evictEmbryonic: boolean;
}

/** The kernel's defaults: every defence off, amemthresh 1024, am_droprate 10. */
export const IPVS_DEFENSE_DEFAULTS: DefenseSettings = {
  dropEntry: 0,
  dropPacket: 0,
  secureTcp: 0,
  amemthresh: 1024,
  amDroprate: 10,
  evictEmbryonic: false,
};

/** How often the levels are worked out and drop_entry runs (the kernel's defence timer). */
export const DEFENSE_PERIOD_MS = 1000;
/** drop_entry looks at this fraction of the table's slots per run (1/32, as the kernel's buckets). */
export const DROP_ENTRY_SHIFT = 5;

/**
 * One step of a defence's mode: 0 and 3 stay; 1 and 2 become 2 while
 * memory is low and 1 otherwise. The defence is on when the result is >= 2.
 */
export function defenseMode(mode: number, low: boolean): number {
  if (mode <= 0) return 0;
  if (mode >= 3) return 3;
  return low ? 2 : 1;
}

/**
 * drop_packet's rate for a mode already stepped by defenseMode: 0 (no
 * drops) in modes 0 and 1, amemthresh / (amemthresh - free) in mode 2
 * (1, every packet, when the table is full), am_droprate in mode 3.
 */
export function dropRateOf(mode: number, free: number, s: Pick<DefenseSettings, 'amemthresh' | 'amDroprate'>): number {
  if (mode === 3) return s.amDroprate;
  if (mode !== 2 || free >= s.amemthresh) return 0;
  return Math.floor(s.amemthresh / (s.amemthresh - free));
}

/** The defence settings a config's options give (absent options: tapvs's defaults, DEFAULT_OPTIONS). */
export function defenseSettingsOf(o: Partial<DirectorOptions>): DefenseSettings {
  return {
    dropEntry: o.dropEntry ?? 0,
    dropPacket: o.dropPacket ?? 0,
    secureTcp: o.secureTcp ?? 0,
    amemthresh: o.amemthresh ?? IPVS_DEFENSE_DEFAULTS.amemthresh,
    amDroprate: o.amDroprate ?? IPVS_DEFENSE_DEFAULTS.amDroprate,
    evictEmbryonic: o.evictEmbryonic ?? true,
  };
}

/** Bit per TCP state: set for the states of a handshake not yet completed. */
const EMBRYONIC_STATES = (1 << TCP_S_NONE) | (1 << TCP_S_SYN_RECV) | (1 << TCP_S_SYNACK);

/** Is a TCP conn in `state` still in its handshake (what evict_embryonic may take)? */
export function tcpEmbryonic(state: number): boolean {
  return ((EMBRYONIC_STATES >>> state) & 1) !== 0;
}

/** drop_entry takes these TCP states (the kernel: SYN_RECV and SYNACK). */
export function tcpDropEntry(state: number): boolean {
  return state === TCP_S_SYN_RECV || state === TCP_S_SYNACK;
}

/**
 * Connection slots in the order they were linked, through two Int32Arrays
 * of `max` entries (allocated on the first link: a table that never evicts
 * does not pay for them). A slot is in the list at most once; the owner
 * remembers which slots are (a flag bit).
 */
export class EmbryonicList {
  private next = new Int32Array(0);
  private prev = new Int32Array(0);
  private head = -1;
  private tail = -1;
  /** Slots in the list. */
  size = 0;

  constructor(private readonly max: number) {}

  /** Appends `i` (the newest). */
  link(i: number): void {
    if (this.next.length === 0) {
      this.next = new Int32Array(this.max);
      this.prev = new Int32Array(this.max);
    }
    this.next[i] = -1;
    this.prev[i] = this.tail;
    if (this.tail >= 0) this.next[this.tail] = i;
    else this.head = i;
    this.tail = i;
    this.size++;
  }

  /** Takes `i` out (it must be in the list). */
  unlink(i: number): void {
    const n = this.next[i]!;
    const p = this.prev[i]!;
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
    this.size--;
  }

  /** The oldest slot in the list, or -1. */
  oldest(): number {
    return this.head;
  }

  /** The slot linked after `i`, or -1. */
  after(i: number): number {
    return this.next[i]!;
  }

  bytesAllocated(): number {
    return this.next.byteLength + this.prev.byteLength;
  }
}
