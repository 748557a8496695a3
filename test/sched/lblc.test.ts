import { describe, expect, it } from 'vitest';
import type { LblcrState } from '../../src/sched/lblcr.js';
import type { Dest } from '../../src/model/dest.js';
import { AF_INET6, IPPROTO_TCP } from '../../src/model/proto.js';
import type { SchedPacket } from '../../src/model/scheduler.js';
import { Service } from '../../src/model/service.js';
import { ip, makeSvc, pickName, pkt } from './helpers.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const V1 = ip('203.0.113.1');
const V2 = ip('203.0.113.2');
const to = (vaddr: number) => pkt(ip('172.16.0.9'), 5000, vaddr);

describe('lblc', () => {
  it('keeps a destination IP on its server while a least-connection pick would move it', () => {
    const { svc, by } = makeSvc('lblc', [{ name: '11' }, { name: '12' }]);
    expect(pickName(svc, to(V1))).toBe('11');
    by['11']!.activeConns = 1; // wlc would now choose 12; 1 > weight 1 is false
    expect(pickName(svc, to(V1))).toBe('11');
    expect(pickName(svc, to(V2))).toBe('12'); // a new IP gets the wlc choice
  });

  it('rebinds when the server has more active conns than its weight and another is under half', () => {
    const { svc, by } = makeSvc('lblc', [{ name: '11', weight: 2 }, { name: '12', weight: 2 }]);
    expect(pickName(svc, to(V1))).toBe('11');
    by['11']!.activeConns = 3; // > weight 2
    by['12']!.activeConns = 1; // 1*2 < 2 is false: nobody is under half
    expect(pickName(svc, to(V1))).toBe('11');
    by['12']!.activeConns = 0; // now 12 is under half its weight
    expect(pickName(svc, to(V1))).toBe('12');
    // the binding moved: 12 stays even once 11 is light again
    by['11']!.activeConns = 0;
    by['12']!.activeConns = 1;
    expect(pickName(svc, to(V1))).toBe('12');
  });

  it('rebinds when the server is removed or quiesced', () => {
    const { svc, by } = makeSvc('lblc', [{ name: '11' }, { name: '12' }, { name: '13' }]);
    expect(pickName(svc, to(V1))).toBe('11');
    by['11']!.weight = 0;
    expect(pickName(svc, to(V1))).toBe('12');
    svc.removeDest(by['12']!);
    expect(pickName(svc, to(V1))).toBe('13');
  });

  it('a binding unused for 24 h is dropped by the next half-hourly full check', () => {
    const run = (gap: number) => {
      const { svc, by } = makeSvc('lblc', [{ name: '11' }, { name: '12' }]);
      expect(pickName(svc, to(V1), 0)).toBe('11');
      by['11']!.activeConns = 1; // wlc now prefers 12; the binding does not
      return pickName(svc, to(V1), gap);
    };
    // Full checks run every 30 min after the clock starts (at the first
    // pick): at 30 min, 1 h, ... The entry is stale from 24 h on and the
    // check at 24 h 00 min removes it.
    expect(run(23 * HOUR + 59 * MIN)).toBe('11');
    expect(run(24 * HOUR - 1)).toBe('11');
    expect(run(24 * HOUR + 1 * MIN)).toBe('12');
  });

  it('a stale binding lives until the next half-hourly check, not a minute more or less', () => {
    const run = (at: number) => {
      const { svc, by } = makeSvc('lblc', [{ name: '11' }, { name: '12' }]);
      expect(pickName(svc, to(V2), 0)).toBe('11'); // starts the collector clock
      by['11']!.activeConns = 1;
      expect(pickName(svc, to(V1), 10 * MIN)).toBe('12'); // V1 -> 12, last used at 10 min
      by['11']!.activeConns = 0;
      by['12']!.activeConns = 1; // wlc now prefers 11
      return pickName(svc, to(V1), at);
    };
    // stale from 24 h 10 min; the full checks run at 24 h 00 and 24 h 30
    expect(run(24 * HOUR + 29 * MIN)).toBe('12');
    expect(run(24 * HOUR + 30 * MIN)).toBe('11');
  });

  it('use keeps a binding alive past 24 h', () => {
    const { svc, by } = makeSvc('lblc', [{ name: '11' }, { name: '12' }]);
    expect(pickName(svc, to(V1), 0)).toBe('11');
    by['11']!.activeConns = 1;
    for (let t = HOUR; t <= 48 * HOUR; t += HOUR) expect(pickName(svc, to(V1), t)).toBe('11');
  });
});

describe('lblcr', () => {
  const setOf = (st: unknown, v: number) =>
    (st as LblcrState).tbl.get(v)!.value.dests.map((d) => String(d.addr & 255));

  it('adds a server to the set when the set is overloaded, then serves the least loaded member', () => {
    const { svc, by } = makeSvc('lblcr', [{ name: '11' }, { name: '12' }, { name: '13' }]);
    expect(pickName(svc, to(V1))).toBe('11');
    expect(setOf(svc.schedState, V1)).toEqual(['11']);

    by['11']!.activeConns = 2; // > weight 1, while 12 and 13 are idle
    expect(pickName(svc, to(V1))).toBe('12');
    expect(setOf(svc.schedState, V1)).toEqual(['12', '11']);

    // 13 is the least loaded of the service, but the set is {12, 11}:
    // the least loaded member, 11, serves (not overloaded: 1 > 1 is false).
    by['11']!.activeConns = 1;
    by['12']!.activeConns = 2;
    expect(pickName(svc, to(V1))).toBe('11');
    expect(setOf(svc.schedState, V1)).toEqual(['12', '11']);
  });

  it('a set unchanged for 24 h loses its most loaded member', () => {
    const { svc, by } = makeSvc('lblcr', [{ name: '11' }, { name: '12' }, { name: '13' }]);
    expect(pickName(svc, to(V1), 0)).toBe('11');
    by['11']!.activeConns = 2;
    expect(pickName(svc, to(V1), 1000)).toBe('12'); // set {12, 11}, lastmod = 1 s
    by['11']!.activeConns = 1;
    by['12']!.activeConns = 3;
    // use every hour so the entry itself does not expire
    for (let t = HOUR; t <= 24 * HOUR; t += HOUR) {
      expect(pickName(svc, to(V1), t)).toBe('11');
      expect(setOf(svc.schedState, V1)).toEqual(['12', '11']);
    }
    expect(pickName(svc, to(V1), 24 * HOUR + 1001)).toBe('11');
    expect(setOf(svc.schedState, V1)).toEqual(['11']); // 12 (most loaded) dropped
  });

  it('a removed member is not served; a replacement joins the set', () => {
    const { svc, by } = makeSvc('lblcr', [{ name: '11' }, { name: '12' }]);
    expect(pickName(svc, to(V1))).toBe('11');
    svc.removeDest(by['11']!);
    expect(pickName(svc, to(V1))).toBe('12');
    expect(setOf(svc.schedState, V1)).toEqual(['12', '11']);
  });

  it('whole entries expire after 24 h unused', () => {
    const { svc, by } = makeSvc('lblcr', [{ name: '11' }, { name: '12' }]);
    expect(pickName(svc, to(V1), 0)).toBe('11');
    by['11']!.activeConns = 1;
    expect(pickName(svc, to(V1), 23 * HOUR)).toBe('11');
    expect(pickName(svc, to(V1), 47 * HOUR + 31 * MIN)).toBe('12');
    expect(setOf(svc.schedState, V1)).toEqual(['12']);
  });
});

describe('lblc and lblcr: IPv6 destinations', () => {
  // Two destination IPs whose four words XOR to the same fold: the kernel hashes the
  // fold but compares the whole address in the entry (ip_vs_addr_equal), so each gets its own binding.
  const A = Uint32Array.of(0x20010db8, 0, 0, 5); // 2001:db8::5
  const B = Uint32Array.of(0x20010db8, 0, 5, 0); // 2001:db8::5:0:0
  const fold = (a: Uint32Array): number => (a[0]! ^ a[1]! ^ a[2]! ^ a[3]!) >>> 0;
  // one reused packet, as the director fills it: the scheduler must not keep a reference to vaddr6
  const p: SchedPacket = { af: AF_INET6, proto: IPPROTO_TCP, caddr: 7, cport: 5000, vaddr: 0, vport: 80, caddr6: Uint32Array.of(0x20010db8, 9, 9, 7), vaddr6: new Uint32Array(4) };
  const to6 = (a: Uint32Array): SchedPacket => {
    p.vaddr6.set(a);
    p.vaddr = fold(a);
    return p;
  };
  function svc6(sched: string): { svc: Service; x: Dest; y: Dest } {
    const svc = new Service({ proto: IPPROTO_TCP, addr6: Uint32Array.of(0x20010db8, 0, 0, 0x100), port: 80, scheduler: sched });
    const y = svc.addDest({ addr: 0, addr6: Uint32Array.of(0x20010db8, 0x100000, 0, 0x12), port: 80, weight: 1 });
    const x = svc.addDest({ addr: 0, addr6: Uint32Array.of(0x20010db8, 0x100000, 0, 0x11), port: 80, weight: 1 });
    return { svc, x, y };
  }

  it.each(['lblc', 'lblcr'])('%s binds two addresses with the same 32-bit fold separately', (sched) => {
    expect(fold(A)).toBe(fold(B));
    const { svc, x, y } = svc6(sched);
    const pick6 = (a: Uint32Array, now: number): Dest | null => svc.sched.pick(svc, svc.schedState, to6(a), now);
    expect(pick6(A, 0)).toBe(x); // new binding, wlc's choice (the first of two idle servers)
    x.activeConns = 1; // wlc now prefers y; A's binding holds (1 active is not above weight 1)
    expect(pick6(B, 1)).toBe(y); // B is a new address: a new binding, wlc's choice
    expect(pick6(A, 2)).toBe(x);
    x.activeConns = 0;
    y.activeConns = 1; // wlc now prefers x; B stays on y
    expect(pick6(B, 3)).toBe(y);
    expect((svc.schedState as { tbl: { entries: number } }).tbl.entries).toBe(2);
  });
});
