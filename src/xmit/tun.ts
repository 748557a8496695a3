import { encapIpip, IPIP_OUTER_LEN } from '../wire/ipip.js';
import { ETHERTYPE_IPV4 } from '../wire/ethernet.js';
import { put16 } from '../wire/bytes.js';
import { WIRE_OK } from '../wire/errors.js';

export const TUN_OK = 0;
export const TUN_FRAG_NEEDED = 1;
export const TUN_NO_ROOM = 2;

/**
 * LVS-TUN (ip_vs_tunnel_xmit): puts an outer IPv4 header from the director to
 * the real server in front of the client's packet, in the headroom before the
 * frame, and a fresh Ethernet header before that. The outer header copies the
 * inner TOS, DF and TTL, as the kernel does. Returns TUN_OK with the new frame
 * start in `out.off`, or TUN_FRAG_NEEDED when the result would not fit the
 * egress MTU and the inner packet forbids fragmentation.
 */
export function tunEncap(
  buf: Uint8Array, ipOff: number, ipLen: number, src: number, dst: number, id: number, mtu: number,
  out: { off: number; len: number },
): number {
  if (ipLen + IPIP_OUTER_LEN > mtu && (buf[ipOff + 6]! & 0x40) !== 0) return TUN_FRAG_NEEDED;
  if (encapIpip(buf, ipOff, ipLen, src, dst, id) !== WIRE_OK) return TUN_NO_ROOM;
  const ethOff = ipOff - IPIP_OUTER_LEN - 14;
  if (ethOff < 0) return TUN_NO_ROOM;
  put16(buf, ethOff + 12, ETHERTYPE_IPV4);
  out.off = ethOff;
  out.len = 14 + IPIP_OUTER_LEN + ipLen;
  return TUN_OK;
}
