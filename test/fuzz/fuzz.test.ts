// A short slice of `make fuzz` on every change: 200 000 frames through NAT,
// DR and TUN directors, and some hundreds of configs, control inputs and
// capture files. Nothing may throw or break a rule (src/fuzz/ says which),
// and memory must stay bounded. FUZZ_SEED runs another slice.
import { describe, expect, it } from 'vitest';
import { formatReport, runFuzz } from '../../src/fuzz/run.js';
import { fuzzDirector } from '../../src/fuzz/director.js';

const seed = Number(process.env.FUZZ_SEED ?? 20261201);

describe('fuzz (a short slice of make fuzz)', () => {
  it('finds nothing: no exception, no broken rule, memory bounded', async () => {
    const r = await runFuzz({ seed, frames: 200_000, configs: 300, requests: 300, captures: 300 });
    const text = formatReport(r);
    expect(r.problems, text).toBe(0);
    expect(r.frames.map((f) => f.mode)).toEqual(['nat', 'dr', 'tun']);
    for (const f of r.frames) {
      expect(f.frames).toBeGreaterThanOrEqual(66_000);
      // the director's tables are allocated before the run; what it holds after 66 000 frames is bounded
      expect(f.memory.heapAfter - f.memory.heapBefore, text).toBeLessThan(64);
      // frames reached the deep steps, not only the first checks
      expect(f.sent).toBeGreaterThan(f.frames / 20);
      expect(Object.keys(f.drops).length).toBeGreaterThan(12);
    }
    expect(r.configs!.accepted).toBeGreaterThan(0);
    expect(r.control!.restores.applied).toBeGreaterThan(0);
    expect(r.control!.socket.replied).toBeGreaterThan(0);
    expect(r.captures!.read).toBeGreaterThan(0);
    expect(r.captures!.refused).toBeGreaterThan(0);
  }, 180_000);

  it('a seed gives the same run again', () => {
    const a = fuzzDirector('dr', 77, 5000);
    const b = fuzzDirector('dr', 77, 5000);
    expect(a.drops).toEqual(b.drops);
    expect(a.sent).toBe(b.sent);
    const c = fuzzDirector('dr', 78, 5000);
    expect(c.drops).not.toEqual(a.drops);
  });
});
