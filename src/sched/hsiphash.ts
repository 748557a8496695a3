// hsiphash as a 64-bit Linux kernel computes it, for the mh scheduler.
//
// The kernel's hsiphash() is "half SipHash" only in name on 64-bit builds:
// with BITS_PER_LONG == 64 (x86_64, arm64, ...) lib/siphash.c makes it
// SipHash-1-3 over 64-bit words (one compression round per 8-byte block,
// three finalisation rounds), keyed by hsiphash_key_t = two unsigned longs,
// i.e. two u64, and returns the low 32 bits of the 64-bit result. On 32-bit
// builds it is the real HalfSipHash-1-3 (32-bit words and key halves, a
// different function with different values); that variant is NOT implemented
// here: IPVS directors run on 64-bit machines, and matching those is the aim.
//
// The 64-bit lanes are kept as pairs of 32-bit halves in a Uint32Array that
// is allocated once, so there is no BigInt and no allocation per call (stores
// into the array wrap to 32 bits by themselves). Not reentrant, which is fine
// in one JavaScript thread: no function here calls back into another.

/** An hsiphash_key_t of a 64-bit kernel: key[0] and key[1] as u64, in 32-bit halves. */
export interface HsiphashKey {
  readonly k0lo: number;
  readonly k0hi: number;
  readonly k1lo: number;
  readonly k1hi: number;
}

/** A key from its two 64-bit words given as halves (high halves default to 0). */
export function hsiphashKey(k0lo: number, k1lo: number, k0hi = 0, k1hi = 0): HsiphashKey {
  return { k0lo: k0lo >>> 0, k0hi: k0hi >>> 0, k1lo: k1lo >>> 0, k1hi: k1hi >>> 0 };
}

/** A key from 16 bytes, read as two little-endian u64 (the reference SipHash key layout). */
export function hsiphashKeyFromBytes(k: Uint8Array): HsiphashKey {
  return hsiphashKey(le32(k, 0), le32(k, 8), le32(k, 4), le32(k, 12));
}

function le32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

// v0..v3, each as [lo, hi]: v[0]=v0.lo v[1]=v0.hi v[2]=v1.lo ... v[7]=v3.hi.
const v = new Uint32Array(8);
// the final block b: the trailing bytes, and the message length in the top byte
let bLo = 0;
let bHi = 0;

/** v_a += v_b (mod 2^64) */
function add(a: number, b: number): void {
  const lo = v[2 * a]! + v[2 * b]!;
  v[2 * a + 1] = v[2 * a + 1]! + v[2 * b + 1]! + (lo > 0xffffffff ? 1 : 0);
  v[2 * a] = lo;
}

/** v_a ^= v_b */
function xor(a: number, b: number): void {
  v[2 * a] ^= v[2 * b]!;
  v[2 * a + 1] ^= v[2 * b + 1]!;
}

/** v_a = v_a rotated left by n bits, 0 < n < 32 */
function rotl(a: number, n: number): void {
  const lo = v[2 * a]!;
  const hi = v[2 * a + 1]!;
  v[2 * a + 1] = (hi << n) | (lo >>> (32 - n));
  v[2 * a] = (lo << n) | (hi >>> (32 - n));
}

/** v_a rotated by 32 bits: its halves swap */
function swap(a: number): void {
  const lo = v[2 * a]!;
  v[2 * a] = v[2 * a + 1]!;
  v[2 * a + 1] = lo;
}

/** One SipRound (the 64-bit one: rotations 13, 16, 21, 17 and the two 32s). */
function sipRound(): void {
  add(0, 1);
  rotl(1, 13);
  xor(1, 0);
  swap(0);
  add(2, 3);
  rotl(3, 16);
  xor(3, 2);
  add(0, 3);
  rotl(3, 21);
  xor(3, 0);
  add(2, 1);
  rotl(1, 17);
  xor(1, 2);
  swap(2);
}

/** Key the state and put the message length (mod 256) into the top byte of b. */
function begin(key: HsiphashKey, len: number): void {
  v[0] = key.k0lo ^ 0x70736575; // "somepseudorandomlygeneratedbytes", as four u64
  v[1] = key.k0hi ^ 0x736f6d65;
  v[2] = key.k1lo ^ 0x6e646f6d;
  v[3] = key.k1hi ^ 0x646f7261;
  v[4] = key.k0lo ^ 0x6e657261;
  v[5] = key.k0hi ^ 0x6c796765;
  v[6] = key.k1lo ^ 0x79746573;
  v[7] = key.k1hi ^ 0x74656462;
  bLo = 0;
  bHi = ((len & 0xff) << 24) >>> 0;
}

/** Absorb one 64-bit message word m = hi:lo with one compression round (the "1" of 1-3). */
function absorb(lo: number, hi: number): void {
  v[6] ^= lo;
  v[7] ^= hi;
  sipRound();
  v[0] ^= lo;
  v[1] ^= hi;
}

/** Absorb b, then the three finalisation rounds (the "3"); leaves v0^v1^v2^v3 in v[0], v[1]. */
function finish(): void {
  absorb(bLo, bHi);
  v[4] ^= 0xff;
  sipRound();
  sipRound();
  sipRound();
  v[0] ^= v[2] ^ v[4] ^ v[6];
  v[1] ^= v[3] ^ v[5] ^ v[7];
}

function absorbBytes(data: Uint8Array, len: number): void {
  const whole = len - (len % 8);
  let i = 0;
  for (; i < whole; i += 8) absorb(le32(data, i), le32(data, i + 4));
  // the 0..7 bytes left over go into b, little-endian, under the length byte
  for (let j = 0; i + j < len; j++) {
    const byte = data[i + j]!;
    if (j < 4) bLo = (bLo | (byte << (8 * j))) >>> 0;
    else bHi = (bHi | (byte << (8 * (j - 4)))) >>> 0;
  }
}

/**
 * The kernel's hsiphash(data, len, key) on a 64-bit little-endian machine: the
 * first `len` bytes of `data` as the message. ip_vs_mh.c calls it on the 4
 * bytes of a host-order unsigned int, which on x86 is hsiphash1u32(that int).
 */
export function hsiphash(data: Uint8Array, len: number, key: HsiphashKey): number {
  begin(key, len);
  absorbBytes(data, len);
  finish();
  return v[0]!;
}

/** SipHash-1-3 with its full 64-bit result, written as out[0] = low half, out[1] = high half. */
export function siphash13(data: Uint8Array, len: number, key: HsiphashKey, out: Uint32Array): void {
  begin(key, len);
  absorbBytes(data, len);
  finish();
  out[0] = v[0]!;
  out[1] = v[1]!;
}

/** hsiphash_1u32: the message is the 4 little-endian bytes of `a` (b = 4 << 56 | a). */
export function hsiphash1u32(a: number, key: HsiphashKey): number {
  begin(key, 4);
  bLo = a >>> 0;
  finish();
  return v[0]!;
}

/** hsiphash_2u32: one 64-bit word b:a. */
export function hsiphash2u32(a: number, b: number, key: HsiphashKey): number {
  begin(key, 8);
  absorb(a >>> 0, b >>> 0);
  finish();
  return v[0]!;
}

/** hsiphash_3u32: the word b:a, then c in the final block. */
export function hsiphash3u32(a: number, b: number, c: number, key: HsiphashKey): number {
  begin(key, 12);
  absorb(a >>> 0, b >>> 0);
  bLo = c >>> 0;
  finish();
  return v[0]!;
}

/** hsiphash_4u32: the words b:a and d:c. */
export function hsiphash4u32(a: number, b: number, c: number, d: number, key: HsiphashKey): number {
  begin(key, 16);
  absorb(a >>> 0, b >>> 0);
  absorb(c >>> 0, d >>> 0);
  finish();
  return v[0]!;
}
