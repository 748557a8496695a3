import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ip6ToString, newIp6, parseIp6 } from '../../src/wire/addr6.js';
import { packet } from '../../src/wire/builder.js';
import { tcpChecksumOk6, udpChecksumOk6 } from '../../src/wire/checksum6.js';
import {
  IP6_BAD_PAYLOAD_LENGTH, IP6_BAD_VERSION, IP6_EXT_HOP_NOT_FIRST, IP6_EXT_TRUNCATED, IP6_EXT_UNKNOWN, IP6_TRUNCATED,
  WIRE_OK, WireError,
} from '../../src/wire/errors.js';
import {
  emitIp6ExtHeader, emitIpv6, emitIpv6Fragment, Ipv6Headers, Ipv6View, padIp6Options, parseIpv6, parseIpv6Fragment,
  type Ipv6Fragment, type Ipv6Header,
} from '../../src/wire/ipv6.js';
import { TcpView } from '../../src/wire/tcp.js';
import { UdpView } from '../../src/wire/udp.js';

function fromHex(h: string): Uint8Array {
  return Uint8Array.from(h.replace(/\s+/g, '').match(/../g) ?? [], (x) => parseInt(x, 16));
}

const S = '2001:db8::1';
const D = '2001:db8::100';

describe('IPv6 fixed header, annotated bytes', () => {
  // offset 0: 6b 81 23 45  version 6 | traffic class 0xb8 | flow label 0x12345
  // offset 4: 00 14        payload length 20
  // offset 6: 06           next header TCP
  // offset 7: 40           hop limit 64
  // offset 8: source 2001:db8::1, offset 24: destination 2001:db8::100, then 20 bytes of TCP
  const hdr = '6b812345 0014 06 40 20010db8000000000000000000000001 20010db8000000000000000000000100';
  const pkt = fromHex(hdr + '00'.repeat(20));

  it('reads every field where the annotation says', () => {
    const v = new Ipv6View();
    expect(v.wrap(pkt, 0, pkt.length)).toBe(WIRE_OK);
    expect([v.version, v.trafficClass, v.dscp, v.ecn, v.flowLabel]).toEqual([6, 0xb8, 46, 0, 0x12345]);
    expect([v.payloadLength, v.nextHeader, v.hopLimit, v.totalLength, v.end, v.payloadOffset]).toEqual([20, 6, 64, 60, 60, 40]);
    expect([v.srcOffset, v.dstOffset]).toEqual([8, 24]);
    const a = newIp6();
    v.readSrc(a);
    expect(ip6ToString(a)).toBe(S);
    v.readDst(a);
    expect(ip6ToString(a)).toBe(D);
    expect([v.srcWord(0), v.srcWord(3), v.dstWord(3)]).toEqual([0x20010db8, 1, 0x100]);
    expect([v.srcEquals(parseIp6(S)), v.dstEquals(parseIp6(S)), v.dstEquals(parseIp6(D))]).toEqual([true, false, true]);
  });

  it('setters change only their bits', () => {
    const p = pkt.slice();
    const v = new Ipv6View();
    expect(v.wrap(p, 0, p.length)).toBe(WIRE_OK);
    v.trafficClass = 0x03;
    expect(Buffer.from(p.subarray(0, 4)).toString('hex')).toBe('60312345');
    v.flowLabel = 0xfedcb;
    expect(Buffer.from(p.subarray(0, 4)).toString('hex')).toBe('603fedcb');
    expect([v.version, v.trafficClass, v.flowLabel]).toEqual([6, 0x03, 0xfedcb]);
    v.payloadLength = 0x0102;
    v.nextHeader = 17;
    v.hopLimit = 2;
    expect(Buffer.from(p.subarray(4, 8)).toString('hex')).toBe('01021102');
    expect(v.decHopLimit()).toBe(1);
    expect(v.decHopLimit()).toBe(0);
    expect(p[7]).toBe(0);
    v.writeDst(parseIp6('ff02::1'));
    expect(Buffer.from(p.subarray(24, 40)).toString('hex')).toBe('ff020000000000000000000000000001');
    v.writeSrc(parseIp6('::'));
    expect(p.subarray(8, 24).every((x) => x === 0)).toBe(true);
  });

  it('wrap refuses short, non-IPv6 and overlong packets with named codes', () => {
    const v = new Ipv6View();
    for (let n = 0; n < 40; n++) expect(v.wrap(pkt, 0, n), `len ${n}`).toBe(IP6_TRUNCATED);
    for (let n = 40; n < pkt.length; n++) expect(v.wrap(pkt, 0, n), `len ${n}`).toBe(IP6_BAD_PAYLOAD_LENGTH);
    expect(v.wrap(pkt, 0, pkt.length)).toBe(WIRE_OK);
    expect(v.wrap(pkt, 0, pkt.length + 1)).toBe(IP6_TRUNCATED);
    expect(v.wrap(pkt, -1, 41)).toBe(IP6_TRUNCATED);
    const v4 = pkt.slice();
    v4[0] = 0x45;
    expect(v.wrap(v4, 0, v4.length)).toBe(IP6_BAD_VERSION);
    // trailing bytes past the payload length are link padding, not an error
    const padded = new Uint8Array(pkt.length + 6);
    padded.set(pkt);
    expect(v.wrap(padded, 0, padded.length)).toBe(WIRE_OK);
    expect([v.end, v.len]).toEqual([60, 66]);
  });
});

describe('IPv6 plain form', () => {
  const u8 = fc.integer({ min: 0, max: 255 });
  const w = fc.integer({ min: 0, max: 0xffffffff });
  const addr = fc.tuple(w, w, w, w).map((x) => Uint32Array.from(x));
  it('parse(emit(x)) == x', () => {
    const arb: fc.Arbitrary<Ipv6Header> = fc.record({
      trafficClass: u8, flowLabel: fc.integer({ min: 0, max: 0xfffff }), payloadLength: fc.integer({ min: 0, max: 30 }),
      nextHeader: u8, hopLimit: u8, src: addr, dst: addr,
    });
    fc.assert(fc.property(arb, (h) => {
      const buf = new Uint8Array(40 + h.payloadLength);
      expect(emitIpv6(h, buf, 0)).toBe(40);
      expect(parseIpv6(buf)).toEqual(h);
    }));
  });

  it('parse throws a WireError naming the problem', () => {
    expect(() => parseIpv6(new Uint8Array(39))).toThrow(WireError);
    expect(() => parseIpv6(new Uint8Array(40))).toThrow(/ipv6: IP6_BAD_VERSION/);
  });

  it('fragment header round trip, and option padding as senders do it', () => {
    const arb: fc.Arbitrary<Ipv6Fragment> = fc.record({
      nextHeader: u8, offset: fc.integer({ min: 0, max: 0x1fff }), m: fc.boolean(), id: w,
    });
    fc.assert(fc.property(arb, (f) => {
      const buf = new Uint8Array(8);
      expect(emitIpv6Fragment(f, buf, 0)).toBe(8);
      expect(parseIpv6Fragment(buf, 0)).toEqual(f);
    }));
    expect(() => parseIpv6Fragment(new Uint8Array(7), 0)).toThrow(/IP6_EXT_TRUNCATED/);
    // 2 + options must be a multiple of 8: nothing -> PadN(4); 5 bytes -> Pad1; 4 bytes -> PadN(0)
    expect(Array.from(padIp6Options(new Uint8Array(0)))).toEqual([1, 4, 0, 0, 0, 0]);
    expect(Array.from(padIp6Options(Uint8Array.of(5, 2, 0, 0, 9)))).toEqual([5, 2, 0, 0, 9, 0]);
    expect(Array.from(padIp6Options(Uint8Array.of(5, 2, 0, 0)))).toEqual([5, 2, 0, 0, 1, 0]);
    expect(padIp6Options(new Uint8Array(6)).length).toBe(6);
    const b = new Uint8Array(16);
    expect(emitIp6ExtHeader(17, new Uint8Array(14), b, 0)).toBe(16);
    expect([b[0], b[1]]).toEqual([17, 1]);
    expect(() => emitIp6ExtHeader(17, new Uint8Array(5), b, 0)).toThrow(/multiple of 8/);
  });
});

describe('extension header walk', () => {
  const h = new Ipv6Headers();
  function walk(p: Uint8Array): number {
    const v = new Ipv6View();
    expect(v.wrap(p, 0, p.length)).toBe(WIRE_OK);
    return h.walk(v);
  }

  it('follows hop-by-hop, destination options, routing and fragment headers to the upper layer', () => {
    const p = packet().ipv6({ src: S, dst: D }).hopByHop({ options: [5, 2, 0, 0] }).destOpts()
      .routing({ type: 2, segmentsLeft: 0, addresses: ['2001:db8::99'] }).frag({ id: 0xabcdef01 }).destOpts()
      .tcp({ sport: 1, dport: 2, flags: 'S' }).build();
    expect(walk(p)).toBe(WIRE_OK);
    expect([h.hopByHopOffset, h.routingOffset, h.fragHeaderOffset, h.destOptsOffset]).toEqual([40, 56, 80, 88]);
    expect([h.upperProtocol, h.upperOffset, h.upperLength, h.extLength, h.upperNextHeaderOffset]).toEqual([6, 96, 20, 56, 88]);
    expect([h.routingType, h.segmentsLeft, h.finalDstOffset, h.srcOffset]).toEqual([2, 0, 24, 8]);
    expect([h.fragOffset, h.fragMore, h.fragId, h.isFragment, h.isLaterFragment, h.errorOffset])
      .toEqual([0, false, 0xabcdef01, false, false, -1]);
    const t = new TcpView();
    expect(t.wrap(p, h.upperOffset, h.upperLength)).toBe(WIRE_OK);
    expect(tcpChecksumOk6(t, h.pseudoAddrSum())).toBe(true);
  });

  it('no extension headers: the upper layer right after the fixed header', () => {
    expect(walk(packet().ipv6({ src: S, dst: D }).udp({ sport: 1, dport: 2 }).build())).toBe(WIRE_OK);
    expect([h.upperProtocol, h.upperOffset, h.upperLength, h.extLength, h.upperNextHeaderOffset, h.fragHeaderOffset])
      .toEqual([17, 40, 8, 0, 6, -1]);
  });

  it('hop-by-hop anywhere but first is refused, pointing at the next header field that named it', () => {
    const p = packet().ipv6({ src: S, dst: D }).destOpts().hopByHop().udp({ sport: 1, dport: 2 }).build();
    expect(walk(p)).toBe(IP6_EXT_HOP_NOT_FIRST);
    expect([h.errorOffset, h.upperProtocol, h.upperOffset]).toEqual([40, 59, 0]);
  });

  it('a header it cannot see past (mobility, HIP, shim6, experimental) is IP6_EXT_UNKNOWN', () => {
    for (const nh of [135, 139, 140, 253, 254]) {
      const p = packet().ipv6({ src: S, dst: D }).destOpts({ nextHeader: nh }).payload(new Uint8Array(16)).build();
      expect(walk(p), `nh ${nh}`).toBe(IP6_EXT_UNKNOWN);
      expect(h.errorOffset).toBe(40);
    }
  });

  it('stops at protocols it does not walk: ESP, no next header, anything else', () => {
    for (const nh of [50, 59, 200, 4, 41, 132]) {
      expect(walk(packet().ipv6({ src: S, dst: D, nextHeader: nh }).payload([1, 2, 3, 4, 5, 6, 7, 8]).build())).toBe(WIRE_OK);
      expect([h.upperProtocol, h.upperOffset, h.upperLength]).toEqual([nh, 40, 8]);
    }
  });

  it('walks AH by its 4-byte-unit length', () => {
    // next header TCP, length 4 -> (4 + 2) * 4 = 24 bytes: reserved, SPI, sequence, 12 bytes of ICV
    const ah = [6, 4, 0, 0, 0, 0, 0x10, 0x01, 0, 0, 0, 1, ...new Array<number>(12).fill(0xaa)];
    const tcp = packet().ipv6({ src: S, dst: D }).tcp({ sport: 7, dport: 8 }).build().subarray(40);
    const p = packet().ipv6({ src: S, dst: D, nextHeader: 51 }).payload([...ah, ...tcp]).build();
    expect(walk(p)).toBe(WIRE_OK);
    expect([h.upperProtocol, h.upperOffset, h.extLength]).toEqual([6, 64, 24]);
  });

  it('routing: the pseudo-header takes the final destination while segments are left (types 0, 2 and 4)', () => {
    const cases: [number, string[], number, string][] = [
      [0, ['2001:db8::a', '2001:db8::b'], 2, '2001:db8::b'],
      [2, ['2001:db8::c'], 1, '2001:db8::c'],
      [4, ['2001:db8::e', '2001:db8::f'], 1, '2001:db8::e'],
      [4, ['2001:db8::e', '2001:db8::f'], 0, D],
      [9, ['2001:db8::e'], 1, D],
    ];
    for (const [type, addresses, segmentsLeft, final] of cases) {
      const p = packet().ipv6({ src: S, dst: D }).routing({ type, segmentsLeft, addresses })
        .udp({ sport: 1, dport: 2, payload: 'x' }).build();
      expect(walk(p)).toBe(WIRE_OK);
      const a = newIp6();
      for (let i = 0; i < 4; i++) a[i] = (p[h.finalDstOffset + 4 * i]! << 24 | p[h.finalDstOffset + 4 * i + 1]! << 16 |
        p[h.finalDstOffset + 4 * i + 2]! << 8 | p[h.finalDstOffset + 4 * i + 3]!) >>> 0;
      expect(ip6ToString(a), `type ${type} segleft ${segmentsLeft}`).toBe(final);
      const u = new UdpView();
      expect(u.wrap(p, h.upperOffset, h.upperLength)).toBe(WIRE_OK);
      expect(udpChecksumOk6(u, h.pseudoAddrSum())).toBe(true);
      const ip = new Ipv6View();
      ip.wrap(p, 0, p.length);
      // with the header's own destination the checksum fails exactly when they differ
      expect(udpChecksumOk6(u, ip.pseudoAddrSum())).toBe(final === D);
    }
  });

  it('fragments: atomic, first and later', () => {
    expect(walk(packet().ipv6({ src: S, dst: D }).frag({ id: 1 }).udp({ sport: 1, dport: 2 }).build())).toBe(WIRE_OK);
    expect([h.isFragment, h.isLaterFragment, h.upperProtocol, h.upperOffset]).toEqual([false, false, 17, 48]);
    expect(walk(packet().ipv6({ src: S, dst: D }).frag({ id: 2, m: true }).udp({ sport: 1, dport: 2 }).build())).toBe(WIRE_OK);
    expect([h.isFragment, h.isLaterFragment, h.fragMore, h.fragId, h.upperProtocol]).toEqual([true, false, true, 2, 17]);
    // a later fragment: what follows is data even when it looks like headers (here a "hop-by-hop" header
    // in the wrong place, and a length running far past the end)
    const later = packet().ipv6({ src: S, dst: D }).frag({ id: 3, offset: 185, nextHeader: 0 }).payload([17, 255, 0, 0]).build();
    expect(walk(later)).toBe(WIRE_OK);
    expect([h.isFragment, h.isLaterFragment, h.fragOffset, h.fragMore, h.upperProtocol, h.upperOffset, h.upperLength])
      .toEqual([true, true, 185, false, 0, 48, 4]);
  });

  it('every truncation of a header chain is IP6_EXT_TRUNCATED (never a throw); the upper layer may be cut', () => {
    const p = packet().ipv6({ src: S, dst: D }).hopByHop().routing({ type: 0, addresses: [D], segmentsLeft: 1 })
      .frag({ id: 9 }).destOpts({ options: new Uint8Array(12) }).udp({ sport: 1, dport: 2, payload: 'abc' }).build();
    expect(walk(p)).toBe(WIRE_OK);
    const ext = h.extLength;
    expect(ext).toBe(8 + 24 + 8 + 16);
    for (let plen = 0; plen < p.length - 40; plen++) {
      const q = p.slice(0, 40 + plen);
      q[4] = plen >>> 8;
      q[5] = plen & 0xff;
      const rc = walk(q);
      if (plen < ext) {
        expect(rc, `payload ${plen}`).toBe(IP6_EXT_TRUNCATED);
        expect(h.errorOffset).toBeGreaterThanOrEqual(6);
        expect(h.errorOffset).toBeLessThan(40 + plen + 2);
      } else {
        expect(rc, `payload ${plen}`).toBe(WIRE_OK);
        expect(h.upperLength).toBe(plen - ext);
      }
    }
    // the walk bounds itself by its end argument too
    expect(h.walkChain(p, 0, 39)).toBe(IP6_EXT_TRUNCATED);
    expect(h.walkChain(p, 0, p.length + 1)).toBe(IP6_EXT_TRUNCATED);
    expect(h.walkChain(p, -1, 50)).toBe(IP6_EXT_TRUNCATED);
  });

  it('never throws on random bytes after a valid fixed header; results stay inside the packet', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), fc.integer({ min: 0, max: 255 }), (body, nh) => {
      const p = packet().ipv6({ src: S, dst: D, nextHeader: nh }).payload(body).build();
      const rc = walk(p);
      expect(Number.isInteger(rc)).toBe(true);
      if (rc === WIRE_OK) {
        expect(h.upperOffset).toBeGreaterThanOrEqual(40);
        expect(h.upperOffset + h.upperLength).toBe(p.length);
        expect(h.finalDstOffset + 16).toBeLessThanOrEqual(p.length);
        expect(h.errorOffset).toBe(-1);
      } else {
        expect(h.errorOffset).toBeGreaterThanOrEqual(0);
        expect(h.errorOffset).toBeLessThan(p.length);
      }
    }), { numRuns: 3000 });
  });
});

describe('Ipv6View on random bytes', () => {
  it('wrap never throws; once OK every getter is a number inside the packet', () => {
    let oks = 0;
    fc.assert(fc.property(fc.uint8Array({ minLength: 30, maxLength: 100 }), fc.nat(4), fc.boolean(), (b, o, fix) => {
      const off = Math.min(o, b.length);
      if (fix && b.length - off > 6) {
        b[off] = 0x60 | (b[off]! & 0x0f);
        b[off + 4] = 0;
        b[off + 5] = Math.min(b[off + 5]!, Math.max(b.length - off - 40, 0));
      }
      const v = new Ipv6View();
      const rc = v.wrap(b, off, b.length - off);
      expect(Number.isInteger(rc)).toBe(true);
      if (rc !== WIRE_OK) return;
      oks++;
      for (const x of [v.version, v.trafficClass, v.flowLabel, v.payloadLength, v.nextHeader, v.hopLimit, v.srcWord(3),
        v.dstWord(0), v.pseudoAddrSum(), v.end]) expect(Number.isInteger(x)).toBe(true);
      expect(v.end).toBeLessThanOrEqual(b.length);
    }), { numRuns: 3000 });
    expect(oks).toBeGreaterThan(300);
  });
});
