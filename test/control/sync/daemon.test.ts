// The sync daemons' logic, between two in-memory directors: what a master
// sends when (the kernel's sync_threshold / sync_period / sync_refresh_period
// / sync_retries rules, templates, one-packet conns), what the backup makes
// of it (conns bound to its own real servers, the master's timeout, the
// replace and ignore rules, syncid, v0), and the takeover: a backup whose VIP
// is held back routes client packets, and forwards the synced conns the
// moment the VIP is active (a data segment of a conn it never saw a SYN of).
import { describe, expect, it } from 'vitest';
import { SyncDaemons } from '../../../src/control/sync/daemon.js';
import type { DirectorConfig } from '../../../src/model/config.js';
import { TCP_S_CLOSE_WAIT, TCP_S_ESTABLISHED } from '../../../src/conn/tcp-states.js';
import { CONN_F_APP } from '../../../src/conn/flags.js';
import { SEQ_OUT } from '../../../src/conn/app.js';
import {
  decodeIpvsSync, IP_VS_CONN_F_INACTIVE, IP_VS_CONN_F_IN_SEQ, IP_VS_CONN_F_OUT_SEQ, IP_VS_CONN_F_TEMPLATE, IpvsSyncWriter, IPVS_SYNC_GROUP, IPVS_SYNC_PORT, newIpvsSyncConn,
  type IpvsSyncConn,
} from '../../../src/wire/ipvs-sync.js';
import { eth } from '../../../src/wire/builder.js';
import { parseArp } from '../../../src/wire/arp.js';
import { parseIpv4 } from '../../../src/wire/ipv4.js';
import { parseUdp } from '../../../src/wire/udp.js';
import { Rig, type Frame } from '../../director/harness.js';
import { tcpFrame, udpFrame } from '../../director/frames.js';
import { CLIENT, CLIENT2, ip, NAT, natConfig } from '../../director/topo.js';

const INSIDE = 1;
const OUTSIDE = 0;

/** Director A (master) and B (backup): the same services, B's port addresses .2. */
function pair(opts: { persistent?: number; udp?: boolean; onePacket?: boolean; ftpPorts?: number[] } = {}): { a: Rig; b: Rig; cfgB: DirectorConfig } {
  const services = [{ port: 80, persistent: opts.persistent ?? 0, dests: [{ addr: NAT.rs1, port: 8080 }, { addr: NAT.rs2, port: 8080 }] }];
  if (opts.udp) services.push({ proto: 'udp', port: 53, dests: [{ addr: NAT.rs1, port: 53 }] } as never);
  const cfgA = natConfig({ services });
  const cfgB = natConfig({ services });
  cfgB.ports = cfgB.ports.map((p, i) => ({ ...p, mac: p.mac + 0x10, addrs: [{ addr: ip(i === 0 ? '10.0.0.2' : '192.168.10.2'), prefix: 24 }] }));
  if (opts.onePacket) for (const c of [cfgA, cfgB]) c.services[1]!.onePacket = true;
  if (opts.ftpPorts) for (const c of [cfgA, cfgB]) c.options = { ...c.options, ftpPorts: opts.ftpPorts };
  return { a: new Rig(cfgA), b: new Rig(cfgB), cfgB };
}

function clientSeg(flags: string, n: number, sport = 40000, src = CLIENT, dmac: string = NAT.outMac): Uint8Array {
  return tcpFrame({ smac: NAT.routerMac, dmac, src, dst: NAT.vip, sport, dport: 80, flags, seq: 1000 + n, ack: 5000 + n });
}

/** Sync messages among frames: UDP to 224.0.0.81:8848, decoded. */
function syncMessages(frames: Frame[]): { frame: Frame; msg: ReturnType<typeof decodeIpvsSync> }[] {
  const out = [];
  for (const f of frames) {
    if (f.bytes[12] !== 0x08 || f.bytes[23] !== 17) continue;
    const ipH = parseIpv4(f.bytes, 14);
    const u = parseUdp(f.bytes, 34);
    if (ipH.dst !== IPVS_SYNC_GROUP || u.dport !== IPVS_SYNC_PORT) continue;
    out.push({ frame: f, msg: decodeIpvsSync(f.bytes, 42, u.length - 8) });
  }
  return out;
}

/** A client's TCP connection through `rig` up to and including its n-th client packet (SYN = 1). */
function connect(rig: Rig, packets: number, t0: number, sport = 40000, src = CLIENT): Frame[] {
  const out: Frame[] = [];
  out.push(...rig.in(OUTSIDE, clientSeg('S', 0, sport, src), t0));
  for (let k = 2; k <= packets; k++) out.push(...rig.in(OUTSIDE, clientSeg('A', k, sport, src), t0 + k));
  return out;
}

/** The director's timers and the master daemon's (the runtime runs both). */
const daemons = new WeakMap<Rig, SyncDaemons>();
function tick(rig: Rig, now: number): Frame[] {
  const mark = rig.sent.length;
  rig.tick(now);
  daemons.get(rig)?.tick(now);
  return rig.sent.slice(mark);
}

/** The records the master queued since the last look: its message sent now (a test's shortcut past the 2 s wait). */
function queued(rig: Rig, now: number): IpvsSyncConn[] {
  const mark = rig.sent.length;
  daemons.get(rig)!.flush(now);
  return syncMessages(rig.sent.slice(mark)).flatMap((m) => m.msg.conns);
}

function startMaster(rig: Rig, opts: Partial<SyncDaemons['settings']> = {}, syncid = 0): SyncDaemons {
  const s = new SyncDaemons(rig.d, opts);
  expect(s.start({ state: 'master', mcastIfn: 'inside', syncid })).toBeNull();
  daemons.set(rig, s);
  return s;
}

function startBackup(rig: Rig, opts: Partial<SyncDaemons['settings']> = {}, syncid = 0): SyncDaemons {
  const s = new SyncDaemons(rig.d, opts);
  expect(s.start({ state: 'backup', mcastIfn: 'inside', syncid })).toBeNull();
  return s;
}

describe('master: when a conn is synced', () => {
  it('a TCP conn at its 3rd client packet (not the SYN, not the handshake ACK), sent 2 s after', () => {
    const { a } = pair();
    const s = startMaster(a);
    const t0 = 1_000_000;
    expect(syncMessages(connect(a, 2, t0))).toEqual([]);
    expect(syncMessages(a.in(OUTSIDE, clientSeg('PA', 3), t0 + 3))).toEqual([]);
    // the record waits in the message for IPVS_SYNC_FLUSH_MS
    expect(syncMessages(tick(a, t0 + 3 + 1999))).toEqual([]);
    const sent = syncMessages(tick(a, t0 + 3 + 2000));
    expect(sent.length).toBe(1);
    const { frame, msg } = sent[0]!;
    expect([msg.rc, msg.version, msg.syncid, msg.conns.length]).toEqual([0, 1, 0, 1]);
    const c = msg.conns[0]!;
    expect([c.protocol, c.state, c.cport, c.vport, c.dport, c.caddr, c.vaddr, c.timeout, c.flags & IP_VS_CONN_F_INACTIVE])
      .toEqual([6, TCP_S_ESTABLISHED, 40000, 80, 8080, ip(CLIENT), ip(NAT.vip), 900, 0]);
    expect([ip(NAT.rs1), ip(NAT.rs2)]).toContain(c.daddr);
    // out of the mcast interface, from its address, TTL 1, to the group's MAC
    const h = parseIpv4(frame.bytes, 14);
    expect([frame.port, h.src, h.ttl, h.flags & 2]).toEqual([INSIDE, ip(NAT.inAddr), 1, 0]);
    expect(Array.from(frame.bytes.subarray(0, 6))).toEqual([0x01, 0x00, 0x5e, 0x00, 0x00, 0x51]);
    expect(s.masterCounters!.messages).toBe(1);
  });

  it('again every sync_period (50) packets: at 53 and 103, not between', () => {
    const { a } = pair();
    startMaster(a);
    const t0 = 2_000_000;
    a.in(OUTSIDE, clientSeg('S', 0), t0);
    const at: number[] = [];
    for (let k = 2; k <= 110; k++) {
      a.in(OUTSIDE, clientSeg('A', k), t0 + 10 * k);
      if (queued(a, t0 + 10 * k).length > 0) at.push(k);
    }
    expect(at).toEqual([3, 53, 103]);
  });

  it('a state change to one of the synced states other than ESTABLISHED goes at once, whatever the count', () => {
    const { a } = pair();
    startMaster(a);
    const t0 = 3_000_000;
    connect(a, 5, t0);
    tick(a, t0 + 5000);
    a.in(OUTSIDE, clientSeg('FA', 6), t0 + 6000);
    const m = syncMessages(tick(a, t0 + 9000));
    expect(m.length).toBe(1);
    expect(m[0]!.msg.conns.map((c) => [c.state, c.timeout])).toEqual([[TCP_S_CLOSE_WAIT, 60]]);
  });

  it('sync_period 0: only at sync_threshold, and at state changes', () => {
    const { a } = pair();
    startMaster(a, { syncPeriod: 0 });
    const t0 = 4_000_000;
    const at: number[] = [];
    a.in(OUTSIDE, clientSeg('S', 0), t0);
    for (let k = 2; k <= 60; k++) {
      a.in(OUTSIDE, clientSeg(k === 60 ? 'FA' : 'A', k), t0 + 10 * k);
      if (queued(a, t0 + 10 * k).length > 0) at.push(k);
    }
    expect(at).toEqual([3, 60]);
  });

  it('sync_refresh_period: not before the expiry moved that much, then at the next packet; sync_retries tries again refresh/8 apart', () => {
    const { a } = pair();
    // refresh 20 s, period 0: the packet count does not matter, time does
    startMaster(a, { syncPeriod: 0, syncRefreshPeriod: 20, syncRetries: 1 });
    const t0 = 5_000_000;
    a.in(OUTSIDE, clientSeg('S', 0), t0);
    const at: number[] = [];
    // a client packet every second for 70 s
    for (let k = 1; k <= 70; k++) {
      a.in(OUTSIDE, clientSeg('A', k), t0 + 1000 * k);
      if (queued(a, t0 + 1000 * k).length > 0) at.push(k);
    }
    // k=1 (ESTABLISHED, first time); the one retry 2.5 s (20 s / 8) after a send; then 20 s after the last send
    expect(at).toEqual([1, 4, 24, 27, 47, 50, 70]);
  });

  it('a persistent conn brings its template, sent at each of the conn\'s client packets (templates skip the period rule); a one-packet UDP conn is never sent', () => {
    const { a } = pair({ persistent: 300 });
    startMaster(a);
    const t0 = 6_000_000;
    const kinds = (cs: IpvsSyncConn[]) => cs.map((c) => ((c.flags & IP_VS_CONN_F_TEMPLATE) !== 0 ? 'template' : 'conn'));
    a.in(OUTSIDE, clientSeg('S', 0), t0);
    expect(kinds(queued(a, t0))).toEqual(['template']);
    a.in(OUTSIDE, clientSeg('A', 2), t0 + 1);
    expect(kinds(queued(a, t0 + 1))).toEqual(['template']);
    a.in(OUTSIDE, clientSeg('A', 3), t0 + 2);
    const [conn, tpl] = queued(a, t0 + 2) as [IpvsSyncConn, IpvsSyncConn];
    expect([conn.flags & IP_VS_CONN_F_TEMPLATE, conn.cport]).toEqual([0, 40000]);
    expect([tpl.flags & IP_VS_CONN_F_TEMPLATE, tpl.cport, tpl.vport, tpl.caddr, tpl.timeout, tpl.daddr, tpl.dport])
      .toEqual([IP_VS_CONN_F_TEMPLATE, 0, 80, ip(CLIENT), 300, conn.daddr, 8080]);

    const p = pair({ udp: true, onePacket: true });
    startMaster(p.a);
    for (let k = 0; k < 10; k++) {
      p.a.in(OUTSIDE, udpFrame({ smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: 5000 + k, dport: 53, payload: 'q' }), t0 + k);
    }
    expect(p.a.d.conns.counters.onePacket).toBe(10);
    expect(queued(p.a, t0 + 5000)).toEqual([]);
  });

  it('messages fill up to sync_maxlen and go out when full', () => {
    const { a } = pair();
    const s = new SyncDaemons(a.d);
    expect(s.start({ state: 'master', mcastIfn: 'inside', syncMaxlen: 8 + 36 * 4 })).toBeNull();
    daemons.set(a, s);
    const t0 = 7_000_000;
    const sent: Frame[] = [];
    for (let c = 0; c < 9; c++) sent.push(...connect(a, 3, t0 + 100 * c, 41000 + c));
    const m = syncMessages(sent);
    expect(m.map((x) => x.msg.conns.length)).toEqual([4, 4]);
    expect(m.map((x) => x.frame.bytes.length - 42)).toEqual([152, 152]);
    expect(syncMessages(tick(a, t0 + 5000)).map((x) => x.msg.conns.length)).toEqual([1]);
  });
});

/** Runs A's sync frames into B on the same port. */
function deliver(b: Rig, frames: Frame[], now: number): void {
  for (const { frame } of syncMessages(frames)) b.in(frame.port, frame.bytes, now);
}

describe('backup: what it keeps', () => {
  it('creates the conn bound to its own real server, with the master state, activity and timeout; not counted as scheduled', () => {
    const { a, b } = pair();
    startMaster(a);
    const sb = startBackup(b);
    const t0 = 10_000_000;
    connect(a, 3, t0);
    deliver(b, tick(a, t0 + 3000), t0 + 3000);
    const t = b.d.conns;
    const slot = t.lookupIn(6, ip(CLIENT), 40000, ip(NAT.vip), 80, t0 + 3000);
    expect(slot).toBeGreaterThanOrEqual(0);
    const aSlot = a.d.conns.lookupIn(6, ip(CLIENT), 40000, ip(NAT.vip), 80, t0 + 3000);
    expect([t.state[slot], t.daddr[slot], t.dport[slot], t.timeout[slot], t.expires[slot]! - (t0 + 3000)])
      .toEqual([TCP_S_ESTABLISHED, a.d.conns.daddr[aSlot], 8080, 900_000, 900_000]);
    const dest = t.dest(slot);
    expect([dest.activeConns, dest.inactConns, dest.stats.conns]).toEqual([1, 0, 0]);
    // the reply direction is indexed too (NAT)
    expect(t.lookupOut(6, t.daddr[slot]!, 8080, ip(CLIENT), 40000, t0 + 3000)).toBe(slot);
    expect(sb.backupCounters).toMatchObject({ messages: 1, conns: 1, created: 1 });
    // a later record updates it
    a.in(OUTSIDE, clientSeg('FA', 9), t0 + 4000);
    deliver(b, tick(a, t0 + 7000), t0 + 7000);
    expect([t.state[slot], t.timeout[slot], dest.activeConns, dest.inactConns]).toEqual([TCP_S_CLOSE_WAIT, 60_000, 0, 1]);
    expect(sb.backupCounters).toMatchObject({ updated: 1 });
  });

  it('an app conn (FTP through NAT) with sequence offsets: sent with IN_SEQ/OUT_SEQ and the sequence-data option, kept by the backup\'s bound app', () => {
    const { a, b } = pair({ ftpPorts: [80] });
    startMaster(a);
    startBackup(b);
    const t0 = 10_000_000;
    connect(a, 2, t0);
    const ta = a.d.conns;
    const sa = ta.lookupIn(6, ip(CLIENT), 40000, ip(NAT.vip), 80, t0 + 2);
    expect(ta.flags[sa]! & CONN_F_APP).toBe(CONN_F_APP);
    // as the FTP helper leaves it after rewriting a 227 reply 3 bytes longer, then one 2 bytes shorter
    const ap = ta.apps;
    ap.seqFlags[sa] = SEQ_OUT;
    ap.outInit[sa] = 0xfffffff0;
    ap.outDelta[sa] = 1;
    ap.outPrev[sa] = 3;
    a.in(OUTSIDE, clientSeg('A', 3), t0 + 3);
    const sent = tick(a, t0 + 3000);
    const rec = syncMessages(sent).flatMap((m) => m.msg.conns);
    expect(rec).toHaveLength(1);
    expect([rec[0]!.flags & (IP_VS_CONN_F_IN_SEQ | IP_VS_CONN_F_OUT_SEQ), rec[0]!.hasSeq, rec[0]!.outSeqInit >>> 0, rec[0]!.outSeqDelta, rec[0]!.outSeqPrevDelta])
      .toEqual([IP_VS_CONN_F_OUT_SEQ, true, 0xfffffff0, 1, 3]);
    deliver(b, sent, t0 + 3000);
    const tb = b.d.conns;
    const sb = tb.lookupIn(6, ip(CLIENT), 40000, ip(NAT.vip), 80, t0 + 3000);
    expect(sb).toBeGreaterThanOrEqual(0);
    expect(tb.flags[sb]! & CONN_F_APP).toBe(CONN_F_APP);
    const bp = tb.apps;
    expect([bp.seqFlags[sb], bp.outInit[sb], bp.outDelta[sb], bp.outPrev[sb], bp.inDelta[sb]]).toEqual([SEQ_OUT, 0xfffffff0, 1, 3, 0]);
    // a conn without offsets carries no sequence data
    connect(a, 3, t0 + 4000, 40001);
    const rec2 = syncMessages(tick(a, t0 + 7000)).flatMap((m) => m.msg.conns).filter((c) => c.cport === 40001);
    expect([rec2.length, rec2[0]!.hasSeq, rec2[0]!.flags & (IP_VS_CONN_F_IN_SEQ | IP_VS_CONN_F_OUT_SEQ)]).toEqual([1, false, 0]);
  });

  it('a record for a conn it has with another real server: active ends it (the master rescheduled), inactive is ignored', () => {
    const { b } = pair();
    const sb = startBackup(b);
    const now = 11_000_000;
    const send = (daddr: string, inactive: boolean) => {
      const w = new IpvsSyncWriter({ maxlen: 1472 });
      w.add({ ...newIpvsSyncConn(), protocol: 6, state: TCP_S_ESTABLISHED, cport: 40000, vport: 80, dport: 8080, timeout: 900,
        caddr: ip(CLIENT), vaddr: ip(NAT.vip), daddr: ip(daddr), flags: inactive ? IP_VS_CONN_F_INACTIVE : 0 });
      b.in(INSIDE, syncFrame(w.message()), now);
    };
    const where = () => {
      const s = b.d.conns.lookupIn(6, ip(CLIENT), 40000, ip(NAT.vip), 80, now);
      return s < 0 ? '' : b.d.conns.daddr[s];
    };
    send(NAT.rs1, false);
    expect(where()).toBe(ip(NAT.rs1));
    send(NAT.rs2, true);
    expect(where()).toBe(ip(NAT.rs1));
    send(NAT.rs2, false);
    expect(where()).toBe(ip(NAT.rs2));
    expect(sb.backupCounters).toMatchObject({ created: 2, replacedIgnored: 1, replaced: 1 });
  });

  it('syncid: a backup with its own id takes only that id (0 takes all); no real server of that address, no conn', () => {
    const { b } = pair();
    const sb = startBackup(b, {}, 7);
    const now = 12_000_000;
    const msg = (syncid: number, daddr: string = NAT.rs1, cport = 40000 + syncid) => {
      const w = new IpvsSyncWriter({ maxlen: 1472, syncid });
      w.add({ ...newIpvsSyncConn(), protocol: 6, state: TCP_S_ESTABLISHED, cport, vport: 80, dport: 8080, timeout: 900,
        caddr: ip(CLIENT), vaddr: ip(NAT.vip), daddr: ip(daddr) });
      return syncFrame(w.message());
    };
    b.in(INSIDE, msg(6), now);
    b.in(INSIDE, msg(7), now);
    b.in(INSIDE, msg(7, '192.168.10.99', 41000), now);
    expect(b.d.conns.size).toBe(1);
    expect(sb.backupCounters).toMatchObject({ dropped: 1, created: 1, noDest: 1 });
  });

  it('v0 messages: taken, with the backup\'s own timeout for the state (v0 carries none)', () => {
    const { b } = pair();
    startBackup(b);
    const now = 13_000_000;
    const w = new IpvsSyncWriter({ version: 0, maxlen: 1472 });
    w.add({ ...newIpvsSyncConn(), protocol: 6, state: TCP_S_ESTABLISHED, cport: 40001, vport: 80, dport: 8080,
      caddr: ip(CLIENT), vaddr: ip(NAT.vip), daddr: ip(NAT.rs2) });
    b.in(INSIDE, syncFrame(w.message()), now);
    const slot = b.d.conns.lookupIn(6, ip(CLIENT), 40001, ip(NAT.vip), 80, now);
    expect([b.d.conns.daddr[slot], b.d.conns.timeout[slot]]).toEqual([ip(NAT.rs2), 900_000]);
  });

  it('a group not joined, or a backup not running: the message is not taken', () => {
    const { b } = pair();
    const now = 14_000_000;
    const w = new IpvsSyncWriter({ maxlen: 1472 });
    w.add({ ...newIpvsSyncConn(), protocol: 6, state: 1, cport: 40000, vport: 80, dport: 8080, caddr: ip(CLIENT), vaddr: ip(NAT.vip), daddr: ip(NAT.rs1) });
    b.in(INSIDE, syncFrame(w.message()), now);
    expect(b.drops()).toEqual({ 'not-for-us': 1 });
    const sb = startBackup(b);
    expect(sb.stop('backup')).toBeNull();
    b.in(INSIDE, syncFrame(w.message()), now);
    expect([b.d.conns.size, b.drops()['not-for-us']]).toEqual([0, 2]);
    expect(sb.stop('backup')).toBe('No daemon is running');
  });
});

/** A sync message as A would send it (from 192.168.10.1) on the inside LAN. */
function syncFrame(msg: Uint8Array): Uint8Array {
  return eth({ src: NAT.inMac, dst: '01:00:5e:00:00:51' }).ipv4({ src: NAT.inAddr, dst: IPVS_SYNC_GROUP, ttl: 1 })
    .udp({ sport: 40123, dport: IPVS_SYNC_PORT, payload: msg }).build();
}

describe('takeover', () => {
  it('a backup holding the VIP back routes client packets; once active, it forwards the synced conn mid-stream (no SYN seen)', () => {
    const { a, b } = pair();
    startMaster(a);
    startBackup(b);
    expect(b.d.mutate.setVipActive(ip(NAT.vip), false)).toBe(true);
    const t0 = 20_000_000;
    const out = connect(a, 3, t0);
    const rs = parseIpv4(out.at(-1)!.bytes, 14).dst;
    deliver(b, tick(a, t0 + 3000), t0 + 3000);
    // held back: not answered in ARP, not load-balanced (routed to its default gateway like any transit packet)
    const arp = eth({ src: NAT.routerMac, dst: 'ff:ff:ff:ff:ff:ff' }).arp({ op: 1, sha: NAT.routerMac, spa: NAT.router, tpa: NAT.vip }).build();
    expect(b.in(OUTSIDE, arp, t0 + 3100)).toEqual([]);
    const seg = tcpFrame({ smac: NAT.routerMac, dmac: '02:00:00:00:00:11', src: CLIENT, dst: NAT.vip, sport: 40000, dport: 80, flags: 'PA', seq: 2000, ack: 6000, payload: 'x' });
    // routed to the VIP's subnet, where the master has it: B asks who has it, holding the packet
    const routed = b.in(OUTSIDE, seg, t0 + 3200);
    expect(routed.length).toBe(1);
    expect([routed[0]!.port, parseArp(routed[0]!.bytes, 14).tpa, parseArp(routed[0]!.bytes, 14).spa]).toEqual([OUTSIDE, ip(NAT.vip), ip('10.0.0.2')]);
    expect(b.d.conns.lookupIn(6, ip(CLIENT), 40000, ip(NAT.vip), 80, t0 + 3200)).toBeGreaterThanOrEqual(0);
    // the VIP comes up: the next segment of the conn goes to the same real server, NATed
    expect(b.d.mutate.setVipActive(ip(NAT.vip), true)).toBe(true);
    expect(b.d.host.announceVip(ip(NAT.vip))).toBe(true);
    const fwd = b.in(OUTSIDE, seg, t0 + 3300);
    expect(fwd.length).toBe(1);
    const h = parseIpv4(fwd[0]!.bytes, 14);
    expect([fwd[0]!.port, h.src, h.dst]).toEqual([INSIDE, ip(CLIENT), rs]);
    // and the reply goes back from the VIP
    const one = rs === ip(NAT.rs1);
    const reply = tcpFrame({ smac: one ? NAT.rs1Mac : NAT.rs2Mac, dmac: '02:00:00:00:00:12', src: one ? NAT.rs1 : NAT.rs2, dst: CLIENT, sport: 8080, dport: 40000, flags: 'A', seq: 6000, ack: 2001 });
    const back = b.in(INSIDE, reply, t0 + 3400);
    expect(back.length).toBe(1);
    expect([back[0]!.port, parseIpv4(back[0]!.bytes, 14).src]).toEqual([OUTSIDE, ip(NAT.vip)]);
    expect(b.drops()['no-conn-not-syn'] ?? 0).toBe(0);
  });

  it('backup_only: while the backup daemon runs, nothing is load-balanced; stopping it lifts that', () => {
    const { b } = pair();
    const sb = startBackup(b, { backupOnly: true });
    const now = 21_000_000;
    const syn = clientSeg('S', 0, 40000, CLIENT2, '02:00:00:00:00:11');
    const out = b.in(OUTSIDE, syn, now);
    expect(b.d.conns.size).toBe(0);
    // not for it: routed back out (to the VIP's subnet, where the master answers ARP for it)
    expect(out.every((f) => f.port === OUTSIDE)).toBe(true);
    sb.stop('backup');
    b.in(OUTSIDE, syn, now + 1);
    expect(b.d.conns.size).toBe(1);
  });
});
