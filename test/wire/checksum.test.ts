import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checksum, csumFinish, csumFold, csumUpdate16, csumUpdate32, pseudoHeaderSum, sumBytes, udpCsumUpdate16, udpCsumUpdate32,
} from '../../src/wire/checksum.js';
import { packet } from '../../src/wire/builder.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { TcpView } from '../../src/wire/tcp.js';
import { UdpView } from '../../src/wire/udp.js';

/** Reference: the RFC 1071 definition, written the slow obvious way. */
function refChecksum(bytes: number[]): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    s += (bytes[i]! << 8) + (i + 1 < bytes.length ? bytes[i + 1]! : 0);
    s = (s & 0xffff) + (s >>> 16);
  }
  return ~s & 0xffff;
}

describe('RFC 1071 checksum', () => {
  it('matches the RFC 1071 section 3 example', () => {
    // 00 01 f2 03 f4 f5 f6 f7: sum 0xddf2, checksum 0x220d
    const b = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
    expect(csumFold(sumBytes(b, 0, 8))).toBe(0xddf2);
    expect(checksum(b, 0, 8)).toBe(0x220d);
  });

  it('matches a well-known IPv4 header checksum', () => {
    // 45 00 00 73 00 00 40 00 40 11 [b8 61] c0 a8 00 01 c0 a8 00 c7
    const h = Uint8Array.of(0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7);
    expect(checksum(h, 0, 20)).toBe(0xb861);
  });

  it('equals the slow reference on random data, odd lengths and offsets included', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), fc.nat(5), (data, pad) => {
      const buf = new Uint8Array(pad + data.length + 3);
      buf.set(data, pad);
      expect(checksum(buf, pad, data.length)).toBe(refChecksum(Array.from(data)));
    }));
  });

  it('chains partial sums at even boundaries', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(100), (data, cut) => {
      const c = Math.min(cut * 2, data.length - (data.length & 1));
      const whole = checksum(data, 0, data.length);
      const parts = csumFinish(sumBytes(data, c, data.length - c, sumBytes(data, 0, c)));
      expect(parts).toBe(whole);
    }));
  });

  it('folds accumulators far beyond 32 bits: congruent mod 0xFFFF, never 0 for a non-zero sum', () => {
    expect(csumFold(2 ** 40)).toBe(256); // 2^16 = 1 (mod 0xFFFF), so 2^40 = 2^8
    fc.assert(fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (x) => {
      const f = csumFold(x);
      expect(f).toBeGreaterThan(0);
      expect(f).toBeLessThanOrEqual(0xffff);
      expect(f % 0xffff).toBe(x % 0xffff);
    }));
  });

  it('pseudo-header sum of the classic addresses', () => {
    // 192.168.0.1 -> 192.168.0.199, UDP, length 0x73-20
    expect(pseudoHeaderSum(0xc0a80001, 0xc0a800c7, 17, 0x5f)).toBe(0xc0a8 + 1 + 0xc0a8 + 0xc7 + 17 + 0x5f);
  });
});

/** A random 20-byte header (first word non-zero, as every IP header's is) with a correct checksum at bytes 10..11. */
const headerArb = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((h) => {
  h[0] = h[0]! | 0x40;
  h[10] = 0;
  h[11] = 0;
  const c = checksum(h, 0, 20);
  h[10] = c >>> 8;
  h[11] = c & 0xff;
  return h;
});

/** Values that exercise the ones'-complement corners. */
const word = fc.oneof(fc.constantFrom(0, 0xffff, 1, 0xfffe, 0x8000), fc.integer({ min: 0, max: 0xffff }));
const dword = fc.oneof(fc.constantFrom(0, 0xffffffff, 0xffff0000, 0x0000ffff), fc.integer({ min: 0, max: 0xffffffff }));

describe('RFC 1624 incremental update', () => {
  it('16-bit word: equals a full recompute, 0x0000/0xFFFF corners included', () => {
    fc.assert(fc.property(headerArb, fc.integer({ min: 1, max: 9 }), word, (h, wi, v) => {
      if (wi === 5) return; // that is the checksum field itself
      const o = wi * 2;
      const old = (h[o]! << 8) | h[o + 1]!;
      const updated = csumUpdate16((h[10]! << 8) | h[11]!, old, v);
      h[o] = v >>> 8;
      h[o + 1] = v & 0xff;
      h[10] = 0;
      h[11] = 0;
      expect(updated).toBe(checksum(h, 0, 20));
    }), { numRuns: 3000 });
  });

  it('32-bit address: equals a full recompute', () => {
    fc.assert(fc.property(headerArb, fc.constantFrom(12, 16), dword, (h, o, v) => {
      const old = ((h[o]! << 24) | (h[o + 1]! << 16) | (h[o + 2]! << 8) | h[o + 3]!) >>> 0;
      const updated = csumUpdate32((h[10]! << 8) | h[11]!, old, v);
      h[o] = v >>> 24; h[o + 1] = v >>> 16; h[o + 2] = v >>> 8; h[o + 3] = v;
      h[10] = 0;
      h[11] = 0;
      expect(updated).toBe(checksum(h, 0, 20));
    }), { numRuns: 3000 });
  });

  it('never yields 0xFFFF from a valid checksum (RFC 1624 eqn 3, not eqn 2)', () => {
    // header whose checksum is 0x0000 after the change: eqn 2 would give 0xFFFF
    // sum of the other words = 0xFFFF; changing one word keeps a computed 0x0000 as 0x0000
    const h = new Uint8Array(20);
    h[0] = 0x45; // word0 = 0x4500
    h[2] = 0xba; h[3] = 0xff; // word1 = 0xbaff; 0x4500 + 0xbaff = 0xffff
    const c = checksum(h, 0, 20);
    expect(c).toBe(0);
    // change word1 from 0xbafe (checksum 1) to 0xbaff: expected result 0x0000
    expect(csumUpdate16(0x0001, 0xbafe, 0xbaff)).toBe(0x0000);
  });

  it('UDP: "no checksum" stays 0, a computed 0 becomes 0xFFFF', () => {
    expect(udpCsumUpdate16(0, 0x1234, 0x4321)).toBe(0);
    expect(udpCsumUpdate32(0, 0x0a000001, 0x0a000002)).toBe(0);
    // csumUpdate16 would produce 0 here; UDP must send 0xFFFF
    expect(csumUpdate16(0x0001, 0xbafe, 0xbaff)).toBe(0);
    expect(udpCsumUpdate16(0x0001, 0xbafe, 0xbaff)).toBe(0xffff);
  });

  it('NAT-style rewrites on random TCP and UDP packets keep checksums valid', () => {
    const ipv = new Ipv4View();
    const tcp = new TcpView();
    const udp = new UdpView();
    fc.assert(fc.property(
      dword, dword, dword, word, word, word, fc.uint8Array({ maxLength: 64 }), fc.boolean(),
      (src, dst, newDst, sport, dport, newDport, payload, isTcp) => {
        const b = packet().ipv4({ src, dst, id: sport });
        const frame = (isTcp ? b.tcp({ sport, dport, flags: 'S', payload }) : b.udp({ sport, dport, payload })).build();
        expect(ipv.wrap(frame, 0, frame.length)).toBe(0);
        ipv.rewriteDst(newDst);
        expect(ipv.checksumOk()).toBe(true);
        if (isTcp) {
          expect(tcp.wrap(frame, ipv.payloadOffset, ipv.payloadLength)).toBe(0);
          tcp.pseudoAddrChanged(dst, newDst);
          tcp.rewriteDport(newDport);
          expect(tcp.checksumOk(src, newDst)).toBe(true);
        } else {
          expect(udp.wrap(frame, ipv.payloadOffset, ipv.payloadLength)).toBe(0);
          udp.pseudoAddrChanged(dst, newDst);
          udp.rewriteDport(newDport);
          expect(udp.checksumOk(src, newDst)).toBe(true);
          expect(udp.checksum).toBe(udp.expectedChecksum(src, newDst));
        }
      }), { numRuns: 1000 });
  });

  it('TTL decrement keeps the header checksum valid', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 255 }), dword, dword, (ttl, src, dst) => {
      const f = packet().ipv4({ src, dst, ttl }).payload([1, 2, 3]).build();
      const ip = new Ipv4View();
      expect(ip.wrap(f, 0, f.length)).toBe(0);
      expect(ip.decTtl()).toBe(ttl - 1);
      expect(ip.ttl).toBe(ttl - 1);
      expect(ip.checksumOk()).toBe(true);
    }));
  });
});
