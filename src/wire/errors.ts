// Wire error codes: small integers so the director can count drops in a
// plain array indexed by code, and show them by name.

export const WIRE_OK = 0;
export const ETH_TRUNCATED = 1;
export const ETH_VLAN_TRUNCATED = 2;
export const ARP_TRUNCATED = 3;
export const ARP_UNSUPPORTED = 4;
export const IP_TRUNCATED = 5;
export const IP_BAD_VERSION = 6;
export const IP_BAD_IHL = 7;
export const IP_BAD_TOTAL_LENGTH = 8;
export const IP_BAD_CHECKSUM = 9;
export const ICMP_TRUNCATED = 10;
export const ICMP_BAD_CHECKSUM = 11;
export const TCP_TRUNCATED = 12;
export const TCP_BAD_OFFSET = 13;
export const TCP_BAD_CHECKSUM = 14;
export const UDP_TRUNCATED = 15;
export const UDP_BAD_LENGTH = 16;
export const UDP_BAD_CHECKSUM = 17;
export const IPIP_NOT_IPIP = 18;
export const IPIP_NO_HEADROOM = 19;
// SCTP (sctp.ts), GRE (gre.ts), GUE (gue.ts) and what both tunnels share
export const SCTP_TRUNCATED = 20;
export const SCTP_NO_CHUNK = 21;
export const SCTP_CHUNK_TRUNCATED = 22;
export const SCTP_BAD_CHUNK_LENGTH = 23;
export const SCTP_BAD_CHECKSUM = 24;
export const GRE_TRUNCATED = 25;
export const GRE_BAD_VERSION = 26;
export const GRE_BAD_FLAGS = 27;
export const GRE_BAD_CHECKSUM = 28;
export const GRE_NOT_GRE = 29;
export const GRE_NO_HEADROOM = 30;
export const GUE_TRUNCATED = 31;
export const GUE_BAD_VERSION = 32;
export const GUE_BAD_HLEN = 33;
export const GUE_BAD_FLAGS = 34;
export const GUE_NO_HEADROOM = 35;
export const GUE_BAD_CSUM_OFFSET = 36;
export const TUN_BAD_INNER = 37;
// IPv6 (ipv6.ts), its extension headers, ICMPv6 (icmpv6.ts) and IPv6-in-IPv6 (ip6ip6.ts)
export const IP6_TRUNCATED = 38;
export const IP6_BAD_VERSION = 39;
export const IP6_BAD_PAYLOAD_LENGTH = 40;
export const IP6_EXT_TRUNCATED = 41;
export const IP6_EXT_HOP_NOT_FIRST = 42;
export const IP6_EXT_UNKNOWN = 43;
export const ICMPV6_TRUNCATED = 44;
export const ICMPV6_BAD_CHECKSUM = 45;
export const ICMPV6_BAD_ND_OPTION = 46;
export const UDP6_NO_CHECKSUM = 47;
export const IP6IP6_NOT_IP6IP6 = 48;
export const IP6IP6_NO_HEADROOM = 49;
// VRRP (vrrp.ts) and the IPVS connection sync protocol (ipvs-sync.ts)
export const VRRP_TRUNCATED = 50;
export const VRRP_BAD_VERSION = 51;
export const VRRP_BAD_TYPE = 52;
export const VRRP_BAD_LENGTH = 53;
export const VRRP_BAD_CHECKSUM = 54;
export const VRRP_BAD_TTL = 55;
export const VRRP_BAD_DEST = 56;
export const VRRP_BAD_PROTOCOL = 57;
export const VRRP_BAD_INTERVAL = 58;
export const VRRP_AUTH_PASSWORD = 59;
export const VRRP_AUTH_AH = 60;
export const VRRP_BAD_AUTH_TYPE = 61;
export const IPVS_SYNC_TRUNCATED = 62;
export const IPVS_SYNC_BAD_SIZE = 63;
export const IPVS_SYNC_BAD_VERSION = 64;
export const IPVS_SYNC_COUNT_MISMATCH = 65;
export const IPVS_SYNC_BAD_RECORD_SIZE = 66;
export const IPVS_SYNC_BAD_FAMILY = 67;
export const IPVS_SYNC_OPT_TRUNCATED = 68;
export const IPVS_SYNC_BAD_OPTION = 69;
export const IPVS_SYNC_FULL = 70;
export const IPVS_SYNC_BAD_PE = 71;
export const VRRP_ADDR_MISMATCH = 72;

/** Names indexed by code; the director sizes its drop counters with its length. */
export const WIRE_ERROR_NAMES: readonly string[] = [
  'OK',
  'ETH_TRUNCATED',
  'ETH_VLAN_TRUNCATED',
  'ARP_TRUNCATED',
  'ARP_UNSUPPORTED',
  'IP_TRUNCATED',
  'IP_BAD_VERSION',
  'IP_BAD_IHL',
  'IP_BAD_TOTAL_LENGTH',
  'IP_BAD_CHECKSUM',
  'ICMP_TRUNCATED',
  'ICMP_BAD_CHECKSUM',
  'TCP_TRUNCATED',
  'TCP_BAD_OFFSET',
  'TCP_BAD_CHECKSUM',
  'UDP_TRUNCATED',
  'UDP_BAD_LENGTH',
  'UDP_BAD_CHECKSUM',
  'IPIP_NOT_IPIP',
  'IPIP_NO_HEADROOM',
  'SCTP_TRUNCATED',
  'SCTP_NO_CHUNK',
  'SCTP_CHUNK_TRUNCATED',
  'SCTP_BAD_CHUNK_LENGTH',
  'SCTP_BAD_CHECKSUM',
  'GRE_TRUNCATED',
  'GRE_BAD_VERSION',
  'GRE_BAD_FLAGS',
  'GRE_BAD_CHECKSUM',
  'GRE_NOT_GRE',
  'GRE_NO_HEADROOM',
  'GUE_TRUNCATED',
  'GUE_BAD_VERSION',
  'GUE_BAD_HLEN',
  'GUE_BAD_FLAGS',
  'GUE_NO_HEADROOM',
  'GUE_BAD_CSUM_OFFSET',
  'TUN_BAD_INNER',
  'IP6_TRUNCATED',
  'IP6_BAD_VERSION',
  'IP6_BAD_PAYLOAD_LENGTH',
  'IP6_EXT_TRUNCATED',
  'IP6_EXT_HOP_NOT_FIRST',
  'IP6_EXT_UNKNOWN',
  'ICMPV6_TRUNCATED',
  'ICMPV6_BAD_CHECKSUM',
  'ICMPV6_BAD_ND_OPTION',
  'UDP6_NO_CHECKSUM',
  'IP6IP6_NOT_IP6IP6',
  'IP6IP6_NO_HEADROOM',
  'VRRP_TRUNCATED',
  'VRRP_BAD_VERSION',
  'VRRP_BAD_TYPE',
  'VRRP_BAD_LENGTH',
  'VRRP_BAD_CHECKSUM',
  'VRRP_BAD_TTL',
  'VRRP_BAD_DEST',
  'VRRP_BAD_PROTOCOL',
  'VRRP_BAD_INTERVAL',
  'VRRP_AUTH_PASSWORD',
  'VRRP_AUTH_AH',
  'VRRP_BAD_AUTH_TYPE',
  'IPVS_SYNC_TRUNCATED',
  'IPVS_SYNC_BAD_SIZE',
  'IPVS_SYNC_BAD_VERSION',
  'IPVS_SYNC_COUNT_MISMATCH',
  'IPVS_SYNC_BAD_RECORD_SIZE',
  'IPVS_SYNC_BAD_FAMILY',
  'IPVS_SYNC_OPT_TRUNCATED',
  'IPVS_SYNC_BAD_OPTION',
  'IPVS_SYNC_FULL',
  'IPVS_SYNC_BAD_PE',
  'VRRP_ADDR_MISMATCH',
];

export const WIRE_ERROR_COUNT = WIRE_ERROR_NAMES.length;

export function wireErrorName(code: number): string {
  return WIRE_ERROR_NAMES[code] ?? `WIRE_ERROR_${code}`;
}

/** Thrown by the plain-object parse functions (control side and tests only). */
export class WireError extends Error {
  readonly code: number;
  constructor(code: number, what: string) {
    super(`${what}: ${wireErrorName(code)}`);
    this.name = 'WireError';
    this.code = code;
  }
}
