// Software TCP segmentation of super-frames, checked byte for byte against
// segments built independently with the packet builder.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newTcpLayout, segmentTcp, tcpLayout } from '../../src/io/vnet-segment.js';
import { PacketBuilder, type Ipv4Opts, type TcpOpts } from '../../src/wire/builder.js';
import { checksum, csumFinish, pseudoHeaderSum, sumBytes } from '../../src/wire/checksum.js';
import type { Ipv6Opts } from '../../src/wire/builder.js';

const ETH = { src: '02:00:00:00:00:0a', dst: '02:00:00:00:00:01' };
const TS_OPTS = [1, 1, 8, 10, 0, 0, 0x12, 0x34, 0, 0, 0x56, 0x78]; // NOP NOP timestamps: a 32-byte header
const IP: Ipv4Opts = { src: '10.0.0.2', dst: '192.168.10.11', id: 0xfffe, flags: 'DF', ttl: 63, tos: 0x02 };

function pattern(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
}

function superFrame(payload: Uint8Array, flags: string, outer?: Ipv4Opts): Uint8Array {
  const b = new PacketBuilder().eth(ETH);
  if (outer) b.ipip(outer);
  return b.ipv4(IP).tcp({ sport: 40000, dport: 80, seq: 0xfffff000, ack: 777, flags, window: 501, options: TS_OPTS, payload }).build();
}

function segment(payload: Uint8Array, i: number, mss: number, flags: string, outer?: Ipv4Opts): Uint8Array {
  const b = new PacketBuilder().eth(ETH);
  if (outer) b.ipip({ ...outer, id: ((outer.id ?? 0) + i) & 0xffff });
  const tcp: TcpOpts = {
    sport: 40000, dport: 80, seq: (0xfffff000 + i * mss) >>> 0, ack: 777, flags, window: 501, options: TS_OPTS,
    payload: payload.subarray(i * mss, Math.min(payload.length, (i + 1) * mss)),
  };
  return b.ipv4({ ...IP, id: ((IP.id ?? 0) + i) & 0xffff }).tcp(tcp).build();
}

/** Runs the segmenter over `frame` placed at an offset in a larger buffer; copies of what it emitted. */
function cut(frame: Uint8Array, mss: number, outOff = 10): { n: number; segs: Uint8Array[] } {
  const buf = new Uint8Array(74 + frame.length);
  buf.set(frame, 74);
  const l = newTcpLayout();
  expect(tcpLayout(buf, 74, frame.length, l)).toBe(true);
  const segs: Uint8Array[] = [];
  const out = new Uint8Array(outOff + 14 + 60 + 60 + mss);
  const n = segmentTcp(buf, 74, l, mss, out, outOff, (b, o, len) => { segs.push(b.slice(o, o + len)); });
  // the super-frame itself is left as it was
  expect(Array.from(buf.subarray(74))).toEqual(Array.from(frame));
  return { n, segs };
}

function hexOf(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

describe('tcpLayout', () => {
  it('finds the headers of a plain and of an IPIP-encapsulated TCP frame', () => {
    const l = newTcpLayout();
    const plain = superFrame(pattern(100), 'A');
    expect(tcpLayout(plain, 0, plain.length, l)).toBe(true);
    expect(l).toEqual({ outerOff: -1, outer6: false, ipOff: 14, v6: false, ihl: 20, tcpOff: 34, thl: 32, payOff: 66, end: 166 });
    const tun = superFrame(pattern(100), 'A', { src: '172.16.0.2', dst: '172.16.1.11', id: 9 });
    expect(tcpLayout(tun, 0, tun.length, l)).toBe(true);
    expect(l).toEqual({ outerOff: 14, outer6: false, ipOff: 34, v6: false, ihl: 20, tcpOff: 54, thl: 32, payOff: 86, end: 186 });
  });

  it('ignores Ethernet padding after the IP packet', () => {
    const f = new PacketBuilder().eth(ETH).ipv4(IP).tcp({ sport: 1, dport: 2, flags: 'A' }).padTo(60).build();
    const l = newTcpLayout();
    expect(tcpLayout(f, 0, f.length, l)).toBe(true);
    expect(l.end).toBe(54);
  });

  it('refuses what it cannot cut: UDP, fragments, VLAN tags, lengths beyond the frame', () => {
    const l = newTcpLayout();
    const udp = new PacketBuilder().eth(ETH).ipv4(IP).udp({ sport: 1, dport: 2, payload: pattern(40) }).build();
    expect(tcpLayout(udp, 0, udp.length, l)).toBe(false);
    const frag = new PacketBuilder().eth(ETH).ipv4({ ...IP, flags: 'MF' }).tcp({ sport: 1, dport: 2, payload: pattern(40) }).build();
    expect(tcpLayout(frag, 0, frag.length, l)).toBe(false);
    const vlan = new PacketBuilder().eth(ETH).vlan(5).ipv4(IP).tcp({ sport: 1, dport: 2, payload: pattern(40) }).build();
    expect(tcpLayout(vlan, 0, vlan.length, l)).toBe(false);
    const long = new PacketBuilder().eth(ETH).ipv4({ ...IP, totalLength: 2000 }).tcp({ sport: 1, dport: 2, payload: pattern(40) }).build();
    expect(tcpLayout(long, 0, long.length, l)).toBe(false);
    const ok = superFrame(pattern(40), 'A');
    expect(tcpLayout(ok, 0, ok.length - 1, l)).toBe(false);
  });
});

describe('segmentTcp', () => {
  it('cuts a super-frame into the exact segments a sender would have sent', () => {
    const payload = pattern(3 * 1448 + 500);
    const { n, segs } = cut(superFrame(payload, 'FPA'), 1448);
    expect(n).toBe(4);
    // FIN and PSH only on the last; ids and sequence numbers advance (both wrap here)
    const want = [
      segment(payload, 0, 1448, 'A'),
      segment(payload, 1, 1448, 'A'),
      segment(payload, 2, 1448, 'A'),
      segment(payload, 3, 1448, 'FPA'),
    ];
    expect(segs.map(hexOf)).toEqual(want.map(hexOf));
    expect(segs.map((s) => s.length)).toEqual([14 + 20 + 32 + 1448, 1514, 1514, 14 + 20 + 32 + 500]);
  });

  it('keeps CWR on the first segment only, ECE on all', () => {
    const CWR_ECE_ACK = 0x80 | 0x40 | 0x10;
    const payload = pattern(2 * 1000);
    const { segs } = cut(superFrame(payload, 'PA').map((b, i) => (i === 14 + 20 + 13 ? CWR_ECE_ACK | 0x08 : b)), 1000);
    // (the TCP checksum of the doctored input is stale; the segments' must not be)
    const build = (i: number, flags: number): Uint8Array => new PacketBuilder().eth(ETH).ipv4({ ...IP, id: (0xfffe + i) & 0xffff })
      .tcp({ sport: 40000, dport: 80, seq: (0xfffff000 + i * 1000) >>> 0, ack: 777, flags, window: 501, options: TS_OPTS, payload: payload.subarray(i * 1000, (i + 1) * 1000) })
      .build();
    expect(segs.map(hexOf)).toEqual([build(0, CWR_ECE_ACK), build(1, 0x40 | 0x10 | 0x08)].map(hexOf));
  });

  it('cuts the TCP packet inside an IPIP header and fixes both IP headers', () => {
    const outer: Ipv4Opts = { src: '172.16.0.2', dst: '172.16.1.11', id: 0x0100, flags: 'DF', ttl: 63 };
    const payload = pattern(2 * 1428 + 1);
    const { n, segs } = cut(superFrame(payload, 'PA', outer), 1428);
    expect(n).toBe(3);
    const want = [0, 1, 2].map((i) => segment(payload, i, 1428, i === 2 ? 'PA' : 'A', outer));
    expect(segs.map(hexOf)).toEqual(want.map(hexOf));
    expect(segs[0]!.length).toBe(1514);
  });

  it('sends a payload that fits one segment as one frame, with its checksums', () => {
    const payload = pattern(1448);
    const { n, segs } = cut(superFrame(payload, 'PA'), 1448);
    expect(n).toBe(1);
    expect(segs.map(hexOf)).toEqual([hexOf(segment(payload, 0, 1448, 'PA'))]);
  });

  it('returns 0 and emits nothing when the output buffer cannot hold a segment, or mss < 1', () => {
    const f = superFrame(pattern(3000), 'A');
    const l = newTcpLayout();
    expect(tcpLayout(f, 0, f.length, l)).toBe(true);
    let emitted = 0;
    expect(segmentTcp(f, 0, l, 1448, new Uint8Array(1000), 10, () => { emitted++; })).toBe(0);
    expect(segmentTcp(f, 0, l, 0, new Uint8Array(4000), 10, () => { emitted++; })).toBe(0);
    expect(emitted).toBe(0);
  });

  it('for any payload and segment size: the stream is intact and every header and checksum is right', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 9000 }), fc.integer({ min: 1, max: 1460 }), fc.boolean(), (len, mss, tun) => {
      const payload = pattern(len);
      const outer: Ipv4Opts | undefined = tun ? { src: '172.16.0.2', dst: '172.16.1.12', id: 3 } : undefined;
      const { n, segs } = cut(superFrame(payload, 'FPA', outer), mss);
      expect(n).toBe(Math.ceil(len / mss));
      const got: number[] = [];
      segs.forEach((s, i) => {
        const ip = tun ? 34 : 14;
        const tcp = ip + 20;
        // outer and inner IPv4 header checksums verify, lengths match the frame
        if (tun) {
          expect(checksum(s, 14, 20)).toBe(0);
          expect((s[16]! << 8) | s[17]!).toBe(s.length - 14);
        }
        expect(checksum(s, ip, 20)).toBe(0);
        expect((s[ip + 2]! << 8) | s[ip + 3]!).toBe(s.length - ip);
        // TCP checksum over pseudo-header + segment verifies
        const src = ((s[ip + 12]! << 24) | (s[ip + 13]! << 16) | (s[ip + 14]! << 8) | s[ip + 15]!) >>> 0;
        const dst = ((s[ip + 16]! << 24) | (s[ip + 17]! << 16) | (s[ip + 18]! << 8) | s[ip + 19]!) >>> 0;
        const tcpLen = s.length - tcp;
        expect(csumFinish(sumBytes(s, tcp, tcpLen, pseudoHeaderSum(src, dst, 6, tcpLen)))).toBe(0);
        const seq = ((s[tcp + 4]! << 24) | (s[tcp + 5]! << 16) | (s[tcp + 6]! << 8) | s[tcp + 7]!) >>> 0;
        expect(seq).toBe((0xfffff000 + got.length) >>> 0);
        const last = i === segs.length - 1;
        expect(s[tcp + 13]).toBe(last ? 0x19 : 0x10);
        got.push(...s.subarray(tcp + 32));
      });
      expect(got.length).toBe(len);
      expect(hexOf(Uint8Array.from(got))).toBe(hexOf(payload));
    }), { numRuns: 150 });
  });
});

// IPv6: what a TAP with TSO6 hands over, and the tunnels LVS-TUN puts around it
const IP6: Ipv6Opts = { src: '2001:db8:ff::7', dst: '2001:db8:10::11', hopLimit: 63, tc: 0x02, flowLabel: 0x12345 };

function superFrame6(payload: Uint8Array, flags: string, outer?: { v6?: Ipv6Opts; v4?: Ipv4Opts }): Uint8Array {
  const b = new PacketBuilder().eth(ETH);
  if (outer?.v6) b.ip6ip6(outer.v6);
  if (outer?.v4) b.ipv4({ ...outer.v4, protocol: 41 });
  return b.ipv6(IP6).tcp({ sport: 40000, dport: 80, seq: 0xfffff000, ack: 777, flags, window: 501, options: TS_OPTS, payload }).build();
}

function segment6(payload: Uint8Array, i: number, mss: number, flags: string, outer?: { v6?: Ipv6Opts; v4?: Ipv4Opts }): Uint8Array {
  const b = new PacketBuilder().eth(ETH);
  if (outer?.v6) b.ip6ip6(outer.v6);
  if (outer?.v4) b.ipv4({ ...outer.v4, protocol: 41, id: ((outer.v4.id ?? 0) + i) & 0xffff });
  return b.ipv6(IP6).tcp({
    sport: 40000, dport: 80, seq: (0xfffff000 + i * mss) >>> 0, ack: 777, flags, window: 501, options: TS_OPTS,
    payload: payload.subarray(i * mss, Math.min(payload.length, (i + 1) * mss)),
  }).build();
}

describe('segmentTcp over IPv6', () => {
  it('finds plain, IPv6-in-IPv6 and IPv6-in-IPv4 layouts', () => {
    const l = newTcpLayout();
    const plain = superFrame6(pattern(100), 'A');
    expect(tcpLayout(plain, 0, plain.length, l)).toBe(true);
    expect(l).toEqual({ outerOff: -1, outer6: false, ipOff: 14, v6: true, ihl: 40, tcpOff: 54, thl: 32, payOff: 86, end: 186 });
    const t6 = superFrame6(pattern(100), 'A', { v6: { src: '2001:db8:2::2', dst: '2001:db8:20:1::5' } });
    expect(tcpLayout(t6, 0, t6.length, l)).toBe(true);
    expect([l.outerOff, l.outer6, l.ipOff, l.v6, l.tcpOff, l.end]).toEqual([14, true, 54, true, 94, 226]);
    const t4 = superFrame6(pattern(100), 'A', { v4: { src: '172.16.0.2', dst: '172.16.1.11' } });
    expect(tcpLayout(t4, 0, t4.length, l)).toBe(true);
    expect([l.outerOff, l.outer6, l.ipOff, l.v6]).toEqual([14, false, 34, true]);
  });

  it('refuses an IPv6 packet with an extension header before TCP', () => {
    const f = new PacketBuilder().eth(ETH).ipv6(IP6).hopByHop({}).tcp({ sport: 1, dport: 2, flags: 'A', payload: pattern(40) }).build();
    expect(tcpLayout(f, 0, f.length, newTcpLayout())).toBe(false);
  });

  it('cuts a TCP/IPv6 super-frame into the segments a sender would have sent', () => {
    const payload = pattern(2 * 1428 + 77);
    const { n, segs } = cut(superFrame6(payload, 'FPA'), 1428);
    expect(n).toBe(3);
    expect(segs.map(hexOf)).toEqual([0, 1, 2].map((i) => hexOf(segment6(payload, i, 1428, i === 2 ? 'FPA' : 'A'))));
  });

  it('cuts inside an outer IPv6 header and inside an outer IPv4 header, fixing every length', () => {
    const payload = pattern(3000);
    const o6 = { v6: { src: '2001:db8:2::2', dst: '2001:db8:20:1::5', hopLimit: 63 } };
    const a = cut(superFrame6(payload, 'PA', o6), 1388);
    expect(a.segs.map(hexOf)).toEqual([0, 1, 2].map((i) => hexOf(segment6(payload, i, 1388, i === 2 ? 'PA' : 'A', o6))));
    const o4 = { v4: { src: '172.16.0.2', dst: '172.16.1.11', id: 0xffff, flags: 'DF' as const, ttl: 63 } };
    const b = cut(superFrame6(payload, 'PA', o4), 1408);
    expect(b.segs.map(hexOf)).toEqual([0, 1, 2].map((i) => hexOf(segment6(payload, i, 1408, i === 2 ? 'PA' : 'A', o4))));
  });
});
