// TCP connection states as IPVS tracks them (ip_vs_proto_tcp.c). The director
// sees one or both halves of a connection and moves a conn through these
// states from the TCP flags alone; the state picks the conn's timeout and
// whether it counts as an active or an inactive connection of its dest.

export const TCP_S_NONE = 0;
export const TCP_S_ESTABLISHED = 1;
export const TCP_S_SYN_SENT = 2;
export const TCP_S_SYN_RECV = 3;
export const TCP_S_FIN_WAIT = 4;
export const TCP_S_TIME_WAIT = 5;
export const TCP_S_CLOSE = 6;
export const TCP_S_CLOSE_WAIT = 7;
export const TCP_S_LAST_ACK = 8;
export const TCP_S_LISTEN = 9;
export const TCP_S_SYNACK = 10;
export const TCP_S_COUNT = 11;

export const TCP_STATE_NAMES: readonly string[] = [
  'NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT',
  'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'SYNACK',
];

/**
 * Which states count in dest.activeConns. Since Linux 4.7 IPVS counts the
 * handshake states as active too (a SYN flood then shows up in ActiveConn and
 * least-connection schedulers see it); every other state is inactive.
 */
export const TCP_STATE_ACTIVE: readonly boolean[] = [
  false, true, true, true, false, false, false, false, false, false, true,
];

// Packet directions, as the director classifies a packet of a known conn.
/** client -> real server, director sees both halves (NAT) */
export const DIR_INPUT = 0;
/** real server -> client, through the director (NAT replies) */
export const DIR_OUTPUT = 1;
/** client -> real server when replies bypass the director (DR, TUN) */
export const DIR_INPUT_ONLY = 2;
export type Dir = typeof DIR_INPUT | typeof DIR_OUTPUT | typeof DIR_INPUT_ONLY;

// The TCP flag bits the state table is keyed on, under the kernel's names.
import { TCP_ACK as TH_ACK, TCP_FIN as TH_FIN, TCP_RST as TH_RST, TCP_SYN as TH_SYN } from '../wire/tcp.js';

export { TH_ACK, TH_FIN, TH_RST, TH_SYN };

/** Row of a transition table for one flag: the next state indexed by current state. */
const S: Record<string, number> = {
  NO: TCP_S_NONE, ES: TCP_S_ESTABLISHED, SS: TCP_S_SYN_SENT, SR: TCP_S_SYN_RECV,
  FW: TCP_S_FIN_WAIT, TW: TCP_S_TIME_WAIT, CL: TCP_S_CLOSE, CW: TCP_S_CLOSE_WAIT,
  LA: TCP_S_LAST_ACK, LI: TCP_S_LISTEN, SA: TCP_S_SYNACK,
};

// Each line gives the next state for the current states in the order
// NO ES SS SR FW TW CL CW LA LI SA. Three directions x four flag classes
// (syn, fin, ack, rst), as the kernel's tcp_states[] (the default) and
// tcp_states_dos[] (sysctl secure_tcp) tables.
const NORMAL = `
  in  syn: SR ES ES SR SR SR SR SR SR SR SR
  in  fin: CL CW SS TW TW TW CL CW LA LI TW
  in  ack: ES ES SS ES FW TW CL CW CL LI ES
  in  rst: CL CL CL SR CL CL CL CL LA LI SR
  out syn: SS ES SS SR SS SS SS SS SS LI SR
  out fin: TW FW SS TW FW TW CL TW LA LI TW
  out ack: ES ES SS ES FW TW CL CW LA ES ES
  out rst: CL CL SS CL CL TW CL CL CL CL CL
  io  syn: SR ES ES SR SR SR SR SR SR SR SR
  io  fin: CL FW SS TW FW TW CL CW LA LI TW
  io  ack: ES ES SS ES FW TW CL CW CL LI ES
  io  rst: CL CL CL SR CL CL CL CL LA LI CL
`;

const SECURE = `
  in  syn: SR ES ES SR SR SR SR SR SR SR SA
  in  fin: CL CW SS TW TW TW CL CW LA LI SA
  in  ack: ES ES SS SR FW TW CL CW CL LI SA
  in  rst: CL CL CL SR CL CL CL CL LA LI CL
  out syn: SS ES SS SA SS SS SS SS SS LI SA
  out fin: TW FW SS TW FW TW CL TW LA LI TW
  out ack: ES ES SS ES FW TW CL CW LA ES ES
  out rst: CL CL SS CL CL TW CL CL CL CL CL
  io  syn: SA ES ES SR SA SA SA SA SA SA SA
  io  fin: CL FW SS TW FW TW CL CW LA LI TW
  io  ack: ES ES SS ES FW TW CL CW CL LI ES
  io  rst: CL CL CL SR CL CL CL CL LA LI CL
`;

/** Flattened table: index ((dir * 4 + flagClass) * TCP_S_COUNT + state). */
function build(text: string): Uint8Array {
  const rows = text.trim().split('\n');
  if (rows.length !== 12) throw new Error('tcp state table: 12 rows expected');
  const t = new Uint8Array(12 * TCP_S_COUNT);
  rows.forEach((row, r) => {
    const cells = row.split(':')[1]!.trim().split(/\s+/);
    if (cells.length !== TCP_S_COUNT) throw new Error(`tcp state table row ${r}: ${cells.length} cells`);
    cells.forEach((c, s) => {
      const v = S[c];
      if (v === undefined) throw new Error(`tcp state table: bad cell ${c}`);
      t[r * TCP_S_COUNT + s] = v;
    });
  });
  return t;
}

const TABLE_NORMAL = build(NORMAL);
const TABLE_SECURE = build(SECURE);

/**
 * The flag class the kernel keys its table on: RST wins over SYN over FIN
 * over ACK; a segment with none of them gives -1.
 */
export function tcpFlagClass(tcpFlags: number): number {
  if (tcpFlags & TH_RST) return 3;
  if (tcpFlags & TH_SYN) return 0;
  if (tcpFlags & TH_FIN) return 1;
  if (tcpFlags & TH_ACK) return 2;
  return -1;
}

/**
 * Next state of a conn in `state` seeing a segment with `tcpFlags` in
 * direction `dir`. A segment without SYN/FIN/ACK/RST sends the conn to CLOSE,
 * as the kernel does (its default when the flag class is unknown).
 */
export function nextTcpState(state: number, dir: number, tcpFlags: number, secure = false): number {
  const cls = tcpFlagClass(tcpFlags);
  if (cls < 0 || state >= TCP_S_COUNT) return TCP_S_CLOSE;
  const t = secure ? TABLE_SECURE : TABLE_NORMAL;
  return t[(dir * 4 + cls) * TCP_S_COUNT + state]!;
}
