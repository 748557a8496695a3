// IPv6 fragments follow their first fragment (a fragment header: offset 0
// and M set for the first, which carries the transport header), in both
// orders, in each mode; and extension headers: hop-by-hop and destination
// options pass (and stay in place through NAT), an unknown hop-by-hop option
// whose type says so is refused with a parameter problem, a header the walk
// cannot pass is dropped by name. Expected frames are built from scratch.
import { describe, expect, it } from 'vitest';
import { eth, packet } from '../../src/wire/builder.js';
import { expectDropped, expectFrames, Rig } from './harness.js';
import {
  CLIENT6, DR6, dr6Config, ipPart, NAT6, nat6Config, tcp6Frame, TUN6, tun6Config, type Tcp6Spec,
} from './topo6.js';

interface Dgram {
  smac: string;
  dmac: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  id: number;
  hopLimit: number;
}

const PAYLOAD = Uint8Array.from({ length: 100 }, (_, i) => (i * 7 + 3) & 0xff);

/**
 * A UDP datagram (8 + 100 bytes) cut into two fragments of 56 and 52 bytes
 * behind a fragment header (next header UDP): the first holds the UDP
 * header, whose checksum covers the whole datagram.
 */
function fragments(d: Dgram): Uint8Array[] {
  const whole = packet().ipv6({ src: d.src, dst: d.dst }).udp({ sport: d.sport, dport: d.dport, payload: PAYLOAD }).build();
  const data = whole.subarray(40);
  const f = (offset: number, m: boolean, part: Uint8Array) =>
    eth({ src: d.smac, dst: d.dmac }).ipv6({ src: d.src, dst: d.dst, hopLimit: d.hopLimit })
      .frag({ offset, m, id: d.id, nextHeader: 17 }).payload(part).build();
  return [f(0, true, data.subarray(0, 56)), f(7, false, data.subarray(56))];
}

describe('NAT6 fragments', () => {
  const cfg = nat6Config({ services: [{ proto: 'udp', port: 53, dests: [{ addr: NAT6.rs1, port: 5353 }] }] });
  const fromClient: Dgram = { smac: NAT6.routerMac, dmac: NAT6.outMac, src: CLIENT6, dst: NAT6.vip, sport: 1111, dport: 53, id: 0x77665544, hopLimit: 60 };
  const atRs: Dgram = { ...fromClient, smac: NAT6.inMac, dmac: NAT6.rs1Mac, dst: NAT6.rs1, dport: 5353, hopLimit: 59 };
  const fromRs: Dgram = { smac: NAT6.rs1Mac, dmac: NAT6.inMac, src: NAT6.rs1, dst: CLIENT6, sport: 5353, dport: 1111, id: 9, hopLimit: 64 };
  const atClient: Dgram = { ...fromRs, smac: NAT6.outMac, dmac: NAT6.routerMac, src: NAT6.vip, sport: 53, hopLimit: 63 };

  it('first then later: each rewritten, the UDP checksum (in the first) right for the rewritten datagram', () => {
    const rig = new Rig(cfg);
    const [f1, f2] = fragments(fromClient);
    const [w1, w2] = fragments(atRs);
    expectFrames(rig.in(0, f1!, 1), [{ port: 1, bytes: w1! }]);
    expectFrames(rig.in(0, f2!, 2), [{ port: 1, bytes: w2! }]);
    expect(rig.drops()).toEqual({});
  });

  it('later before first: held, then released right behind the first', () => {
    const rig = new Rig(cfg);
    const [f1, f2] = fragments(fromClient);
    const [w1, w2] = fragments(atRs);
    expect(rig.in(0, f2!, 1)).toEqual([]);
    expect(rig.d.frags.heldCount).toBe(1);
    expectFrames(rig.in(0, f1!, 2), [{ port: 1, bytes: w1! }, { port: 1, bytes: w2! }]);
    expect(rig.d.frags.heldCount).toBe(0);
    expect(rig.drops()).toEqual({});
  });

  it('a fragmented reply, in both orders, back from the VIP with one hop less', () => {
    const rig = new Rig(cfg);
    rig.in(0, fragments(fromClient)[0]!, 1);
    const [r1, r2] = fragments(fromRs);
    const [c1, c2] = fragments(atClient);
    expectFrames(rig.in(1, r1!, 2), [{ port: 0, bytes: c1! }]);
    expectFrames(rig.in(1, r2!, 3), [{ port: 0, bytes: c2! }]);
    const [s1, s2] = fragments({ ...fromRs, id: 10 });
    const [t1, t2] = fragments({ ...atClient, id: 10 });
    expect(rig.in(1, s2!, 4)).toEqual([]);
    expectFrames(rig.in(1, s1!, 5), [{ port: 0, bytes: t1! }, { port: 0, bytes: t2! }]);
    expect(rig.drops()).toEqual({});
  });

  it('the same id from another source is another datagram; a held fragment whose first never comes times out', () => {
    const rig = new Rig(cfg);
    const [, f2] = fragments(fromClient);
    const [o1] = fragments({ ...fromClient, src: '2001:db8:ff::8' });
    rig.in(0, f2!, 1000);
    // another client's first fragment with the same id releases nothing of the first client's
    expect(rig.in(0, o1!, 1001).length).toBe(1);
    expect(rig.d.frags.heldCount).toBe(1);
    rig.tick(1000 + 30_000);
    expect(rig.drops()).toEqual({ 'fragment-timeout': 1 });
  });

  it('when the first fragment is dropped (no real server), its later fragments are dropped with it', () => {
    const rig = new Rig(nat6Config({ services: [{ proto: 'udp', port: 53, dests: [{ addr: NAT6.rs1, port: 5353, weight: 0 }] }] }));
    const [f1, f2] = fragments(fromClient);
    expect(rig.in(0, f2!, 1)).toEqual([]);
    // the client is told: port unreachable quoting the first fragment
    expect(rig.in(0, f1!, 2).length).toBe(1);
    expect(rig.d.frags.heldCount).toBe(0);
    expect(rig.drops()).toEqual({ 'no-real-server': 1, 'fragment-first-dropped': 1 });
  });
});

describe('DR6 and TUN6 fragments', () => {
  it('DR: both fragments to the real server\'s MAC, untouched, in both orders', () => {
    const cfg = dr6Config({ services: [{ proto: 'udp', port: 53, dests: [{ addr: DR6.rs1, port: 53 }] }] });
    const d: Dgram = { smac: DR6.routerMac, dmac: DR6.mac, src: CLIENT6, dst: DR6.vip, sport: 1111, dport: 53, id: 5, hopLimit: 60 };
    const [f1, f2] = fragments(d);
    const [w1, w2] = fragments({ ...d, smac: DR6.mac, dmac: DR6.rs1Mac, hopLimit: 59 });
    let rig = new Rig(cfg);
    expectFrames(rig.in(0, f1!, 1), [{ port: 0, bytes: w1! }]);
    expectFrames(rig.in(0, f2!, 2), [{ port: 0, bytes: w2! }]);
    rig = new Rig(cfg);
    expect(rig.in(0, f2!, 1)).toEqual([]);
    expectFrames(rig.in(0, f1!, 2), [{ port: 0, bytes: w1! }, { port: 0, bytes: w2! }]);
    expect(rig.drops()).toEqual({});
  });

  it('TUN: each fragment in its own IPv6-in-IPv6 packet, in both orders', () => {
    const cfg = tun6Config({ services: [{ proto: 'udp', port: 53, dests: [{ addr: TUN6.rs1, port: 53 }] }] });
    const d: Dgram = { smac: TUN6.routerMac, dmac: TUN6.mac, src: CLIENT6, dst: TUN6.vip, sport: 1111, dport: 53, id: 6, hopLimit: 60 };
    const [f1, f2] = fragments(d);
    const [i1, i2] = fragments({ ...d, hopLimit: 59 });
    const tun = (f: Uint8Array) => eth({ src: TUN6.mac, dst: TUN6.gwMac }).ip6ip6({ src: TUN6.addr, dst: TUN6.rs1, hopLimit: 59 }).payload(ipPart(f)).build();
    let rig = new Rig(cfg);
    expectFrames(rig.in(0, f1!, 1), [{ port: 0, bytes: tun(i1!) }]);
    expectFrames(rig.in(0, f2!, 2), [{ port: 0, bytes: tun(i2!) }]);
    rig = new Rig(cfg);
    expect(rig.in(0, f2!, 1)).toEqual([]);
    expectFrames(rig.in(0, f1!, 2), [{ port: 0, bytes: tun(i1!) }, { port: 0, bytes: tun(i2!) }]);
    expect(rig.drops()).toEqual({});
  });
});

describe('IPv6 extension headers', () => {
  const cfg = nat6Config({ services: [{ port: 80, dests: [{ addr: NAT6.rs1, port: 8080 }] }] });
  const syn: Tcp6Spec = { smac: NAT6.routerMac, dmac: NAT6.outMac, src: CLIENT6, dst: NAT6.vip, sport: 4444, dport: 80, flags: 'S', seq: 7, hopLimit: 40 };
  const synAtRs: Tcp6Spec = { ...syn, smac: NAT6.inMac, dmac: NAT6.rs1Mac, dst: NAT6.rs1, dport: 8080, hopLimit: 39 };
  // router alert (type 5) in hop-by-hop options, PadN in destination options
  const hbh = [5, 2, 0, 0];
  const exts = (b: ReturnType<typeof eth>) => b.hopByHop({ options: hbh }).destOpts({ options: [1, 2, 0, 0] });

  it('NAT: hop-by-hop and destination options pass, in place; the transport header behind them is rewritten', () => {
    const rig = new Rig(cfg);
    expectFrames(rig.in(0, tcp6Frame(syn, exts), 1), [{ port: 1, bytes: tcp6Frame(synAtRs, exts) }]);
    // and the connection is the same one as without them
    const ack = { ...syn, flags: 'A', seq: 8 };
    expectFrames(rig.in(0, tcp6Frame(ack), 2), [{ port: 1, bytes: tcp6Frame({ ...synAtRs, flags: 'A', seq: 8 }) }]);
    expect(rig.drops()).toEqual({});
  });

  it('DR and TUN: passed untouched', () => {
    const dr = new Rig(dr6Config({ services: [{ port: 80, dests: [{ addr: DR6.rs1, port: 80 }] }] }));
    const s: Tcp6Spec = { ...syn, smac: DR6.routerMac, dmac: DR6.mac, dst: DR6.vip };
    expectFrames(dr.in(0, tcp6Frame(s, exts), 1), [{ port: 0, bytes: tcp6Frame({ ...s, smac: DR6.mac, dmac: DR6.rs1Mac, hopLimit: 39 }, exts) }]);
    const tun = new Rig(tun6Config({ services: [{ port: 80, dests: [{ addr: TUN6.rs1, port: 80 }] }] }));
    const t: Tcp6Spec = { ...syn, smac: TUN6.routerMac, dmac: TUN6.mac, dst: TUN6.vip };
    const inner = tcp6Frame({ ...t, hopLimit: 39 }, exts);
    expectFrames(tun.in(0, tcp6Frame(t, exts), 1), [{
      port: 0, bytes: eth({ src: TUN6.mac, dst: TUN6.gwMac }).ip6ip6({ src: TUN6.addr, dst: TUN6.rs1, hopLimit: 39 }).payload(ipPart(inner)).build(),
    }]);
  });

  it('an unknown option that says "skip" (type 0x1e) is passed', () => {
    const rig = new Rig(cfg);
    const e = (b: ReturnType<typeof eth>) => b.hopByHop({ options: [0x1e, 2, 0xaa, 0xbb] });
    expectFrames(rig.in(0, tcp6Frame(syn, e), 1), [{ port: 1, bytes: tcp6Frame(synAtRs, e) }]);
  });

  it('an unknown option that says "discard and tell" (type 0x9e): parameter problem pointing at it, from the VIP', () => {
    const rig = new Rig(cfg);
    const e = (b: ReturnType<typeof eth>) => b.hopByHop({ options: [1, 0, 0x9e, 0] });
    const f = tcp6Frame(syn, e);
    // the option is at 40 (fixed header) + 2 (next header, length) + 2 (the PadN before it)
    const pp = eth({ src: NAT6.outMac, dst: NAT6.routerMac }).ipv6({ src: NAT6.vip, dst: CLIENT6 })
      .icmpv6({ type: 4, code: 2, pointer: 44 }).payload(ipPart(f)).build();
    expectFrames(rig.in(0, f, 1), [{ port: 0, bytes: pp }]);
    expect(rig.drops()).toEqual({ 'ipv6-unknown-option': 1 });
  });

  it('an unknown option that says "discard" (type 0x5e): dropped without a word', () => {
    const rig = new Rig(cfg);
    expectDropped(rig, rig.in(0, tcp6Frame(syn, (b) => b.hopByHop({ options: [0x5e, 0] })), 1), 'ipv6-unknown-option');
  });

  it('a header the walk cannot pass (mobility, 135) is dropped by name', () => {
    const rig = new Rig(cfg);
    const f = eth({ src: syn.smac, dst: syn.dmac }).ipv6({ src: syn.src, dst: syn.dst, nextHeader: 135 }).payload(new Uint8Array(16)).build();
    expectDropped(rig, rig.in(0, f, 1), 'ipv6-unknown-ext-header');
  });

  it('hop-by-hop options after another header, or a header running past the packet, are bad extension headers', () => {
    const rig = new Rig(cfg);
    expectDropped(rig, rig.in(0, tcp6Frame(syn, (b) => b.destOpts({ options: [1, 2, 0, 0] }).hopByHop({ options: hbh })), 1), 'ipv6-bad-ext-header');
    const before = rig.drops();
    const cut = eth({ src: syn.smac, dst: syn.dmac }).ipv6({ src: syn.src, dst: syn.dst, nextHeader: 60 }).payload(Uint8Array.of(6, 3, 0, 0)).build();
    expectDropped(rig, rig.in(0, cut, 2), 'ipv6-bad-ext-header', before);
  });

  it('a first fragment with a destination options header after the fragment header: later fragments still follow it', () => {
    const rig = new Rig(nat6Config({ services: [{ proto: 'udp', port: 53, dests: [{ addr: NAT6.rs1, port: 5353 }] }] }));
    const whole = packet().ipv6({ src: CLIENT6, dst: NAT6.rs1 }).destOpts({ options: [1, 2, 0, 0] }).udp({ sport: 1, dport: 5353, payload: PAYLOAD }).build();
    const viaVip = packet().ipv6({ src: CLIENT6, dst: NAT6.vip }).destOpts({ options: [1, 2, 0, 0] }).udp({ sport: 1, dport: 53, payload: PAYLOAD }).build();
    const frag = (data: Uint8Array, dst: string, smac: string, dmac: string, offset: number, m: boolean, part: [number, number], hopLimit = 64) =>
      eth({ src: smac, dst: dmac }).ipv6({ src: CLIENT6, dst, hopLimit }).frag({ offset, m, id: 42, nextHeader: 60 }).payload(data.subarray(40 + part[0], 40 + part[1])).build();
    // the unfragmentable part is the fixed header; the destination options go in the first fragment
    const in1 = frag(viaVip, NAT6.vip, NAT6.routerMac, NAT6.outMac, 0, true, [0, 64]);
    const in2 = frag(viaVip, NAT6.vip, NAT6.routerMac, NAT6.outMac, 8, false, [64, viaVip.length - 40]);
    const out1 = frag(whole, NAT6.rs1, NAT6.inMac, NAT6.rs1Mac, 0, true, [0, 64], 63);
    const out2 = frag(whole, NAT6.rs1, NAT6.inMac, NAT6.rs1Mac, 8, false, [64, whole.length - 40], 63);
    expect(rig.in(0, in2, 1)).toEqual([]);
    expectFrames(rig.in(0, in1, 2), [{ port: 1, bytes: out1 }, { port: 1, bytes: out2 }]);
    expect(rig.drops()).toEqual({});
  });
});
