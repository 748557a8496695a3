// SCTP (ip_vs_proto_sctp.c): ports from the common header, the kernel's
// association state table keyed on the first chunk's type, and NAT of the
// ports, which takes a CRC32c over the whole packet afresh: the CRC covers no
// pseudo-header (an address change leaves it alone) and, not being a sum,
// cannot be patched from a port's old and new value.
//
// What parse() leaves in L4Info.flags: the state-table event (low four bits,
// SCTP_EV_*: the first chunk's, or ABORT for a COOKIE ECHO / COOKIE ACK with
// an ABORT after it, as set_sctp_state reads it) and three bits about the
// first chunk: SCTP_F_INIT, SCTP_F_ABORT, SCTP_F_NO_CHUNK.
import { DropCode, FORWARDED } from '../../model/verdict.js';
import { WIRE_OK } from '../../wire/errors.js';
import { IPPROTO_SCTP } from '../../wire/ipproto.js';
import { SCTP_ABORT, SCTP_INIT, SctpView } from '../../wire/sctp.js';
import {
  DEFAULT_SCTP_TIMEOUTS, SCTP_S_CLOSED, SCTP_S_ESTABLISHED, SCTP_STATE_NAMES, nextSctpState, sctpEvent,
} from '../sctp-states.js';
import { registerProto, type ProtoOps } from './ops.js';

/** Mask of the state-table event in L4Info.flags. */
export const SCTP_F_EVENT = 0x0f;
/** The first chunk is an INIT: the packet may open an association (and opens a new one on a CLOSED conn). */
export const SCTP_F_INIT = 0x10;
/** The first chunk is an ABORT: never scheduled, not even with sloppy_sctp. */
export const SCTP_F_ABORT = 0x20;
/** No whole chunk header after the common header: never scheduled, the state is left alone. */
export const SCTP_F_NO_CHUNK = 0x40;

/** Bytes of a quoted SCTP header that hold both ports (what the kernel reads of a quoted packet). */
const SCTP_PORTS_LEN = 4;

const v = new SctpView();

/**
 * Before NAT writes a port: the CRC is taken afresh over the packet, so a
 * packet whose stored CRC is already wrong would leave with a valid one.
 * The packet is dropped instead (sctp-bad-crc); a first fragment, whose CRC
 * covers bytes that are not here, cannot be rewritten (sctp-fragment-nat).
 * A packet whose port already has the new value is not touched (the kernel
 * then writes nothing either) and goes on as it came.
 */
function natVerify(buf: Uint8Array, off: number, len: number, partial: boolean, srcSide: boolean, port: number): number {
  if (v.wrap(buf, off, len) !== WIRE_OK) return DropCode['malformed-l4'];
  if ((srcSide ? v.sport : v.dport) === (port & 0xffff)) return FORWARDED;
  if (partial) return DropCode['sctp-fragment-nat'];
  return v.crcOk() ? FORWARDED : DropCode['sctp-bad-crc'];
}

export const sctpOps: ProtoOps = {
  proto: IPPROTO_SCTP,
  name: 'SCTP',
  stateful: true,
  defaultTimeouts: DEFAULT_SCTP_TIMEOUTS,
  stateNames: SCTP_STATE_NAMES,

  parse(buf, off, len, _partial, out) {
    const rc = v.wrap(buf, off, len);
    if (rc !== WIRE_OK) return rc;
    out.sport = v.sport;
    out.dport = v.dport;
    const first = v.firstChunkType;
    if (first < 0) {
      out.flags = SCTP_F_NO_CHUNK;
      return WIRE_OK;
    }
    let f = sctpEvent(v.ipvsChunkType());
    if (first === SCTP_INIT) f |= SCTP_F_INIT;
    else if (first === SCTP_ABORT) f |= SCTP_F_ABORT;
    out.flags = f;
    return WIRE_OK;
  },
  // sctp_conn_schedule: an INIT opens an association; with sloppy_sctp any first chunk but an ABORT
  schedulable: (flags) => (flags & SCTP_F_INIT) !== 0,
  sloppyOpens: (flags, s) => s.sloppySctp && (flags & (SCTP_F_ABORT | SCTP_F_NO_CHUNK)) === 0,
  // nat_icmp_send: a real server's stray packet is answered unless it is an ABORT
  natIcmpAnswers: (flags) => (flags & SCTP_F_ABORT) === 0,
  // is_new_conn: the first chunk is an INIT
  opensNew: (flags) => (flags & SCTP_F_INIT) !== 0,
  // is_new_conn_expected: only a CLOSED association is replaced
  expectsNewConn: (state) => state === SCTP_S_CLOSED,
  nextState(state, dir, flags) {
    // set_sctp_state reads no chunk header: the state stays
    if ((flags & SCTP_F_NO_CHUNK) !== 0) return state;
    return nextSctpState(state, dir, flags & SCTP_F_EVENT);
  },
  isActive: (state) => state === SCTP_S_ESTABLISHED,
  natVerify,
  dnat(buf, off, len, _oldAddr, _newAddr, port) {
    if (v.wrap(buf, off, len) !== WIRE_OK) return;
    v.rewriteDport(port);
  },
  snat(buf, off, len, _oldAddr, _newAddr, port) {
    if (v.wrap(buf, off, len) !== WIRE_OK) return;
    v.rewriteSport(port);
  },
  // ip_vs_nat_icmp: the quoted ports change; the quoted CRC covers what is
  // not quoted and stays (the ICMP checksum is the caller's)
  rewriteQuoted(buf, off, avail, srcSide, port) {
    if (avail < SCTP_PORTS_LEN || off + SCTP_PORTS_LEN > buf.length) return false;
    const p = off + (srcSide ? 0 : 2);
    buf[p] = port >>> 8;
    buf[p + 1] = port;
    return true;
  },
  parseQuoted(buf, off, avail, out) {
    if (avail < SCTP_PORTS_LEN || off + SCTP_PORTS_LEN > buf.length) return false;
    out.sport = (buf[off]! << 8) | buf[off + 1]!;
    out.dport = (buf[off + 2]! << 8) | buf[off + 3]!;
    out.flags = 0;
    return true;
  },
  nat6(buf, off, len, _partial, srcSide, port) {
    if (v.wrap(buf, off, len) !== WIRE_OK) return;
    if (srcSide) v.rewriteSport(port);
    else v.rewriteDport(port);
  },
  rewriteQuoted6(buf, off, avail, srcSide, port) {
    return sctpOps.rewriteQuoted(buf, off, avail, srcSide, port, 0, 0);
  },
};

registerProto(sctpOps);
