import os from 'node:os';
import type { Logger } from './log.js';

/**
 * `--nice N`: the kernel forwards in softirq context, ahead of every user
 * task; a user-space director competing with its own clients and servers for
 * the CPUs gets the same precedence only if asked (this sets the event-loop
 * thread's nice value: it does all the frame I/O). On 2 cores, -10 raised the
 * NAT lab's delivered 64-byte UDP packets/s by about 15% (bench/e2e.ts).
 */
export function setNice(n: number, log: Logger): void {
  if (!Number.isInteger(n) || n < -20 || n > 19) throw new Error(`--nice ${n}: an integer from -20 to 19`);
  try {
    os.setPriority(0, n);
    log.info({ nice: n }, 'scheduling priority set');
  } catch (e) {
    log.warn({ nice: n, err: (e as Error).message }, 'could not set the scheduling priority (needs root or CAP_SYS_NICE for values below 0)');
  }
}
