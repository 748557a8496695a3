/**
 * Fragments follow their first fragment. tapvs does not reassemble: the
 * first fragment (offset 0, which carries the ports) is scheduled like any
 * packet and the decision is remembered under (src, dst, proto, id); later
 * fragments are sent the same way, rewritten at the IP layer only. Fragments
 * that arrive before their first are held (a bounded number, for a bounded
 * time) and released when it comes. This keeps every frame byte-for-byte
 * what a real host would expect, with no re-fragmentation, and bounds memory.
 */

import { DropCode, HELD, type Verdict } from '../model/verdict.js';
import { PLAIN_FRAME } from '../model/frame.js';
import { FRAG_LATER, type Packet } from '../net/packet.js';
import { ETH_HEADER_LEN } from '../wire/ethernet.js';
import { WIRE_OK } from '../wire/errors.js';
import type { Director } from './director.js';
import { notLvs } from './ipv4-input.js';
import { countIn } from './stats.js';
import { transmitter } from '../xmit/index.js';
import { lvsOut } from './lvs-out.js';

/** No decision yet: the first fragment has not been seen. */
export const FRAG_VERDICT_PENDING = -1;
/** The first fragment was not LVS traffic: later fragments are routed (or handled as it was). */
export const FRAG_ROUTED = -2;
/** The first fragment was dropped: so are its later fragments. */
export const FRAG_DROPPED = -3;
/** Free bytes before and after a released fragment's copy (a port's receive headroom: room for an outer header). */
const HEADROOM_FOR_RELEASE = 64;

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

// ---------------------------------------------------------------- the pipeline's side

/** A later fragment: sent the way its first fragment went, or held until that is known. */
export function laterFragment(d: Director, pkt: Packet): Verdict {
  const e = d.frags.get(pkt.src, pkt.dst, pkt.proto, pkt.ip.id);
  if (e === undefined || e.slot === FRAG_VERDICT_PENDING) {
    const frame = pkt.buf.slice(pkt.ethOff, pkt.ethOff + pkt.frameLen);
    if (!d.frags.hold(pkt.src, pkt.dst, pkt.proto, pkt.ip.id, pkt.port.index, frame, pkt.now)) return DropCode['fragment-queue-full'];
    d.tracer?.mark('fragment-held');
    return HELD;
  }
  return followFirst(d, pkt, e.slot, e.outbound);
}

function followFirst(d: Director, pkt: Packet, slot: number, outbound: boolean): Verdict {
  if (slot === FRAG_DROPPED) return DropCode['fragment-first-dropped'];
  if (slot === FRAG_ROUTED) return notLvs(d, pkt);
  if (!d.conns.used(slot)) return DropCode['fragment-timeout'];
  if (outbound) return lvsOut(d, pkt, slot);
  countIn(d.totals, d.conns.dest(slot), pkt.ip.totalLength);
  return transmitter(d.conns.fwd(slot)).toDest(d, pkt, slot);
}

/**
 * After a first fragment was handled: if nothing recorded a decision for its
 * datagram, it was dropped, and so are its later fragments — those held now
 * and those still to come — instead of waiting out the fragment timeout.
 */
export function firstFragmentSettled(d: Director, src: number, dst: number, proto: number, id: number, now: number): void {
  const e = d.frags.get(src, dst, proto, id);
  if (e !== undefined && e.slot !== FRAG_VERDICT_PENDING) return;
  const held = d.frags.take(d.frags.decide(src, dst, proto, id, FRAG_DROPPED, false, now));
  if (held.length > 0) d.drops.counts[DropCode['fragment-first-dropped']]! += held.length;
}

/**
 * The first fragment's decision is made: the fragments that came before it
 * go the same way now, each as a packet of its own.
 */
export function releaseHeld(d: Director, src: number, dst: number, proto: number, id: number, now: number): void {
  const e = d.frags.get(src, dst, proto, id);
  if (e === undefined || e.held.length === 0) return;
  const r = d.reentry;
  for (const h of d.frags.take(e)) {
    const port = d.ports[h.port]!;
    // room before the frame, as a port gives it, for an outer header
    const b = new Uint8Array(HEADROOM_FOR_RELEASE + h.frame.length + HEADROOM_FOR_RELEASE);
    b.set(h.frame, HEADROOM_FOR_RELEASE);
    r.reset(port, b, HEADROOM_FOR_RELEASE, h.frame.length, now, PLAIN_FRAME);
    if (r.ip.wrap(b, HEADROOM_FOR_RELEASE + ETH_HEADER_LEN, h.frame.length - ETH_HEADER_LEN) !== WIRE_OK) continue;
    r.proto = r.ip.protocol;
    r.src = r.ip.src;
    r.dst = r.ip.dst;
    r.frameLen = h.frame.length;
    r.fragment = FRAG_LATER;
    d.tracer?.mark('fragment-released');
    d.count(followFirst(d, r, e.slot, e.outbound));
  }
}
