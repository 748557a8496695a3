// The fragment decision table: fixed size whatever arrives, expiry of what
// expired only, a per-source share of the early-fragment queue, and
// decisions that notice their connection slot was reused.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FRAG_HELD_PER_SOURCE, FRAG_ROUTED, FRAG_VERDICT_PENDING, FragmentTable } from '../../src/director/fragments.js';
import { AF_INET, AF_INET6 } from '../../src/model/proto.js';
import { Rig } from './harness.js';
import { CLIENT, NAT, natConfig } from './topo.js';
import { eth } from '../../src/wire/builder.js';

const frame = () => new Uint8Array(60);

describe('FragmentTable', () => {
  it('never holds more than its capacity: the oldest decisions give way', () => {
    const t = new FragmentTable(256, 30_000, 1024);
    const bytes = t.bytesAllocated();
    for (let i = 0; i < 5000; i++) t.decide(AF_INET, 0x0a000000 + i, 0x0a0000ff, 17, i, FRAG_ROUTED, 0, false, i);
    expect(t.size).toBe(1024);
    expect(t.bytesAllocated()).toBe(bytes);
    // the newest are there, the oldest gone
    expect(t.find(AF_INET, 0x0a000000 + 4999, 0x0a0000ff, 17, 4999)).toBeGreaterThanOrEqual(0);
    expect(t.find(AF_INET, 0x0a000000 + 3976, 0x0a0000ff, 17, 3976)).toBeGreaterThanOrEqual(0);
    expect(t.find(AF_INET, 0x0a000000 + 3975, 0x0a0000ff, 17, 3975)).toBe(-1);
    expect(t.find(AF_INET, 0x0a000000, 0x0a0000ff, 17, 0)).toBe(-1);
  });

  it('expires what is past its time and nothing else; an extended decision lives on', () => {
    const t = new FragmentTable(256, 30_000, 64);
    t.decide(AF_INET, 1, 2, 17, 1, FRAG_ROUTED, 0, false, 0);
    t.decide(AF_INET, 1, 2, 17, 2, FRAG_ROUTED, 0, false, 10_000);
    t.decide(AF_INET, 1, 2, 17, 3, FRAG_ROUTED, 0, false, 20_000);
    t.decide(AF_INET, 1, 2, 17, 1, FRAG_ROUTED, 0, false, 25_000); // the first one again: extended to 55 s
    t.expire(41_000);
    expect([1, 2, 3].map((id) => t.find(AF_INET, 1, 2, 17, id) >= 0)).toEqual([true, false, true]);
    t.expire(51_000);
    expect([1, 2, 3].map((id) => t.find(AF_INET, 1, 2, 17, id) >= 0)).toEqual([true, false, false]);
    t.expire(55_000);
    expect(t.size).toBe(0);
  });

  it('gives each source a share of the early-fragment queue', () => {
    const t = new FragmentTable(256, 30_000, 1024);
    let held = 0;
    for (let id = 0; id < 100; id++) if (t.hold(AF_INET, 0xc6336401, 2, 17, id, 0, frame(), 0)) held++;
    expect(held).toBe(FRAG_HELD_PER_SOURCE);
    // another sender still gets its fragments held
    expect(t.hold(AF_INET, 0xc6336402, 2, 17, 1, 0, frame(), 0)).toBe(true);
    // taking them back frees the share
    const e = t.find(AF_INET, 0xc6336401, 2, 17, 0);
    expect(t.take(e)).toHaveLength(1);
    expect(t.hold(AF_INET, 0xc6336401, 2, 17, 500, 0, frame(), 0)).toBe(true);
  });

  it('counts held fragments given up on expiry and when pushed out of a full table', () => {
    const t = new FragmentTable(256, 30_000, 8);
    t.hold(AF_INET, 7, 2, 17, 1, 0, frame(), 0);
    t.hold(AF_INET, 7, 2, 17, 1, 0, frame(), 0);
    for (let id = 100; id < 108; id++) t.decide(AF_INET, 8, 2, 17, id, FRAG_ROUTED, 0, false, 1);
    expect(t.heldCount).toBe(0);
    expect(t.expire(2)).toBe(2); // the two pushed out, reported with the next expiry
  });

  it('keeps families apart', () => {
    const t = new FragmentTable(256, 30_000, 64);
    t.decide(AF_INET6, 1, 2, 17, 9, FRAG_ROUTED, 0, false, 0);
    expect(t.find(AF_INET, 1, 2, 17, 9)).toBe(-1);
    expect(t.find(AF_INET6, 1, 2, 17, 9)).toBeGreaterThanOrEqual(0);
  });

  it('finds exactly what a reference map holds, through any mix of decisions, holds and expiry', () => {
    type Op = { kind: 'decide' | 'hold' | 'expire'; key: number; dt: number };
    const op = fc.record({ kind: fc.constantFrom('decide' as const, 'hold' as const, 'expire' as const), key: fc.integer({ min: 0, max: 40 }), dt: fc.integer({ min: 0, max: 20_000 }) });
    fc.assert(fc.property(fc.array(op, { maxLength: 300 }), (ops: Op[]) => {
      const cap = 16;
      const t = new FragmentTable(64, 30_000, cap);
      // the reference: key -> its expiry and the expiry it was queued with, in queue order (a Map keeps it)
      const ref = new Map<number, { exp: number; queued: number }>();
      const admit = (key: number, now: number) => {
        if (ref.size >= cap) ref.delete(ref.keys().next().value!); // full: the front goes
        ref.set(key, { exp: now + 30_000, queued: now + 30_000 });
      };
      let now = 0;
      for (const o of ops) {
        now += o.dt;
        // keys collide in the table's buckets often: src and dst differ only a little
        const src = o.key % 5;
        const dst = (o.key * 7) % 3;
        const id = o.key;
        if (o.kind === 'expire') {
          t.expire(now);
          for (;;) {
            const front = ref.entries().next();
            if (front.done) break;
            const [k, e] = front.value;
            if (e.exp <= now) ref.delete(k);
            else if (e.exp !== e.queued) {
              ref.delete(k); // extended since it came: to the back
              ref.set(k, { exp: e.exp, queued: e.exp });
            } else break;
          }
        } else if (o.kind === 'decide') {
          t.decide(AF_INET, src, dst, 17, id, FRAG_ROUTED, 0, false, now);
          const e = ref.get(o.key);
          if (e) e.exp = now + 30_000; // extended in place
          else admit(o.key, now);
        } else if (t.hold(AF_INET, src, dst, 17, id, 0, frame(), now) && !ref.has(o.key)) {
          admit(o.key, now);
        }
        expect(t.size).toBe(ref.size);
      }
      for (let k = 0; k <= 40; k++) {
        const found = t.find(AF_INET, k % 5, (k * 7) % 3, 17, k) >= 0;
        expect(found, `key ${k}`).toBe(ref.has(k));
      }
    }), { numRuns: 300 });
  });
});

describe('director: a later fragment after its connection slot was reused', () => {
  it('is dropped, not sent to the real server of the connection that took the slot', () => {
    const cfg = natConfig({ services: [{ port: 53, proto: 'udp', dests: [{ addr: NAT.rs1, port: 53 }] }] });
    cfg.options = { ...cfg.options, maxConns: 1 };
    const rig = new Rig(cfg);
    const udp = (src: string, sport: number, id: number, flags: string, fragOffset: number, payload: Uint8Array) =>
      eth({ src: NAT.routerMac, dst: NAT.outMac }).ipv4({ src, dst: NAT.vip, id, flags, fragOffset }).udp({ sport, dport: 53, payload }).build();
    const first = udp(CLIENT, 1000, 77, 'MF', 0, new Uint8Array(64));
    rig.in(0, first, 1);
    const slot = rig.d.conns.lookupIn(17, rig.d.conns.caddr[0]!, 1000, rig.d.conns.vaddr[0]!, 53);
    expect(slot).toBe(0);
    // the conn ends, and another client's conn takes the only slot
    rig.d.conns.expireNow(0, 2);
    rig.in(0, udp('198.51.100.9', 2000, 5, '', 0, new Uint8Array(8)), 3);
    expect(rig.d.conns.size).toBe(1);
    const later = eth({ src: NAT.routerMac, dst: NAT.outMac }).ipv4({ src: CLIENT, dst: NAT.vip, id: 77, fragOffset: 9, protocol: 17 }).payload(new Uint8Array(40)).build();
    const before = rig.drops();
    const out = rig.in(0, later, 4);
    expect(out).toEqual([]);
    expect(rig.drops()['fragment-timeout']).toBe((before['fragment-timeout'] ?? 0) + 1);
  });
});

it('FRAG_VERDICT_PENDING is what a held fragment leaves until its first comes', () => {
  const t = new FragmentTable(8, 30_000, 8);
  t.hold(AF_INET, 1, 2, 17, 3, 0, frame(), 0);
  expect(t.verdictOf(t.find(AF_INET, 1, 2, 17, 3))).toBe(FRAG_VERDICT_PENDING);
});
