import { describe, expect, it } from 'vitest';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../../src/model/proto.js';
import { ConnTable } from '../../src/conn/table.js';
import { schedule } from '../../src/conn/schedule.js';
import { Timeouts } from '../../src/conn/timeouts.js';
import { DIR_INPUT, TH_ACK, TH_FIN, TH_SYN } from '../../src/conn/tcp-states.js';
import { VIP, ip, makeService, pkt } from './helpers.js';

const S = 1000;

describe('timeouts', () => {
  it('default to the IPVS figures per TCP state, UDP and ICMP', () => {
    const t = new Timeouts();
    const byName = ['NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'SYNACK'];
    const want = [2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120];
    byName.forEach((_, s) => expect(t.of(IPPROTO_TCP, s)).toBe(want[s]! * S));
    expect(t.of(IPPROTO_UDP, 0)).toBe(300 * S);
    expect(t.of(IPPROTO_ICMP, 0)).toBe(60 * S);
    expect(t.get()).toEqual({ tcp: 900, tcpfin: 120, udp: 300 });
  });

  it('--set tcp tcpfin udp changes ESTABLISHED, FIN_WAIT and UDP; 0 keeps a value', () => {
    const t = new Timeouts();
    t.set({ tcp: 3600, tcpfin: 0, udp: 20 });
    expect(t.get()).toEqual({ tcp: 3600, tcpfin: 120, udp: 20 });
    t.set({ tcpfin: 15 });
    expect(t.get()).toEqual({ tcp: 3600, tcpfin: 15, udp: 20 });
    expect(t.of(IPPROTO_TCP, 5 /* TIME_WAIT */)).toBe(120 * S); // not touched by --set
    expect(() => t.set({ tcp: -1 })).toThrow();
  });

  it('a conn takes a new value at its next state change or refresh', () => {
    const table = new ConnTable({ max: 8, seed: 3 });
    const svc = makeService({}, 1);
    const a = schedule(table, svc, pkt(IPPROTO_TCP, ip('198.51.100.1'), 1000, VIP, 80), 0);
    table.update(a, DIR_INPUT, TH_SYN, 0);
    table.update(a, DIR_INPUT, TH_ACK, 0);
    expect(table.expires[a]).toBe(900 * S);
    table.timeouts.set({ tcp: 100, tcpfin: 7 });
    expect(table.expires[a]).toBe(900 * S); // unchanged until the next packet
    table.update(a, DIR_INPUT, TH_ACK, 10 * S);
    expect(table.expires[a]).toBe(110 * S);
    table.update(a, DIR_INPUT, TH_FIN, 20 * S); // NAT input FIN: CLOSE_WAIT, not affected
    expect(table.expires[a]).toBe(80 * S);

    const usvc = makeService({ proto: IPPROTO_UDP, port: 53 }, 1, undefined, 53);
    const u = schedule(table, usvc, pkt(IPPROTO_UDP, ip('198.51.100.1'), 1000, VIP, 53), 0);
    table.update(u, DIR_INPUT, 0, 0);
    expect(table.expires[u]).toBe(300 * S);
    table.timeouts.set({ udp: 5 });
    table.update(u, DIR_INPUT, 0, 30 * S);
    expect(table.expires[u]).toBe(35 * S);
  });
});
