// Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//
// A "sum" here is an unfolded accumulator: callers chain partial sums
// (pseudo-header, header, payload) and fold + complement once at the end.
// JS numbers are exact to 2^53, so no intermediate folding is needed for any
// packet that fits in an IPv4 datagram.

/** Adds the 16-bit big-endian words of buf[off, off+len) to acc; an odd last byte is padded with zero. */
export function sumBytes(buf: Uint8Array, off: number, len: number, acc = 0): number {
  const end = off + (len & ~1);
  let i = off;
  // two words per step: fewer loop iterations, still exact
  for (; i + 3 < end; i += 4) {
    acc += ((buf[i]! << 8) | buf[i + 1]!) + ((buf[i + 2]! << 8) | buf[i + 3]!);
  }
  for (; i < end; i += 2) acc += (buf[i]! << 8) | buf[i + 1]!;
  if (len & 1) acc += buf[off + len - 1]! << 8;
  return acc;
}

/** Folds an accumulator to 16 bits with end-around carry (not complemented). */
export function csumFold(acc: number): number {
  while (acc > 0xffff) {
    // bit operations only hold below 2^32; larger sums take the slow path once
    acc = acc < 4294967296 ? (acc & 0xffff) + (acc >>> 16) : (acc % 65536) + Math.floor(acc / 65536);
  }
  return acc;
}

/** Final checksum field value: ones' complement of the folded sum. */
export function csumFinish(acc: number): number {
  return ~csumFold(acc) & 0xffff;
}

/** RFC 1071 checksum over a byte range. */
export function checksum(buf: Uint8Array, off: number, len: number): number {
  return csumFinish(sumBytes(buf, off, len, 0));
}

/** Sum of the TCP/UDP pseudo-header: source, destination, zero+protocol, length. */
export function pseudoHeaderSum(src: number, dst: number, proto: number, len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
}

/**
 * RFC 1624 eqn 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changed from
 * `oldWord` to `newWord`. Unlike eqn 2 it never produces 0xFFFF where a full
 * recompute would give 0x0000.
 */
export function csumUpdate16(csum: number, oldWord: number, newWord: number): number {
  const acc = (~csum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~csumFold(acc) & 0xffff;
}

/** Same for a 32-bit value (an IPv4 address): two words at once. */
export function csumUpdate32(csum: number, oldValue: number, newValue: number): number {
  const acc = (~csum & 0xffff) +
    (~(oldValue >>> 16) & 0xffff) + (~oldValue & 0xffff) +
    (newValue >>> 16) + (newValue & 0xffff);
  return ~csumFold(acc) & 0xffff;
}

/**
 * UDP variants: 0 in the field means "no checksum" and must stay 0; a result
 * of 0 is sent as 0xFFFF (RFC 768), which is the same value in ones' complement.
 */
export function udpCsumUpdate16(csum: number, oldWord: number, newWord: number): number {
  if (csum === 0) return 0;
  const r = csumUpdate16(csum, oldWord, newWord);
  return r === 0 ? 0xffff : r;
}

export function udpCsumUpdate32(csum: number, oldValue: number, newValue: number): number {
  if (csum === 0) return 0;
  const r = csumUpdate32(csum, oldValue, newValue);
  return r === 0 ? 0xffff : r;
}
