import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../model/proto.js';
import { TCP_S_COUNT, TCP_S_ESTABLISHED, TCP_S_FIN_WAIT } from './tcp-states.js';

const SEC = 1000;

/** IPVS default TCP timeouts in ms, indexed by TCP state (ip_vs_proto_tcp.c). */
export const DEFAULT_TCP_TIMEOUTS: readonly number[] = [
  2 * SEC, // NONE
  15 * 60 * SEC, // ESTABLISHED
  2 * 60 * SEC, // SYN_SENT
  60 * SEC, // SYN_RECV
  2 * 60 * SEC, // FIN_WAIT
  2 * 60 * SEC, // TIME_WAIT
  10 * SEC, // CLOSE
  60 * SEC, // CLOSE_WAIT
  30 * SEC, // LAST_ACK
  2 * 60 * SEC, // LISTEN
  2 * 60 * SEC, // SYNACK
];
export const DEFAULT_UDP_TIMEOUT = 5 * 60 * SEC;
export const DEFAULT_ICMP_TIMEOUT = 60 * SEC;
/** A new conn's timeout before its first state transition (ip_vs_conn_new). */
export const INITIAL_TIMEOUT = 3 * SEC;
/** How long a conn that still controls others is kept when its timer runs out. */
export const CONTROL_REARM = 60 * SEC;

/** `ipvsadm --set tcp tcpfin udp` figures, in seconds. */
export interface IpvsadmTimeouts {
  tcp: number;
  tcpfin: number;
  udp: number;
}

/** The per-protocol timeout tables the connection table reads (all in ms). */
export class Timeouts {
  readonly tcp = new Float64Array(TCP_S_COUNT);
  udp = DEFAULT_UDP_TIMEOUT;
  icmp = DEFAULT_ICMP_TIMEOUT;

  constructor() {
    this.tcp.set(DEFAULT_TCP_TIMEOUTS);
  }

  /**
   * As `ipvsadm --set`: tcp = ESTABLISHED, tcpfin = FIN_WAIT, udp; seconds;
   * 0 leaves a value unchanged. Conns pick up a new value at their next
   * state change or refresh, as in the kernel (each conn keeps its timeout).
   */
  set(t: Partial<IpvsadmTimeouts>): void {
    for (const v of [t.tcp, t.tcpfin, t.udp]) {
      if (v !== undefined && (!Number.isFinite(v) || v < 0)) throw new Error(`bad timeout ${v}`);
    }
    if (t.tcp) this.tcp[TCP_S_ESTABLISHED] = t.tcp * SEC;
    if (t.tcpfin) this.tcp[TCP_S_FIN_WAIT] = t.tcpfin * SEC;
    if (t.udp) this.udp = t.udp * SEC;
  }

  /** As `ipvsadm -L --timeout`, in seconds. */
  get(): IpvsadmTimeouts {
    return {
      tcp: this.tcp[TCP_S_ESTABLISHED]! / SEC,
      tcpfin: this.tcp[TCP_S_FIN_WAIT]! / SEC,
      udp: this.udp / SEC,
    };
  }

  /** Timeout of a conn of `proto` in `state` (state only matters for TCP). */
  of(proto: number, state: number): number {
    if (proto === IPPROTO_TCP) return this.tcp[state] ?? this.tcp[0]!;
    if (proto === IPPROTO_UDP) return this.udp;
    if (proto === IPPROTO_ICMP) return this.icmp;
    return this.udp;
  }
}
