// Upper-layer checksums over IPv6 against a slow reference that lays the
// pseudo-header out as bytes (RFC 8200 section 8.1), and their incremental
// update when a 128-bit address changes.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIp6, writeIp6 } from '../../src/wire/addr6.js';
import { packet } from '../../src/wire/builder.js';
import {
  csumAdjust, csumDelta, csumUpdate128, ip6WordsSum, l4Checksum6, pseudoAddrSum6, pseudoAddrSum6Words, pseudoHeaderSum6,
  tcpChecksumOk6, tcpExpectedChecksum6, tcpFillChecksum6, udpChecksumOk6, udpCsumAdjust, udpCsumUpdate128,
  udpExpectedChecksum6, udpFillChecksum6,
} from '../../src/wire/checksum6.js';
import { WIRE_OK } from '../../src/wire/errors.js';
import { Icmpv6View } from '../../src/wire/icmpv6.js';
import { Ipv6View } from '../../src/wire/ipv6.js';
import { TcpView } from '../../src/wire/tcp.js';
import { UdpView } from '../../src/wire/udp.js';

/** RFC 1071 written the slow obvious way. */
function refChecksum(bytes: number[]): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    s += (bytes[i]! << 8) + (i + 1 < bytes.length ? bytes[i + 1]! : 0);
    s = (s & 0xffff) + (s >>> 16);
  }
  return ~s & 0xffff;
}

/** The pseudo-header as the RFC draws it: source, destination, 32-bit length, 3 zero bytes, next header. */
function pseudoHeader(src: Uint32Array, dst: Uint32Array, len: number, nh: number): number[] {
  const b = new Uint8Array(40);
  writeIp6(b, 0, src);
  writeIp6(b, 16, dst);
  b[32] = len >>> 24; b[33] = len >>> 16; b[34] = len >>> 8; b[35] = len;
  b[39] = nh;
  return Array.from(b);
}

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const addrArb = fc.tuple(u32, u32, u32, u32).map((w) => Uint32Array.from(w));

describe('IPv6 pseudo-header sums', () => {
  it('the address sums equal summing the 32 address bytes', () => {
    fc.assert(fc.property(addrArb, addrArb, (s, d) => {
      const b = new Uint8Array(40);
      writeIp6(b, 8, s);
      writeIp6(b, 24, d);
      expect(pseudoAddrSum6(b, 8, 24)).toBe(pseudoAddrSum6Words(s, 0, d, 0));
      expect(ip6WordsSum(s, 0) + ip6WordsSum(d, 0)).toBe(pseudoAddrSum6Words(s, 0, d, 0));
    }));
  });

  it('l4Checksum6 equals the checksum over pseudo-header bytes + data, lengths above 65535 included', () => {
    fc.assert(fc.property(addrArb, addrArb, fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 255 }), (s, d, data, nh) => {
      const ref = refChecksum([...pseudoHeader(s, d, data.length, nh), ...data]);
      expect(l4Checksum6(data, 0, data.length, nh, pseudoAddrSum6Words(s, 0, d, 0))).toBe(ref);
    }));
    // a jumbo length has a high 16-bit word of its own
    const s = parseIp6('2001:db8::1');
    const d = parseIp6('2001:db8::2');
    const sum = pseudoHeaderSum6(pseudoAddrSum6Words(s, 0, d, 0), 6, 0x12345);
    expect(~(sum % 0xffff) & 0xffff).toBe(refChecksum(pseudoHeader(s, d, 0x12345, 6)));
  });
});

describe('TCP and UDP over IPv6', () => {
  const S = parseIp6('2001:db8::1');
  const D = parseIp6('2001:db8::100');
  const SUM = pseudoAddrSum6Words(S, 0, D, 0);

  function viewsOf(p: Uint8Array): { ip: Ipv6View; tcp: TcpView; udp: UdpView } {
    const ip = new Ipv6View();
    expect(ip.wrap(p, 0, p.length)).toBe(WIRE_OK);
    return { ip, tcp: new TcpView(), udp: new UdpView() };
  }

  it('TCP: fill, verify, expected; a flipped bit fails', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 60 }), (data) => {
      const p = packet().ipv6({ src: S, dst: D }).tcp({ sport: 1, dport: 2, flags: 'PA', payload: data }).build();
      const { ip, tcp } = viewsOf(p);
      expect(tcp.wrap(p, 40, ip.payloadLength)).toBe(WIRE_OK);
      expect(ip.pseudoAddrSum()).toBe(SUM);
      expect(tcpChecksumOk6(tcp, SUM)).toBe(true);
      expect(tcp.checksum).toBe(refChecksum([...pseudoHeader(S, D, tcp.len, 6), ...Array.from(p.subarray(40, 56)), 0, 0,
        ...Array.from(p.subarray(58))]));
      const good = tcp.checksum;
      tcp.checksum = good ^ 0x0400;
      expect(tcpChecksumOk6(tcp, SUM)).toBe(false);
      expect(tcpExpectedChecksum6(tcp, SUM)).toBe(good);
      tcpFillChecksum6(tcp, SUM);
      expect(tcp.checksum).toBe(good);
      // the IPv4 check on the same bytes must not pass by accident
      expect(tcp.checksumOk(0x0a000001, 0x0a000002)).toBe(false);
    }), { numRuns: 200 });
  });

  it('UDP: checksum mandatory, 0 never verifies; a computed 0 is sent as 0xFFFF', () => {
    const p = packet().ipv6({ src: S, dst: D }).udp({ sport: 1000, dport: 2000, payload: [0, 0] }).build();
    const { udp } = viewsOf(p);
    expect(udp.wrap(p, 40, p.length - 40)).toBe(WIRE_OK);
    expect(udpChecksumOk6(udp, SUM)).toBe(true);
    // make the sum 0xFFFF: a payload word equal to the checksum of the zero payload
    const c = udp.checksum;
    p[48] = c >>> 8;
    p[49] = c & 0xff;
    udpFillChecksum6(udp, SUM);
    expect(udp.checksum).toBe(0xffff);
    expect(udpExpectedChecksum6(udp, SUM)).toBe(0xffff);
    expect(udpChecksumOk6(udp, SUM)).toBe(true);
    udp.checksum = 0;
    expect(udpChecksumOk6(udp, SUM)).toBe(false);
    expect(udp.checksumOk(1, 2)).toBe(true); // over IPv4, 0 still means "none"
  });

  it('UDP: the pseudo-header length is the UDP length field, not the bytes available', () => {
    const p = packet().ipv6({ src: S, dst: D }).udp({ sport: 1, dport: 2, payload: 'abc' }).padTo(60).build();
    const { udp } = viewsOf(p);
    expect(udp.wrap(p, 40, p.length - 40)).toBe(WIRE_OK);
    expect(udp.len).toBe(20);
    expect(udpChecksumOk6(udp, SUM)).toBe(true);
    const first = new UdpView();
    expect(first.wrapHeader(p, 40, 8)).toBe(WIRE_OK);
    expect(udpChecksumOk6(first, SUM)).toBe(false); // the datagram is not all there
  });
});

describe('incremental update for a 128-bit address (RFC 1624 eqn 3)', () => {
  it('csumDelta/csumAdjust: a one-word change matches RFC 1624 eqn 3 exactly', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffff }), (hc, m, m2) => {
        let x = (~hc & 0xffff) + (~m & 0xffff) + m2;
        while (x > 0xffff) x = (x & 0xffff) + (x >>> 16);
        expect(csumAdjust(hc, csumDelta(m, m2))).toBe(~x & 0xffff);
      }));
  });

  it('patching TCP, UDP and ICMPv6 after a source or destination rewrite equals a full recompute', () => {
    fc.assert(fc.property(addrArb, addrArb, addrArb, fc.uint8Array({ maxLength: 40 }), fc.boolean(),
      fc.constantFrom('tcp', 'udp', 'icmpv6'), (src, dst, neu, data, rewriteSrc, l4) => {
        let b = packet().ipv6({ src, dst });
        b = l4 === 'tcp' ? b.tcp({ sport: 1, dport: 2, payload: data })
          : l4 === 'udp' ? b.udp({ sport: 1, dport: 2, payload: data })
            : b.icmpv6({ type: 128, id: 1, seq: 2, payload: data });
        const p = b.build();
        const ip = new Ipv6View();
        expect(ip.wrap(p, 0, p.length)).toBe(WIRE_OK);
        const old = new Uint32Array(4);
        if (rewriteSrc) ip.readSrc(old); else ip.readDst(old);
        const delta = rewriteSrc ? ip.rewriteSrc(neu) : ip.rewriteDst(neu);
        const sum = ip.pseudoAddrSum();
        if (l4 === 'tcp') {
          const t = new TcpView();
          expect(t.wrap(p, 40, ip.payloadLength)).toBe(WIRE_OK);
          const patched = csumAdjust(t.checksum, delta);
          expect(csumUpdate128(t.checksum, old, 0, neu, 0)).toBe(patched);
          t.checksum = patched;
          expect(tcpChecksumOk6(t, sum)).toBe(true);
          // 0x0000 and 0xFFFF are the same in ones' complement; otherwise the value must match
          const full = tcpExpectedChecksum6(t, sum);
          expect(patched === full || (patched | full) === 0xffff).toBe(true);
        } else if (l4 === 'udp') {
          const u = new UdpView();
          expect(u.wrap(p, 40, ip.payloadLength)).toBe(WIRE_OK);
          const patched = udpCsumAdjust(u.checksum, delta);
          expect(udpCsumUpdate128(u.checksum, old, 0, neu, 0)).toBe(patched);
          expect(patched).not.toBe(0);
          u.checksum = patched;
          expect(udpChecksumOk6(u, sum)).toBe(true);
          expect(patched).toBe(udpExpectedChecksum6(u, sum));
        } else {
          const i = new Icmpv6View();
          expect(i.wrap(p, 40, ip.payloadLength)).toBe(WIRE_OK);
          i.checksum = csumAdjust(i.checksum, delta);
          expect(i.checksumOk(sum)).toBe(true);
        }
      }), { numRuns: 500 });
  });

  it('UDP: a field of 0 stays 0 (invalid over IPv6, left for the receiver to drop)', () => {
    expect(udpCsumAdjust(0, 0x1234)).toBe(0);
    expect(udpCsumUpdate128(0, parseIp6('::1'), 0, parseIp6('::2'), 0)).toBe(0);
    // a result of 0 goes out as 0xFFFF: ~0x1234 + 0x1234 = 0xffff, complemented 0
    expect(csumDelta(0, 0x1234)).toBe(0x1234);
    expect(csumAdjust(0x1234, csumDelta(0, 0x1234))).toBe(0);
    expect(udpCsumAdjust(0x1234, csumDelta(0, 0x1234))).toBe(0xffff);
  });
});
