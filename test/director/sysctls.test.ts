// The IPVS sysctls that change what the data path does, each shown with the
// setting off and on (or at both values): the same frames in, different
// frames out. Defaults are the kernel's (ipvs-sysctl.rst).
import { describe, expect, it } from 'vitest';
import { IPVS_CONN_DEFAULTS, type ConnSettings } from '../../src/conn/table.js';
import type { DirectorConfig } from '../../src/model/config.js';
import { Stats } from '../../src/model/stats.js';
import { TCP_STATE_NAMES } from '../../src/conn/tcp-states.js';
import { eth } from '../../src/wire/builder.js';
import { describe1, expectFrames, Rig } from './harness.js';
import { pad60, tcpFrame, udpFrame } from './frames.js';
import { CLIENT, ip, NAT, natConfig, TUN, tunConfig } from './topo.js';

function rigWith(cfg: DirectorConfig, s: Partial<ConnSettings>): Rig {
  const rig = new Rig(cfg);
  rig.d.mutate.setConnSettings(s);
  return rig;
}

const nat2 = () => natConfig({ services: [{ port: 80, dests: [{ addr: NAT.rs1, port: 8080 }, { addr: NAT.rs2, port: 8080 }] }] });
const fromClient = (flags: string, sport = 40000, extra: Partial<Parameters<typeof tcpFrame>[0]> = {}) =>
  tcpFrame({ smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport, dport: 80, flags, ...extra });
const atRs = (rsMac: string, rs: string, flags: string, sport = 40000, extra: Partial<Parameters<typeof tcpFrame>[0]> = {}) =>
  tcpFrame({ smac: NAT.inMac, dmac: rsMac, src: CLIENT, dst: rs, sport, dport: 8080, flags, ttl: 63, ...extra });
const fromRs = (rsMac: string, rs: string, flags: string, sport = 40000) =>
  tcpFrame({ smac: rsMac, dmac: NAT.inMac, src: rs, dst: CLIENT, sport: 8080, dport: sport, flags });

describe('sysctl defaults', () => {
  it('are the kernel\'s', () => {
    const s = new Rig(nat2()).d.conns.settings;
    expect(s).toMatchObject({
      connReuseMode: 1, sloppyTcp: false, sloppySctp: false, scheduleIcmp: false, natIcmpSend: false, pmtuDisc: true,
      ignoreTunneled: false, cacheBypass: false, runEstimation: true, lblcExpiration: 86400, lblcrExpiration: 86400,
    });
    expect(IPVS_CONN_DEFAULTS.connReuseMode).toBe(1);
  });
});

describe('sloppy_tcp', () => {
  it('0: a mid-stream ACK with no conn is dropped; 1: it opens a conn (ESTABLISHED); a RST never does', () => {
    const off = new Rig(nat2());
    expect(off.in(0, pad60(fromClient('A')), 1)).toEqual([]);
    expect(off.drops()).toEqual({ 'no-conn-not-syn': 1 });

    const on = rigWith(nat2(), { sloppyTcp: true });
    // rr's first pick is the last server added
    expectFrames(on.in(0, pad60(fromClient('A')), 1), [{ port: 1, bytes: atRs(NAT.rs2Mac, NAT.rs2, 'A') }]);
    const t = on.d.conns;
    const slot = t.lookupIn(6, ip(CLIENT), 40000, ip(NAT.vip), 80, 1);
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(TCP_STATE_NAMES[t.state[slot]!]).toBe('ESTABLISHED');
    expect(on.in(0, pad60(fromClient('R', 40001)), 2)).toEqual([]);
    expect(on.drops()).toEqual({ 'no-conn-not-syn': 1 });
  });
});

describe('conn_reuse_mode', () => {
  // the kubernetes port-reuse case: a client reuses its port while the old conn is in TIME_WAIT and its
  // real server has been given weight 0 (being drained)
  function timeWaitOnRs2(mode: number): Rig {
    const rig = rigWith(nat2(), { connReuseMode: mode });
    expect(rig.in(0, pad60(fromClient('S')), 1).length).toBe(1);
    rig.in(1, pad60(fromRs(NAT.rs2Mac, NAT.rs2, 'SA')), 2);
    rig.in(0, pad60(fromClient('A')), 3);
    rig.in(0, pad60(fromClient('FA')), 4);
    rig.in(1, pad60(fromRs(NAT.rs2Mac, NAT.rs2, 'FA')), 5);
    const t = rig.d.conns;
    expect(TCP_STATE_NAMES[t.state[t.lookupIn(6, ip(CLIENT), 40000, ip(NAT.vip), 80, 6)]!]).toBe('TIME_WAIT');
    const svc = rig.d.services.all[0]!;
    rig.d.mutate.editDest(svc.dests.find((x) => x.addr === ip(NAT.rs2))!, { weight: 0 });
    return rig;
  }

  it('0: a SYN on the TIME_WAIT conn keeps going to the weight-0 server', () => {
    const rig = timeWaitOnRs2(0);
    expectFrames(rig.in(0, pad60(fromClient('S')), 10), [{ port: 1, bytes: atRs(NAT.rs2Mac, NAT.rs2, 'S') }]);
  });

  it('1 (the default): the SYN ends the old conn and is scheduled anew, to the other server', () => {
    const rig = timeWaitOnRs2(1);
    expectFrames(rig.in(0, pad60(fromClient('S')), 10), [{ port: 1, bytes: atRs(NAT.rs1Mac, NAT.rs1, 'S') }]);
  });
});

describe('schedule_icmp', () => {
  // the client says "port unreachable" about a packet from VIP:80 (a reply it got from a conn this director does not know)
  const quoted = tcpFrame({ smac: NAT.outMac, dmac: NAT.routerMac, src: NAT.vip, dst: CLIENT, sport: 80, dport: 40000, flags: 'A', ttl: 60 }).subarray(14, 14 + 28);
  const error = eth({ src: NAT.routerMac, dst: NAT.outMac }).ipv4({ src: CLIENT, dst: NAT.vip, ttl: 64 })
    .icmp({ type: 3, code: 3, payload: quoted }).build();

  it('0: dropped as an error about no conn; 1: scheduled, a conn made, the error sent on to the real server NAT-translated', () => {
    const off = new Rig(nat2());
    expect(off.in(0, pad60(error), 1)).toEqual([]);
    expect(off.drops()).toEqual({ 'icmp-error-no-conn': 1 });

    const on = rigWith(nat2(), { scheduleIcmp: true });
    const out = on.in(0, pad60(error), 1);
    expect(out.map((f) => f.port)).toEqual([1]);
    const text = describe1(out[0]!);
    expect(text).toContain(`ip ${CLIENT} > ${NAT.rs2}`);
    const t = on.d.conns;
    const slot = t.lookupIn(6, ip(CLIENT), 40000, ip(NAT.vip), 80, 1);
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(on.drops()).toEqual({});
  });
});

describe('nat_icmp_send', () => {
  const stray = udpFrame({ smac: NAT.rs1Mac, dmac: NAT.inMac, src: NAT.rs1, dst: CLIENT, sport: 5353, dport: 33333, payload: 'late' });
  const cfg = () => natConfig({ services: [{ proto: 'udp', port: 53, dests: [{ addr: NAT.rs1, port: 5353 }] }] });

  it('0: a real server\'s packet of no conn is routed on as it is; 1: answered with port unreachable to the real server and dropped', () => {
    const off = new Rig(cfg());
    const routed = off.in(1, pad60(stray), 1);
    expect(routed.map((f) => f.port)).toEqual([0]);

    const on = rigWith(cfg(), { natIcmpSend: true });
    const out = on.in(1, pad60(stray), 1);
    expect(out.map((f) => f.port)).toEqual([1]);
    const b = out[0]!.bytes;
    expect([b[23], b[34], b[35]]).toEqual([1, 3, 3]); // ICMP, destination unreachable, port unreachable
    expect(describe1(out[0]!)).toContain(`${NAT.inAddr} > ${NAT.rs1}`);
    expect(on.drops()).toEqual({ 'unmatched-from-real-server': 1 });
  });

  it('1: a TCP RST of no conn is not answered', () => {
    const on = rigWith(nat2(), { natIcmpSend: true });
    const out = on.in(1, pad60(fromRs(NAT.rs1Mac, NAT.rs1, 'R')), 1);
    expect(out.map((f) => f.port)).toEqual([0]); // routed as before
  });
});

describe('cache_bypass', () => {
  // a fwmark service for 10.9.1.1 (every port) with no real server
  function markCfg(): DirectorConfig {
    const c = natConfig({ services: [] });
    c.marks = [{ mark: 7, proto: 6, addr: ip('10.9.1.1'), ports: [] }];
    c.services = [{ proto: 6, addr: 0, port: 0, fwmark: 7, scheduler: 'rr', persistent: 0, dests: [] }];
    // transit traffic may be marked with cache_bypass in the config (model/topology.ts)
    c.options = { ...c.options, cacheBypass: true };
    return c;
  }
  const syn = tcpFrame({ smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: '10.9.1.1', sport: 40000, dport: 80, flags: 'S' });

  it('0: the client is told port unreachable; 1: the flow goes on to its own destination through a bypass conn', () => {
    const off = rigWith(markCfg(), { cacheBypass: false });
    const o = off.in(0, pad60(syn), 1);
    expect(o.map((f) => [f.port, f.bytes[23], f.bytes[34]])).toEqual([[0, 1, 3]]);
    expect(off.drops()).toEqual({ 'no-real-server': 1 });

    const on = rigWith(markCfg(), { cacheBypass: true });
    const out = on.in(0, pad60(syn), 1);
    // routed by the default route: back out of the outside port to the router, one TTL less, nothing rewritten
    expectFrames(out, [{ port: 0, bytes: tcpFrame({ smac: NAT.outMac, dmac: NAT.routerMac, src: CLIENT, dst: '10.9.1.1', sport: 40000, dport: 80, flags: 'S', ttl: 63 }) }]);
    const t = on.d.conns;
    const slot = t.lookupIn(6, ip(CLIENT), 40000, ip('10.9.1.1'), 80, 1);
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(t.daddr[slot]).toBe(ip('10.9.1.1'));
    // it counts in no statistics (ip_vs_in_stats: no dest)
    expect(on.d.totals.inpkts).toBe(0);
    expect(on.drops()).toEqual({});
  });
});

describe('pmtu_disc (TUN)', () => {
  const cfg = () => tunConfig({ services: [{ port: 80, dests: [{ addr: TUN.rs1, port: 80 }] }] });
  const big = tcpFrame({ smac: TUN.routerMac, dmac: TUN.mac, src: CLIENT, dst: TUN.vip, sport: 40000, dport: 80, flags: 'S', payload: new Uint8Array(1481 - 40) });

  it('1: a full-size DF packet draws frag-needed with MTU 1480; 0: it is tunnelled, the outer packet in fragments without DF', () => {
    const on = new Rig(cfg());
    const o = on.in(0, big, 1);
    expect(o.map((f) => [f.bytes[23], f.bytes[34], f.bytes[35], (f.bytes[40]! << 8) | f.bytes[41]!])).toEqual([[1, 3, 4, 1480]]);

    const off = rigWith(cfg(), { pmtuDisc: false });
    const out = off.in(0, big, 1);
    expect(out.length).toBe(2);
    for (const f of out) {
      expect(f.bytes[23]).toBe(4); // IPIP
      expect(f.bytes[20]! & 0x40).toBe(0); // no DF
    }
    expect(off.drops()).toEqual({});
  });
});

describe('lblc_expiration / lblcr_expiration', () => {
  it('reach the services\' locality tables, now and for services added later', () => {
    const c = natConfig({ services: [{ port: 80, scheduler: 'lblc', dests: [{ addr: NAT.rs1, port: 80 }] }] });
    const rig = new Rig(c);
    const svc = rig.d.services.all[0]!;
    const tbl = () => (svc.schedState as { tbl: { expiration: number } }).tbl;
    expect(tbl().expiration).toBe(86400_000);
    rig.d.mutate.setConnSettings({ lblcExpiration: 60 });
    expect(tbl().expiration).toBe(60_000);
    rig.d.mutate.setConnSettings({ lblcrExpiration: 90 });
    const s2 = rig.d.mutate.addService({ proto: 6, addr: ip(NAT.vip), port: 81, scheduler: 'lblcr' });
    expect((s2.schedState as { tbl: { expiration: number } }).tbl.expiration).toBe(90_000);
  });
});

describe('run_estimation', () => {
  it('0: the rates stay as they were while the counters move; back on, they follow again from a fresh sample', () => {
    const s = new Stats();
    s.estimate(0);
    s.inpkts = 200;
    s.estimate(2000);
    expect(s.inpps).toBe(25); // (100/s - 0) / 4
    s.inpkts = 10_000;
    s.estimate(4000, false);
    s.estimate(6000, false);
    expect(s.inpps).toBe(25);
    s.estimate(8000, true); // the first sample after: a new base, no jump from the frozen time
    expect(s.inpps).toBe(25);
    s.inpkts = 10_200;
    s.estimate(10_000, true);
    expect(s.inpps).toBe(25 + (100 - 25) / 4);
  });
});
