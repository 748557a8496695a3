// TCP (ip_vs_proto_tcp.c): ports, the IPVS state table, and NAT of the
// checksum, which covers a pseudo-header with both addresses.
import { IPPROTO_TCP } from '../../wire/ipproto.js';
import { TCP_CHECKSUM_OFFSET, TCP_RST, TCP_SYN, TcpView } from '../../wire/tcp.js';
import { WIRE_OK } from '../../wire/errors.js';
import { csumAdjust } from '../../wire/checksum6.js';
import { partialAdjust, partialUpdate32 } from '../../wire/csum-partial.js';
import {
  TCP_S_CLOSE, TCP_S_FIN_WAIT, TCP_S_TIME_WAIT, TCP_STATE_ACTIVE, TCP_STATE_NAMES, nextTcpState,
} from '../tcp-states.js';
import { registerProto, type L4Info, type ProtoOps } from './ops.js';

const SEC = 1000;
/** Bytes of a TCP header up to the end of its checksum field: a quote this long holds it. */
const TCP_CHECKSUM_END = TCP_CHECKSUM_OFFSET + 2;

/** IPVS default TCP timeouts in ms, indexed by state (tcp_timeouts in ip_vs_proto_tcp.c). */
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

// Each call wraps the view afresh: no state survives between calls.
const v = new TcpView();

function isSyn(flags: number): boolean {
  return (flags & (TCP_SYN | TCP_RST)) === TCP_SYN;
}

export const tcpOps: ProtoOps = {
  proto: IPPROTO_TCP,
  name: 'TCP',
  stateful: true,
  defaultTimeouts: DEFAULT_TCP_TIMEOUTS,
  stateNames: TCP_STATE_NAMES,

  parse(buf, off, len, _partial, out: L4Info) {
    const rc = v.wrap(buf, off, len);
    if (rc !== WIRE_OK) return rc;
    out.sport = v.sport;
    out.dport = v.dport;
    out.flags = v.flags;
    return WIRE_OK;
  },
  // as tcp_conn_schedule: only a SYN (without RST) opens a connection
  schedulable: isSyn,
  // sloppy_tcp: tcp_conn_schedule takes any packet but a RST (a conn picked up mid-stream, after a failover)
  sloppyOpens: (flags, s) => s.sloppyTcp && (flags & TCP_RST) === 0,
  natIcmpAnswers: (flags) => (flags & TCP_RST) === 0,
  opensNew: isSyn,
  expectsNewConn(state, noOutput, reuseMode) {
    return state === TCP_S_TIME_WAIT || state === TCP_S_CLOSE ||
      ((reuseMode & 2) !== 0 && state === TCP_S_FIN_WAIT && noOutput);
  },
  nextState: nextTcpState,
  isActive(state) {
    return TCP_STATE_ACTIVE[state] === true;
  },
  dnat(buf, off, len, oldAddr, newAddr, port, csumPartial) {
    v.wrap(buf, off, len);
    if (csumPartial) {
      // the field holds the pseudo-header sum: the address goes in, the port is summed when finished
      v.checksum = partialUpdate32(v.checksum, oldAddr >>> 0, newAddr >>> 0);
      v.dport = port;
      return;
    }
    v.pseudoAddrChanged(oldAddr, newAddr);
    v.rewriteDport(port);
  },
  snat(buf, off, len, oldAddr, newAddr, port, csumPartial) {
    v.wrap(buf, off, len);
    if (csumPartial) {
      v.checksum = partialUpdate32(v.checksum, oldAddr >>> 0, newAddr >>> 0);
      v.sport = port;
      return;
    }
    v.pseudoAddrChanged(oldAddr, newAddr);
    v.rewriteSport(port);
  },
  rewriteQuoted(buf, off, avail, srcSide, port, oldAddr, newAddr) {
    if (v.wrapQuoted(buf, off, avail) !== WIRE_OK) return false;
    v.rewriteQuoted(srcSide, port, oldAddr, newAddr);
    return true;
  },
  parseQuoted(buf, off, avail, out) {
    if (v.wrapQuoted(buf, off, avail) !== WIRE_OK) return false;
    out.sport = v.sport;
    out.dport = v.dport;
    out.flags = 0;
    return true;
  },
  nat6(buf, off, len, _partial, srcSide, port, delta, _ip, csumPartial) {
    v.wrap(buf, off, len);
    if (csumPartial) {
      v.checksum = partialAdjust(v.checksum, delta);
      if (srcSide) v.sport = port;
      else v.dport = port;
      return;
    }
    v.checksum = csumAdjust(v.checksum, delta);
    if (srcSide) v.rewriteSport(port);
    else v.rewriteDport(port);
  },
  rewriteQuoted6(buf, off, avail, srcSide, port, delta) {
    if (v.wrapQuoted(buf, off, avail) !== WIRE_OK) return false;
    if (avail < TCP_CHECKSUM_END) {
      // the checksum is not among the quoted bytes: only the port changes
      if (srcSide) v.sport = port;
      else v.dport = port;
      return true;
    }
    v.checksum = csumAdjust(v.checksum, delta);
    if (srcSide) v.rewriteSport(port);
    else v.rewriteDport(port);
    return true;
  },
};

registerProto(tcpOps);
