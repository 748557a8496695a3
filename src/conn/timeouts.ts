import { IPPROTO_TCP, IPPROTO_UDP } from '../wire/ipproto.js';
import { registeredProtos } from './proto/ops.js';
import { TCP_S_ESTABLISHED, TCP_S_FIN_WAIT } from './tcp-states.js';

const SEC = 1000;

/** A new conn's timeout before its first state transition (ip_vs_conn_new). */
export const INITIAL_TIMEOUT = 3 * SEC;
/** How long a conn that still controls others is kept when its timer runs out. */
export const CONTROL_REARM = 60 * SEC;
/** For a protocol without an entry (never used by the data path, which only makes conns of registered protocols). */
const FALLBACK_TIMEOUT = 5 * 60 * SEC;

/** `ipvsadm --set tcp tcpfin udp` figures, in seconds. */
export interface IpvsadmTimeouts {
  tcp: number;
  tcpfin: number;
  udp: number;
}

/**
 * The timeout tables the connection table reads, one per registered protocol
 * (ms, indexed by state), starting from each protocol's defaults.
 */
export class Timeouts {
  private readonly byProto: (Float64Array | undefined)[] = new Array(256).fill(undefined);

  constructor() {
    for (const p of registeredProtos()) this.byProto[p.proto] = Float64Array.from(p.defaultTimeouts);
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
    const tcp = this.byProto[IPPROTO_TCP]!;
    if (t.tcp) tcp[TCP_S_ESTABLISHED] = t.tcp * SEC;
    if (t.tcpfin) tcp[TCP_S_FIN_WAIT] = t.tcpfin * SEC;
    if (t.udp) this.byProto[IPPROTO_UDP]![0] = t.udp * SEC;
  }

  /** As `ipvsadm -L --timeout`, in seconds. */
  get(): IpvsadmTimeouts {
    const tcp = this.byProto[IPPROTO_TCP]!;
    return {
      tcp: tcp[TCP_S_ESTABLISHED]! / SEC,
      tcpfin: tcp[TCP_S_FIN_WAIT]! / SEC,
      udp: this.byProto[IPPROTO_UDP]![0]! / SEC,
    };
  }

  /** Timeout of a conn of `proto` in `state`, ms. */
  of(proto: number, state: number): number {
    const t = this.byProto[proto];
    if (t === undefined) return FALLBACK_TIMEOUT;
    return t[state] ?? t[0]!;
  }
}
