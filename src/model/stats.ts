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

  // the counters at the last estimate (fields, not an array: the estimator runs over every service every 2 s)
  private lConns = 0;
  private lInpkts = 0;
  private lOutpkts = 0;
  private lInbytes = 0;
  private lOutbytes = 0;
  private lastAt = -1;

  /**
   * Feed the estimator; call about every 2 s with the current time in ms.
   * `run` false (run_estimation 0): the rates stay as they are, and the
   * next sample with it on starts afresh from the counters then.
   */
  estimate(nowMs: number, run = true): void {
    if (!run) {
      this.lastAt = -1;
      return;
    }
    if (this.lastAt >= 0) {
      const dt = (nowMs - this.lastAt) / 1000;
      if (dt <= 0) return;
      this.cps = ewma(this.cps, (this.conns - this.lConns) / dt);
      this.inpps = ewma(this.inpps, (this.inpkts - this.lInpkts) / dt);
      this.outpps = ewma(this.outpps, (this.outpkts - this.lOutpkts) / dt);
      this.inbps = ewma(this.inbps, (this.inbytes - this.lInbytes) / dt);
      this.outbps = ewma(this.outbps, (this.outbytes - this.lOutbytes) / dt);
    }
    this.lConns = this.conns;
    this.lInpkts = this.inpkts;
    this.lOutpkts = this.outpkts;
    this.lInbytes = this.inbytes;
    this.lOutbytes = this.outbytes;
    this.lastAt = nowMs;
  }

  zero(): void {
    this.conns = this.inpkts = this.outpkts = this.inbytes = this.outbytes = 0;
    this.cps = this.inpps = this.outpps = this.inbps = this.outbps = 0;
    this.lConns = this.lInpkts = this.lOutpkts = this.lInbytes = this.lOutbytes = 0;
    this.lastAt = -1;
  }
}

/** The kernel's estimator smoothing: weight 1/4 for the new sample. */
function ewma(old: number, sample: number): number {
  return old + (sample - old) / 4;
}
