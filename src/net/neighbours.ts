import { PLAIN_FRAME, type FrameMeta } from '../model/frame.js';
import { ARP_LEN, ARP_OP_REPLY, ARP_OP_REQUEST, emitArp } from '../wire/arp.js';
import { MAC_BROADCAST, MAC_ZERO } from '../wire/addr.js';
import { ETH_HEADER_LEN, ETHERTYPE_ARP, emitEthernet } from '../wire/ethernet.js';
import {
  ST_INCOMPLETE, ST_PERMANENT, ST_REACHABLE, STATE_NAMES, holdOn, reach, retryDue, type NeighbourEntry,
} from './neighbour-entry.js';

/** An ARP frame: Ethernet header and the ARP packet for IPv4 over Ethernet. */
const ARP_FRAME_LEN = ETH_HEADER_LEN + ARP_LEN;

interface Neighbour extends NeighbourEntry {
  ip: number;
}

export interface NeighbourIo {
  /** Emits a frame on a port. */
  send(port: number, buf: Uint8Array, off: number, len: number, meta: FrameMeta): void;
  /** The port's MAC and the source address to ask from on that port. */
  portMac(port: number): number;
  portAddrFor(port: number, target: number): number;
  /** Counted drop: the frames given up on when resolution failed. */
  dropUnresolved(n: number): void;
}

export interface NeighbourOptions {
  queue: number; // frames held per unresolved address
  retries: number;
  retryMs: number;
  /** How long a learned entry is trusted (Linux base_reachable_time is 30 s; entries are refreshed by traffic). */
  reachableMs: number;
}

/**
 * The ARP cache: answers "which MAC for this next hop", holds a few frames for
 * an address being resolved, retries, and gives up with a counted drop.
 */
export class NeighbourTable {
  /** Keyed by the address as a signed 32-bit integer: a small integer to V8, cheap to hash (a uint32 above 2^31 is not). */
  private table = new Map<number, Neighbour>();
  private scratch = new Uint8Array(64);

  constructor(private io: NeighbourIo, private opts: NeighbourOptions) {}

  /** MAC for ip, or -1 when unknown or stale. Hot path: one Map lookup. */
  lookup(ip: number, now: number): number {
    const n = this.table.get(ip | 0);
    if (n === undefined) return -1;
    if (n.state === ST_PERMANENT) return n.mac;
    if (n.state === ST_REACHABLE && now - n.updated < this.opts.reachableMs) return n.mac;
    return -1;
  }

  addPermanent(ip: number, mac: number, port: number): void {
    this.table.set(ip | 0, { ip: ip >>> 0, port, mac, state: ST_PERMANENT, updated: 0, tries: 0, nextTry: 0, held: [] });
  }

  /** Learns ip -> mac (from ARP or traffic) and releases frames held for it. */
  learn(ip: number, mac: number, port: number, now: number): void {
    if (mac === MAC_ZERO || mac === MAC_BROADCAST || ip === 0) return;
    let n = this.table.get(ip | 0);
    if (n === undefined) {
      n = { ip: ip >>> 0, port, mac, state: ST_REACHABLE, updated: now, tries: 0, nextTry: 0, held: [] };
      this.table.set(ip | 0, n);
      return;
    }
    if (n.state === ST_PERMANENT) return;
    reach(n, mac, port, now, this.io);
  }

  /**
   * Holds a copy of a frame until ip resolves, asking for it now if this is
   * the first frame waiting. Returns false (nothing held) when the queue for
   * ip is full. Not on the fast path: only for unknown neighbours.
   */
  hold(ip: number, port: number, buf: Uint8Array, off: number, len: number, meta: FrameMeta, now: number): boolean {
    let n = this.table.get(ip | 0);
    if (n === undefined) {
      n = { ip: ip >>> 0, port, mac: 0, state: ST_INCOMPLETE, updated: now, tries: 0, nextTry: 0, held: [] };
      this.table.set(ip | 0, n);
    }
    if (!holdOn(n, port, buf, off, len, meta, this.opts.queue)) return false;
    if (n.tries === 0) this.request(n, now);
    return true;
  }

  private request(n: Neighbour, now: number): void {
    n.tries++;
    n.nextTry = now + this.opts.retryMs;
    const b = this.scratch;
    const mac = this.io.portMac(n.port);
    emitEthernet({ dst: MAC_BROADCAST, src: mac, etherType: ETHERTYPE_ARP }, b, 0);
    emitArp({ op: ARP_OP_REQUEST, sha: mac, spa: this.io.portAddrFor(n.port, n.ip), tha: MAC_ZERO, tpa: n.ip }, b, ETH_HEADER_LEN);
    this.io.send(n.port, b, 0, ARP_FRAME_LEN, PLAIN_FRAME);
  }

  /** Retries and gives up on unresolved addresses; expires nothing else (entries are small and few). */
  tick(now: number): void {
    for (const n of this.table.values()) {
      if (retryDue(n, now, this.opts.retries, this.io)) this.request(n, now);
    }
  }

  /** Sends an ARP reply for `ip` (ours) to the asker. */
  reply(port: number, ourMac: number, ourIp: number, toMac: number, toIp: number): void {
    const b = this.scratch;
    emitEthernet({ dst: toMac, src: ourMac, etherType: ETHERTYPE_ARP }, b, 0);
    emitArp({ op: ARP_OP_REPLY, sha: ourMac, spa: ourIp, tha: toMac, tpa: toIp }, b, ETH_HEADER_LEN);
    this.io.send(port, b, 0, ARP_FRAME_LEN, PLAIN_FRAME);
  }

  /** Gratuitous ARP (a request for our own address), as the kernel sends on address add. */
  announce(port: number, ourMac: number, ip: number): void {
    const b = this.scratch;
    emitEthernet({ dst: MAC_BROADCAST, src: ourMac, etherType: ETHERTYPE_ARP }, b, 0);
    emitArp({ op: ARP_OP_REQUEST, sha: ourMac, spa: ip, tha: MAC_ZERO, tpa: ip }, b, ETH_HEADER_LEN);
    this.io.send(port, b, 0, ARP_FRAME_LEN, PLAIN_FRAME);
  }

  entries(): { ip: number; mac: number; port: number; state: string; held: number }[] {
    return [...this.table.values()].map((n) => ({ ip: n.ip, mac: n.mac, port: n.port, state: STATE_NAMES[n.state]!, held: n.held.length }));
  }
}
