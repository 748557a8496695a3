/**
 * A token bucket on the caller's clock (ms), so replays stay deterministic:
 * `rate` tokens a second, at most `burst` saved up. Used to rate-limit the
 * ICMP errors the director sends, as the kernel does (icmp_msgs_per_sec,
 * icmp_msgs_burst), so a flood to a dead service cannot be turned into a
 * flood of errors.
 */
export class TokenBucket {
  private tokens: number;
  private last = -Infinity;

  constructor(private readonly rate: number, private readonly burst: number) {
    this.tokens = burst;
  }

  take(now: number): boolean {
    if (now > this.last) {
      if (this.last !== -Infinity) this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
      this.last = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
