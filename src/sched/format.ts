import type { Dest } from '../model/dest.js';
import { AF_INET6 } from '../model/proto.js';
import type { SchedPacket } from '../model/scheduler.js';
import { ip6ToString } from '../wire/addr6.js';

// Only for explain() (tracing), never on the hot path.

/** Dotted IPv4; for an IPv6 packet's caddr/vaddr, the fold the schedulers hash. */
export function ipStr(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** addr:port, [addr]:port for an IPv6 real server (as ipvsadm writes them). */
export function destStr(d: Dest): string {
  return d.af === AF_INET6 ? `[${ip6ToString(d.addr6)}]:${d.port}` : `${ipStr(d.addr)}:${d.port}`;
}

const hex8 = (n: number): string => '0x' + (n >>> 0).toString(16).padStart(8, '0');

/**
 * What a hashing scheduler hashed, as text: the packet's client (`c`) or
 * destination (`v`) address, with the port when it is hashed too. IPv4
 * dotted (addr:port); IPv6 as RFC 5952 writes it ([addr]:port), with the
 * XOR of its four words, which is what the kernel's schedulers hash.
 */
export function hashKeyStr(pkt: SchedPacket, which: 'c' | 'v', port?: number): string {
  const folded = which === 'c' ? pkt.caddr : pkt.vaddr;
  if (pkt.af !== AF_INET6) return port === undefined ? ipStr(folded) : `${ipStr(folded)}:${port}`;
  const a = ip6ToString(which === 'c' ? pkt.caddr6 : pkt.vaddr6);
  return `${port === undefined ? a : `[${a}]:${port}`}, words XORed ${hex8(folded)}`;
}

/** The packet's destination address (the VIP) as text: dotted IPv4, or the IPv6 address. */
export function vaddrStr(pkt: SchedPacket): string {
  return pkt.af === AF_INET6 ? ip6ToString(pkt.vaddr6) : ipStr(pkt.vaddr);
}
