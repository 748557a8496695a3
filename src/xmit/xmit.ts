// A transmitter per forwarding method, as the kernel's packet_xmit: chosen
// once, when a connection is created (the method is copied from the dest
// into the conn's flags then, so editing the dest later changes new conns
// only), and called for every packet of the conn.
import type { ConnTable } from '../conn/table.js';
import type { Verdict } from '../model/verdict.js';
import type { Host4 } from '../net/host4.js';
import type { Host6 } from '../net/host6.js';
import type { Packet } from '../net/packet.js';
import type { Tracer } from '../trace/tracer.js';

/** What a transmitter works with: the hosts it sends through (IPv4, IPv6) and the conn table. */
export interface XmitEnv {
  readonly host: Host4;
  readonly host6: Host6;
  readonly conns: ConnTable;
  readonly tracer: Tracer | null;
}

export interface Transmitter {
  /** As the trace and listings name the mode: 'NAT', 'DR', 'TUN'. */
  readonly name: string;
  /**
   * A packet for the conn's real server: a client's packet, a later fragment
   * (pkt.ops undefined: no transport header), or an ICMP error the mode
   * forwards as it is.
   */
  toDest(x: XmitEnv, pkt: Packet, slot: number): Verdict;
  /**
   * A real server's reply for the client, its TTL already decremented (an
   * IPv6 one's hop limit only checked: the transmitter decrements it after
   * its MTU check, in ip6_forward's order). Only
   * methods whose replies come back through the director as LVS traffic
   * (NAT) have one; for the others a reply that passes through is plain
   * routed traffic.
   */
  toClient?(x: XmitEnv, pkt: Packet, slot: number): Verdict;
}
