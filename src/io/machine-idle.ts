/**
 * How much of the machine's CPU time was idle lately, from /proc/stat's first
 * line (all CPUs): idle + iowait over user..steal. The writer thread asks
 * before it starts: a second thread only helps when a core has time to give
 * (a 64-byte UDP flood left the machine 0% idle, and handing its writes to a
 * worker delivered 10-25% fewer datagrams, the receiver starved instead).
 *
 * Read with pread into one buffer and parsed in place: no allocation, and
 * only while the director is loaded (the writer asks at most once a window).
 */
import fs from 'node:fs';

/** A sample spans at least this much wall time: 20 clock ticks on two CPUs at USER_HZ 100, so one idle tick is 5%, not 10% as at 50 ms. */
export const IDLE_PERIOD_MS = 100;
/** A period longer than this (nobody asked meanwhile) says nothing about now: the sample starts again. */
const STALE_MS = 4 * IDLE_PERIOD_MS;

export class MachineIdle {
  private readonly fd: number;
  private readonly buf = new Uint8Array(512);
  private idleAt = 0;
  private totalAt = 0;
  private at = -Infinity;
  private last = -1;
  private tIdle = 0;
  private tTotal = 0;

  constructor(path = '/proc/stat') {
    let fd = -1;
    try { fd = fs.openSync(path, 'r'); } catch { /* no procfs: unknown, see share() */ }
    this.fd = fd;
  }

  /**
   * The idle share (0..1) of the last complete period since restart(), or -1
   * while none is complete. Without /proc/stat: 1 (nothing says the machine is busy).
   */
  share(now: number): number {
    if (this.fd < 0) return 1;
    const age = now - this.at;
    if (age > STALE_MS) {
      this.restart(now);
      return -1;
    }
    if (age >= IDLE_PERIOD_MS && this.read()) {
      const total = this.tTotal - this.totalAt;
      this.last = total > 0 ? (this.tIdle - this.idleAt) / total : this.last;
      this.idleAt = this.tIdle;
      this.totalAt = this.tTotal;
      this.at = now;
    }
    return this.last;
  }

  /** Forget what was measured: the next period starts now. */
  restart(now: number): void {
    this.last = -1;
    if (this.fd < 0 || !this.read()) return;
    this.idleAt = this.tIdle;
    this.totalAt = this.tTotal;
    this.at = now;
  }

  close(): void {
    if (this.fd >= 0) try { fs.closeSync(this.fd); } catch { /* gone */ }
  }

  /** "cpu  user nice system idle iowait irq softirq steal ..." into tIdle, tTotal (clock ticks). */
  private read(): boolean {
    let n: number;
    try { n = fs.readSync(this.fd, this.buf, 0, this.buf.length, 0); } catch { return false; }
    const b = this.buf;
    let i = 3; // past "cpu"
    let field = 0;
    let idle = 0;
    let total = 0;
    while (i < n && field < 8) {
      while (i < n && b[i] === 0x20) i++;
      let v = 0;
      let digits = 0;
      while (i < n && b[i]! >= 0x30 && b[i]! <= 0x39) {
        v = v * 10 + (b[i]! - 0x30);
        i++;
        digits++;
      }
      if (digits === 0) break;
      total += v;
      if (field === 3 || field === 4) idle += v;
      field++;
    }
    if (field < 5) return false;
    this.tIdle = idle;
    this.tTotal = total;
    return true;
  }
}
