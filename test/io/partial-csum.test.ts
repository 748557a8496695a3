// Partial checksums kept partial through the director (FrameMeta.csumStart):
// a frame from an offloading TAP whose TCP/UDP checksum field holds only the
// pseudo-header sum is NATed with that part patched and the port left for
// the finisher, DR forwards it untouched, a tunnel finishes it first. Every
// expected frame is built from scratch with finished checksums; a partial
// output is finished (as the kernel or the egress port would) before it is
// compared, and its field must also equal the pseudo-header sum of the
// rewritten packet exactly.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Director } from '../../src/director/director.js';
import type { DirectorConfig } from '../../src/model/config.js';
import { PLAIN_FRAME, type FrameMeta } from '../../src/model/frame.js';
import { csumFold, pseudoHeaderSum } from '../../src/wire/checksum.js';
import { pseudoAddrSum6, pseudoHeaderSum6 } from '../../src/wire/checksum6.js';
import { completeChecksum, partialAdjust, partialUpdate32 } from '../../src/wire/csum-partial.js';
import { csumDelta, ip6WordsSum } from '../../src/wire/checksum6.js';
import { eth } from '../../src/wire/builder.js';
import { parseIp6 } from '../../src/wire/addr6.js';
import { SoftwareOffload, partialKeepable } from '../../src/io/vnet.js';
import { tcpFrame, udpFrame, type TcpSpec, type UdpSpec } from '../director/frames.js';
import { CLIENT, DR, NAT, TUN, drConfig, natConfig, tunConfig } from '../director/topo.js';
import { CLIENT6, NAT6, nat6Config, tcp6Frame, udp6Frame, type Tcp6Spec, type Udp6Spec } from '../director/topo6.js';

const HEADROOM = 64;

interface Out { port: number; bytes: Uint8Array; meta: FrameMeta }

class MetaRig {
  readonly d: Director;
  readonly sent: Out[] = [];
  constructor(cfg: DirectorConfig) {
    this.d = new Director(cfg, {
      send: (port, buf, off, len, meta) => {
        this.sent.push({ port, bytes: buf.slice(off, off + len), meta: { gsoType: meta.gsoType, gsoSize: meta.gsoSize, csumStart: meta.csumStart, csumOffset: meta.csumOffset } });
      },
    });
  }
  in(port: number, frame: Uint8Array, now: number, meta: FrameMeta = PLAIN_FRAME): Out[] {
    const buf = new Uint8Array(HEADROOM + frame.length + HEADROOM);
    buf.set(frame, HEADROOM);
    const mark = this.sent.length;
    this.d.process(port, buf, HEADROOM, frame.length, now, meta);
    return this.sent.slice(mark);
  }
}

/** Where a frame's transport header is and which protocol it is (plain IPv4 / IPv6 only). */
function l4Of(f: Uint8Array): { l4: number; proto: number; v6: boolean } {
  const v6 = f[12] === 0x86 && f[13] === 0xdd;
  if (v6) return { l4: 54, proto: f[20]!, v6 };
  return { l4: 14 + (f[14]! & 15) * 4, proto: f[23]!, v6 };
}

/** The field a TAP with offload would hand over: the folded pseudo-header sum of the packet as it is. */
function pseudoField(f: Uint8Array): number {
  const { l4, proto, v6 } = l4Of(f);
  const len = f.length - l4;
  if (v6) return csumFold(pseudoHeaderSum6(pseudoAddrSum6(f, 22, 38), proto, len));
  const w = (o: number): number => ((f[o]! << 24) | (f[o + 1]! << 16) | (f[o + 2]! << 8) | f[o + 3]!) >>> 0;
  return csumFold(pseudoHeaderSum(w(26), w(30), proto, len));
}

function fieldOffset(f: Uint8Array): number {
  const { l4, proto } = l4Of(f);
  return l4 + (proto === 6 ? 16 : 6);
}

/** The frame with its checksum made partial, and the metadata that says so. */
function partial(f: Uint8Array): { frame: Uint8Array; meta: FrameMeta } {
  const out = f.slice();
  const at = fieldOffset(f);
  const p = pseudoField(f);
  out[at] = p >>> 8;
  out[at + 1] = p & 0xff;
  const { l4, proto } = l4Of(f);
  return { frame: out, meta: { gsoType: 0, gsoSize: 0, csumStart: l4, csumOffset: proto === 6 ? 16 : 6 } };
}

function field(f: Uint8Array): number {
  const at = fieldOffset(f);
  return (f[at]! << 8) | f[at + 1]!;
}

/** The TTL (IPv4) or hop limit (IPv6) the director gave the frame: not what these tests are about. */
function ttlOf(o: Out | undefined): number {
  const b = o!.bytes;
  return b[12] === 0x86 ? b[21]! : b[22]!;
}

/** A partial output checked two ways: its field is the rewritten packet's pseudo-header sum, and finished it is `expected`. */
function expectPartialOf(out: Out, expected: Uint8Array): void {
  const { l4, proto } = l4Of(expected);
  expect(out.meta).toEqual({ gsoType: 0, gsoSize: 0, csumStart: l4, csumOffset: proto === 6 ? 16 : 6 });
  expect(field(out.bytes).toString(16)).toBe(pseudoField(expected).toString(16));
  const done = out.bytes.slice();
  expect(completeChecksum(done, 0, done.length, out.meta.csumStart, out.meta.csumOffset)).toBe(true);
  expect(Array.from(done)).toEqual(Array.from(expected));
}

const CPORT = 40000;

describe('NAT keeps a partial checksum partial (IPv4)', () => {
  const fromClient = (s: Partial<TcpSpec> & { flags: string }): TcpSpec => ({
    smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: CPORT, dport: 80, ttl: 57, id: 7, ...s,
  });
  const fromServer = (s: Partial<TcpSpec> & { flags: string }): TcpSpec => ({
    smac: NAT.rs1Mac, dmac: NAT.inMac, src: NAT.rs1, dst: CLIENT, sport: 8080, dport: CPORT, ttl: 64, id: 9, ...s,
  });

  it('TCP both ways: only the address goes into the field, the port is left for the finisher', () => {
    const rig = new MetaRig(natConfig({ services: [{ port: 80, dests: [{ addr: NAT.rs1, port: 8080 }] }] }));
    const syn = partial(tcpFrame(fromClient({ flags: 'S', seq: 100 })));
    const [toRs] = rig.in(0, syn.frame, 1, syn.meta);
    expect(toRs!.port).toBe(1);
    expectPartialOf(toRs!, tcpFrame({ ...fromClient({ flags: 'S', seq: 100 }), smac: NAT.inMac, dmac: NAT.rs1Mac, dst: NAT.rs1, dport: 8080, ttl: ttlOf(toRs) }));

    const synAck = partial(tcpFrame(fromServer({ flags: 'SA', seq: 5000, ack: 101, payload: 'hello' })));
    const [toClient] = rig.in(1, synAck.frame, 2, synAck.meta);
    expect(toClient!.port).toBe(0);
    expectPartialOf(toClient!, tcpFrame({ ...fromServer({ flags: 'SA', seq: 5000, ack: 101, payload: 'hello' }), smac: NAT.outMac, dmac: NAT.routerMac, src: NAT.vip, sport: 80, ttl: ttlOf(toClient) }));
    expect(rig.d.drops.toObject()).toEqual({});
  });

  it('a finished checksum stays finished, the same packet otherwise', () => {
    const rig = new MetaRig(natConfig({ services: [{ port: 80, dests: [{ addr: NAT.rs1, port: 8080 }] }] }));
    const [out] = rig.in(0, tcpFrame(fromClient({ flags: 'S', seq: 100 })), 1);
    expect(out!.meta.csumStart).toBe(0);
    expect(Array.from(out!.bytes)).toEqual(Array.from(tcpFrame({ ...fromClient({ flags: 'S', seq: 100 }), smac: NAT.inMac, dmac: NAT.rs1Mac, dst: NAT.rs1, dport: 8080, ttl: ttlOf(out) })));
  });

  it('UDP both ways', () => {
    const rig = new MetaRig(natConfig({ services: [{ proto: 'udp', port: 53, dests: [{ addr: NAT.rs1, port: 5353 }] }] }));
    const q: UdpSpec = { smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: CPORT, dport: 53, ttl: 60, payload: 'query' };
    const p = partial(udpFrame(q));
    const [toRs] = rig.in(0, p.frame, 1, p.meta);
    expectPartialOf(toRs!, udpFrame({ ...q, smac: NAT.inMac, dmac: NAT.rs1Mac, dst: NAT.rs1, dport: 5353, ttl: ttlOf(toRs) }));
    const r: UdpSpec = { smac: NAT.rs1Mac, dmac: NAT.inMac, src: NAT.rs1, dst: CLIENT, sport: 5353, dport: CPORT, ttl: 64, payload: 'answer!' };
    const pr = partial(udpFrame(r));
    const [toClient] = rig.in(1, pr.frame, 2, pr.meta);
    expectPartialOf(toClient!, udpFrame({ ...r, smac: NAT.outMac, dmac: NAT.routerMac, src: NAT.vip, sport: 53, ttl: ttlOf(toClient) }));
  });
});

describe('NAT keeps a partial checksum partial (IPv6)', () => {
  const cfgTcp = nat6Config({ services: [{ port: 80, dests: [{ addr: NAT6.rs1, port: 8080 }] }] });
  it('TCP both ways', () => {
    const rig = new MetaRig(cfgTcp);
    const c: Tcp6Spec = { smac: NAT6.routerMac, dmac: NAT6.outMac, src: CLIENT6, dst: NAT6.vip, sport: CPORT, dport: 80, flags: 'S', seq: 1, hopLimit: 50 };
    const p = partial(tcp6Frame(c));
    const [toRs] = rig.in(0, p.frame, 1, p.meta);
    expectPartialOf(toRs!, tcp6Frame({ ...c, smac: NAT6.inMac, dmac: NAT6.rs1Mac, dst: NAT6.rs1, dport: 8080, hopLimit: ttlOf(toRs) }));
    const s: Tcp6Spec = { smac: NAT6.rs1Mac, dmac: NAT6.inMac, src: NAT6.rs1, dst: CLIENT6, sport: 8080, dport: CPORT, flags: 'SA', seq: 9, ack: 2, hopLimit: 64, payload: 'x'.repeat(999) };
    const ps = partial(tcp6Frame(s));
    const [toClient] = rig.in(1, ps.frame, 2, ps.meta);
    expectPartialOf(toClient!, tcp6Frame({ ...s, smac: NAT6.outMac, dmac: NAT6.routerMac, src: NAT6.vip, sport: 80, hopLimit: ttlOf(toClient) }));
  });

  it('UDP', () => {
    const rig = new MetaRig(nat6Config({ services: [{ proto: 'udp', port: 53, dests: [{ addr: NAT6.rs1, port: 5353 }] }] }));
    const q: Udp6Spec = { smac: NAT6.routerMac, dmac: NAT6.outMac, src: CLIENT6, dst: NAT6.vip, sport: CPORT, dport: 53, hopLimit: 50, payload: 'q6' };
    const p = partial(udp6Frame(q));
    const [toRs] = rig.in(0, p.frame, 1, p.meta);
    expectPartialOf(toRs!, udp6Frame({ ...q, smac: NAT6.inMac, dmac: NAT6.rs1Mac, dst: NAT6.rs1, dport: 5353, hopLimit: ttlOf(toRs) }));
  });
});

describe('DR and TUN with a partial checksum', () => {
  it('DR: forwarded with the field and the metadata untouched', () => {
    const rig = new MetaRig(drConfig({ services: [{ port: 80, dests: [{ addr: DR.rs1, port: 80 }] }] }));
    const c: TcpSpec = { smac: DR.routerMac, dmac: DR.mac, src: CLIENT, dst: DR.vip, sport: CPORT, dport: 80, flags: 'S', seq: 3, ttl: 50 };
    const p = partial(tcpFrame(c));
    const [out] = rig.in(0, p.frame, 1, p.meta);
    expectPartialOf(out!, tcpFrame({ ...c, smac: DR.mac, dmac: DR.rs1Mac, ttl: ttlOf(out) }));
  });

  it('TUN: finished before the outer header goes on (the decapsulating host cannot finish it)', () => {
    const rig = new MetaRig(tunConfig({ services: [{ port: 80, dests: [{ addr: TUN.rs1, port: 80 }] }] }));
    const c: TcpSpec = { smac: TUN.routerMac, dmac: TUN.mac, src: CLIENT, dst: TUN.vip, sport: CPORT, dport: 80, flags: 'S', seq: 3, ttl: 50, id: 99 };
    const p = partial(tcpFrame(c));
    const [out] = rig.in(0, p.frame, 1, p.meta);
    expect(out!.meta).toEqual(PLAIN_FRAME);
    const ttl = out!.bytes[14 + 20 + 8]!; // the inner header's
    const inner = tcpFrame({ ...c, ttl }).subarray(14);
    const expected = eth({ src: TUN.mac, dst: TUN.gwMac }).ipip({ src: TUN.addr, dst: TUN.rs1, ttl: out!.bytes[22]!, id: 1, flags: 'DF' }).payload(inner).build();
    expect(Array.from(out!.bytes)).toEqual(Array.from(expected));
  });
});

describe('partial checksum arithmetic', () => {
  it('for any packet and NAT rewrite: patch the partial field, finish it, get the full checksum of the rewritten packet', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 1, max: 65535 }), fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.boolean(),
      (src, dst, dst2, port, payload, udp) => {
        const a = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
        const b = eth({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' }).ipv4({ src: a(src), dst: a(dst) });
        const before = (udp ? b.udp({ sport: 1000, dport: 2000, payload }) : b.tcp({ sport: 1000, dport: 2000, flags: 'A', payload })).build();
        const b2 = eth({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' }).ipv4({ src: a(src), dst: a(dst2) });
        const after = (udp ? b2.udp({ sport: 1000, dport: port, payload }) : b2.tcp({ sport: 1000, dport: port, flags: 'A', payload })).build();
        const f = partial(before).frame;
        // the rewrite NAT does, with the partial rule: the address into the field, the port only into the bytes
        const at = fieldOffset(f);
        const pf = partialUpdate32((f[at]! << 8) | f[at + 1]!, dst, dst2);
        f[at] = pf >>> 8; f[at + 1] = pf & 0xff;
        f.set(after.subarray(30, 34), 30); // the new destination address
        f.set(after.subarray(24, 26), 24); // IP header checksum as the rewrite leaves it
        f[36] = port >>> 8; f[37] = port & 0xff;
        expect(field(f)).toBe(pseudoField(after));
        completeChecksum(f, 0, f.length, 34, udp ? 6 : 16);
        // a UDP sum of 0 is sent as 0xffff by either side
        expect(Array.from(f)).toEqual(Array.from(after));
      },
    ), { numRuns: 300 });
  });

  it('the IPv6 form (a 128-bit address change as a delta) agrees with recomputing the pseudo-header', () => {
    const a = parseIp6('2001:db8::1');
    const b = parseIp6('2001:db8:ffff::abcd:1');
    const d = parseIp6('2001:db8:1::7');
    const p0 = csumFold(pseudoHeaderSum6(ip6WordsSum(a, 0) + ip6WordsSum(d, 0), 6, 1234));
    const p1 = csumFold(pseudoHeaderSum6(ip6WordsSum(b, 0) + ip6WordsSum(d, 0), 6, 1234));
    const got = partialAdjust(p0, csumDelta(ip6WordsSum(a, 0), ip6WordsSum(b, 0)));
    // ones' complement: 0 and 0xffff are the same number
    expect(got % 0xffff).toBe(p1 % 0xffff);
  });
});

describe('partialKeepable: which partial checksums a port hands the director as they are', () => {
  const t4 = tcpFrame({ smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: 1, dport: 80, flags: 'A' });
  const u4 = udpFrame({ smac: NAT.routerMac, dmac: NAT.outMac, src: CLIENT, dst: NAT.vip, sport: 1, dport: 53, payload: 'x' });
  const t6 = tcp6Frame({ smac: NAT6.routerMac, dmac: NAT6.outMac, src: CLIENT6, dst: NAT6.vip, sport: 1, dport: 80, flags: 'A' });
  it('plain TCP and UDP over IPv4 and IPv6, at their fields', () => {
    expect(partialKeepable(t4, 0, t4.length, 34, 16)).toBe(true);
    expect(partialKeepable(u4, 0, u4.length, 34, 6)).toBe(true);
    expect(partialKeepable(t6, 0, t6.length, 54, 16)).toBe(true);
  });
  it('not: the wrong start or field, a fragment, another protocol, an extension header', () => {
    expect(partialKeepable(t4, 0, t4.length, 34, 6)).toBe(false);
    expect(partialKeepable(t4, 0, t4.length, 38, 16)).toBe(false);
    const mf = t4.slice(); mf[20] = 0x20; // MF
    expect(partialKeepable(mf, 0, mf.length, 34, 16)).toBe(false);
    const icmp = eth({ src: NAT.routerMac, dst: NAT.outMac }).ipv4({ src: CLIENT, dst: NAT.vip }).icmp({ type: 8, code: 0 }).build();
    expect(partialKeepable(icmp, 0, icmp.length, 34, 2)).toBe(false);
    const hbh = tcp6Frame({ smac: NAT6.routerMac, dmac: NAT6.outMac, src: CLIENT6, dst: NAT6.vip, sport: 1, dport: 80, flags: 'A' }, (bb) => bb.hopByHop({}));
    expect(partialKeepable(hbh, 0, hbh.length, 62, 16)).toBe(false);
  });
});

describe('SoftwareOffload: a port without offload finishes what it is given', () => {
  it('finishes a partial checksum in place before writing', () => {
    const full = udpFrame({ smac: NAT.inMac, dmac: NAT.rs1Mac, src: CLIENT, dst: NAT.rs1, sport: 7, dport: 9, payload: 'abcdefg' });
    const p = partial(full);
    const got: Uint8Array[] = [];
    const s = new SoftwareOffload(0, (b, o, l) => { got.push(b.slice(o, o + l)); });
    expect(s.send(p.frame, 0, p.frame.length, p.meta, 1500)).toBe(true);
    expect(got.map((g) => Array.from(g))).toEqual([Array.from(full)]);
    expect(s.counters.txCsumCompleted).toBe(1);
  });
  it('refuses (and counts) a super-frame it cannot cut: UDP', () => {
    const u = udpFrame({ smac: NAT.inMac, dmac: NAT.rs1Mac, src: CLIENT, dst: NAT.rs1, sport: 7, dport: 9, payload: 'x'.repeat(3000) });
    const s = new SoftwareOffload(0, () => { throw new Error('nothing may be written'); });
    expect(s.send(u, 0, u.length, { gsoType: 1, gsoSize: 1448, csumStart: 0, csumOffset: 0 }, 1500)).toBe(false);
    expect(s.counters.txGsoRefused).toBe(1);
  });
});
