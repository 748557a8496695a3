// Hash functions for the hashing schedulers (dh, sh, lblc, lblcr, twos;
// mh hashes with the kernel's hsiphash, sched/hsiphash.ts).

const GOLDEN_RATIO_32 = 0x61c88647;

/**
 * The kernel's hash_32(): multiply by the 32-bit golden ratio and keep the
 * top `bits` bits. dh, sh and the lblc/lblcr tables bucket with it, so the
 * bucket a key lands in is the bucket the kernel would pick.
 */
export function goldenHash32(v: number, bits: number): number {
  return Math.imul(v >>> 0, GOLDEN_RATIO_32) >>> (32 - bits);
}

/**
 * A keyed 32-bit hash of one 32-bit word (twos picks its two candidates with
 * it). MurmurHash3 (x86, 32-bit) of a single 4-byte block with `key` as seed:
 * well mixed (full avalanche from fmix32), cheap, and allocation-free.
 */
export function keyedHash32(v: number, key: number): number {
  let k = Math.imul(v | 0, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let h = (key | 0) ^ k;
  h = (h << 13) | (h >>> 19);
  h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  h ^= 4; // input length in bytes
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
