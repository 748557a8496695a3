/**
 * Drops and other outcomes counted by name. Reasons are fixed small integers
 * so counting on the hot path is one typed-array increment.
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
  'not-ipv4',
  'no-service',
  'no-conn-not-syn',
  'no-real-server',
  'table-full',
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
