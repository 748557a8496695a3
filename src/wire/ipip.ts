// IP-in-IP (RFC 2003, IP protocol 4), as LVS-TUN uses it: the director puts a
// 20-byte outer header in front of the client's unchanged packet.

import { put16, put32 } from './bytes.js';
import { checksum } from './checksum.js';
import { IPIP_NOT_IPIP, IPIP_NO_HEADROOM, IP_BAD_TOTAL_LENGTH, WIRE_OK, WireError } from './errors.js';
import { emitIpv4, parseIpv4, type Ipv4Header, Ipv4View } from './ipv4.js';
import { IPPROTO_IPIP } from './ipproto.js';

export const IPIP_OUTER_LEN = 20;

/**
 * Writes an outer IPv4 header into the IPIP_OUTER_LEN bytes of headroom before
 * the inner packet at innerOff; the packet then starts at innerOff - 20.
 * As IPVS does, the outer header copies the inner TOS and DF bit, and the
 * inner TTL unless `ttl` is given (>= 0). Returns WIRE_OK, IPIP_NO_HEADROOM,
 * or IP_BAD_TOTAL_LENGTH when the result would exceed 65535 bytes.
 * The inner packet must be a valid IPv4 packet (wrap it first).
 */
export function encapIpip(
  buf: Uint8Array, innerOff: number, innerLen: number,
  src: number, dst: number, id: number, ttl = -1,
): number {
  if (innerOff < IPIP_OUTER_LEN || innerOff + innerLen > buf.length) return IPIP_NO_HEADROOM;
  const total = innerLen + IPIP_OUTER_LEN;
  if (total > 0xffff) return IP_BAD_TOTAL_LENGTH;
  const o = innerOff - IPIP_OUTER_LEN;
  buf[o] = 0x45;
  buf[o + 1] = buf[innerOff + 1]!; // TOS
  put16(buf, o + 2, total);
  put16(buf, o + 4, id);
  buf[o + 6] = buf[innerOff + 6]! & 0x40; // DF only; the outer packet is not a fragment
  buf[o + 7] = 0;
  buf[o + 8] = ttl >= 0 ? ttl : buf[innerOff + 8]!;
  buf[o + 9] = IPPROTO_IPIP;
  put16(buf, o + 10, 0);
  put32(buf, o + 12, src);
  put32(buf, o + 16, dst);
  put16(buf, o + 10, checksum(buf, o, IPIP_OUTER_LEN));
  return WIRE_OK;
}

/**
 * Wraps `inner` over the packet carried by the IPIP packet in `outer`.
 * Returns IPIP_NOT_IPIP for another protocol, else the inner wrap's code.
 */
export function ipipInner(outer: Ipv4View, inner: Ipv4View): number {
  if (outer.protocol !== IPPROTO_IPIP) return IPIP_NOT_IPIP;
  return inner.wrap(outer.buf, outer.payloadOffset, outer.payloadLength);
}

export interface IpipPacket {
  outer: Ipv4Header;
  inner: Ipv4Header;
}

export function parseIpip(buf: Uint8Array, off = 0, len = buf.length - off): IpipPacket {
  const outer = new Ipv4View();
  let rc = outer.wrap(buf, off, len);
  if (rc !== WIRE_OK) throw new WireError(rc, 'ipip outer');
  const inner = new Ipv4View();
  rc = ipipInner(outer, inner);
  if (rc !== WIRE_OK) throw new WireError(rc, 'ipip inner');
  return { outer: parseIpv4(buf, off, len), inner: parseIpv4(buf, inner.off, inner.len) };
}

/**
 * Writes `outer` (protocol and total length forced to IPIP and to fit) then
 * the inner packet bytes; returns the bytes written.
 */
export function emitIpip(outer: Ipv4Header, innerPacket: Uint8Array, buf: Uint8Array, off: number): number {
  const hl = IPIP_OUTER_LEN + (outer.options?.length ?? 0);
  const n = emitIpv4({ ...outer, protocol: IPPROTO_IPIP, totalLength: hl + innerPacket.length }, buf, off);
  buf.set(innerPacket, off + n);
  return n + innerPacket.length;
}
