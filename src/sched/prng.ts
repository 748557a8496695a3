// A small seeded PRNG for schedulers that need randomness (twos). Replaying a
// pcap must give the same picks, so randomness lives in per-service state and
// is never taken from Math.random.

export interface Prng {
  s: number; // 32-bit state
}

export function makePrng(seed: number): Prng {
  return { s: seed >>> 0 };
}

/** Next uniformly distributed uint32 (SplitMix32: a Weyl step, then mixing). */
export function nextU32(r: Prng): number {
  r.s = (r.s + 0x9e3779b9) | 0;
  let z = r.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return z >>> 0;
}
