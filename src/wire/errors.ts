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
