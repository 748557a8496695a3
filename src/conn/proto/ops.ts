// What the director and the connection table need to know about a transport
// protocol, as the kernel's struct ip_vs_protocol: how to read its ports,
// whether a packet may open a connection, its state machine and timeouts,
// and how NAT rewrites its header (and the copy of it an ICMP error quotes).
// One file per protocol registers an entry; nothing else in the data path
// asks "is this TCP?".
import type { Ipv6View } from '../../wire/ipv6.js';

/** A transport header as the pipeline needs it: filled by parse(), read-only afterwards. */
export interface L4Info {
  sport: number;
  dport: number;
  /** What the state machine reads: TCP's flag bits; 0 for stateless protocols. */
  flags: number;
}

/** The two sysctls sloppyOpens reads (a part of conn/table.ts ConnSettings). */
export interface SloppySettings {
  sloppyTcp: boolean;
  sloppySctp: boolean;
}

export interface ProtoOps {
  readonly proto: number;
  /** As ipvsadm names it: 'TCP', 'UDP', ... */
  readonly name: string;
  /** Has a state machine (its states count a conn as active or inactive). */
  readonly stateful: boolean;
  /** Default timeout per state, ms (stateless protocols: one entry). */
  readonly defaultTimeouts: readonly number[];
  /** State names as ipvsadm -Lc shows them, indexed by state. */
  readonly stateNames: readonly string[];

  /**
   * Reads the transport header at buf[off, off+len) into `out`. `partial`:
   * only the start of the datagram is here (a first fragment), so length
   * fields that cover more are not checked. Returns WIRE_OK or a wire error.
   */
  parse(buf: Uint8Array, off: number, len: number, partial: boolean, out: L4Info): number;
  /** conn_schedule's gate: may a packet with these flags create a connection? */
  schedulable(flags: number): boolean;
  /**
   * With sloppy_tcp / sloppy_sctp on: may a packet that schedulable() refuses
   * open a connection all the same (TCP: anything but a RST)? Absent: no.
   */
  sloppyOpens?(flags: number, s: SloppySettings): boolean;
  /**
   * nat_icmp_send: is a real server's packet of no connection answered with
   * port unreachable? Absent: no. TCP and UDP yes (TCP not for a RST),
   * as SCTP (not for an ABORT) would be.
   */
  natIcmpAnswers?(flags: number): boolean;
  /** Does this packet start a new connection on its tuple (conn_reuse_mode)? */
  opensNew(flags: number): boolean;

  /**
   * is_new_conn_expected: may a packet that opensNew() end a conn in `state`
   * and be scheduled afresh (conn_reuse_mode: bit 0 on; bit 1 also for
   * FIN_WAIT of a conn whose replies bypass the director)?
   */
  expectsNewConn(state: number, noOutput: boolean, reuseMode: number): boolean;
  /** Next state (stateful protocols); `dir` is DIR_INPUT, DIR_OUTPUT or DIR_INPUT_ONLY. */
  nextState(state: number, dir: number, flags: number, secure: boolean): number;
  /** Whether a conn in `state` counts in its dest's active connections. */
  isActive(state: number): boolean;

  /**
   * Before NAT rewrites this packet's source (srcSide) or destination port
   * to `port`: FORWARDED when it may, else the drop reason. Only protocols
   * whose checksum NAT must compute afresh have it (SCTP: a packet with a
   * wrong CRC would leave with a right one). `partial`: a first fragment.
   */
  natVerify?(buf: Uint8Array, off: number, len: number, partial: boolean, srcSide: boolean, port: number): number;
  /**
   * Client -> real server NAT: destination port to `port`, checksum patched
   * for the address change. `csumPartial`: the checksum field is partial
   * (FrameMeta.csumStart; only TCP and UDP ever are), so only the
   * pseudo-header's change goes into it (wire/csum-partial.ts).
   */
  dnat(buf: Uint8Array, off: number, len: number, oldAddr: number, newAddr: number, port: number, csumPartial?: boolean, peer?: number): void;
  /**
   * Real server -> client NAT: source port to `port`, checksum patched for the
   * address change (`csumPartial` as dnat). `peer` (both): the address that
   * stays, given for a whole datagram (no fragment): UDP computes a full
   * checksum over it when the field was 0, as udp_snat_handler/udp_dnat_handler.
   */
  snat(buf: Uint8Array, off: number, len: number, oldAddr: number, newAddr: number, port: number, csumPartial?: boolean, peer?: number): void;
  /**
   * NAT of this protocol's header quoted in an ICMP error, `avail` bytes of
   * it present: its source (srcSide) or destination port and its checksum for
   * that and for a pseudo-header address changed from oldAddr to newAddr.
   * Returns false when too little is quoted to match or rewrite.
   */
  rewriteQuoted(buf: Uint8Array, off: number, avail: number, srcSide: boolean, port: number, oldAddr: number, newAddr: number): boolean;
  /** Reads the ports of a quoted header into `out` (flags 0); false when too little is quoted. */
  parseQuoted(buf: Uint8Array, off: number, avail: number, out: L4Info): boolean;

  /**
   * NAT over IPv6, where an address of the pseudo-header changes by 128
   * bits: the source (srcSide) or destination port becomes `port` and the
   * checksum takes `delta`, the change Ipv6View.rewriteSrc/rewriteDst
   * returned. `partial`: a first fragment, only the start of the datagram
   * here. `ip`: the packet's IPv6 header, already rewritten (for a checksum
   * computed afresh, as IPVS does for a UDP datagram that came without one).
   * `csumPartial`: the checksum field is partial, as for dnat.
   */
  nat6(buf: Uint8Array, off: number, len: number, partial: boolean, srcSide: boolean, port: number, delta: number, ip: Ipv6View, csumPartial?: boolean): void;
  /** rewriteQuoted() for a header quoted in an ICMPv6 error: port, and the checksum (when quoted) by `delta`. */
  rewriteQuoted6(buf: Uint8Array, off: number, avail: number, srcSide: boolean, port: number, delta: number): boolean;
}

const byProto: (ProtoOps | undefined)[] = new Array(256).fill(undefined);

export function registerProto(ops: ProtoOps): void {
  byProto[ops.proto] = ops;
}

/** The protocol's entry, or undefined for a protocol IPVS does not balance. */
export function protoOps(proto: number): ProtoOps | undefined {
  return byProto[proto];
}

export function registeredProtos(): ProtoOps[] {
  return byProto.filter((p): p is ProtoOps => p !== undefined);
}
