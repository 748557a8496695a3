// IPv4 fragmentation (RFC 791 §3.2), for what the director sends that does
// not fit its egress MTU and may be fragmented: a NAT or DR packet without
// DF, a TUN packet that grew past the MTU, a forwarded ICMP error.

import { Ipv4View } from './ipv4.js';
import { WIRE_OK } from './errors.js';

const view = new Ipv4View();
const piece = new Ipv4View();

/**
 * Splits the IPv4 packet at buf[ipOff, ipOff+ipLen) into fragments that fit
 * `mtu`: each carries the header (options copied whole, a simplification:
 * only "copied" options should be), a payload that is a multiple of 8 bytes
 * except the last, MF on all but the last (and on the last too when the
 * packet was itself a non-final fragment), DF clear (as Linux's ip_fragment,
 * which keeps DF only for a packet of a socket doing path-MTU discovery).
 * Returns new arrays: a slow path.
 */
export function fragmentIpv4(buf: Uint8Array, ipOff: number, ipLen: number, mtu: number): Uint8Array[] {
  if (view.wrap(buf, ipOff, ipLen) !== WIRE_OK) return [];
  const hl = view.headerLength;
  const maxData = (mtu - hl) & ~7;
  if (maxData <= 0) return [];
  const baseOffset = view.fragOffset;
  const baseMf = view.mf;
  const out: Uint8Array[] = [];
  const dataLen = view.totalLength - hl;
  for (let pos = 0; pos < dataLen; pos += maxData) {
    const n = Math.min(maxData, dataLen - pos);
    const last = pos + n >= dataLen;
    const f = new Uint8Array(hl + n);
    f.set(buf.subarray(ipOff, ipOff + hl), 0);
    f.set(buf.subarray(ipOff + hl + pos, ipOff + hl + pos + n), hl);
    piece.wrapHeaderOnly(f, 0);
    piece.totalLength = hl + n;
    piece.setFragment(false, !last || baseMf, baseOffset + pos / 8);
    piece.fillChecksum();
    out.push(f);
  }
  return out;
}
