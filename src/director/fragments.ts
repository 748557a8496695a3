/**
 * Fragments follow their first fragment. tapvs does not reassemble: the
 * first fragment (offset 0, which carries the ports) is scheduled like any
 * packet and the decision is remembered under (src, dst, proto, id) — for
 * IPv6 (src, dst, id) of the fragment header, as the kernel keys them, with
 * the addresses as their folds; later
 * fragments are sent the same way, rewritten at the IP layer only. Fragments
 * that arrive before their first are held (a bounded number, for a bounded
 * time) and released when it comes. This keeps every frame byte-for-byte
 * what a real host would expect, with no re-fragmentation, and bounds memory.
 */

import { AF_INET, AF_INET6 } from '../model/proto.js';
import { DropCode, HELD, type Verdict } from '../model/verdict.js';
import { PLAIN_FRAME } from '../model/frame.js';
import { FRAG_LATER, type Packet } from '../net/packet.js';
import { ip6Fold } from '../wire/addr6.js';
import { ETH_HEADER_LEN } from '../wire/ethernet.js';
import { WIRE_OK } from '../wire/errors.js';
import type { Director } from './director.js';
import { notLvs } from './ipv4-input.js';
import { countIn } from './stats.js';
import { transmitter, transmitter6 } from '../xmit/index.js';
import { lvsOut } from './lvs-out.js';

/** No decision yet: the first fragment has not been seen. */
export const FRAG_VERDICT_PENDING = -1;
/** The first fragment was not LVS traffic: later fragments are routed (or handled as it was). */
export const FRAG_ROUTED = -2;
/** The first fragment was dropped: so are its later fragments. */
export const FRAG_DROPPED = -3;
/** Free bytes before and after a released fragment's copy (a port's receive headroom: room for an outer header). */
const HEADROOM_FOR_RELEASE = 64;

/** A later fragment waiting for its first: a copy of the whole frame. */
export interface HeldFragment {
  port: number;
  frame: Uint8Array;
}

/** Entries of the decision table: its capacity bounds memory whatever arrives. */
export const FRAG_TABLE_SIZE = 65536;
/** Early fragments held from one source address at most (a share of the queue, so one sender cannot fill it). */
export const FRAG_HELD_PER_SOURCE = 16;


/**
 * The decisions of first fragments, by (src, dst, proto, id), in a table of
 * fixed size over typed arrays (open addressing, linear probing, deletion by
 * backward shift): no strings, no object per entry. IPv6 addresses enter as
 * their folds and fragment ids are 32 bits; the family is part of the key.
 *
 * Entries leave in the order they came (a FIFO of entry numbers), so expiry
 * costs only what expired; an entry whose time was extended goes to the back
 * when it reaches the front. A full table makes room by forgetting its oldest
 * decision (its later fragments are then held, and time out, as if the first
 * had not come). A decision for a connection keeps the connection slot's
 * generation: after the slot is reused, the later fragments are not sent to
 * another client's real server.
 */
export class FragmentTable {
  private readonly cap: number;
  private readonly mask: number;
  // the table: key fields, then the decision
  private readonly used: Uint8Array;
  private readonly src: Uint32Array;
  private readonly dst: Uint32Array;
  /** proto | af << 8 */
  private readonly kind: Uint32Array;
  private readonly id: Uint32Array;
  private readonly verdict: Int32Array;
  private readonly gen: Uint32Array;
  private readonly outbound: Uint8Array;
  private readonly expires: Float64Array;
  /** The expiry an entry had when it took its place in the FIFO (it differs once extended). */
  private readonly queuedExpiry: Float64Array;
  /** Held fragments per entry (entries that hold any are few: a Map keyed by entry number). */
  private readonly held = new Map<number, HeldFragment[]>();
  private readonly heldBySource = new Map<number, number>();
  /** Entry numbers in arrival order (a ring of `cap` places), and each entry's place in it. */
  private readonly fifo: Int32Array;
  private readonly place: Int32Array;
  private head = 0;
  private count = 0;
  heldCount = 0;
  /** Held fragments lost since the last expire() because a full table pushed their entry out. */
  private evicted = 0;

  constructor(private readonly maxHeld: number, private readonly timeoutMs: number, capacity = FRAG_TABLE_SIZE) {
    let n = 1;
    while (n < capacity * 2) n *= 2;
    this.cap = capacity;
    this.mask = n - 1;
    this.used = new Uint8Array(n);
    this.src = new Uint32Array(n);
    this.dst = new Uint32Array(n);
    this.kind = new Uint32Array(n);
    this.id = new Uint32Array(n);
    this.verdict = new Int32Array(n);
    this.gen = new Uint32Array(n);
    this.outbound = new Uint8Array(n);
    this.expires = new Float64Array(n);
    this.queuedExpiry = new Float64Array(n);
    this.fifo = new Int32Array(capacity);
    this.place = new Int32Array(n);
  }

  get size(): number {
    return this.count;
  }

  /** Decisions the table holds at most. */
  get capacity(): number {
    return this.cap;
  }

  /** Bytes of the preallocated arrays (held frames come on top, at most maxHeld of them). */
  bytesAllocated(): number {
    return [this.used, this.src, this.dst, this.kind, this.id, this.verdict, this.gen, this.outbound, this.expires,
      this.queuedExpiry, this.fifo, this.place].reduce((n, a) => n + a.byteLength, 0);
  }

  private bucket(src: number, dst: number, kind: number, id: number): number {
    let h = Math.imul(src ^ Math.imul(dst, 0x9e3779b1), 0x85ebca77) ^ Math.imul(id ^ kind, 0xc2b2ae3d);
    h ^= h >>> 15;
    return h & this.mask;
  }

  /** The entry of a datagram, or -1. */
  find(af: number, src: number, dst: number, proto: number, id: number): number {
    const kind = proto | (af << 8);
    src >>>= 0;
    dst >>>= 0;
    id >>>= 0;
    let i = this.bucket(src, dst, kind, id);
    while (this.used[i] !== 0) {
      if (this.src[i] === src && this.dst[i] === dst && this.id[i] === id && this.kind[i] === kind) return i;
      i = (i + 1) & this.mask;
    }
    return -1;
  }

  verdictOf(e: number): number {
    return this.verdict[e]!;
  }

  generationOf(e: number): number {
    return this.gen[e]!;
  }

  isOutbound(e: number): boolean {
    return this.outbound[e] !== 0;
  }

  /**
   * Records the first fragment's decision (a connection slot and its
   * generation, or a FRAG_* verdict); returns the entry (the fragments held
   * for it are taken with take()).
   */
  decide(af: number, src: number, dst: number, proto: number, id: number, verdict: number, gen: number, outbound: boolean, now: number): number {
    let e = this.find(af, src, dst, proto, id);
    if (e < 0) e = this.insert(af, src, dst, proto, id, now);
    this.verdict[e] = verdict;
    this.gen[e] = gen >>> 0;
    this.outbound[e] = outbound ? 1 : 0;
    this.expires[e] = now + this.timeoutMs;
    return e;
  }

  /** Holds a later fragment whose first has not been seen; false when the queue or the source's share is full. */
  hold(af: number, src: number, dst: number, proto: number, id: number, port: number, frame: Uint8Array, now: number): boolean {
    if (this.heldCount >= this.maxHeld) return false;
    const share = this.heldBySource.get(src | 0) ?? 0;
    if (share >= FRAG_HELD_PER_SOURCE) return false;
    let e = this.find(af, src, dst, proto, id);
    if (e < 0) e = this.insert(af, src, dst, proto, id, now);
    let list = this.held.get(e);
    if (list === undefined) {
      list = [];
      this.held.set(e, list);
    }
    list.push({ port, frame });
    this.heldCount++;
    this.heldBySource.set(src | 0, share + 1);
    return true;
  }

  /** The fragments held for entry e, now released from the table. */
  take(e: number): HeldFragment[] {
    const list = this.held.get(e);
    if (list === undefined) return [];
    this.held.delete(e);
    this.release(this.src[e]!, list.length);
    return list;
  }

  /**
   * Forgets entries past their time, oldest first, doing work only for what
   * expired (and for an entry extended since it came, which goes to the
   * back). Returns how many held fragments were given up, those pushed out
   * of a full table since the last call included.
   */
  expire(now: number): number {
    let dropped = this.evicted;
    this.evicted = 0;
    while (this.count > 0) {
      const e = this.fifo[this.head]!;
      if (this.expires[e]! > now) {
        if (this.expires[e] === this.queuedExpiry[e]) break; // everything behind came later
        this.requeue(e);
        continue;
      }
      dropped += this.heldFor(e);
      this.removeFront();
    }
    return dropped;
  }

  private heldFor(e: number): number {
    return this.held.get(e)?.length ?? 0;
  }

  private insert(af: number, src: number, dst: number, proto: number, id: number, now: number): number {
    if (this.count >= this.cap) {
      // full: the oldest decision goes, with anything held for it
      this.evicted += this.heldFor(this.fifo[this.head]!);
      this.removeFront();
    }
    const kind = proto | (af << 8);
    src >>>= 0;
    dst >>>= 0;
    id >>>= 0;
    let i = this.bucket(src, dst, kind, id);
    while (this.used[i] !== 0) i = (i + 1) & this.mask;
    this.used[i] = 1;
    this.src[i] = src;
    this.dst[i] = dst;
    this.kind[i] = kind;
    this.id[i] = id;
    this.verdict[i] = FRAG_VERDICT_PENDING;
    this.gen[i] = 0;
    this.outbound[i] = 0;
    this.expires[i] = now + this.timeoutMs;
    this.queuedExpiry[i] = this.expires[i]!;
    const p = (this.head + this.count) % this.cap;
    this.fifo[p] = i;
    this.place[i] = p;
    this.count++;
    return i;
  }

  /** The front entry, extended since it came, moves to the back with its new expiry. */
  private requeue(e: number): void {
    this.head = (this.head + 1) % this.cap;
    const p = (this.head + this.count - 1) % this.cap;
    this.fifo[p] = e;
    this.place[e] = p;
    this.queuedExpiry[e] = this.expires[e]!;
  }

  /** Removes the oldest entry and closes the gap it leaves in its probe run. */
  private removeFront(): void {
    const e = this.fifo[this.head]!;
    const list = this.held.get(e);
    if (list !== undefined) {
      this.held.delete(e);
      this.release(this.src[e]!, list.length);
    }
    this.head = (this.head + 1) % this.cap;
    this.count--;
    // backward-shift deletion: later entries of the run move into the hole when their home allows
    let hole = e;
    this.used[hole] = 0;
    let j = (hole + 1) & this.mask;
    while (this.used[j] !== 0) {
      const home = this.bucket(this.src[j]!, this.dst[j]!, this.kind[j]!, this.id[j]!);
      const homeInRun = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!homeInRun) {
        this.moveEntry(j, hole);
        hole = j;
      }
      j = (j + 1) & this.mask;
    }
  }

  private moveEntry(from: number, to: number): void {
    this.used[to] = 1;
    this.src[to] = this.src[from]!;
    this.dst[to] = this.dst[from]!;
    this.kind[to] = this.kind[from]!;
    this.id[to] = this.id[from]!;
    this.verdict[to] = this.verdict[from]!;
    this.gen[to] = this.gen[from]!;
    this.outbound[to] = this.outbound[from]!;
    this.expires[to] = this.expires[from]!;
    this.queuedExpiry[to] = this.queuedExpiry[from]!;
    this.used[from] = 0;
    const p = this.place[from]!;
    this.fifo[p] = to;
    this.place[to] = p;
    const list = this.held.get(from);
    if (list !== undefined) {
      this.held.delete(from);
      this.held.set(to, list);
    }
  }

  private release(src: number, n: number): void {
    this.heldCount -= n;
    const k = src | 0;
    const left = (this.heldBySource.get(k) ?? 0) - n;
    if (left > 0) this.heldBySource.set(k, left);
    else this.heldBySource.delete(k);
  }
}

// ---------------------------------------------------------------- the pipeline's side

/**
 * The protocol part of a fragment's key: IPv4's protocol field; 0 for IPv6,
 * whose fragments the kernel keys by (src, dst, id) alone (extension headers
 * after the fragment header make the first fragment's transport protocol
 * differ from the later ones' next header).
 */
export function fragProto(pkt: Packet): number {
  return pkt.af === AF_INET ? pkt.proto : 0;
}

/** The identification of a fragment: IPv4's 16 bits, or the IPv6 fragment header's 32. */
export function fragIdOf(pkt: Packet): number {
  return pkt.af === AF_INET ? pkt.ip.id : pkt.fragId;
}

/** A later fragment: sent the way its first fragment went, or held until that is known. */
export function laterFragment(d: Director, pkt: Packet): Verdict {
  const f = d.frags;
  const af = pkt.af;
  const proto = fragProto(pkt);
  const id = fragIdOf(pkt);
  const e = f.find(af, pkt.src, pkt.dst, proto, id);
  if (e < 0 || f.verdictOf(e) === FRAG_VERDICT_PENDING) {
    const frame = pkt.buf.slice(pkt.ethOff, pkt.ethOff + pkt.frameLen);
    if (!f.hold(af, pkt.src, pkt.dst, proto, id, pkt.port.index, frame, pkt.now)) return DropCode['fragment-queue-full'];
    d.tracer?.mark('fragment-held');
    return HELD;
  }
  return followFirst(d, pkt, f.verdictOf(e), f.generationOf(e), f.isOutbound(e));
}

function followFirst(d: Director, pkt: Packet, slot: number, gen: number, outbound: boolean): Verdict {
  if (slot === FRAG_DROPPED) return DropCode['fragment-first-dropped'];
  if (slot === FRAG_ROUTED) return notLvs(d, pkt);
  // the connection ended (and its slot may hold another one by now)
  if (!d.conns.holds(slot, gen)) return DropCode['fragment-timeout'];
  if (outbound) return lvsOut(d, pkt, slot);
  countIn(d.totals, d.conns.dest(slot), pkt.frameLen - ETH_HEADER_LEN);
  const xm = d.conns.xmit(slot);
  return (pkt.af === AF_INET ? transmitter(xm) : transmitter6(xm)).toDest(d, pkt, slot);
}

/**
 * After a first fragment was handled: if nothing recorded a decision for its
 * datagram, it was dropped, and so are its later fragments — those held now
 * and those still to come — instead of waiting out the fragment timeout.
 */
export function firstFragmentSettled(d: Director, af: number, src: number, dst: number, proto: number, id: number, now: number): void {
  const f = d.frags;
  const e = f.find(af, src, dst, proto, id);
  if (e >= 0 && f.verdictOf(e) !== FRAG_VERDICT_PENDING) return;
  const held = f.take(f.decide(af, src, dst, proto, id, FRAG_DROPPED, 0, false, now));
  if (held.length > 0) d.drops.counts[DropCode['fragment-first-dropped']]! += held.length;
}

/** Records where a first fragment's datagram goes: to a connection (its slot now), or a FRAG_* verdict. */
export function decideFragments(
  d: Director, af: number, src: number, dst: number, proto: number, id: number, slot: number, outbound: boolean, now: number,
): void {
  const gen = slot >= 0 ? d.conns.generation[slot]! : 0;
  d.frags.decide(af, src, dst, proto, id, slot, gen, outbound, now);
}

/**
 * The first fragment's decision is made: the fragments that came before it
 * go the same way now, each as a packet of its own.
 */
export function releaseHeld(d: Director, af: number, src: number, dst: number, proto: number, id: number, now: number): void {
  const f = d.frags;
  const e = f.find(af, src, dst, proto, id);
  if (e < 0) return;
  const verdict = f.verdictOf(e);
  const gen = f.generationOf(e);
  const outbound = f.isOutbound(e);
  const r = d.reentry;
  for (const h of f.take(e)) {
    const port = d.ports[h.port]!;
    // room before the frame, as a port gives it, for an outer header
    const b = new Uint8Array(HEADROOM_FOR_RELEASE + h.frame.length + HEADROOM_FOR_RELEASE);
    b.set(h.frame, HEADROOM_FOR_RELEASE);
    r.reset(port, b, HEADROOM_FOR_RELEASE, h.frame.length, now, PLAIN_FRAME);
    if (!(af === AF_INET6 ? rewrap6(r, b) : rewrap4(r, b))) continue;
    r.frameLen = h.frame.length;
    r.fragment = FRAG_LATER;
    d.tracer?.mark('fragment-released');
    d.count(followFirst(d, r, verdict, gen, outbound));
  }
}

function rewrap4(r: Packet, b: Uint8Array): boolean {
  if (r.ip.wrap(b, HEADROOM_FOR_RELEASE + ETH_HEADER_LEN, r.len - ETH_HEADER_LEN) !== WIRE_OK) return false;
  r.proto = r.ip.protocol;
  r.src = r.ip.src;
  r.dst = r.ip.dst;
  return true;
}

/** A held IPv6 fragment as ipv6-input read it: the header, the walk to its fragment header, the addresses and their folds. */
function rewrap6(r: Packet, b: Uint8Array): boolean {
  const ip = r.ip6;
  if (ip.wrap(b, HEADROOM_FOR_RELEASE + ETH_HEADER_LEN, r.len - ETH_HEADER_LEN) !== WIRE_OK) return false;
  if (r.ext6.walk(ip) !== WIRE_OK) return false;
  r.af = AF_INET6;
  r.proto = r.ext6.upperProtocol;
  ip.readSrc(r.src6, 0);
  ip.readDst(r.dst6, 0);
  r.src = ip6Fold(r.src6);
  r.dst = ip6Fold(r.dst6);
  r.fragId = r.ext6.fragId;
  return true;
}
