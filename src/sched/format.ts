import type { Dest } from '../model/dest.js';
import { AF_INET6 } from '../model/proto.js';
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
