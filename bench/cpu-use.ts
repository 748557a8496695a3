// How much CPU a bench phase cost the whole machine, and tapvs's process:
// the e2e benches divide it by what was moved, so tapvs and the kernel peer
// are compared by the CPU each spends per byte (or per datagram), not only
// by throughput. When the machine is nearly saturated in both runs, that
// ratio is what bounds tapvs: at its CPU per byte, both cores busy, it can
// move at most cores / (CPU per byte), however its work were spread.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Clock ticks per second of /proc's counters (USER_HZ: 100 on every Linux architecture tapvs runs on). */
const USER_HZ = 100;

interface Sample {
  at: number;
  busy: number;
  total: number;
  proc: number;
}

export interface CpuUse {
  /** Wall time of the phase, s. */
  seconds: number;
  /** Cores' worth of busy CPU over the phase (0 .. cores). */
  machineCores: number;
  /** Cores' worth of CPU the process used (all its threads), when one was given. */
  procCores?: number;
  /** The machine's cores. */
  cores: number;
}

function sample(pid: number | undefined): Sample {
  // "cpu  user nice system idle iowait irq softirq steal ..."
  const f = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = f[3]! + f[4]!;
  let proc = Number.NaN;
  if (pid !== undefined) {
    try {
      // fields after the command's closing parenthesis: utime and stime are the 12th and 13th
      const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
      proc = Number(rest[11]) + Number(rest[12]);
    } catch { /* gone: no process figure */ }
  }
  return { at: performance.now(), busy: total - idle, total, proc };
}

/** Runs `body`, then says what CPU the machine (and process `pid`) spent meanwhile. */
export async function measureCpu<T>(pid: number | undefined, body: () => Promise<T>): Promise<{ out: T; cpu: CpuUse }> {
  const a = sample(pid);
  const out = await body();
  const b = sample(pid);
  const seconds = (b.at - a.at) / 1000;
  const cores = availableParallelism();
  // the share of the machine's ticks, times its cores: not the wall clock, which the ticks lag by up to one
  const machineCores = b.total > a.total ? ((b.busy - a.busy) / (b.total - a.total)) * cores : 0;
  const procTicks = b.proc - a.proc;
  const procCores = Number.isFinite(procTicks) && seconds > 0 ? procTicks / USER_HZ / seconds : undefined;
  return { out, cpu: { seconds, machineCores, procCores, cores } };
}
