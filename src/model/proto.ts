// IP protocol numbers as IPVS keys them. A fwmark service has protocol 0 in
// its key, as in the kernel (svc->protocol is unused for fwmark services).
export const IPPROTO_ICMP = 1;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

// Address families: only IPv4 is built; the family is still part of every key
// so that IPv6 can be added without changing key shapes.
export const AF_INET = 2;
export const AF_INET6 = 10;

export type Af = typeof AF_INET;

export function protoName(p: number): string {
  switch (p) {
    case IPPROTO_TCP: return 'TCP';
    case IPPROTO_UDP: return 'UDP';
    case IPPROTO_ICMP: return 'ICMP';
    case IPPROTO_IPIP: return 'IPIP';
    case 0: return 'IP'; // a fwmark persistence template covers every protocol
    default: return `IP${p}`;
  }
}
