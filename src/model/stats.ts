// Counters as `ipvsadm -L --stats/--rate` shows them. Rates follow the
// kernel's estimator: sampled every 2 s, smoothed with weight 1/4 for conns
// and packets and 1/4 for bytes (ip_vs_est.c), so figures read the same.
export class Stats {
  conns = 0;
  inpkts = 0;
  outpkts = 0;
  inbytes = 0;
  outbytes = 0;

  // smoothed rates, per second
  cps = 0;
  inpps = 0;
  outpps = 0;
  inbps = 0;
  outbps = 0;

  private last = [0, 0, 0, 0, 0];
  private lastAt = -1;

  /** Feed the estimator; call about every 2 s with the current time in ms. */
  estimate(nowMs: number): void {
    const cur = [this.conns, this.inpkts, this.outpkts, this.inbytes, this.outbytes];
    if (this.lastAt < 0) {
      this.last = cur;
      this.lastAt = nowMs;
      return;
    }
    const dt = (nowMs - this.lastAt) / 1000;
    if (dt <= 0) return;
    const r = cur.map((v, i) => (v - this.last[i]!) / dt);
    const ewma = (old: number, sample: number) => old + (sample - old) / 4;
    this.cps = ewma(this.cps, r[0]!);
    this.inpps = ewma(this.inpps, r[1]!);
    this.outpps = ewma(this.outpps, r[2]!);
    this.inbps = ewma(this.inbps, r[3]!);
    this.outbps = ewma(this.outbps, r[4]!);
    this.last = cur;
    this.lastAt = nowMs;
  }

  zero(): void {
    this.conns = this.inpkts = this.outpkts = this.inbytes = this.outbytes = 0;
    this.cps = this.inpps = this.outpps = this.inbps = this.outbps = 0;
    this.last = [0, 0, 0, 0, 0];
    this.lastAt = -1;
  }
}
