// The connection table's flood defences: IPVS's drop_entry, drop_packet and
// secure_tcp with their automatic modes driven by table pressure
// (amemthresh free slots), and tapvs's evict_embryonic.
import { describe, expect, it } from 'vitest';
import { TABLE_FULL } from '../../src/conn/codes.js';
import { defenseMode, dropRateOf, EmbryonicList } from '../../src/conn/defense.js';
import { schedule } from '../../src/conn/schedule.js';
import { ConnTable, type ConnSettings } from '../../src/conn/table.js';
import {
  DIR_INPUT, DIR_OUTPUT, TCP_S_ESTABLISHED, TCP_S_SYNACK, TCP_S_SYN_RECV, TH_ACK, TH_SYN,
} from '../../src/conn/tcp-states.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../../src/model/proto.js';
import { ip, makeService, pkt, VIP } from './helpers.js';

const S = 1000;
const C = ip('203.0.113.1');

function table(max: number, settings: Partial<ConnSettings> = {}): ConnTable {
  return new ConnTable({ max, seed: 7, settings });
}

/** A client SYN on a new conn from port `cport`, as the director runs it: schedule, then the SYN's state change. */
function syn(t: ConnTable, svc: ReturnType<typeof makeService>, cport: number, now = 0, proto = IPPROTO_TCP): number {
  const slot = schedule(t, svc, pkt(proto, C, cport, VIP, 80), now);
  if (slot >= 0) t.update(slot, DIR_INPUT, proto === IPPROTO_TCP ? TH_SYN : 0, now);
  return slot;
}

const live = (t: ConnTable, cport: number): boolean => t.lookupIn(IPPROTO_TCP, C, cport, VIP, 80) >= 0;

describe('defence modes (ipvs-sysctl.rst: 0 never, 1/2 automatic, 3 always)', () => {
  it('steps an automatic mode to 2 while memory is low and back to 1, and leaves 0 and 3', () => {
    expect([0, 1, 2, 3].map((m) => defenseMode(m, true))).toEqual([0, 2, 2, 3]);
    expect([0, 1, 2, 3].map((m) => defenseMode(m, false))).toEqual([0, 1, 1, 3]);
  });

  it('drop_packet rate: amemthresh / (amemthresh - free) when low, am_droprate in mode 3, else none', () => {
    const s = { amemthresh: 1024, amDroprate: 10 };
    expect(dropRateOf(2, 0, s)).toBe(1); // table full: every new connection
    expect(dropRateOf(2, 512, s)).toBe(2);
    expect(dropRateOf(2, 1000, s)).toBe(42);
    expect(dropRateOf(2, 1024, s)).toBe(0);
    expect(dropRateOf(1, 0, s)).toBe(0);
    expect(dropRateOf(3, 5000, s)).toBe(10);
    expect(dropRateOf(0, 0, s)).toBe(0);
  });

  it('the table works its levels out from its free slots: on and reading 2 below amemthresh, 1 above', () => {
    const t = table(8, { dropEntry: 1, dropPacket: 1, secureTcp: 1, amemthresh: 4 });
    const svc = makeService({}, 1);
    expect([t.settings.dropEntry, t.settings.dropPacket, t.settings.secureTcp]).toEqual([1, 1, 1]);
    expect([t.dropEntryOn, t.dropRate, t.secureTcpOn]).toEqual([false, 0, false]);
    for (let k = 0; k < 6; k++) syn(t, svc, 100 + k); // 2 free < 4
    t.updateDefense();
    expect([t.settings.dropEntry, t.settings.dropPacket, t.settings.secureTcp]).toEqual([2, 2, 2]);
    expect([t.dropEntryOn, t.dropRate, t.secureTcpOn]).toEqual([true, 2, true]); // 4 / (4 - 2)
    t.expire(61 * S, 1000); // the fresh conns time out
    t.updateDefense();
    expect([t.settings.dropEntry, t.settings.dropPacket, t.settings.secureTcp]).toEqual([1, 1, 1]);
    expect([t.dropEntryOn, t.dropRate, t.secureTcpOn]).toEqual([false, 0, false]);
  });

  it('drop_packet drops 1 in rate', () => {
    const t = table(8, { dropPacket: 3, amDroprate: 4 });
    const drops: boolean[] = [];
    for (let k = 0; k < 12; k++) drops.push(t.dropNewPacket());
    expect(drops.filter(Boolean).length).toBe(3);
    expect(drops.indexOf(true)).toBe(3); // the fourth
  });
});

describe('secure_tcp', () => {
  it('in mode 1 the stricter table is used only while the table is under pressure', () => {
    const t = table(4, { secureTcp: 1, amemthresh: 2 });
    const svc = makeService({}, 1);
    const a = syn(t, svc, 1);
    t.update(a, DIR_INPUT, TH_ACK, 0);
    expect(t.state[a]).toBe(TCP_S_ESTABLISHED); // plenty free: the normal table
    syn(t, svc, 2);
    const c = syn(t, svc, 3); // one free < 2
    t.updateDefense();
    expect(t.secureTcpOn).toBe(true);
    t.update(c, DIR_INPUT, TH_ACK, 0);
    expect(t.state[c]).toBe(TCP_S_SYN_RECV); // NAT: a client ACK alone does not establish it
  });
});

describe('drop_entry', () => {
  it('drops the SYN_RECV/SYNACK conns in 1/32 of the slots per pass, and no other', () => {
    const t = table(64, { dropEntry: 3 });
    const svc = makeService({}, 1);
    const slots: number[] = [];
    for (let k = 0; k < 64; k++) slots.push(syn(t, svc, 1000 + k));
    // every 4th completes its handshake; every 8th has the server's SYN-ACK under secure_tcp (SYNACK)
    for (let k = 0; k < 64; k += 4) t.update(slots[k]!, DIR_INPUT, TH_ACK, 0);
    t.settings.secureTcp = 3;
    t.updateDefense();
    for (let k = 2; k < 64; k += 8) t.update(slots[k]!, DIR_OUTPUT, TH_SYN | TH_ACK, 0);
    expect(t.state[slots[2]!]).toBe(TCP_S_SYNACK);
    expect(t.dropEntries(1)).toBe(1); // slots 0 (ESTABLISHED) and 1 (SYN_RECV): 64 / 32 = 2 looked at
    expect(live(t, 1001)).toBe(false);
    expect(live(t, 1000)).toBe(true);
    let dropped = 1;
    for (let pass = 1; pass < 32; pass++) dropped += t.dropEntries(1);
    expect(dropped).toBe(48);
    expect(t.counters.dropEntry).toBe(48);
    expect(t.size).toBe(16);
    for (let k = 0; k < 64; k++) expect(live(t, 1000 + k), `conn ${k}`).toBe(k % 4 === 0);
  });

  it('runs from defend() only while in force: mode 1 waits for pressure', () => {
    const t = table(64, { dropEntry: 1, amemthresh: 8 });
    const svc = makeService({}, 1);
    for (let k = 0; k < 40; k++) syn(t, svc, 1000 + k);
    expect(t.defend(1)).toBe(0); // 24 free: not low
    for (let k = 40; k < 60; k++) syn(t, svc, 1000 + k);
    expect(t.defend(2)).toBe(2); // 4 free: on, two slots looked at, both SYN_RECV
    expect(t.settings.dropEntry).toBe(2);
  });

  it('leaves UDP conns and persistence templates alone', () => {
    const t = table(32, { dropEntry: 3 });
    const udp = makeService({ proto: IPPROTO_UDP, persistent: 300 }, 1);
    for (let k = 0; k < 10; k++) syn(t, udp, 2000 + k, 0, IPPROTO_UDP);
    const before = t.size;
    for (let pass = 0; pass < 40; pass++) t.dropEntries(1);
    expect(t.size).toBe(before);
  });
});

describe('evict_embryonic', () => {
  it('off (IPVS): a full table refuses new connections', () => {
    const t = table(3);
    const svc = makeService({}, 1);
    for (let k = 0; k < 3; k++) expect(syn(t, svc, k)).toBeGreaterThanOrEqual(0);
    expect(syn(t, svc, 9)).toBe(TABLE_FULL);
  });

  it('a full table gives the oldest embryonic conn\'s slot to the new one', () => {
    const t = table(3, { evictEmbryonic: true });
    const svc = makeService({}, 1);
    const first = syn(t, svc, 1, 0);
    syn(t, svc, 2, 10);
    syn(t, svc, 3, 20);
    const gen = t.generation[first]!;
    const n = syn(t, svc, 4, 30);
    expect(n).toBeGreaterThanOrEqual(0);
    expect([1, 2, 3, 4].map((p) => live(t, p))).toEqual([false, true, true, true]);
    expect(t.counters.evicted).toBe(1);
    expect(t.counters.tableFull).toBe(0);
    expect(t.generation[first]).not.toBe(gen); // a fragment decision on the old conn sees the slot was reused
    expect(svc.dests[0]!.activeConns + svc.dests[0]!.inactConns).toBe(3);
    syn(t, svc, 5, 40);
    expect([2, 3, 4, 5].map((p) => live(t, p))).toEqual([false, true, true, true]); // oldest first
  });

  it('never takes a connection that completed its handshake; a table of those is full', () => {
    const t = table(3, { evictEmbryonic: true });
    const svc = makeService({}, 1);
    const a = syn(t, svc, 1);
    syn(t, svc, 2);
    const c = syn(t, svc, 3);
    t.update(a, DIR_INPUT, TH_ACK, 1); // the oldest is established now
    syn(t, svc, 4, 2);
    expect([1, 2, 3, 4].map((p) => live(t, p))).toEqual([true, false, true, true]);
    t.update(c, DIR_INPUT, TH_ACK, 3);
    t.update(t.lookupIn(IPPROTO_TCP, C, 4, VIP, 80), DIR_INPUT, TH_ACK, 3);
    expect(t.embryonicCount).toBe(0);
    expect(syn(t, svc, 5, 4)).toBe(TABLE_FULL);
    expect(t.counters.tableFull).toBe(1);
  });

  it('follows conns that end on their own: a freed one is not in the list any more', () => {
    const t = table(3, { evictEmbryonic: true });
    const svc = makeService({}, 1);
    const a = syn(t, svc, 1);
    syn(t, svc, 2);
    syn(t, svc, 3);
    t.expireNow(a);
    expect(t.embryonicCount).toBe(2);
    syn(t, svc, 4); // a free slot: nothing evicted
    expect(t.counters.evicted).toBe(0);
    syn(t, svc, 5); // full: the oldest left is port 2
    expect([2, 3, 4, 5].map((p) => live(t, p))).toEqual([false, true, true, true]);
    t.expire(100 * S, 1000); // everything times out
    expect(t.size).toBe(0);
    expect(t.embryonicCount).toBe(0);
  });

  it('makes room for a template and its conn (persistence)', () => {
    const t = table(4, { evictEmbryonic: true });
    const plain = makeService({}, 1);
    for (let k = 0; k < 4; k++) syn(t, plain, k);
    const persistent = makeService({ persistent: 300, port: 443 }, 1);
    const slot = schedule(t, persistent, pkt(IPPROTO_TCP, ip('198.51.100.2'), 5555, VIP, 443), 1);
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(t.counters.evicted).toBe(2);
    expect(t.size).toBe(4);
  });

  it('under secure_tcp (NAT) a client ACK alone does not save a conn: it stays embryonic until the server answers', () => {
    const t = table(2, { evictEmbryonic: true, secureTcp: 3 });
    const svc = makeService({}, 1);
    const a = syn(t, svc, 1);
    t.update(a, DIR_INPUT, TH_ACK, 0); // a blind ACK from a spoofed source
    syn(t, svc, 2);
    syn(t, svc, 3);
    expect(live(t, 1)).toBe(false);
  });

  it('a new conn evicting under a steady flood keeps every conn for max / rate', () => {
    // 100 slots, a SYN per ms: each embryonic conn lives 100 ms; a client that ACKs within that is served
    const t = table(100, { evictEmbryonic: true });
    const svc = makeService({}, 1);
    let served = 0;
    let tried = 0;
    const pending: [number, number][] = [];
    for (let ms = 0; ms < 2000; ms++) {
      syn(t, svc, 10_000 + ms, ms); // the flood
      if (ms % 50 === 0) { syn(t, svc, ms, ms); pending.push([ms, ms + (ms % 100 === 0 ? 60 : 140)]); tried++; }
      for (const p of pending) {
        if (p[1] !== ms) continue;
        const slot = t.lookupIn(IPPROTO_TCP, C, p[0], VIP, 80, ms);
        if (slot >= 0) { t.update(slot, DIR_INPUT, TH_ACK, ms); served++; }
      }
    }
    // the ones that answered after 60 ms (of 100) were served, those after 140 ms were not
    expect(tried).toBe(40);
    expect(served).toBe(20);
  });
});

describe('EmbryonicList', () => {
  it('keeps link order and unlinks from anywhere', () => {
    const l = new EmbryonicList(8);
    for (const i of [5, 2, 7, 0]) l.link(i);
    l.unlink(2);
    l.unlink(0);
    const order: number[] = [];
    for (let i = l.oldest(); i >= 0; i = l.after(i)) order.push(i);
    expect(order).toEqual([5, 7]);
    l.unlink(5);
    l.link(3);
    expect(l.oldest()).toBe(7);
    expect(l.size).toBe(2);
  });
});
