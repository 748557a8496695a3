/**
 * When the writer thread takes the writes (tx-thread.ts asks at the end of
 * each window; this file holds no ring and no thread, so its decisions are
 * tested against made-up timelines).
 *
 * A hand-off costs a copy into the ring and, when the worker sleeps, a
 * wake-up on the other core: latency a lightly loaded director should not
 * pay. And a second busy thread only helps when a core has time to spare.
 * So frames are handed off only while inline writes of small frames (the
 * ones a hand-off takes: tx-thread.ts) take more than ON_SHARE of a
 * WINDOW_MS window and the machine was at least IDLE_ON idle since that
 * load began; they are written inline again once the worker's writes stay
 * below OFF_SHARE for QUIET_MS.
 *
 * Whether a hand-off pays is measured, not assumed: after TRIAL_MS of it
 * (then every HAND_MAX_MS), writes go inline for PROBE_MS, and unless the
 * frames written per ms while handing off beat the probe's by GAIN, with
 * the machine still IDLE_ON idle during the probe, hand-offs stop for
 * BACKOFF_MS, or until the writes go quiet for QUIET_MS (a UDP flood's
 * backoff kept the short connections that followed a second later from a
 * hand-off). DR's short connections, bounded by the web server and the
 * client, lost 12% with every saturated window handed off; NAT's, bounded
 * by tapvs's thread, gained 40%.
 *
 * Each switch to inline waits for the ring to drain, so frames of a port
 * never overtake each other (one worker writes them in ring order). An idle
 * director stays inline and pays two clock reads per timed write (one in
 * eight: tx-thread.ts).
 */
import type { MachineIdle } from './machine-idle.js';

/** Decisions are made over windows of this many ms of wall time. */
export const WINDOW_MS = 2;
/** Hand off once inline writes took more than this share of a window. */
export const ON_SHARE = 0.3;
/** Back inline once the worker's writes took less than this share of every window for QUIET_MS. */
export const OFF_SHARE = 0.1;
/** See OFF_SHARE. */
export const QUIET_MS = 50;
/** Hand off only while the machine had at least this share of its CPU time idle, measured with writes inline. */
export const IDLE_ON = 0.05;
/** After this long handing off, writes go inline for PROBE_MS to see whether handing off pays. */
export const HAND_MAX_MS = 2000;
/**
 * The same for a hand-off that no probe has found paying yet. Not shorter:
 * NAT's short connections took hundreds of ms to speed up once handed off
 * (a 300 ms trial measured +4%, a 1 s one +30-40%).
 */
export const TRIAL_MS = 1000;
/** How long an inline probe lasts. */
export const PROBE_MS = 100;
/** Rates are counted from this long after a switch to handing off, and to a probe: the ramp is not the steady state. */
export const HAND_SETTLE_MS = 300;
/** See HAND_SETTLE_MS. */
export const PROBE_SETTLE_MS = 50;
/** Handing off must write this much more per ms than the probe did to go on. */
export const GAIN = 0.05;
/** After a hand-off that did not pay, none for this long, or until the writes have been quiet for QUIET_MS (the load changed). */
export const BACKOFF_MS = 10_000;
/** What the policy asks of machine-idle.ts. */
export type IdleSource = Pick<MachineIdle, 'share' | 'restart' | 'close'>;

export interface HandOffCounters {
  /** Hand-off periods begun (a saturated window, or a probe that found handing off paid). */
  handOffs: number;
  /** Inline probes made after a hand-off period. */
  probes: number;
  /** Probes after which hand-offs stopped for BACKOFF_MS (handing off did not write more per ms). */
  backoffs: number;
}

/** One window, as the writer saw it. */
export interface WindowFacts {
  /** The window's length, ms. */
  span: number;
  /** Time spent in inline writes of frames a hand-off would take (up to SMALL_FRAME), ms. */
  inlineBusy: number;
  /** Time the worker spent writing, ms. */
  workerBusy: number;
  /** Frames written so far, handed off or inline (a running count). */
  writes: number;
  /** The ring is empty: a switch to inline cannot reorder frames. */
  drained: boolean;
}

export class HandOffPolicy {
  /** Handing off now (else writing inline). */
  handing = false;
  private handingSince = 0;
  private writesAt = 0;
  /** Since when writes are counted for the rate (a settle time after a switch); -1: not yet. */
  private rateSince = -1;
  private probing = false;
  private probeSince = 0;
  /** Writes per ms over the last hand-off period. */
  private handRate = 0;
  private blockedUntil = 0;
  private stopped = false;
  /** When an inline window last took more than ON_SHARE. */
  private saturatedAt = -Infinity;
  /** Since when the writes (the worker's while handing off, inline ones in a backoff) have been under OFF_SHARE of every window; -1: they are not. */
  private quietSince = -1;
  /** The last probe found this run of hand-offs paying: the next period is HAND_MAX_MS, not TRIAL_MS. */
  private proven = false;

  constructor(
    private readonly idle: IdleSource,
    readonly counters: HandOffCounters,
  ) {}

  /** At the end of a window: whether the next one hands off (this.handing). */
  decide(now: number, w: WindowFacts): void {
    if ((this.handing || this.probing) && this.rateSince < 0 && (this.handing ? now - this.handingSince >= HAND_SETTLE_MS : now - this.probeSince >= PROBE_SETTLE_MS)) {
      this.rateSince = now;
      this.writesAt = w.writes;
    }
    if (this.handing) {
      const quiet = this.quiet(now, w.span, w.workerBusy);
      const held = now - this.handingSince;
      if ((quiet || held > (this.proven ? HAND_MAX_MS : TRIAL_MS)) && w.drained) {
        this.handing = false;
        if (quiet) {
          this.proven = false;
          this.idle.restart(now);
        } else {
          this.handRate = this.rate(now, w.writes);
          this.probing = true;
          this.probeSince = now;
          this.rateSince = -1;
          this.idle.restart(now);
          this.counters.probes++;
        }
      }
    } else if (this.probing) {
      if (now - this.probeSince >= PROBE_MS) {
        this.probing = false;
        // the machine must still have had idle CPU with writes inline: frames written faster by a
        // second busy thread are no gain when whoever receives them is starved of a core (DR's
        // 64-byte UDP flood: probes at 0% idle, up to 4% more written per ms handed off, and
        // 5-15% fewer datagrams delivered in the runs that handed off)
        this.proven = this.handRate > this.rate(now, w.writes) * (1 + GAIN) && this.idle.share(now) >= IDLE_ON;
        if (this.proven) {
          this.handOff(now);
        } else {
          this.blockedUntil = now + BACKOFF_MS;
          this.quietSince = -1;
          this.counters.backoffs++;
          this.idle.restart(now);
        }
      }
    } else if (this.stopped) {
      // the worker is gone
    } else if (now < this.blockedUntil) {
      // a quiet spell ends a backoff early: the load that follows is another one, measured afresh
      if (this.quiet(now, w.span, w.inlineBusy)) this.blockedUntil = 0;
    } else if (w.inlineBusy / w.span > ON_SHARE) {
      // the idle share is measured from the load's start: the quiet before it says nothing
      // (a UDP flood's first 100 ms, with the idle ticks of before, let hand-offs start that
      // the probe then found not paying, at 0% idle)
      if (now - this.saturatedAt > QUIET_MS) this.idle.restart(now);
      this.saturatedAt = now;
      if (this.idle.share(now) >= IDLE_ON) this.handOff(now);
    }
  }

  close(): void {
    this.idle.close();
  }

  /** The worker is gone: inline from now on. */
  stop(): void {
    this.handing = false;
    this.probing = false;
    this.stopped = true;
  }

  private handOff(now: number): void {
    this.handing = true;
    this.handingSince = now;
    this.rateSince = -1;
    this.quietSince = -1;
    this.counters.handOffs++;
  }

  /** Whether writes that took `busy` ms of this window have stayed under OFF_SHARE of every window for QUIET_MS. */
  private quiet(now: number, span: number, busy: number): boolean {
    if (busy / span >= OFF_SHARE) this.quietSince = -1;
    else if (this.quietSince < 0) this.quietSince = now - span;
    return this.quietSince >= 0 && now - this.quietSince >= QUIET_MS;
  }

  /** Writes per ms since rateSince (0 when the period was too short to count). */
  private rate(now: number, writes: number): number {
    return this.rateSince >= 0 && now > this.rateSince ? (writes - this.writesAt) / (now - this.rateSince) : 0;
  }
}
