// The data path's trace, as plain objects: what arrived, what the director
// decided and why, what it sent, what it dropped. Built only while tracing
// (the director holds no tracer otherwise). The text trace is one printer of
// these (text.ts); a decision log or a browser view reads the same objects.
// Addresses are text, so an event can go to JSON as it is.

/** The connection a decision is about, as ipvsadm -Lnc shows one. */
export interface ConnRef {
  proto: string;
  client: string;
  cport: number;
  vip: string;
  vport: number;
  dest: string;
  dport: number;
}

export type TraceEvent =
  /** A frame arrived (bytes as received, before any rewrite). */
  | { kind: 'frame-in'; time: number; port: string; bytes: Uint8Array }
  /** A client packet matched a service: a new connection (with the scheduler's reason) or an existing one. */
  | {
    kind: 'conn'; isNew: boolean; service: string; scheduler: string; dest: string; mode: string;
    /** Why this real server (new connections only). */
    reason?: string;
    /** The connection's state after the packet (stateful protocols). */
    state?: string;
    conn: ConnRef;
  }
  /** A real server's reply of a NAT connection (source back to the VIP). */
  | { kind: 'reply'; state?: string; conn: ConnRef }
  /** An ICMP error about a connection, from the client's or the real server's side. */
  | { kind: 'icmp-for-conn'; side: 'client' | 'real-server'; conn: ConnRef }
  /** Traffic for no service and no connection, routed as a router would. */
  | { kind: 'routed' }
  | { kind: 'arp-learned'; addr: string; mac: string }
  | { kind: 'arp-answered'; addr: string; owner: 'VIP' | 'own address' }
  | { kind: 'arp-ignored' }
  /** IPv6 neighbour discovery: learned from a solicitation's or advertisement's link-layer option. */
  | { kind: 'nd-learned'; addr: string; mac: string }
  /** A neighbour solicitation answered (for a VIP or an own address). */
  | { kind: 'nd-answered'; addr: string; owner: 'VIP' | 'own address' }
  /** A neighbour solicitation for an address not answered on this port. */
  | { kind: 'nd-ignored' }
  /** The next hop's MAC is unknown: the frame waits while it is asked for (with neighbour discovery: `nd`). */
  | { kind: 'neighbour-wait'; addr: string; port: string; nd?: true }
  | { kind: 'echo-reply'; from: string; vip: boolean }
  /** An ICMP (or, with `v6`, ICMPv6) message the director sent. */
  | { kind: 'icmp-sent'; type: number; code: number; to: string; v6?: true }
  | { kind: 'fragment-held' }
  | { kind: 'fragment-released' }
  /** A frame went out (bytes as sent). */
  | { kind: 'frame-out'; port: string; bytes: Uint8Array }
  | { kind: 'drop'; reason: string };

export type TraceSink = (ev: TraceEvent) => void;
