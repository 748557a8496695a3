// The writer thread's hand-off policy against made-up timelines: windows of
// WINDOW_MS with the write time, the worker's busy time and the frames
// written that a saturated (or idle) forwarding thread would report.
import { describe, expect, it } from 'vitest';
import {
  BACKOFF_MS, HAND_MAX_MS, HandOffPolicy, IDLE_ON, PROBE_MS, QUIET_MS, TRIAL_MS, WINDOW_MS,
  type HandOffCounters, type IdleSource, type WindowFacts,
} from '../../src/io/tx-policy.js';

interface Idle extends IdleSource { value: number; restarts: number }
const idleOf = (value: number): Idle => {
  const i: Idle = { value, restarts: 0, share: () => i.value, restart: () => { i.restarts++; }, close: () => undefined };
  return i;
};

/** What each window looks like while handing off and while inline: write share, worker share, frames per ms. */
interface Load { inline: number; worker: number; handRate: number; inlineRate: number; drained?: boolean }

class Timeline {
  now = 0;
  writes = 0;
  readonly counters: HandOffCounters = { handOffs: 0, probes: 0, backoffs: 0 };
  readonly policy: HandOffPolicy;
  /** Times at which `handing` changed, with its new value. */
  readonly switches: [number, boolean][] = [];
  constructor(readonly idle: Idle) {
    this.policy = new HandOffPolicy(idle, this.counters);
  }

  /** Runs windows for `ms` under `load`. */
  run(ms: number, load: Load): this {
    const end = this.now + ms;
    while (this.now < end) {
      const handing = this.policy.handing;
      this.now += WINDOW_MS;
      this.writes += (handing ? load.handRate : load.inlineRate) * WINDOW_MS;
      const f: WindowFacts = {
        span: WINDOW_MS,
        inlineBusy: handing ? 0 : load.inline * WINDOW_MS,
        workerBusy: handing ? load.worker * WINDOW_MS : 0,
        writes: this.writes,
        drained: load.drained ?? true,
      };
      this.policy.decide(this.now, f);
      if (this.policy.handing !== handing) this.switches.push([this.now, this.policy.handing]);
    }
    return this;
  }
}

const saturated = (handRate: number, inlineRate: number): Load => ({ inline: 0.6, worker: 0.6, handRate, inlineRate });
const idleLoad: Load = { inline: 0.01, worker: 0.01, handRate: 1, inlineRate: 1 };

describe('writer hand-off policy', () => {
  it('stays inline while writes take a small share of the thread', () => {
    const t = new Timeline(idleOf(0.5)).run(5000, { inline: 0.2, worker: 0, handRate: 10, inlineRate: 10 });
    expect(t.counters.handOffs).toBe(0);
    expect(t.policy.handing).toBe(false);
  });

  it('hands off on the first saturated window while the machine has idle CPU', () => {
    const t = new Timeline(idleOf(0.5)).run(WINDOW_MS, saturated(80, 60));
    expect(t.policy.handing).toBe(true);
    expect(t.counters.handOffs).toBe(1);
  });

  it("measures the idle share from the load's start, not over the quiet before it", () => {
    // a machine idle until the load starts at 1000 ms, then 0% idle; share() answers for the
    // 100 ms since the last restart, -1 before they are complete
    let restartedAt = 0;
    const idle: Idle = {
      value: 0, restarts: 0,
      share: (now) => (now - restartedAt < 100 ? -1 : restartedAt >= 1000 ? 0 : now >= 1000 ? 0.5 : 1),
      restart: (now) => { restartedAt = now; idle.restarts++; },
      close: () => undefined,
    };
    const t = new Timeline(idle).run(1000, idleLoad).run(3000, saturated(80, 60));
    expect(t.counters.handOffs).toBe(0);
    // a pause under QUIET_MS is the same load; after a longer one the next load is measured afresh
    const restarts = idle.restarts;
    t.run(QUIET_MS - 10, idleLoad).run(100, saturated(80, 60));
    expect(idle.restarts).toBe(restarts);
    t.run(QUIET_MS + 10, idleLoad).run(WINDOW_MS, saturated(80, 60));
    expect(idle.restarts).toBe(restarts + 1);
  });

  it('does not hand off when the machine is busy, or before its idle share is known', () => {
    for (const share of [IDLE_ON - 0.01, -1]) {
      const t = new Timeline(idleOf(share)).run(5000, saturated(80, 60));
      expect(t.counters.handOffs).toBe(0);
    }
  });

  it('goes back inline after QUIET_MS of a quiet worker, and not while the ring holds frames', () => {
    const t = new Timeline(idleOf(0.5)).run(WINDOW_MS, saturated(80, 60));
    t.run(QUIET_MS + 20, { ...idleLoad, drained: false });
    expect(t.policy.handing).toBe(true);
    const restarts = t.idle.restarts;
    t.run(WINDOW_MS, idleLoad);
    expect(t.policy.handing).toBe(false);
    expect(t.counters.probes).toBe(0);
    expect(t.idle.restarts).toBe(restarts + 1); // the idle share is measured afresh, with writes inline
    // quiet, but not for QUIET_MS: still handing off
    const u = new Timeline(idleOf(0.5)).run(WINDOW_MS, saturated(80, 60));
    u.run(QUIET_MS - 10, idleLoad).run(WINDOW_MS, saturated(80, 60)).run(QUIET_MS - 10, idleLoad);
    expect(u.policy.handing).toBe(true);
  });

  it('probes inline after the trial, and keeps handing off (for longer periods) while that writes more', () => {
    const t = new Timeline(idleOf(0.5)).run(WINDOW_MS, saturated(80, 60));
    t.run(TRIAL_MS + 2 * WINDOW_MS, saturated(80, 60));
    expect(t.counters.probes).toBe(1);
    expect(t.policy.handing).toBe(false); // the probe
    const [probeAt] = t.switches[1]!;
    expect(probeAt).toBeGreaterThan(TRIAL_MS);
    expect(probeAt).toBeLessThanOrEqual(TRIAL_MS + 2 * WINDOW_MS + WINDOW_MS);
    t.run(PROBE_MS + WINDOW_MS, saturated(80, 60));
    expect(t.policy.handing).toBe(true);
    expect(t.counters.handOffs).toBe(2);
    expect(t.counters.backoffs).toBe(0);
    // a paying hand-off's next period is HAND_MAX_MS long
    const [resumedAt] = t.switches[2]!;
    t.run(HAND_MAX_MS + 4 * WINDOW_MS, saturated(80, 60));
    const [secondProbe] = t.switches[3]!;
    expect(secondProbe - resumedAt).toBeGreaterThan(HAND_MAX_MS);
    expect(secondProbe - resumedAt).toBeLessThanOrEqual(HAND_MAX_MS + 2 * WINDOW_MS);
    expect(t.counters.probes).toBe(2);
  });

  it('backs off for BACKOFF_MS when handing off wrote no more than GAIN over inline', () => {
    // 62 vs 60 frames/ms: +3%, under GAIN
    const t = new Timeline(idleOf(0.5)).run(WINDOW_MS, saturated(62, 60));
    t.run(TRIAL_MS + PROBE_MS + 4 * WINDOW_MS, saturated(62, 60));
    expect(t.counters.probes).toBe(1);
    expect(t.counters.backoffs).toBe(1);
    expect(t.policy.handing).toBe(false);
    const [backoffAt] = t.switches.at(-1)!; // the switch to the probe; the backoff follows PROBE_MS later
    t.run(BACKOFF_MS - 4 * WINDOW_MS - PROBE_MS - 50, saturated(62, 60));
    expect(t.counters.handOffs).toBe(1);
    expect(t.now - backoffAt).toBeLessThan(BACKOFF_MS + PROBE_MS);
    t.run(200, saturated(62, 60));
    expect(t.counters.handOffs).toBe(2); // saturated again after the backoff: a new trial
  });

  it('backs off when the machine had no idle CPU during the probe, however much faster handing off wrote', () => {
    const t = new Timeline(idleOf(0.5)).run(WINDOW_MS, saturated(90, 60));
    const restarts = t.idle.restarts;
    t.run(TRIAL_MS + 2 * WINDOW_MS, saturated(90, 60));
    expect(t.counters.probes).toBe(1);
    expect(t.idle.restarts).toBe(restarts + 1); // the probe measures the idle share afresh, writes inline
    t.idle.value = IDLE_ON - 0.01;
    t.run(PROBE_MS + 2 * WINDOW_MS, saturated(90, 60));
    expect(t.counters.backoffs).toBe(1);
    expect(t.policy.handing).toBe(false);
  });

  it('ends a backoff early once the writes go quiet for QUIET_MS (another load follows)', () => {
    const t = new Timeline(idleOf(0.5)).run(WINDOW_MS, saturated(62, 60));
    t.run(TRIAL_MS + PROBE_MS + 4 * WINDOW_MS, saturated(62, 60));
    expect(t.counters.backoffs).toBe(1);
    // a pause shorter than QUIET_MS keeps the backoff
    t.run(QUIET_MS - 10, idleLoad).run(100, saturated(80, 60));
    expect(t.counters.handOffs).toBe(1);
    t.run(QUIET_MS + 10, idleLoad).run(WINDOW_MS, saturated(80, 60));
    expect(t.counters.handOffs).toBe(2);
    expect(t.now).toBeLessThan(BACKOFF_MS);
  });

  it('judges by the settled rates, not by the ramp after a switch', () => {
    // handing off writes nothing for its first 200 ms (the ramp), then 10% more than inline:
    // over the whole period it wrote less than inline, settled it pays
    const t = new Timeline(idleOf(0.5)).run(WINDOW_MS, saturated(0, 60));
    t.run(200, saturated(0, 60)).run(TRIAL_MS, saturated(66, 60)).run(PROBE_MS + 2 * WINDOW_MS, saturated(66, 60));
    expect(t.counters.probes).toBe(1);
    expect(t.counters.backoffs).toBe(0);
    expect(t.policy.handing).toBe(true);
  });

  it('stops for good when the worker is gone', () => {
    const t = new Timeline(idleOf(0.5)).run(WINDOW_MS, saturated(80, 60));
    t.policy.stop();
    t.run(BACKOFF_MS * 2, saturated(80, 60));
    expect(t.policy.handing).toBe(false);
    expect(t.counters.handOffs).toBe(1);
  });
});
