// IP protocol numbers (the IANA "Protocol Numbers" registry), the one list
// every layer uses, and their names as tcpdump and ipvsadm print them.

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_GRE = 47;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_VRRP = 112;
export const IPPROTO_SCTP = 132;

const NAMES: Record<number, string> = {
  [IPPROTO_ICMP]: 'ICMP',
  [IPPROTO_IPIP]: 'IPIP',
  [IPPROTO_TCP]: 'TCP',
  [IPPROTO_UDP]: 'UDP',
  [IPPROTO_IPV6]: 'IPv6',
  [IPPROTO_GRE]: 'GRE',
  [IPPROTO_ESP]: 'ESP',
  [IPPROTO_AH]: 'AH',
  [IPPROTO_ICMPV6]: 'ICMPv6',
  [IPPROTO_VRRP]: 'VRRP',
  [IPPROTO_SCTP]: 'SCTP',
};

/** "TCP", "UDP", ...; "IP<n>" for a number without a name here. */
export function ipProtoName(p: number): string {
  return NAMES[p] ?? `IP${p}`;
}
