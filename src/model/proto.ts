// Protocols as IPVS keys them. The numbers come from wire/ipproto.ts; what
// is IPVS's own is protocol 0 in the key of a fwmark service and of a
// fwmark persistence template, which cover every protocol.
import { IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, ipProtoName } from '../wire/ipproto.js';

export { IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP };

/** Address families, numbered as Linux numbers them (the sync protocol and ipvsadm use these). */
export const AF_INET = 2;
export const AF_INET6 = 10;

export type Af = typeof AF_INET;

/** ipvsadm's protocol name in listings; protocol 0 (fwmark templates) is "IP". */
export function protoName(p: number): string {
  return p === 0 ? 'IP' : ipProtoName(p);
}
