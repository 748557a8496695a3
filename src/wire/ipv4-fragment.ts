import { put16 } from '../wire/bytes.js';
import { checksum } from '../wire/checksum.js';

/**
 * Splits the IPv4 packet at buf[ipOff, ipOff+ipLen) into fragments that fit
 * `mtu` (RFC 791): each carries the header (options copied whole, a
 * simplification: only "copied" options should be), a payload that is a
 * multiple of 8 bytes except the last, MF on all but the last. Slow path:
 * only for TUN packets that grew past the MTU without DF.
 */
export function fragmentIpv4(buf: Uint8Array, ipOff: number, ipLen: number, mtu: number): Uint8Array[] {
  const hl = (buf[ipOff]! & 0x0f) << 2;
  const maxData = (mtu - hl) & ~7;
  if (maxData <= 0) return [];
  const baseFrag = ((buf[ipOff + 6]! << 8) | buf[ipOff + 7]!);
  const baseOffset = baseFrag & 0x1fff;
  const baseMf = (baseFrag & 0x2000) !== 0;
  const out: Uint8Array[] = [];
  const dataLen = ipLen - hl;
  for (let pos = 0; pos < dataLen; pos += maxData) {
    const n = Math.min(maxData, dataLen - pos);
    const last = pos + n >= dataLen;
    const f = new Uint8Array(hl + n);
    f.set(buf.subarray(ipOff, ipOff + hl), 0);
    f.set(buf.subarray(ipOff + hl + pos, ipOff + hl + pos + n), hl);
    put16(f, 2, hl + n);
    const mf = !last || baseMf;
    put16(f, 6, (baseFrag & 0x4000) | (mf ? 0x2000 : 0) | (baseOffset + pos / 8));
    put16(f, 10, 0);
    put16(f, 10, checksum(f, 0, hl));
    out.push(f);
  }
  return out;
}
