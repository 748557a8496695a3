// CRC32c (Castagnoli), the checksum of SCTP (RFC 9260 appendix A, first
// specified for SCTP in RFC 3309) and of iSCSI (RFC 3720).
//
// Reflected form: polynomial 0x1EDC6F41 bit-reversed to 0x82F63B78, register
// preset to all ones, result complemented. The register moves least
// significant bit first, so bytes are folded in from the low end of it.
//
// Speed: "slice-by-8". Eight 256-entry tables let one step fold eight bytes
// with eight independent look-ups instead of eight dependent ones. Table k
// holds the CRC contribution of a byte followed by k zero bytes. The tables are
// one Int32Array so every value stays a 32-bit integer in V8 (no heap numbers
// from Uint32 loads above 2^31) and the loop never allocates.

const POLY = 0x82f63b78;
const TABLES = 8;

/** T[k * 256 + b]: the register change of byte b with k zero bytes after it. */
const T = new Int32Array(256 * TABLES);
for (let b = 0; b < 256; b++) {
  let c = b;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[b] = c;
}
for (let k = 1; k < TABLES; k++) {
  for (let b = 0; b < 256; b++) {
    const prev = T[(k - 1) * 256 + b]!;
    T[k * 256 + b] = (prev >>> 8) ^ T[prev & 0xff]!;
  }
}

/** The register before any byte (all ones). */
export const CRC32C_INIT = 0xffffffff;

/**
 * Folds buf[off, off+len) into a running register and returns the new
 * register (not complemented: chain calls, then crc32cFinish once).
 */
export function crc32cUpdate(reg: number, buf: Uint8Array, off: number, len: number): number {
  let c = reg | 0;
  let i = off;
  const end = off + len;
  const end8 = end - 8;
  for (; i <= end8; i += 8) {
    c ^= buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    c = T[7 * 256 + (c & 0xff)]! ^ T[6 * 256 + ((c >>> 8) & 0xff)]! ^
      T[5 * 256 + ((c >>> 16) & 0xff)]! ^ T[4 * 256 + (c >>> 24)]! ^
      T[3 * 256 + buf[i + 4]!]! ^ T[2 * 256 + buf[i + 5]!]! ^
      T[256 + buf[i + 6]!]! ^ T[buf[i + 7]!]!;
  }
  for (; i < end; i++) c = (c >>> 8) ^ T[(c ^ buf[i]!) & 0xff]!;
  return c >>> 0;
}

/** Folds n zero bytes into the register (a field counted as zero, without writing it). */
export function crc32cZeros(reg: number, n: number): number {
  let c = reg | 0;
  for (let i = 0; i < n; i++) c = (c >>> 8) ^ T[c & 0xff]!;
  return c >>> 0;
}

/** The CRC value of a finished register. */
export function crc32cFinish(reg: number): number {
  return ~reg >>> 0;
}

/** CRC32c of buf[off, off+len). */
export function crc32c(buf: Uint8Array, off = 0, len = buf.length - off): number {
  return ~crc32cUpdate(CRC32C_INIT, buf, off, len) >>> 0;
}
