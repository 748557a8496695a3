import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../src/model/proto.js';
import { ConnTable } from '../../src/conn/table.js';
import { schedule, scheduleBypass } from '../../src/conn/schedule.js';
import { TABLE_FULL } from '../../src/conn/codes.js';
import { listConns } from '../../src/conn/listing.js';
import { DIR_INPUT, TH_ACK, TH_SYN } from '../../src/conn/tcp-states.js';
import { FWD_MASQ, RS1, RS2, VIP, ip, makeService, pkt } from './helpers.js';

const S = 1000;
const C = ip('198.51.100.7');

describe('ConnTable lookups', () => {
  it('finds a conn by its client key (in) and by its reply key (out), and nothing else', () => {
    const t = new ConnTable({ max: 64, seed: 7 });
    const svc = makeService({}, 2, FWD_MASQ, 8080);
    const a = schedule(t, svc, pkt(IPPROTO_TCP, C, 40000, VIP, 80), 0);
    const b = schedule(t, svc, pkt(IPPROTO_TCP, C, 40001, VIP, 80), 0);
    expect(a).not.toBe(b);
    // rr: first pick is the head of the list (RS2), second RS1
    expect([t.daddr[a], t.daddr[b]]).toEqual([RS2, RS1]);
    expect(t.dport[a]).toBe(8080);

    expect(t.lookupIn(IPPROTO_TCP, C, 40000, VIP, 80)).toBe(a);
    expect(t.lookupIn(IPPROTO_TCP, C, 40001, VIP, 80)).toBe(b);
    expect(t.lookupOut(IPPROTO_TCP, RS2, 8080, C, 40000)).toBe(a);
    expect(t.lookupOut(IPPROTO_TCP, RS1, 8080, C, 40001)).toBe(b);

    expect(t.lookupIn(IPPROTO_UDP, C, 40000, VIP, 80)).toBe(-1); // other proto
    expect(t.lookupIn(IPPROTO_TCP, C, 40002, VIP, 80)).toBe(-1);
    expect(t.lookupIn(IPPROTO_TCP, C + 1, 40000, VIP, 80)).toBe(-1);
    expect(t.lookupOut(IPPROTO_TCP, RS1, 8080, C, 40000)).toBe(-1); // wrong real server
    expect(t.dest(a)).toBe(svc.dests[0]);
    expect(t.svc(b)).toBe(svc);
  });

  it('an expired conn is a miss before and after it is reaped, and a new one with the same key can live beside it', () => {
    const t = new ConnTable({ max: 8, seed: 1 });
    const svc = makeService({}, 2);
    const a = schedule(t, svc, pkt(IPPROTO_TCP, C, 5000, VIP, 80), 0);
    t.update(a, DIR_INPUT, TH_SYN, 0); // SYN_RECV, 60 s
    expect(t.lookupIn(IPPROTO_TCP, C, 5000, VIP, 80, 59_999)).toBe(a);
    expect(t.lookupIn(IPPROTO_TCP, C, 5000, VIP, 80, 60_000)).toBe(-1);
    expect(t.lookupOut(IPPROTO_TCP, t.daddr[a]!, 8080, C, 5000, 60_000)).toBe(-1);
    expect(t.used(a)).toBe(true); // not reaped yet
    // the table's own clock: once it has seen t=60 s, lookups without `now` miss too
    t.expire(60_000, 0);
    expect(t.lookupIn(IPPROTO_TCP, C, 5000, VIP, 80)).toBe(-1);

    const b = schedule(t, svc, pkt(IPPROTO_TCP, C, 5000, VIP, 80), 60_000);
    expect(b).not.toBe(a);
    expect(t.lookupIn(IPPROTO_TCP, C, 5000, VIP, 80)).toBe(b);
    expect(t.size).toBe(2);
    t.expire(62_000, 1000);
    expect(t.used(a)).toBe(false);
    expect(t.lookupIn(IPPROTO_TCP, C, 5000, VIP, 80)).toBe(b);
    expect(t.size).toBe(1);
  });

  it('counts a full table instead of growing or throwing, and recovers when slots free up', () => {
    const t = new ConnTable({ max: 3, seed: 1 });
    const svc = makeService({}, 1);
    const slots = [0, 1, 2].map((k) => schedule(t, svc, pkt(IPPROTO_TCP, C, 100 + k, VIP, 80), 0));
    expect(slots.every((s) => s >= 0)).toBe(true);
    expect(schedule(t, svc, pkt(IPPROTO_TCP, C, 200, VIP, 80), 0)).toBe(TABLE_FULL);
    expect(schedule(t, svc, pkt(IPPROTO_TCP, C, 201, VIP, 80), 0)).toBe(TABLE_FULL);
    expect(t.counters.tableFull).toBe(2);
    expect(t.size).toBe(3);
    expect(svc.dests[0]!.inactConns).toBe(3);
    t.expire(10 * S, 100); // fresh conns time out after 3 s
    expect(t.size).toBe(0);
    expect(schedule(t, svc, pkt(IPPROTO_TCP, C, 200, VIP, 80), 10 * S)).toBeGreaterThanOrEqual(0);
  });

  it('lists conns as ipvsadm -c: state name, expiry and forwarding method', () => {
    const t = new ConnTable({ max: 8, seed: 1 });
    const svc = makeService({}, 1);
    const a = schedule(t, svc, pkt(IPPROTO_TCP, C, 7, VIP, 80), 0);
    t.update(a, DIR_INPUT, TH_SYN, 0);
    t.update(a, DIR_INPUT, TH_ACK, 1000);
    const rows = listConns(t, 31_000);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ proto: 'TCP', caddr: C, cport: 7, vaddr: VIP, vport: 80, daddr: RS1, dport: 8080, state: 'ESTABLISHED', expiresIn: 870_000, template: false, fwd: 'Masq' });
    expect([...t]).toEqual([a]);
  });
});

describe('thresholds', () => {
  it('marks a dest overloaded at uThreshold and lifts it below 3/4 of it when lThreshold is 0', () => {
    const t = new ConnTable({ max: 16, seed: 1 });
    const svc = makeService({}, 1);
    const d = svc.dests[0]!;
    svc.editDest(d, { uThreshold: 4 });
    const s = [0, 1, 2, 3].map((k) => schedule(t, svc, pkt(IPPROTO_TCP, C, 10 + k, VIP, 80), 0));
    expect(d.overloaded).toBe(true);
    t.expireNow(s[0]!);
    expect(d.overloaded).toBe(true); // 3 * 4 < 4 * 3 is false
    t.expireNow(s[1]!);
    expect(d.overloaded).toBe(false); // 2 * 4 < 12
  });

  it('with lThreshold set, lifts the mark only below lThreshold', () => {
    const t = new ConnTable({ max: 16, seed: 1 });
    const svc = makeService({}, 1);
    const d = svc.dests[0]!;
    svc.editDest(d, { uThreshold: 3, lThreshold: 2 });
    const s = [0, 1, 2].map((k) => schedule(t, svc, pkt(IPPROTO_TCP, C, 10 + k, VIP, 80), 0));
    expect(d.overloaded).toBe(true);
    t.expireNow(s[0]!);
    expect(d.overloaded).toBe(true); // 2 < 2 is false
    t.expireNow(s[1]!);
    expect(d.overloaded).toBe(false);
  });
});

describe('expiry', () => {
  it('does at most `budget` work per call and eventually frees everything, dest counts included', () => {
    const t = new ConnTable({ max: 5000, seed: 9, wheelSlots: 64, wheelTickMs: 1000 });
    const svc = makeService({}, 2);
    for (let k = 0; k < 4000; k++) {
      const s = schedule(t, svc, pkt(IPPROTO_TCP, ip('203.0.113.0') + (k >> 8), k & 0xff, VIP, 80), 0);
      t.update(s, DIR_INPUT, TH_SYN, 0); // SYN_RECV: 60 s
      if (k % 2 === 0) t.update(s, DIR_INPUT, TH_ACK, 0); // ESTABLISHED: 900 s, past the 64 s horizon
    }
    expect(t.size).toBe(4000);
    expect(t.wheelCount()).toBe(4000);
    let freed = 0;
    let calls = 0;
    for (let now = 0; now <= 1000 * S; now += 5 * S) {
      for (;;) {
        const n = t.expire(now, 37);
        calls++;
        expect(t.lastExpireWork).toBeLessThanOrEqual(37);
        freed += n;
        if (t.lastExpireWork < 37) break;
      }
      if (now === 100 * S) {
        expect(t.size).toBe(2000); // the SYN_RECV half is gone, the ESTABLISHED half is not
        expect(svc.dests[0]!.activeConns + svc.dests[1]!.activeConns).toBe(2000);
      }
    }
    expect(calls).toBeGreaterThan(4000 / 37);
    expect(freed).toBe(4000);
    expect(t.size).toBe(0);
    expect(t.wheelCount()).toBe(0);
    expect(t.counters.expired).toBe(4000);
    for (const d of svc.dests) expect([d.activeConns, d.inactConns]).toEqual([0, 0]);
  });

  it('a refreshed conn is not reaped at its old expiry', () => {
    const t = new ConnTable({ max: 8, seed: 1 });
    const svc = makeService({ proto: IPPROTO_UDP, port: 53 }, 1, FWD_MASQ, 53);
    const s = schedule(t, svc, pkt(IPPROTO_UDP, C, 999, VIP, 53), 0);
    t.update(s, DIR_INPUT, 0, 0); // 300 s
    t.update(s, DIR_INPUT, 0, 200 * S); // now 500 s
    t.expire(400 * S, 10_000);
    expect(t.lookupIn(IPPROTO_UDP, C, 999, VIP, 53)).toBe(s);
    t.expire(501 * S, 10_000);
    expect(t.used(s)).toBe(false);
  });

  it('catches up after a long pause without walking every missed tick', () => {
    const t = new ConnTable({ max: 8, seed: 1, wheelSlots: 16 });
    const svc = makeService({}, 1);
    schedule(t, svc, pkt(IPPROTO_TCP, C, 1, VIP, 80), 0);
    let work = 0;
    let removed = 0;
    for (let k = 0; k < 10 && removed === 0; k++) {
      removed += t.expire(1e9, 1000);
      work += t.lastExpireWork;
    }
    expect(removed).toBe(1);
    expect(work).toBeLessThanOrEqual(17 + 1);
  });

  it('agrees with a model under random creates, refreshes, clock steps and budgets', () => {
    type Op = { kind: 'new'; port: number } | { kind: 'touch'; port: number } | { kind: 'tick'; ms: number; budget: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('new' as const), port: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ kind: fc.constant('touch' as const), port: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 400_000 }), budget: fc.integer({ min: 1, max: 50 }) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const t = new ConnTable({ max: 32, seed: 5, wheelSlots: 8, wheelTickMs: 1000 });
      const svc = makeService({ proto: IPPROTO_UDP, port: 53 }, 2, FWD_MASQ, 53);
      const model = new Map<number, number>(); // port -> expires
      let now = 0;
      for (const o of ops) {
        if (o.kind === 'new') {
          const live = model.has(o.port) && model.get(o.port)! > now;
          if (live) continue;
          const s = schedule(t, svc, pkt(IPPROTO_UDP, C, o.port, VIP, 53), now);
          if (s < 0) continue; // full of dead-but-unreaped conns
          t.update(s, DIR_INPUT, 0, now);
          model.set(o.port, now + 300_000);
        } else if (o.kind === 'touch') {
          const s = t.lookupIn(IPPROTO_UDP, C, o.port, VIP, 53, now);
          if (s >= 0) {
            t.update(s, DIR_INPUT, 0, now);
            model.set(o.port, now + 300_000);
          }
        } else {
          now += o.ms;
          t.expire(now, o.budget);
          if (t.lastExpireWork > o.budget) return false;
        }
        for (let p = 1; p <= 40; p++) {
          const live = (model.get(p) ?? -1) > now;
          if ((t.lookupIn(IPPROTO_UDP, C, p, VIP, 53, now) >= 0) !== live) return false;
        }
      }
      // given time and work, everything dead goes and the live ones stay
      now += 301_000;
      for (let k = 0; k < 100; k++) t.expire(now + k * 1000, 50);
      const total = svc.dests.reduce((n, d) => n + d.inactConns + d.activeConns, 0);
      return t.size === 0 && total === 0 && t.wheelCount() === 0;
    }), { numRuns: 200 });
  });
});

describe('a cache_bypass conn taking its own destination', () => {
  it('leaves every other conn findable by its reply key (the reply chain is rehashed from the old key)', () => {
    // two buckets: the bypass conns' keys before and after the rewrite often fall in different ones, one of them A's
    const t = new ConnTable({ max: 64, seed: 7, buckets: 2 });
    const svc = makeService({}, 1, FWD_MASQ, 8080);
    const a = schedule(t, svc, pkt(IPPROTO_TCP, C, 40000, VIP, 80), 0);
    const marked = makeService({ addr: 0, port: 0, fwmark: 7 }, 0);
    const other = ip('203.0.113.50');
    for (let p = 1000; p < 1030; p++) {
      const b = scheduleBypass(t, marked, pkt(IPPROTO_TCP, C, p, other, 80), 0);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(t.daddr[b]).toBe(other);
      expect(t.lookupOut(IPPROTO_TCP, other, 80, C, p), `bypass conn ${p}`).toBe(b);
      expect(t.lookupOut(IPPROTO_TCP, RS1, 8080, C, 40000), `A after bypass conn ${p}`).toBe(a);
    }
  });
});
