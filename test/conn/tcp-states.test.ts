import { describe, expect, it } from 'vitest';
import { IPPROTO_TCP } from '../../src/model/proto.js';
import { ConnTable } from '../../src/conn/table.js';
import { schedule } from '../../src/conn/schedule.js';
import { connStateName } from '../../src/conn/listing.js';
import {
  DIR_INPUT, DIR_INPUT_ONLY, DIR_OUTPUT, TH_ACK, TH_FIN, TH_RST, TH_SYN, TCP_S_CLOSE, TCP_S_ESTABLISHED,
  TCP_S_LISTEN, TCP_S_NONE, TCP_S_SYN_RECV, TCP_S_SYN_SENT, TCP_S_SYNACK, TCP_S_TIME_WAIT, nextTcpState,
} from '../../src/conn/tcp-states.js';
import { FWD_DR, FWD_MASQ, VIP, ip, makeService, pkt } from './helpers.js';

const C = ip('198.51.100.7');
const S = 1000;

function open(fwd: typeof FWD_MASQ | typeof FWD_DR) {
  const t = new ConnTable({ max: 16, seed: 1 });
  const svc = makeService({}, 1, fwd);
  const slot = schedule(t, svc, pkt(IPPROTO_TCP, C, 40000, VIP, 80), 0);
  expect(slot).toBeGreaterThanOrEqual(0);
  return { t, svc, dest: svc.dests[0]!, slot };
}

describe('TCP state machine, NAT (director sees both directions)', () => {
  it('walks handshake and teardown as the IPVS table, with timeouts and active/inactive counts', () => {
    const { t, dest, slot } = open(FWD_MASQ);
    // a fresh conn is NONE, counted inactive until its first state change
    expect(connStateName(t, slot)).toBe('NONE');
    expect([dest.activeConns, dest.inactConns]).toEqual([0, 1]);

    // [packet, direction, expected state, timeout s, active, inactive]
    const steps: [number, number, string, number, number, number][] = [
      [TH_SYN, DIR_INPUT, 'SYN_RECV', 60, 1, 0],
      [TH_SYN | TH_ACK, DIR_OUTPUT, 'SYN_RECV', 60, 1, 0],
      [TH_ACK, DIR_INPUT, 'ESTABLISHED', 900, 1, 0],
      [TH_ACK, DIR_OUTPUT, 'ESTABLISHED', 900, 1, 0],
      [TH_FIN | TH_ACK, DIR_INPUT, 'CLOSE_WAIT', 60, 0, 1],
      [TH_ACK, DIR_OUTPUT, 'CLOSE_WAIT', 60, 0, 1],
      [TH_FIN | TH_ACK, DIR_OUTPUT, 'TIME_WAIT', 120, 0, 1],
      [TH_ACK, DIR_INPUT, 'TIME_WAIT', 120, 0, 1],
    ];
    let now = 5 * S;
    for (const [flags, dir, state, timeout, act, inact] of steps) {
      t.update(slot, dir, flags, now);
      expect(connStateName(t, slot)).toBe(state);
      expect(t.expires[slot]! - now).toBe(timeout * S);
      expect([dest.activeConns, dest.inactConns]).toEqual([act, inact]);
      now += S;
    }
  });

  it('server closing first goes FIN_WAIT then TIME_WAIT', () => {
    const { t, slot } = open(FWD_MASQ);
    t.update(slot, DIR_INPUT, TH_SYN, 0);
    t.update(slot, DIR_OUTPUT, TH_SYN | TH_ACK, 0);
    t.update(slot, DIR_INPUT, TH_ACK, 0);
    t.update(slot, DIR_OUTPUT, TH_FIN | TH_ACK, 0);
    expect(connStateName(t, slot)).toBe('FIN_WAIT');
    expect(t.expires[slot]).toBe(120 * S);
    t.update(slot, DIR_INPUT, TH_FIN | TH_ACK, 0);
    expect(connStateName(t, slot)).toBe('TIME_WAIT');
  });

  it('RST from either side closes an established conn with the 10 s CLOSE timeout', () => {
    for (const dir of [DIR_INPUT, DIR_OUTPUT]) {
      const { t, dest, slot } = open(FWD_MASQ);
      t.update(slot, DIR_INPUT, TH_SYN, 0);
      t.update(slot, DIR_INPUT, TH_ACK, 0);
      expect(dest.activeConns).toBe(1);
      t.update(slot, dir, TH_RST | TH_ACK, 50 * S);
      expect(connStateName(t, slot)).toBe('CLOSE');
      expect(t.expires[slot]).toBe(60 * S);
      expect([dest.activeConns, dest.inactConns]).toEqual([0, 1]);
    }
  });

  it('keeps the kernel quirks of RST: a client RST in SYN_RECV stays SYN_RECV, a server RST in TIME_WAIT stays TIME_WAIT', () => {
    const { t, slot } = open(FWD_MASQ);
    t.update(slot, DIR_INPUT, TH_SYN, 0);
    t.update(slot, DIR_INPUT, TH_RST, 0);
    expect(t.state[slot]).toBe(TCP_S_SYN_RECV);
    t.update(slot, DIR_OUTPUT, TH_RST, 0);
    expect(t.state[slot]).toBe(TCP_S_CLOSE);
    expect(nextTcpState(TCP_S_TIME_WAIT, DIR_OUTPUT, TH_RST)).toBe(TCP_S_TIME_WAIT);
  });

  it('a segment without SYN/FIN/ACK/RST moves the conn to CLOSE', () => {
    const { t, slot } = open(FWD_MASQ);
    t.update(slot, DIR_INPUT, TH_SYN, 0);
    t.update(slot, DIR_INPUT, TH_ACK, 0);
    t.update(slot, DIR_INPUT, 0x08 /* PSH only */, 0);
    expect(t.state[slot]).toBe(TCP_S_CLOSE);
  });

  it('RST is looked at before SYN, SYN before FIN', () => {
    expect(nextTcpState(TCP_S_ESTABLISHED, DIR_INPUT, TH_SYN | TH_RST)).toBe(TCP_S_CLOSE);
    expect(nextTcpState(TCP_S_ESTABLISHED, DIR_INPUT, TH_SYN | TH_FIN)).toBe(TCP_S_ESTABLISHED);
    expect(nextTcpState(TCP_S_NONE, DIR_OUTPUT, TH_SYN)).toBe(TCP_S_SYN_SENT);
    expect(nextTcpState(TCP_S_LISTEN, DIR_OUTPUT, TH_ACK)).toBe(TCP_S_ESTABLISHED);
  });
});

describe('TCP state machine, DR/TUN (director sees client packets only)', () => {
  it('uses the input-only table: a client FIN on ESTABLISHED is FIN_WAIT, not CLOSE_WAIT', () => {
    const { t, dest, slot } = open(FWD_DR);
    const steps: [number, string, number, number, number][] = [
      [TH_SYN, 'SYN_RECV', 60, 1, 0],
      [TH_ACK, 'ESTABLISHED', 900, 1, 0],
      [TH_ACK, 'ESTABLISHED', 900, 1, 0],
      [TH_FIN | TH_ACK, 'FIN_WAIT', 120, 0, 1],
      [TH_ACK, 'FIN_WAIT', 120, 0, 1],
    ];
    for (const [flags, state, timeout, act, inact] of steps) {
      t.update(slot, DIR_INPUT, flags, 0);
      expect(connStateName(t, slot)).toBe(state);
      expect(t.expires[slot]).toBe(timeout * S);
      expect([dest.activeConns, dest.inactConns]).toEqual([act, inact]);
    }
  });

  it('DIR_INPUT_ONLY given explicitly selects the same table; an RST on SYNACK closes it', () => {
    expect(nextTcpState(TCP_S_ESTABLISHED, DIR_INPUT_ONLY, TH_FIN)).toBe(4 /* FIN_WAIT */);
    expect(nextTcpState(TCP_S_SYNACK, DIR_INPUT_ONLY, TH_RST)).toBe(TCP_S_CLOSE);
    expect(nextTcpState(TCP_S_SYNACK, DIR_INPUT, TH_RST)).toBe(TCP_S_SYN_RECV);
  });

  it('once a reply is seen the conn leaves input-only mode', () => {
    const { t, slot } = open(FWD_DR);
    t.update(slot, DIR_INPUT, TH_SYN, 0);
    t.update(slot, DIR_OUTPUT, TH_SYN | TH_ACK, 0);
    t.update(slot, DIR_INPUT, TH_ACK, 0);
    t.update(slot, DIR_INPUT, TH_FIN | TH_ACK, 0);
    expect(connStateName(t, slot)).toBe('CLOSE_WAIT');
  });
});

describe('secure_tcp', () => {
  it('holds a conn in SYNACK/SYN_RECV until the handshake is seen from both sides', () => {
    const { t, slot } = open(FWD_MASQ);
    t.settings.secureTcp = 3; // always on
    t.updateDefense();
    t.update(slot, DIR_INPUT, TH_SYN, 0);
    expect(t.state[slot]).toBe(TCP_S_SYN_RECV);
    t.update(slot, DIR_INPUT, TH_ACK, 0);
    expect(t.state[slot]).toBe(TCP_S_SYN_RECV); // normal table would say ESTABLISHED
    t.update(slot, DIR_OUTPUT, TH_SYN | TH_ACK, 0);
    expect(t.state[slot]).toBe(TCP_S_SYNACK);
    t.update(slot, DIR_INPUT, TH_ACK, 0);
    expect(t.state[slot]).toBe(TCP_S_SYNACK);
    t.update(slot, DIR_OUTPUT, TH_ACK, 0);
    expect(t.state[slot]).toBe(TCP_S_ESTABLISHED);
  });
});
