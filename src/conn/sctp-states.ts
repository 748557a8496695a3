// SCTP association states as IPVS tracks them (ip_vs_proto_sctp.c). The
// director sees the chunks of one or both directions and moves a conn
// through these states from the type of the first chunk of each packet; the
// state picks the conn's timeout, and only ESTABLISHED counts as an active
// connection of its dest.
//
// The states are seen from the real server's side. Besides RFC 9260's
// association states the kernel has INIT1 (first INIT, short timeout for a
// dropped one), REJECTED (an INIT answered with ABORT, short timeout) and
// INIT / COOKIE_SENT / COOKIE_REPLIED / COOKIE_WAIT / COOKIE for the steps of
// the four-way handshake, from the client (C) or from the server (S):
//   INIT1           first C:INIT sent, waiting for S:INIT ACK
//   INIT            a further C:INIT
//   COOKIE_SENT     S:INIT ACK sent, waiting for C:COOKIE ECHO
//   COOKIE_REPLIED  C:COOKIE ECHO sent, waiting for S:COOKIE ACK
//   COOKIE_WAIT     S:INIT sent (the server opens), waiting for C:INIT ACK
//   COOKIE          C:INIT ACK sent, waiting for S:COOKIE ECHO
//   COOKIE_ECHOED   S:COOKIE ECHO sent, waiting for C:COOKIE ACK
import {
  SCTP_ABORT, SCTP_COOKIE_ACK, SCTP_COOKIE_ECHO, SCTP_DATA, SCTP_ERROR, SCTP_INIT, SCTP_INIT_ACK,
  SCTP_SHUTDOWN, SCTP_SHUTDOWN_ACK, SCTP_SHUTDOWN_COMPLETE,
} from '../wire/sctp.js';

export const SCTP_S_NONE = 0;
export const SCTP_S_INIT1 = 1;
export const SCTP_S_INIT = 2;
export const SCTP_S_COOKIE_SENT = 3;
export const SCTP_S_COOKIE_REPLIED = 4;
export const SCTP_S_COOKIE_WAIT = 5;
export const SCTP_S_COOKIE = 6;
export const SCTP_S_COOKIE_ECHOED = 7;
export const SCTP_S_ESTABLISHED = 8;
export const SCTP_S_SHUTDOWN_SENT = 9;
export const SCTP_S_SHUTDOWN_RECEIVED = 10;
export const SCTP_S_SHUTDOWN_ACK_SENT = 11;
export const SCTP_S_REJECTED = 12;
export const SCTP_S_CLOSED = 13;
export const SCTP_S_COUNT = 14;

/** As ipvsadm -Lc and /proc/net/ip_vs_conn print them (the kernel's sctp_state_name_table). */
export const SCTP_STATE_NAMES: readonly string[] = [
  'NONE', 'INIT1', 'INIT', 'C-SENT', 'C-REPLIED', 'C-WAIT', 'COOKIE', 'C-ECHOED',
  'ESTABLISHED', 'S-SENT', 'S-RECEIVED', 'S-ACK-SENT', 'REJECTED', 'CLOSED',
];

const SEC = 1000;
/** IP_VS_SCTP_MAX_RTO: RTO.Max (60 s) plus one second. */
const MAX_RTO = 61 * SEC;

/** The kernel's sctp_timeouts in ms, indexed by state. */
export const DEFAULT_SCTP_TIMEOUTS: readonly number[] = [
  2 * SEC, // NONE
  4 * SEC, // INIT1
  MAX_RTO, // INIT
  MAX_RTO, // COOKIE_SENT
  MAX_RTO, // COOKIE_REPLIED
  MAX_RTO, // COOKIE_WAIT
  MAX_RTO, // COOKIE
  MAX_RTO, // COOKIE_ECHOED
  15 * 60 * SEC, // ESTABLISHED
  MAX_RTO, // SHUTDOWN_SENT
  MAX_RTO, // SHUTDOWN_RECEIVED
  MAX_RTO, // SHUTDOWN_ACK_SENT
  4 * SEC, // REJECTED
  MAX_RTO, // CLOSED
];

// The events the table is keyed on (the kernel's ipvs_sctp_event_t).
/** DATA, SACK, HEARTBEAT, HEARTBEAT ACK, ECNE, CWR and every chunk type from 15 up. */
export const SCTP_EV_DATA = 0;
export const SCTP_EV_INIT = 1;
export const SCTP_EV_INIT_ACK = 2;
export const SCTP_EV_COOKIE_ECHO = 3;
export const SCTP_EV_COOKIE_ACK = 4;
export const SCTP_EV_SHUTDOWN = 5;
export const SCTP_EV_SHUTDOWN_ACK = 6;
export const SCTP_EV_SHUTDOWN_COMPLETE = 7;
export const SCTP_EV_ERROR = 8;
export const SCTP_EV_ABORT = 9;
export const SCTP_EV_COUNT = 10;

/** The event of a chunk type (the kernel's sctp_events[]; types it does not list are DATA). */
export function sctpEvent(chunkType: number): number {
  switch (chunkType) {
    case SCTP_INIT: return SCTP_EV_INIT;
    case SCTP_INIT_ACK: return SCTP_EV_INIT_ACK;
    case SCTP_COOKIE_ECHO: return SCTP_EV_COOKIE_ECHO;
    case SCTP_COOKIE_ACK: return SCTP_EV_COOKIE_ACK;
    case SCTP_SHUTDOWN: return SCTP_EV_SHUTDOWN;
    case SCTP_SHUTDOWN_ACK: return SCTP_EV_SHUTDOWN_ACK;
    case SCTP_SHUTDOWN_COMPLETE: return SCTP_EV_SHUTDOWN_COMPLETE;
    case SCTP_ERROR: return SCTP_EV_ERROR;
    case SCTP_ABORT: return SCTP_EV_ABORT;
    case SCTP_DATA:
    default: return SCTP_EV_DATA;
  }
}

const S: Record<string, number> = {
  NO: SCTP_S_NONE, I1: SCTP_S_INIT1, IN: SCTP_S_INIT, CS: SCTP_S_COOKIE_SENT, CR: SCTP_S_COOKIE_REPLIED,
  CW: SCTP_S_COOKIE_WAIT, CO: SCTP_S_COOKIE, CE: SCTP_S_COOKIE_ECHOED, ES: SCTP_S_ESTABLISHED,
  SS: SCTP_S_SHUTDOWN_SENT, SR: SCTP_S_SHUTDOWN_RECEIVED, SA: SCTP_S_SHUTDOWN_ACK_SENT,
  RJ: SCTP_S_REJECTED, CL: SCTP_S_CLOSED,
};

// The next state for the current states in the order
//   NO I1 IN CS CR CW CO CE ES SS SR SA RJ CL
// per direction (in: client to real server with replies seen; out: real
// server to client; io: client to real server when replies bypass the
// director) and event, as the kernel's sctp_states[][][].
const TABLE_TEXT = `
  in  data:     ES I1 IN CS CR CW CO CE ES SS SR SA RJ CL
  in  init:     I1 IN IN CS CR CW CO CE ES SS SR SA IN IN
  in  init_ack: CW CW CW CS CR CO CO CE ES SS SR SA RJ CL
  in  c_echo:   CR IN IN CR CR CW CO CE ES SS SR SA RJ CL
  in  c_ack:    ES I1 IN CS CR CW CO ES ES SS SR SA RJ CL
  in  shut:     SR I1 IN CS CR CW CO CE SR SS SR SA RJ CL
  in  shut_ack: CL IN IN CS CR CW CO CE ES CL SR CL RJ CL
  in  shut_com: CL CL CL CS CR CW CO CE ES SS SR CL RJ CL
  in  error:    CL I1 IN CS CR CW CO CL ES SS SR SA RJ CL
  in  abort:    CL CL CL CL CL RJ CL CL CL CL CL CL CL CL
  out data:     ES I1 IN CS CR CW CO CE ES SS SR SA RJ CL
  out init:     CW CW CW CW CW CW CW CW ES CW CW CW CW CW
  out init_ack: CS CS CS CS CR CW CO CE ES SS SR SA RJ CL
  out c_echo:   CE CE CE CE CE CE CE CE ES SS SR SA RJ CL
  out c_ack:    ES ES ES ES ES ES ES ES ES SS SR SA RJ CL
  out shut:     SS SS SS SS SS SS SS SS SS SS SR SA RJ CL
  out shut_ack: SA SA SA SA SA CW CO CE ES SA SA SA RJ CL
  out shut_com: CL I1 IN CS CR CW CO CE ES SS SR SA RJ CL
  out error:    CL CL CL CL CL CW CO CE ES SS SR SA RJ CL
  out abort:    CL RJ CL CL CL CL CL CL CL CL CL CL CL CL
  io  data:     ES I1 IN CS CR ES CO CE ES SS SR SA RJ CL
  io  init:     I1 IN IN IN IN IN CO CE ES SS SR SA IN IN
  io  init_ack: CE CE CE CE CE CE CO CE ES SS SR SA RJ CL
  io  c_echo:   ES ES ES ES ES ES CO CE ES SS SR SA RJ CL
  io  c_ack:    ES I1 IN ES ES CW ES ES ES SS SR SA RJ CL
  io  shut:     SR I1 IN CS CR CW CO CE SR SS SR SA RJ CL
  io  shut_ack: CL IN IN CS CR CW CO CE CL CL SR CL RJ CL
  io  shut_com: CL CL CL CL CL CW CO CE ES SS CL CL RJ CL
  io  error:    CL I1 IN CS CR CW CO CE ES SS SR SA RJ CL
  io  abort:    CL CL CL CL CL RJ CL CL CL CL CL CL CL CL
`;

/** Flattened: index ((dir * SCTP_EV_COUNT + event) * SCTP_S_COUNT + state). */
const TABLE = ((): Uint8Array => {
  const rows = TABLE_TEXT.trim().split('\n');
  if (rows.length !== 3 * SCTP_EV_COUNT) throw new Error('sctp state table: 30 rows expected');
  const t = new Uint8Array(3 * SCTP_EV_COUNT * SCTP_S_COUNT);
  rows.forEach((row, r) => {
    const cells = row.split(':')[1]!.trim().split(/\s+/);
    if (cells.length !== SCTP_S_COUNT) throw new Error(`sctp state table row ${r}: ${cells.length} cells`);
    cells.forEach((c, s) => {
      const v = S[c];
      if (v === undefined) throw new Error(`sctp state table: bad cell ${c}`);
      t[r * SCTP_S_COUNT + s] = v;
    });
  });
  return t;
})();

/** Next state of a conn in `state` seeing `event` in direction `dir` (DIR_INPUT, DIR_OUTPUT, DIR_INPUT_ONLY). */
export function nextSctpState(state: number, dir: number, event: number): number {
  if (state >= SCTP_S_COUNT || event >= SCTP_EV_COUNT || dir > 2) return state;
  return TABLE[(dir * SCTP_EV_COUNT + event) * SCTP_S_COUNT + state]!;
}
