// The SCTP protocol entry: what parse() reads of the first chunks, the
// scheduling gates, the kernel's state table in the three directions, the
// timeouts and the names ipvsadm -Lc shows.
import { describe, expect, it } from 'vitest';
import { protoOps } from '../../src/conn/proto/index.js';
import { SCTP_F_ABORT, SCTP_F_EVENT, SCTP_F_INIT, SCTP_F_NO_CHUNK } from '../../src/conn/proto/sctp.js';
import {
  DEFAULT_SCTP_TIMEOUTS, nextSctpState, SCTP_EV_ABORT, SCTP_EV_COOKIE_ECHO, SCTP_EV_DATA, SCTP_EV_INIT, SCTP_EV_SHUTDOWN_COMPLETE,
  SCTP_S_CLOSED, SCTP_S_COOKIE_WAIT, SCTP_S_ESTABLISHED, SCTP_S_INIT1, SCTP_S_NONE, SCTP_S_REJECTED, SCTP_STATE_NAMES, sctpEvent,
} from '../../src/conn/sctp-states.js';
import { DIR_INPUT, DIR_INPUT_ONLY, DIR_OUTPUT } from '../../src/conn/tcp-states.js';
import { Timeouts } from '../../src/conn/timeouts.js';
import { emitSctp, sctpLength, type SctpChunk, type SctpPacket } from '../../src/wire/sctp.js';
import type { L4Info } from '../../src/conn/proto/ops.js';

const ops = protoOps(132)!;
const SLOPPY = { sloppyTcp: false, sloppySctp: true };
const STRICT = { sloppyTcp: false, sloppySctp: false };

function pkt(chunks: SctpChunk[]): Uint8Array {
  const p: SctpPacket = { sport: 1234, dport: 5000, vtag: 7, chunks };
  const b = new Uint8Array(sctpLength(p));
  emitSctp(p, b, 0);
  return b;
}
function flagsOf(b: Uint8Array): L4Info {
  const out: L4Info = { sport: 0, dport: 0, flags: 0 };
  expect(ops.parse(b, 0, b.length, false, out)).toBe(0);
  return out;
}
const chunk = (type: number, len = 0): SctpChunk => ({ type, flags: 0, value: new Uint8Array(len) });

describe('SCTP protocol entry', () => {
  it('is registered as SCTP, stateful, with the kernel\'s names and timeouts', () => {
    expect([ops.name, ops.stateful]).toEqual(['SCTP', true]);
    expect(ops.stateNames).toEqual(['NONE', 'INIT1', 'INIT', 'C-SENT', 'C-REPLIED', 'C-WAIT', 'COOKIE', 'C-ECHOED',
      'ESTABLISHED', 'S-SENT', 'S-RECEIVED', 'S-ACK-SENT', 'REJECTED', 'CLOSED']);
    expect(DEFAULT_SCTP_TIMEOUTS.map((t) => t / 1000)).toEqual([2, 4, 61, 61, 61, 61, 61, 61, 900, 61, 61, 61, 4, 61]);
    const t = new Timeouts();
    expect([t.of(132, SCTP_S_INIT1), t.of(132, SCTP_S_ESTABLISHED)]).toEqual([4000, 900000]);
    // ipvsadm --set has no SCTP figure: setting the three leaves SCTP's alone
    t.set({ tcp: 10, tcpfin: 10, udp: 10 });
    expect(t.of(132, SCTP_S_ESTABLISHED)).toBe(900000);
  });

  it('parse: ports, the first chunk\'s event and INIT / ABORT / no-chunk bits', () => {
    const init = flagsOf(pkt([chunk(1, 16)]));
    expect([init.sport, init.dport, init.flags]).toEqual([1234, 5000, SCTP_EV_INIT | SCTP_F_INIT]);
    expect(flagsOf(pkt([chunk(6)])).flags).toBe(SCTP_EV_ABORT | SCTP_F_ABORT);
    expect(flagsOf(pkt([])).flags).toBe(SCTP_F_NO_CHUNK);
    // COOKIE ECHO then ABORT: the ABORT's event (set_sctp_state), but not an ABORT first chunk
    expect(flagsOf(pkt([chunk(10, 3), chunk(6)])).flags).toBe(SCTP_EV_ABORT);
    // ABORT after a DATA is not looked for
    expect(flagsOf(pkt([chunk(0, 12), chunk(6)])).flags & SCTP_F_EVENT).toBe(SCTP_EV_DATA);
    // chunk types the kernel does not list count as DATA (AUTH, I-DATA, FORWARD TSN, ASCONF)
    for (const t of [15, 64, 192, 193]) expect(sctpEvent(t)).toBe(SCTP_EV_DATA);
    expect(sctpEvent(14)).toBe(SCTP_EV_SHUTDOWN_COMPLETE);
  });

  it('scheduling: INIT only; sloppy_sctp takes anything but ABORT or a packet without a chunk', () => {
    const f = (c: SctpChunk[]) => flagsOf(pkt(c)).flags;
    expect(ops.schedulable(f([chunk(1, 16)]))).toBe(true);
    expect(ops.schedulable(f([chunk(0, 12)]))).toBe(false);
    expect(ops.sloppyOpens!(f([chunk(0, 12)]), STRICT)).toBe(false);
    expect(ops.sloppyOpens!(f([chunk(0, 12)]), SLOPPY)).toBe(true);
    expect(ops.sloppyOpens!(f([chunk(10, 3), chunk(6)]), SLOPPY)).toBe(true);
    expect(ops.sloppyOpens!(f([chunk(6)]), SLOPPY)).toBe(false);
    expect(ops.sloppyOpens!(f([]), SLOPPY)).toBe(false);
    expect([ops.opensNew(f([chunk(1, 16)])), ops.opensNew(f([chunk(2, 16)]))]).toEqual([true, false]);
    expect([ops.expectsNewConn(SCTP_S_CLOSED, false, 1), ops.expectsNewConn(SCTP_S_ESTABLISHED, false, 1)]).toEqual([true, false]);
    expect([ops.natIcmpAnswers!(f([chunk(6)])), ops.natIcmpAnswers!(f([chunk(0, 12)]))]).toEqual([false, true]);
  });

  it('the state table: each direction as the kernel\'s sctp_states', () => {
    const name = (s: number) => SCTP_STATE_NAMES[s];
    // a server-opened association as the director sees it in NAT: S:INIT out, C:INIT ACK in, S:COOKIE ECHO out, C:COOKIE ACK in
    let s = SCTP_S_NONE;
    const walk: [number, number, string][] = [
      [DIR_OUTPUT, SCTP_EV_INIT, 'C-WAIT'], [DIR_INPUT, 2, 'COOKIE'], [DIR_OUTPUT, SCTP_EV_COOKIE_ECHO, 'C-ECHOED'],
      [DIR_INPUT, 4, 'ESTABLISHED'],
    ];
    for (const [dir, ev, want] of walk) expect(name((s = nextSctpState(s, dir, ev)))).toBe(want);
    // the input-only table: COOKIE ECHO establishes
    expect(name(nextSctpState(SCTP_S_INIT1, DIR_INPUT_ONLY, SCTP_EV_COOKIE_ECHO))).toBe('ESTABLISHED');
    // an ABORT answering the client's first INIT (reply side) rejects; from C-WAIT too in the input table
    expect(nextSctpState(SCTP_S_INIT1, DIR_OUTPUT, SCTP_EV_ABORT)).toBe(SCTP_S_REJECTED);
    expect(nextSctpState(SCTP_S_COOKIE_WAIT, DIR_INPUT, SCTP_EV_ABORT)).toBe(SCTP_S_REJECTED);
    // a new INIT from the client restarts a REJECTED or CLOSED association as INIT
    expect(name(nextSctpState(SCTP_S_REJECTED, DIR_INPUT, SCTP_EV_INIT))).toBe('INIT');
    expect(name(nextSctpState(SCTP_S_CLOSED, DIR_INPUT, SCTP_EV_INIT))).toBe('INIT');
    // an INIT from the server in ESTABLISHED (a restart) keeps the state; elsewhere it is C-WAIT
    expect(nextSctpState(SCTP_S_ESTABLISHED, DIR_OUTPUT, SCTP_EV_INIT)).toBe(SCTP_S_ESTABLISHED);
    // no chunk: the state stays
    expect(ops.nextState(SCTP_S_INIT1, DIR_INPUT, SCTP_F_NO_CHUNK, false)).toBe(SCTP_S_INIT1);
    expect([ops.isActive(SCTP_S_ESTABLISHED), ops.isActive(SCTP_S_INIT1)]).toEqual([true, false]);
  });
});
