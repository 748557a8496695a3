import { put16, put32 } from '../wire/bytes.js';
import { checksum } from '../wire/checksum.js';
import { ETHERTYPE_IPV4 } from '../wire/ethernet.js';
import { writeMac } from '../wire/addr.js';
import { ICMP_ECHO_REPLY } from '../wire/icmp.js';
import { IPPROTO_ICMP } from '../model/proto.js';

/**
 * Builds an ICMP error (RFC 792) about the IPv4 packet at buf[ipOff..): the
 * quoted part is the original header plus its first 8 bytes of payload, as
 * Linux sends by default. Writes a whole Ethernet frame into `out` and returns
 * its length. Slow path only: called for TTL expiry, frag-needed, unreachable.
 */
export function buildIcmpError(
  out: Uint8Array, dstMac: number, srcMac: number, src: number, dst: number, id: number,
  type: number, code: number, rest: number, buf: Uint8Array, ipOff: number, ipLen: number,
): number {
  const hl = (buf[ipOff]! & 0x0f) << 2;
  const quoted = Math.min(ipLen, hl + 8);
  writeMac(out, 0, dstMac);
  writeMac(out, 6, srcMac);
  put16(out, 12, ETHERTYPE_IPV4);
  const ip = 14;
  const total = 20 + 8 + quoted;
  out[ip] = 0x45;
  out[ip + 1] = 0xc0; // internetwork control precedence, as Linux marks ICMP errors
  put16(out, ip + 2, total);
  put16(out, ip + 4, id);
  put16(out, ip + 6, 0);
  out[ip + 8] = 64;
  out[ip + 9] = IPPROTO_ICMP;
  put16(out, ip + 10, 0);
  put32(out, ip + 12, src);
  put32(out, ip + 16, dst);
  put16(out, ip + 10, checksum(out, ip, 20));
  const ic = ip + 20;
  out[ic] = type;
  out[ic + 1] = code;
  put16(out, ic + 2, 0);
  put32(out, ic + 4, rest);
  out.set(buf.subarray(ipOff, ipOff + quoted), ic + 8);
  put16(out, ic + 2, checksum(out, ic, 8 + quoted));
  return 14 + total;
}

/**
 * Turns an echo request at buf[ethOff..] into the reply in place: swaps MACs
 * and addresses, sets type 0, a fresh TTL, and both checksums. Returns the
 * frame length.
 */
export function echoReplyInPlace(buf: Uint8Array, ethOff: number, ipOff: number, ipTotal: number, replySrc: number): number {
  for (let i = 0; i < 6; i++) {
    const t = buf[ethOff + i]!;
    buf[ethOff + i] = buf[ethOff + 6 + i]!;
    buf[ethOff + 6 + i] = t;
  }
  const hl = (buf[ipOff]! & 0x0f) << 2;
  // the reply goes to the asker from the address it asked
  buf.copyWithin(ipOff + 16, ipOff + 12, ipOff + 16);
  put32(buf, ipOff + 12, replySrc);
  buf[ipOff + 8] = 64;
  put16(buf, ipOff + 6, 0);
  put16(buf, ipOff + 10, 0);
  put16(buf, ipOff + 10, checksum(buf, ipOff, hl));
  const ic = ipOff + hl;
  buf[ic] = ICMP_ECHO_REPLY;
  buf[ic + 1] = 0;
  put16(buf, ic + 2, 0);
  put16(buf, ic + 2, checksum(buf, ic, ipTotal - hl));
  return ipOff - ethOff + ipTotal;
}
