// What the data path did with a frame. Every stage returns a verdict: one
// of the outcomes below, or the reason it dropped the frame, an index into
// DROP_REASONS. The pipeline counts drops in one place, by name, so no stage
// counts its own and none can forget to.

/** Sent on: to a real server, to a client, or routed. */
export const FORWARDED = -1;
/** The director answered it itself (ARP reply, echo reply). */
export const ANSWERED = -2;
/** Kept for later: the next hop is being resolved, or the first fragment has not come. */
export const HELD = -3;
/** Taken in with nothing to send (an ARP reply learned, an ARP request not for us). */
export const CONSUMED = -4;

export type Verdict = number;

/**
 * Drop reasons, counted by name. Reasons are fixed small integers so
 * counting on the hot path is one typed-array increment.
 */
export const DROP_REASONS = [
  'malformed-ethernet',
  'malformed-arp',
  'malformed-ip',
  'bad-ip-checksum',
  'malformed-l4',
  'malformed-icmp',
  'not-for-us',
  'vlan-tagged',
  /** An ethertype that is neither IPv4, IPv6 nor ARP. */
  'not-ip',
  'no-service',
  'no-conn-not-syn',
  'no-real-server',
  'table-full',
  /** drop_packet: a packet that would open a connection, dropped as the defence's rate says (conn/defense.ts). */
  'drop-packet',
  'dest-removed',
  'ttl-exceeded',
  'frag-needed',
  'no-route',
  'unresolved-neighbour',
  'neighbour-queue-full',
  'unmatched-from-real-server',
  'to-director-unhandled',
  'icmp-error-no-conn',
  'fragment-queue-full',
  'fragment-timeout',
  'frame-too-big',
  'martian-source',
  'fragment-first-dropped',
  /** A non-persistent service was asked for a port not its own (only port-0 services take every port, and they must be persistent). */
  'bad-port',
  /** No room before the frame for the outer header of a tunnel. */
  'no-headroom',
  /** IPv6: an extension header that runs past the packet, or hop-by-hop options anywhere but first. */
  'ipv6-bad-ext-header',
  /** IPv6: an extension header the walk cannot see past (mobility, HIP, shim6, experimental). */
  'ipv6-unknown-ext-header',
  /** IPv6: a hop-by-hop option this host does not know whose type says to discard the packet (RFC 8200 section 4.2). */
  'ipv6-unknown-option',
  /** IPv6: a link-local source or destination that cannot leave its link (not for the director). */
  'ipv6-link-local-not-routed',
  /** IPv6-in-IPv6: the egress MTU less the outer header is under 1280, the IPv6 minimum (the kernel refuses to tunnel). */
  'tunnel-mtu-too-small',
  /** SCTP through NAT: the packet's CRC32c is wrong; NAT would compute a right one over the damaged bytes, so it is dropped (the kernel re-signs it). */
  'sctp-bad-crc',
  /** SCTP through NAT: a first fragment, whose CRC32c covers bytes not here, cannot have its port rewritten. */
  'sctp-fragment-nat',
  /** IPv4: a destination no router forwards to (0.0.0.0/8, 127.0.0.0/8), as ip_route_input's martian_destination. */
  'martian-destination',
] as const;

export type DropReason = (typeof DROP_REASONS)[number];

export const DropCode = Object.fromEntries(DROP_REASONS.map((r, i) => [r, i])) as { [K in DropReason]: number };

export class DropCounters {
  readonly counts = new Float64Array(DROP_REASONS.length);

  add(code: number): void {
    this.counts[code]!++;
  }

  get(reason: DropReason): number {
    return this.counts[DropCode[reason]]!;
  }

  /** Non-zero counters by name, for listings and metrics. */
  toObject(all = false): Record<string, number> {
    const o: Record<string, number> = {};
    DROP_REASONS.forEach((r, i) => {
      if (all || this.counts[i]! > 0) o[r] = this.counts[i]!;
    });
    return o;
  }

  get total(): number {
    let t = 0;
    for (const c of this.counts) t += c;
    return t;
  }
}
