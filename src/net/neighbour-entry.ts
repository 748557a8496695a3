// What the ARP cache (neighbours.ts) and the IPv6 neighbour cache
// (neighbours6.ts) share: an entry's life (incomplete -> reachable, or
// failed after its retries; permanent ones never change) and the frames it
// holds while it is resolved. Only the key (a 32-bit address or an IPv6 one)
// and the request (ARP or a neighbour solicitation) differ.
import { PLAIN_FRAME, type FrameMeta } from '../model/frame.js';
import { writeMac } from '../wire/addr.js';

export const ST_INCOMPLETE = 0;
export const ST_REACHABLE = 1;
export const ST_PERMANENT = 2;
export const ST_FAILED = 3;
/** The states as `entries()` names them (Linux's words). */
export const STATE_NAMES = ['incomplete', 'reachable', 'permanent', 'failed'];

export interface Held {
  port: number;
  frame: Uint8Array; // a copy, Ethernet header included (dst MAC filled on release)
  /** The frame's metadata (a super-frame stays one while it waits). */
  meta: FrameMeta;
}

export interface NeighbourEntry {
  port: number;
  mac: number;
  state: number;
  updated: number; // ms
  tries: number;
  nextTry: number;
  held: Held[];
}

/** What both tables' io gives the entries: the way out for held frames, and the count of those given up on. */
export interface HeldIo {
  send(port: number, buf: Uint8Array, off: number, len: number, meta: FrameMeta): void;
  dropUnresolved(n: number): void;
}

/** The entry has been learned at `mac` on `port`: reachable from now, and the frames it held go out. */
export function reach(n: NeighbourEntry, mac: number, port: number, now: number, io: HeldIo): void {
  n.mac = mac;
  n.port = port;
  n.state = ST_REACHABLE;
  n.updated = now;
  n.tries = 0;
  if (n.held.length === 0) return;
  const held = n.held;
  n.held = [];
  for (const h of held) {
    // the frame was built for this port with a placeholder destination MAC
    writeMac(h.frame, 0, mac);
    io.send(h.port, h.frame, 0, h.frame.length, h.meta);
  }
}

/**
 * Holds a copy of a frame on the entry (a stale or failed one is resolved
 * again). Returns false when `queue` frames already wait; the caller asks
 * for the address when this is the first try (`n.tries === 0`).
 */
export function holdOn(n: NeighbourEntry, port: number, buf: Uint8Array, off: number, len: number, meta: FrameMeta, queue: number): boolean {
  if (n.state !== ST_INCOMPLETE) {
    n.state = ST_INCOMPLETE;
    n.tries = 0;
    n.nextTry = 0;
    n.port = port;
  }
  if (n.held.length >= queue) return false;
  const m = meta.gsoSize === 0 && meta.csumStart === 0 ? PLAIN_FRAME
    : { gsoType: meta.gsoType, gsoSize: meta.gsoSize, csumStart: meta.csumStart, csumOffset: meta.csumOffset };
  n.held.push({ port, frame: buf.slice(off, off + len), meta: m });
  return true;
}

/**
 * The timer's step for one entry: true when it should be asked for again
 * now; an entry out of retries fails and its held frames are dropped
 * (`io.dropUnresolved` counts them).
 */
export function retryDue(n: NeighbourEntry, now: number, retries: number, io: HeldIo): boolean {
  if (n.state !== ST_INCOMPLETE || now < n.nextTry) return false;
  if (n.tries < retries) return true;
  n.state = ST_FAILED;
  if (n.held.length > 0) io.dropUnresolved(n.held.length);
  n.held = [];
  return false;
}
