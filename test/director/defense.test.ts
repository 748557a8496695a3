// The flood defences through the director: a full table with and without
// evict_embryonic, drop_packet's drops, drop_entry and secure_tcp driven by
// the director's tick, each as a config sets them.
import { describe, expect, it } from 'vitest';
import { TCP_STATE_NAMES } from '../../src/conn/tcp-states.js';
import type { DirectorOptions } from '../../src/model/config.js';
import { Rig } from './harness.js';
import { pad60, tcpFrame } from './frames.js';
import { DR, drConfig, ip, NAT, natConfig } from './topo.js';
import { ip6, NAT6, nat6Config, tcp6Frame } from './topo6.js';

function rig(options: Partial<DirectorOptions>): Rig {
  const cfg = natConfig({ services: [{ port: 80, dests: [{ addr: NAT.rs1, port: 8080 }] }] });
  cfg.options = { ...cfg.options, ...options };
  return new Rig(cfg);
}

const client = (k: number) => `198.18.0.${k}`;

function seg(k: number, flags: string, cport = 40000): Uint8Array {
  return pad60(tcpFrame({ smac: NAT.routerMac, dmac: NAT.outMac, src: client(k), dst: NAT.vip, sport: cport, dport: 80, flags, seq: 100, ack: flags.includes('A') ? 1 : 0 }));
}

/** A SYN from client k at `now`: true if it went on to the real server. */
function synIn(r: Rig, k: number, now: number): boolean {
  return r.in(0, seg(k, 'S'), now).some((f) => f.port === 1);
}

function state(r: Rig, k: number): string {
  const slot = r.d.conns.lookupIn(6, ip(client(k)), 40000, ip(NAT.vip), 80);
  return slot < 0 ? 'none' : TCP_STATE_NAMES[r.d.conns.state[slot]!]!;
}

describe('a full connection table', () => {
  it('by default gives the oldest half-open connection\'s slot to a new client', () => {
    const r = rig({ maxConns: 4 });
    for (let k = 1; k <= 4; k++) expect(synIn(r, k, 1000 + k)).toBe(true);
    expect(r.in(0, seg(2, 'A'), 1010).length).toBe(1); // client 2 completes its handshake
    expect(synIn(r, 5, 1020)).toBe(true); // takes client 1's slot
    expect(synIn(r, 6, 1030)).toBe(true); // and client 3's: client 2 is established
    expect(['none', 'ESTABLISHED', 'none', 'SYN_RECV', 'SYN_RECV', 'SYN_RECV'].join()).toBe([1, 2, 3, 4, 5, 6].map((k) => state(r, k)).join());
    // client 1's late ACK finds nothing: dropped as for any unknown connection
    expect(r.in(0, seg(1, 'A'), 1040)).toEqual([]);
    expect(r.drops()).toEqual({ 'no-conn-not-syn': 1 });
    expect(r.d.conns.counters.evicted).toBe(2);
  });

  it('with option evict_embryonic 0 refuses new connections as IPVS does', () => {
    const r = rig({ maxConns: 4, evictEmbryonic: false });
    for (let k = 1; k <= 4; k++) expect(synIn(r, k, 1000 + k)).toBe(true);
    expect(synIn(r, 5, 1020)).toBe(false);
    expect(r.drops()).toEqual({ 'table-full': 1 });
  });
});

describe('drop_packet', () => {
  it('mode 3 drops 1 in am_droprate new connections, before scheduling, and never a packet of a known one', () => {
    const r = rig({ dropPacket: 3, amDroprate: 3 });
    const passed = [1, 2, 3, 4, 5, 6].map((k) => synIn(r, k, 1000 + k));
    expect(passed).toEqual([true, true, false, true, true, false]);
    expect(r.drops()).toEqual({ 'drop-packet': 2 });
    expect(r.d.services.all[0]!.stats.conns).toBe(4);
    for (let i = 0; i < 6; i++) expect(r.in(0, seg(1, 'A'), 1100 + i).length).toBe(1);
  });

  it('mode 1 starts dropping at the tick after the table passes amemthresh, at amemthresh / (amemthresh - free)', () => {
    const r = rig({ maxConns: 16, dropPacket: 1, amemthresh: 8, evictEmbryonic: false });
    r.tick(1000);
    for (let k = 1; k <= 12; k++) expect(synIn(r, k, 1000 + k)).toBe(true); // 4 free: low, but no tick yet
    r.tick(2000);
    expect(r.d.conns.settings.dropPacket).toBe(2);
    expect(r.d.conns.dropRate).toBe(2); // 8 / (8 - 4)
    expect([13, 14, 15, 16].map((k) => synIn(r, k, 2000 + k))).toEqual([true, false, true, false]);
  });
});

describe('drop_entry', () => {
  it('mode 1: once a second while the table is low, SYN_RECV entries are dropped, established ones kept', () => {
    const r = rig({ maxConns: 64, dropEntry: 1, amemthresh: 16, evictEmbryonic: false });
    r.tick(0);
    for (let k = 1; k <= 60; k++) synIn(r, k, 10 + k);
    for (let k = 1; k <= 60; k += 3) r.in(0, seg(k, 'A'), 100); // 20 established
    r.tick(500); // not a second since the last run: nothing yet
    expect(r.d.conns.size).toBe(60);
    let t = 1000;
    while (r.d.conns.available < 16) { r.tick(t); t += 1000; }
    expect(r.d.conns.counters.dropEntry).toBeGreaterThan(0);
    expect(r.d.conns.settings.dropEntry).toBe(2);
    for (let k = 1; k <= 60; k += 3) expect(state(r, k)).toBe('ESTABLISHED');
    // not low any more: the next tick turns it off
    r.tick(t);
    expect(r.d.conns.settings.dropEntry).toBe(1);
    const n = r.d.conns.counters.dropEntry;
    r.tick(t + 1000);
    expect(r.d.conns.counters.dropEntry).toBe(n);
  });
});

describe('secure_tcp', () => {
  it('mode 3 (NAT): the client\'s ACK does not establish a connection until the server has answered', () => {
    const r = rig({ secureTcp: 3 });
    synIn(r, 1, 1000);
    r.in(0, seg(1, 'A'), 1001);
    expect(state(r, 1)).toBe('SYN_RECV');
    const synAck = pad60(tcpFrame({ smac: NAT.rs1Mac, dmac: NAT.inMac, src: NAT.rs1, dst: client(1), sport: 8080, dport: 40000, flags: 'SA', seq: 9, ack: 101 }));
    expect(r.in(1, synAck, 1002).length).toBe(1);
    expect(state(r, 1)).toBe('SYNACK');
  });
});

describe('evict_embryonic in DR mode and for IPv6', () => {
  it('DR (no replies seen): the client\'s ACK completes the handshake; a full table evicts the oldest half-open one', () => {
    const cfg = drConfig({ services: [{ port: 80, dests: [{ addr: DR.rs1, port: 80 }] }] });
    cfg.options = { ...cfg.options, maxConns: 2 };
    const r = new Rig(cfg);
    const dseg = (k: number, flags: string) => pad60(tcpFrame({ smac: DR.routerMac, dmac: DR.mac, src: client(k), dst: DR.vip, sport: 40000, dport: 80, flags, seq: 100, ack: flags.includes('A') ? 1 : 0 }));
    expect(r.in(0, dseg(1, 'S'), 1).length).toBe(1);
    expect(r.in(0, dseg(1, 'A'), 2).length).toBe(1);
    expect(r.in(0, dseg(2, 'S'), 3).length).toBe(1);
    expect(r.in(0, dseg(3, 'S'), 4).length).toBe(1); // evicts client 2, not the established client 1
    expect(r.in(0, dseg(1, 'PA'), 5).length).toBe(1);
    expect(r.in(0, dseg(2, 'A'), 6)).toEqual([]);
    expect(r.d.conns.counters.evicted).toBe(1);
  });

  it('IPv6 (NAT): the same, keyed by full addresses', () => {
    const cfg = nat6Config({ services: [{ port: 80, dests: [{ addr: NAT6.rs1, port: 8080 }] }] });
    cfg.options = { ...cfg.options, maxConns: 2 };
    const r = new Rig(cfg);
    const c6 = (k: number) => `2001:db8:ff::${k}`;
    const seg6 = (k: number, flags: string) => pad60(tcp6Frame({ smac: NAT6.routerMac, dmac: NAT6.outMac, src: c6(k), dst: NAT6.vip, sport: 40000, dport: 80, flags, seq: 100, ack: flags.includes('A') ? 1 : 0 }));
    for (let k = 1; k <= 3; k++) expect(r.in(0, seg6(k, 'S'), k).filter((f) => f.port === 1).length).toBe(1);
    const live6 = (k: number) => r.d.conns.lookupIn6(6, ip6(c6(k)), 0, 40000, ip6(NAT6.vip), 0, 80) >= 0;
    expect([1, 2, 3].map(live6)).toEqual([false, true, true]);
    expect(r.d.conns.counters.evicted).toBe(1);
  });
});
