// One VRRP virtual router (RFC 5798 section 6.4, VRRPv3; RFC 3768 for v2):
// its state machine on a clock passed in, with no I/O of its own. The router
// (router.ts) feeds it the adverts that passed the wire checks and asks it
// for its next deadline; it answers through VrrpActions (send an advert,
// take or give up the addresses) and says why each transition happened.
//
// As RFC 5798, with what keepalived 2.2.7 (the peer tapvs interoperates
// with) adds where the RFC leaves room:
// - Initialize: priority 255 (the address owner) becomes master at once;
//   any other priority starts as backup with the master-down timer, even
//   when configured to prefer master (keepalived's `state MASTER`).
// - Backup: an advert with priority 0 sets the master-down timer to the
//   skew time; an advert with a priority at least ours (or any, with
//   preemption off) restarts it and, in v3, teaches the master's interval;
//   a lower one is discarded (so the timer runs out and we take over), or,
//   with a preempt delay, accepted until that delay has passed since the
//   first one.
// - Master: priority 0 from another router is answered with an advert at
//   once; a higher priority, or an equal one from a higher primary address,
//   makes us backup; a lower one is answered with an advert at once
//   ("forcing new election", keepalived) and otherwise ignored.
// - Shutdown: a master sends one advert with priority 0.
// - Fault: the instance's port cannot send (its link is down): no adverts,
//   no addresses, until it can again, then backup.

import type { VrrpInstanceConfig } from '../../model/ha.js';

export type { VrrpInstanceConfig };
export type VrrpState = 'init' | 'backup' | 'master' | 'fault';

export interface VrrpActions {
  /** Send an advertisement with this priority now. */
  advert(priority: number, now: number): void;
  /** Take the addresses (activate, gratuitous ARP). */
  takeAddresses(now: number): void;
  /** Give them up. */
  releaseAddresses(now: number): void;
  /** A transition, with its reason (logged by the router). */
  transition(from: VrrpState, to: VrrpState, reason: string, now: number): void;
}

export interface VrrpCounters {
  advertsSent: number;
  advertsReceived: number;
  priorityZeroSent: number;
  priorityZeroReceived: number;
  becameMaster: number;
  becameBackup: number;
  becameFault: number;
  /** Adverts refused before the state machine: by reason (router.ts fills it). */
  refused: Record<string, number>;
}

/** RFC 5798 Skew_Time, ms: ((256 - priority) * interval) / 256. */
export function skewMs(priority: number, intervalMs: number): number {
  return ((256 - priority) * intervalMs) / 256;
}

/** RFC 5798 Master_Down_Interval, ms: 3 * interval + skew. */
export function masterDownMs(priority: number, intervalMs: number): number {
  return 3 * intervalMs + skewMs(priority, intervalMs);
}

export class VrrpInstance {
  state: VrrpState = 'init';
  /** The master as last heard (its primary address; 0: unknown), its priority and interval. */
  masterAddr = 0;
  masterPriority = 0;
  /** Master_Adver_Interval, ms: ours, or what the master's v3 adverts say. */
  masterAdverMs: number;
  /** When we next advertise (master), when the master is declared down (backup); Infinity: not armed. */
  adverAt = Infinity;
  masterDownAt = Infinity;
  /** Preempt delay: when a lower-priority master may be preempted (NaN: no lower advert seen). */
  preemptAt = Number.NaN;
  /** The last lower-priority advert discarded by preemption: when, from whom, its priority (NaN: none since the last accepted one). */
  discardedAt = Number.NaN;
  private discardedFrom = 0;
  private discardedPriority = 0;
  /** When the last advertisement from another router was taken (NaN: none yet). */
  lastAdvertAt = Number.NaN;
  /** The last transition, for listings. */
  lastTransition: { at: number; from: VrrpState; to: VrrpState; reason: string } | null = null;
  readonly counters: VrrpCounters = {
    advertsSent: 0, advertsReceived: 0, priorityZeroSent: 0, priorityZeroReceived: 0, becameMaster: 0, becameBackup: 0, becameFault: 0,
    refused: {},
  };

  constructor(readonly cfg: VrrpInstanceConfig, private readonly io: VrrpActions, private readonly ownAddr: number) {
    this.masterAdverMs = cfg.intervalCs * 10;
  }

  get intervalMs(): number {
    return this.cfg.intervalCs * 10;
  }

  get masterDownIntervalMs(): number {
    return masterDownMs(this.cfg.priority, this.masterAdverMs);
  }

  /** The next time tick() has something to do. */
  get nextDeadline(): number {
    return Math.min(this.adverAt, this.masterDownAt);
  }

  /** Startup (RFC 5798 6.4.1). */
  start(now: number): void {
    if (this.state !== 'init') return;
    if (this.cfg.priority === 255) {
      this.toMaster(now, 'priority 255: the address owner');
    } else {
      this.masterAdverMs = this.intervalMs;
      this.toBackup(now, 'startup');
    }
  }

  /** Timers. */
  tick(now: number): void {
    if (this.state === 'master' && now >= this.adverAt) {
      this.send(this.cfg.priority, now);
      this.adverAt = now + this.intervalMs;
    } else if (this.state === 'backup' && now >= this.masterDownAt) {
      if (this.discardedAt === this.discardedAt) {
        // the master is alive but lower: its adverts were discarded so that the timer ran out (preemption)
        const delay = this.cfg.preemptDelayMs > 0 ? `, after the preempt delay of ${this.cfg.preemptDelayMs / 1000} s` : '';
        this.toMaster(now, `preempting ${fmt(this.discardedFrom)}: its priority ${this.discardedPriority} is lower than ours ${this.cfg.priority}${delay}`);
        return;
      }
      if (this.masterAddr !== 0 && this.masterPriority === 0) {
        this.toMaster(now, `${fmt(this.masterAddr)} gave up being master (priority 0), taken over after the skew time ${(skewMs(this.cfg.priority, this.masterAdverMs) / 1000).toFixed(3)} s`);
        return;
      }
      const since = this.masterAddr === 0 ? 'none heard' : `none from ${fmt(this.masterAddr)}`;
      this.toMaster(now, `master down: no advertisement for ${(this.masterDownIntervalMs / 1000).toFixed(3)} s (${since})`);
    }
  }

  /**
   * An advertisement for our VRID that passed the wire and config checks:
   * from `src` (the sender's primary address) with `priority` and, for v3,
   * its interval in centiseconds (v2: the same as ours, checked before).
   */
  advert(src: number, priority: number, intervalCs: number, now: number): void {
    this.counters.advertsReceived++;
    this.lastAdvertAt = now;
    if (priority === 0) this.counters.priorityZeroReceived++;
    const ours = this.cfg.priority;
    if (this.state === 'backup') {
      if (priority === 0) {
        this.masterDownAt = now + skewMs(ours, this.masterAdverMs);
        this.masterAddr = src >>> 0;
        this.masterPriority = 0;
        this.discardedAt = Number.NaN;
        return;
      }
      let accept = !this.cfg.preempt || priority >= ours;
      if (!accept && this.cfg.preemptDelayMs > 0) {
        if (this.preemptAt !== this.preemptAt) this.preemptAt = now + this.cfg.preemptDelayMs;
        accept = now < this.preemptAt;
      }
      if (priority >= ours) this.preemptAt = Number.NaN;
      if (!accept) {
        // a lower priority: discarded, so the master-down timer runs out
        this.discardedAt = now;
        this.discardedFrom = src >>> 0;
        this.discardedPriority = priority;
        return;
      }
      this.discardedAt = Number.NaN;
      if (this.cfg.version === 3) this.masterAdverMs = intervalCs * 10;
      this.masterAddr = src >>> 0;
      this.masterPriority = priority;
      this.masterDownAt = now + this.masterDownIntervalMs;
      return;
    }
    if (this.state === 'master') {
      if (priority === 0) {
        this.send(ours, now);
        this.adverAt = now + this.intervalMs;
        return;
      }
      const higher = priority > ours || (priority === ours && src >>> 0 > this.ownAddr >>> 0);
      if (higher) {
        if (this.cfg.version === 3) this.masterAdverMs = intervalCs * 10;
        this.masterAddr = src >>> 0;
        this.masterPriority = priority;
        const why = priority > ours ? `advertisement from ${fmt(src)} with higher priority ${priority} (ours ${ours})`
          : `advertisement from ${fmt(src)} with our priority ${priority} and a higher address`;
        this.toBackup(now, why);
        return;
      }
      // a lower priority master: tell it at once (keepalived's "forcing new election")
      this.send(ours, now);
    }
  }

  /** The port cannot send (link down): give everything up until recover(). */
  fault(now: number, reason: string): void {
    if (this.state === 'fault') return;
    const from = this.state;
    if (from === 'master') this.io.releaseAddresses(now);
    this.state = 'fault';
    this.adverAt = Infinity;
    this.masterDownAt = Infinity;
    this.counters.becameFault++;
    this.note(from, 'fault', reason, now);
  }

  /** The port can send again: start over as backup. */
  recover(now: number, reason: string): void {
    if (this.state !== 'fault') return;
    this.masterAdverMs = this.intervalMs;
    this.masterAddr = 0;
    this.toBackup(now, reason);
  }

  /** Shutdown (RFC 5798 6.4.3): a master sends priority 0 and gives the addresses up. */
  shutdown(now: number): void {
    const from = this.state;
    if (from === 'master') {
      this.send(0, now);
      this.io.releaseAddresses(now);
    }
    this.state = 'init';
    this.adverAt = Infinity;
    this.masterDownAt = Infinity;
    if (from !== 'init') this.note(from, 'init', 'shutdown', now);
  }

  private toMaster(now: number, reason: string): void {
    const from = this.state;
    this.state = 'master';
    this.masterDownAt = Infinity;
    this.preemptAt = Number.NaN;
    this.discardedAt = Number.NaN;
    this.masterAddr = this.ownAddr >>> 0;
    this.masterPriority = this.cfg.priority;
    this.counters.becameMaster++;
    // the advert first, then the addresses with their gratuitous ARP (RFC 5798 6.4.1 / 6.4.2)
    this.send(this.cfg.priority, now);
    this.io.takeAddresses(now);
    this.adverAt = now + this.intervalMs;
    this.note(from, 'master', reason, now);
  }

  private toBackup(now: number, reason: string): void {
    const from = this.state;
    // a backup holds the addresses back from the start (a fault already gave them up)
    if (from === 'master' || from === 'init') this.io.releaseAddresses(now);
    this.state = 'backup';
    this.discardedAt = Number.NaN;
    this.adverAt = Infinity;
    this.masterDownAt = now + this.masterDownIntervalMs;
    this.counters.becameBackup++;
    this.note(from, 'backup', reason, now);
  }

  private send(priority: number, now: number): void {
    this.counters.advertsSent++;
    if (priority === 0) this.counters.priorityZeroSent++;
    this.io.advert(priority, now);
  }

  private note(from: VrrpState, to: VrrpState, reason: string, now: number): void {
    this.lastTransition = { at: now, from, to, reason };
    this.io.transition(from, to, reason, now);
  }
}

function fmt(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}
