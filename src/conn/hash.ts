// Hash of a connection key (protocol, two address/port pairs) to a bucket.
// Seeded so that a client cannot aim many connections at one chain without
// knowing the seed; multiplications by odd constants with xor-shifts between
// them spread every input bit over the result.
export function connHash(seed: number, proto: number, a: number, ap: number, b: number, bp: number): number {
  let h = Math.imul(seed ^ proto ^ a, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h ^ b, 0x85ebca77);
  h ^= h >>> 13;
  h = Math.imul(h ^ ((ap << 16) | bp), 0xc2b2ae3d);
  h ^= h >>> 16;
  return h >>> 0;
}
