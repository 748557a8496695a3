import { describe, expect, it } from 'vitest';
import { measureCpu } from '../../bench/cpu-use.js';

/** Keeps this thread busy for `ms` of wall time. */
async function spin(ms: number): Promise<void> {
  const until = performance.now() + ms;
  let x = 0;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  if (x < 0) throw new Error('unreachable');
}

describe('bench CPU accounting (bench/cpu-use.ts)', () => {
  it('counts a busy thread as about one core, for the process and within the machine', async () => {
    const { cpu } = await measureCpu(process.pid, () => spin(400));
    expect(cpu.seconds).toBeGreaterThan(0.39);
    // /proc counts in 10 ms ticks, and the machine may take the core away for a while
    expect(cpu.procCores).toBeGreaterThan(0.6);
    expect(cpu.procCores).toBeLessThan(1.15);
    expect(cpu.machineCores).toBeGreaterThan(0.6);
    expect(cpu.machineCores).toBeLessThanOrEqual(cpu.cores);
  });

  it('counts a sleeping process as using next to nothing', async () => {
    const { cpu } = await measureCpu(process.pid, () => new Promise((r) => setTimeout(r, 300)));
    expect(cpu.procCores).toBeLessThan(0.2);
  });

  it('has no process figure without a process, or for one that is gone', async () => {
    expect((await measureCpu(undefined, () => spin(20))).cpu.procCores).toBeUndefined();
    expect((await measureCpu(2 ** 22 + 7, () => spin(20))).cpu.procCores).toBeUndefined();
  });
});
