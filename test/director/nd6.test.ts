// Neighbour discovery (RFC 4861) instead of ARP: solicitations for the
// director's own addresses and for a VIP answered — a VIP only on its own
// port, as ARP for VIPs —, the solicitor learned; next hops resolved with a
// multicast solicitation while the frame waits, retried, given up; unsolicited
// advertisements at start. Every expected frame is built from scratch.
import { describe, expect, it } from 'vitest';
import { eth } from '../../src/wire/builder.js';
import { expectDropped, expectFrames, Rig } from './harness.js';
import { CLIENT6, DR6, dr6Config, NAT6, nat6Config, tcp6Frame, type Tcp6Spec } from './topo6.js';

const cfg = nat6Config({ services: [{ port: 80, dests: [{ addr: NAT6.rs1, port: 8080 }] }] });

/** ff02::1:ffXX:XXXX for the low 24 bits of an address, and its MAC. */
function snm(addr: string): { ip: string; mac: string } {
  const g = addr.split(':');
  const last = g[g.length - 1]!.padStart(4, '0');
  const prev = (g[g.length - 2] ?? '0').padStart(4, '0');
  const lo24 = `${prev.slice(2)}${last}`;
  return {
    ip: `ff02::1:ff${lo24.slice(0, 2)}:${parseInt(lo24.slice(2), 16).toString(16)}`,
    mac: `33:33:ff:${lo24.slice(0, 2)}:${lo24.slice(2, 4)}:${lo24.slice(4, 6)}`,
  };
}

function ns(o: { smac: string; dmac: string; src: string; dst: string; target: string; sll?: string; hopLimit?: number }): Uint8Array {
  return eth({ src: o.smac, dst: o.dmac }).ipv6({ src: o.src, dst: o.dst, hopLimit: o.hopLimit ?? 255 })
    .icmpv6({ type: 135, target: o.target, options: o.sll ? [{ sll: o.sll }] : [] }).build();
}

function na(o: { smac: string; dmac: string; src: string; dst: string; target: string; flags: string; tll?: string }): Uint8Array {
  return eth({ src: o.smac, dst: o.dmac }).ipv6({ src: o.src, dst: o.dst, hopLimit: 255 })
    .icmpv6({ type: 136, target: o.target, flags: o.flags, options: o.tll ? [{ tll: o.tll }] : [] }).build();
}

describe('ND: solicitations for the director\'s addresses and VIPs', () => {
  it('a multicast solicitation for the VIP on its port: advertised with R, S, O and our MAC', () => {
    const rig = new Rig(cfg);
    const g = snm(NAT6.vip);
    expect(g).toEqual({ ip: 'ff02::1:ff00:100', mac: '33:33:ff:00:01:00' });
    const out = rig.in(0, ns({ smac: NAT6.routerMac, dmac: g.mac, src: NAT6.router, dst: g.ip, target: NAT6.vip, sll: NAT6.routerMac }), 1);
    expectFrames(out, [{
      port: 0,
      bytes: na({ smac: NAT6.outMac, dmac: NAT6.routerMac, src: NAT6.vip, dst: NAT6.router, target: NAT6.vip, flags: 'RSO', tll: NAT6.outMac }),
    }]);
    expect(rig.drops()).toEqual({});
    expect(rig.d.counters.ndReplies).toBe(1);
  });

  it('on the other port it is not answered (a VIP is answered only on its port): its group is not joined there', () => {
    const rig = new Rig(cfg);
    const g = snm(NAT6.vip);
    const out = rig.in(1, ns({ smac: NAT6.rs1Mac, dmac: g.mac, src: NAT6.rs1, dst: g.ip, target: NAT6.vip, sll: NAT6.rs1Mac }), 1);
    expectDropped(rig, out, 'not-for-us');
    // nor asked for by unicast: taken in, nothing sent, nothing learned
    const before = rig.drops();
    expect(rig.in(1, ns({ smac: NAT6.rs1Mac, dmac: NAT6.inMac, src: NAT6.rs1, dst: NAT6.inAddr, target: NAT6.vip, sll: NAT6.rs1Mac }), 2)).toEqual([]);
    expect(rig.drops()).toEqual(before);
    expect(rig.d.counters.ndReplies).toBe(0);
  });

  it('a port\'s own address and link-local address are answered on that port, from themselves', () => {
    const rig = new Rig(cfg);
    const g = snm(NAT6.inAddr);
    expectFrames(rig.in(1, ns({ smac: NAT6.rs1Mac, dmac: g.mac, src: NAT6.rs1, dst: g.ip, target: NAT6.inAddr, sll: NAT6.rs1Mac }), 1), [{
      port: 1,
      bytes: na({ smac: NAT6.inMac, dmac: NAT6.rs1Mac, src: NAT6.inAddr, dst: NAT6.rs1, target: NAT6.inAddr, flags: 'RSO', tll: NAT6.inMac }),
    }]);
    const l = snm(NAT6.inLl);
    expect(l.ip).toBe('ff02::1:ff00:2');
    expectFrames(rig.in(1, ns({ smac: NAT6.rs1Mac, dmac: l.mac, src: 'fe80::11', dst: l.ip, target: NAT6.inLl, sll: NAT6.rs1Mac }), 2), [{
      port: 1,
      bytes: na({ smac: NAT6.inMac, dmac: NAT6.rs1Mac, src: NAT6.inLl, dst: 'fe80::11', target: NAT6.inLl, flags: 'RSO', tll: NAT6.inMac }),
    }]);
    // the outside address is not the inside port's
    const o = snm(NAT6.outAddr);
    expect(rig.in(1, ns({ smac: NAT6.rs1Mac, dmac: o.mac, src: NAT6.rs1, dst: o.ip, target: NAT6.outAddr, sll: NAT6.rs1Mac }), 3)).toEqual([]);
  });

  it('a unicast solicitation (reachability probe): solicited, no override, no link-layer option, to the sender\'s MAC', () => {
    const rig = new Rig(cfg);
    const out = rig.in(0, ns({ smac: NAT6.routerMac, dmac: NAT6.outMac, src: NAT6.router, dst: NAT6.vip, target: NAT6.vip }), 1);
    expectFrames(out, [{ port: 0, bytes: na({ smac: NAT6.outMac, dmac: NAT6.routerMac, src: NAT6.vip, dst: NAT6.router, target: NAT6.vip, flags: 'RS' }) }]);
  });

  it('duplicate address detection (unspecified source): defended to all-nodes, not solicited', () => {
    const rig = new Rig(cfg);
    const g = snm(NAT6.vip);
    const out = rig.in(0, ns({ smac: '02:00:00:00:00:99', dmac: g.mac, src: '::', dst: g.ip, target: NAT6.vip }), 1);
    expectFrames(out, [{ port: 0, bytes: na({ smac: NAT6.outMac, dmac: '33:33:00:00:00:01', src: NAT6.vip, dst: 'ff02::1', target: NAT6.vip, flags: 'RO', tll: NAT6.outMac }) }]);
  });

  it('refused as RFC 4861 says: hop limit not 255, bad checksum, multicast target, a DAD probe with a link-layer option', () => {
    const rig = new Rig(cfg);
    const g = snm(NAT6.vip);
    const base = { smac: NAT6.routerMac, dmac: g.mac, src: NAT6.router, dst: g.ip, target: NAT6.vip, sll: NAT6.routerMac };
    let before = rig.drops();
    expectDropped(rig, rig.in(0, ns({ ...base, hopLimit: 254 }), 1), 'malformed-icmp', before);
    before = rig.drops();
    const bad = eth({ src: base.smac, dst: base.dmac }).ipv6({ src: base.src, dst: base.dst, hopLimit: 255 })
      .icmpv6({ type: 135, target: NAT6.vip, checksum: 0x1111 }).build();
    expectDropped(rig, rig.in(0, bad, 2), 'malformed-icmp', before);
    before = rig.drops();
    expectDropped(rig, rig.in(0, ns({ ...base, target: 'ff02::1' }), 3), 'malformed-icmp', before);
    before = rig.drops();
    expectDropped(rig, rig.in(0, ns({ ...base, src: '::' }), 4), 'malformed-icmp', before);
  });

  it('a multicast group this port has not joined, or a unicast address in a group frame, is not for us', () => {
    const rig = new Rig(cfg);
    const other = snm('2001:db8:0:1::77');
    expectDropped(rig, rig.in(0, ns({ smac: NAT6.routerMac, dmac: other.mac, src: NAT6.router, dst: other.ip, target: '2001:db8:0:1::77' }), 1), 'not-for-us');
    const before = rig.drops();
    const f = tcp6Frame({ smac: NAT6.routerMac, dmac: '33:33:00:00:00:01', src: CLIENT6, dst: NAT6.vip, sport: 1, dport: 80, flags: 'S' });
    expectDropped(rig, rig.in(0, f, 2), 'not-for-us', before);
  });
});

describe('ND: resolving next hops', () => {
  const noNeigh = nat6Config({ services: [{ port: 80, dests: [{ addr: NAT6.rs1, port: 8080 }] }], staticNeighbours: false });
  const syn: Tcp6Spec = { smac: NAT6.routerMac, dmac: NAT6.outMac, src: CLIENT6, dst: NAT6.vip, sport: 4000, dport: 80, flags: 'S', seq: 1 };
  const synAtRs: Tcp6Spec = { ...syn, smac: NAT6.inMac, dmac: NAT6.rs1Mac, dst: NAT6.rs1, dport: 8080, hopLimit: 63 };
  const g = snm(NAT6.rs1);
  // the held packet's source is not ours: the solicitation comes from the port's link-local address (as Linux's ndisc_solicit)
  const solicit = eth({ src: NAT6.inMac, dst: g.mac }).ipv6({ src: NAT6.inLl, dst: g.ip, hopLimit: 255 })
    .icmpv6({ type: 135, target: NAT6.rs1, options: [{ sll: NAT6.inMac }] }).build();

  it('the frame waits, a solicitation goes to the solicited-node group; the advertisement releases it', () => {
    const rig = new Rig(noNeigh);
    expectFrames(rig.in(0, tcp6Frame(syn), 1000), [{ port: 1, bytes: solicit }]);
    const adv = na({ smac: NAT6.rs1Mac, dmac: NAT6.inMac, src: NAT6.rs1, dst: NAT6.inLl, target: NAT6.rs1, flags: 'SO', tll: NAT6.rs1Mac });
    expectFrames(rig.in(1, adv, 1005), [{ port: 1, bytes: tcp6Frame(synAtRs) }]);
    // learned: the next frame goes at once
    const ack = { ...syn, flags: 'A', seq: 2 };
    expectFrames(rig.in(0, tcp6Frame(ack), 1010), [{ port: 1, bytes: tcp6Frame({ ...synAtRs, flags: 'A', seq: 2 }) }]);
    expect(rig.drops()).toEqual({});
  });

  it('retried a second apart, three times in all, then the frames are dropped as unresolved', () => {
    const rig = new Rig(noNeigh);
    rig.in(0, tcp6Frame(syn), 1000);
    expect(rig.tick(1500)).toEqual([]);
    expectFrames(rig.tick(2000), [{ port: 1, bytes: solicit }]);
    expectFrames(rig.tick(3000), [{ port: 1, bytes: solicit }]);
    expect(rig.tick(4000)).toEqual([]);
    expect(rig.drops()).toEqual({ 'unresolved-neighbour': 1 });
  });

  it('an advertisement for an address nobody asked for makes no entry; a solicitation from a neighbour teaches its MAC', () => {
    const rig = new Rig(noNeigh);
    // unsolicited: not learned (Linux's accept_untracked_na 0), so the SYN still has to solicit
    rig.in(1, na({ smac: NAT6.rs1Mac, dmac: '33:33:00:00:00:01', src: NAT6.rs1, dst: 'ff02::1', target: NAT6.rs1, flags: 'O', tll: NAT6.rs1Mac }), 900);
    expectFrames(rig.in(0, tcp6Frame(syn), 1000), [{ port: 1, bytes: solicit }]);
    const rig2 = new Rig(noNeigh);
    // the real server asks for the director's inside address: its source and MAC are learned
    const gi = snm(NAT6.inAddr);
    rig2.in(1, ns({ smac: NAT6.rs1Mac, dmac: gi.mac, src: NAT6.rs1, dst: gi.ip, target: NAT6.inAddr, sll: NAT6.rs1Mac }), 900);
    expectFrames(rig2.in(0, tcp6Frame(syn), 1000), [{ port: 1, bytes: tcp6Frame(synAtRs) }]);
  });
});

describe('ND: announcements at start', () => {
  it('each port\'s link-local address, its addresses and its VIPs, to all-nodes with override', () => {
    const rig = new Rig(cfg);
    const adv = (port: number, smac: string, target: string) => ({
      port, bytes: na({ smac, dmac: '33:33:00:00:00:01', src: target, dst: 'ff02::1', target, flags: 'RO', tll: smac }),
    });
    expectFrames(rig.start(0), [
      adv(0, NAT6.outMac, NAT6.outLl), adv(0, NAT6.outMac, NAT6.outAddr), adv(0, NAT6.outMac, NAT6.vip),
      adv(1, NAT6.inMac, NAT6.inLl), adv(1, NAT6.inMac, NAT6.inAddr),
    ]);
  });

  it('a director with no IPv6 configured announces no IPv6 address', async () => {
    const { natConfig, NAT } = await import('./topo.js');
    const rig = new Rig(natConfig({ services: [{ port: 80, dests: [{ addr: NAT.rs1, port: 80 }] }] }));
    expect(rig.start(0).every((f) => f.bytes[12] === 0x08 && f.bytes[13] === 0x06)).toBe(true);
  });

  it('DR: the VIP is announced on the LAN like the port address', () => {
    const rig = new Rig(dr6Config({ services: [{ port: 80, dests: [{ addr: DR6.rs1, port: 80 }] }] }));
    const targets = rig.start(0).map((f) => Array.from(f.bytes.subarray(14 + 40 + 8, 14 + 40 + 24)));
    expect(targets.length).toBe(3);
    const g = snm(DR6.vip);
    const out = rig.in(0, ns({ smac: DR6.routerMac, dmac: g.mac, src: DR6.router, dst: g.ip, target: DR6.vip, sll: DR6.routerMac }), 1);
    expectFrames(out, [{ port: 0, bytes: na({ smac: DR6.mac, dmac: DR6.routerMac, src: DR6.vip, dst: DR6.router, target: DR6.vip, flags: 'RSO', tll: DR6.mac }) }]);
  });
});
