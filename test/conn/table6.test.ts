// IPv6 connections in the one connection table: keys hashed and compared by
// their folded addresses, confirmed against the full ones; never confused
// with IPv4 keys; scheduled and made persistent by prefix.
import { describe, expect, it } from 'vitest';
import { schedule } from '../../src/conn/schedule.js';
import { ConnTable } from '../../src/conn/table.js';
import { DIR_INPUT, TH_ACK, TH_SYN } from '../../src/conn/tcp-states.js';
import { FWD_MASQ } from '../../src/model/dest.js';
import { AF_INET6, IPPROTO_TCP } from '../../src/model/proto.js';
import type { SchedPacket } from '../../src/model/scheduler.js';
import { Service } from '../../src/model/service.js';
import { ip6Fold, parseIp6 } from '../../src/wire/addr6.js';
import './helpers.js';

const VIP6 = parseIp6('2001:db8::100');
const RS1 = parseIp6('2001:db8:1::11');
const RS2 = parseIp6('2001:db8:1::12');

function service6(persistent = 0, prefix6 = 128): Service {
  const svc = new Service({ proto: IPPROTO_TCP, addr6: VIP6, port: 80, scheduler: 'conn-test-rr', persistent, prefix6 });
  svc.addDest({ addr: 0, addr6: RS1, port: 8080, fwd: FWD_MASQ, weight: 1 });
  svc.addDest({ addr: 0, addr6: RS2, port: 8080, fwd: FWD_MASQ, weight: 1 });
  return svc;
}

function pkt6(client: string, cport: number): SchedPacket {
  const c = parseIp6(client);
  return { af: AF_INET6, proto: IPPROTO_TCP, caddr: ip6Fold(c), cport, vaddr: ip6Fold(VIP6), vport: 80, caddr6: c, vaddr6: VIP6 };
}

describe('connection table: IPv6', () => {
  it('finds an IPv6 conn from both sides, by its full addresses', () => {
    const t = new ConnTable({ max: 64, seed: 1 });
    const svc = service6();
    const p = pkt6('2001:db8:ff::7', 40000);
    const slot = schedule(t, svc, p, 0);
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(t.af[slot]).toBe(AF_INET6);
    t.update(slot, DIR_INPUT, TH_SYN, 0);
    expect(t.lookupIn6(IPPROTO_TCP, p.caddr6, 0, 40000, VIP6, 0, 80, 0)).toBe(slot);
    const d = t.dest(slot);
    expect(t.lookupOut6(IPPROTO_TCP, d.addr6, 0, 8080, p.caddr6, 0, 40000, 0)).toBe(slot);
    expect(Array.from(t.daddr6.subarray(slot * 4, slot * 4 + 4))).toEqual(Array.from(d.addr6));
    // another client port, another client: misses
    expect(t.lookupIn6(IPPROTO_TCP, p.caddr6, 0, 40001, VIP6, 0, 80, 0)).toBe(-1);
    expect(t.lookupIn6(IPPROTO_TCP, parseIp6('2001:db8:ff::8'), 0, 40000, VIP6, 0, 80, 0)).toBe(-1);
  });

  it('two clients whose addresses fold alike are two conns, each found only by its own address', () => {
    const t = new ConnTable({ max: 64, seed: 1 });
    const svc = service6();
    // the same XOR of the four words: 1^2 == 2^1
    const a = pkt6('2001:db8:0:1::2', 5000);
    const b = pkt6('2001:db8:0:2::1', 5000);
    expect(a.caddr).toBe(b.caddr);
    const sa = schedule(t, svc, a, 0);
    expect(t.lookupIn6(IPPROTO_TCP, b.caddr6, 0, 5000, VIP6, 0, 80, 0)).toBe(-1);
    const sb = schedule(t, svc, b, 0);
    expect(sb).not.toBe(sa);
    expect(t.lookupIn6(IPPROTO_TCP, a.caddr6, 0, 5000, VIP6, 0, 80, 0)).toBe(sa);
    expect(t.lookupIn6(IPPROTO_TCP, b.caddr6, 0, 5000, VIP6, 0, 80, 0)).toBe(sb);
  });

  it('an IPv4 lookup never finds an IPv6 conn with the same folded numbers', () => {
    const t = new ConnTable({ max: 64, seed: 1 });
    const p = pkt6('2001:db8:ff::7', 40000);
    const slot = schedule(t, service6(), p, 0);
    expect(t.lookupIn(IPPROTO_TCP, p.caddr, 40000, p.vaddr, 80, 0)).toBe(-1);
    expect(t.lookupOut(IPPROTO_TCP, t.daddr[slot]!, 8080, p.caddr, 40000, 0)).toBe(-1);
  });

  it('expiry unhashes an IPv6 conn (the slot is reused and the old key misses)', () => {
    const t = new ConnTable({ max: 4, seed: 1 });
    const p = pkt6('2001:db8:ff::7', 40000);
    const slot = schedule(t, service6(), p, 0);
    t.update(slot, DIR_INPUT, TH_SYN, 0);
    t.update(slot, DIR_INPUT, TH_ACK, 0);
    t.expireNow(slot, 1);
    expect(t.size).toBe(0);
    expect(t.lookupIn6(IPPROTO_TCP, p.caddr6, 0, 40000, VIP6, 0, 80, 2)).toBe(-1);
  });

  it('persistence groups IPv6 clients by prefix length', () => {
    const t = new ConnTable({ max: 64, seed: 1 });
    const svc = service6(300, 64);
    const first = schedule(t, svc, pkt6('2001:db8:aa:bb::1', 1000), 0);
    const same64 = schedule(t, svc, pkt6('2001:db8:aa:bb::ffff', 1001), 0);
    const other64 = schedule(t, svc, pkt6('2001:db8:aa:cc::1', 1002), 0);
    expect(t.dest(same64)).toBe(t.dest(first));
    // the round robin moves on for a new template: the other /64 gets the other server
    expect(t.dest(other64)).not.toBe(t.dest(first));
    expect(t.counters.templates).toBe(2);
  });
});
