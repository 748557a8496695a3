// Property tests: parse(emit(x)) == x for every plain form, and no view
// throws or reads outside its bytes on arbitrary input.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArpView, emitArp, parseArp, type ArpPacket } from '../../src/wire/arp.js';
import { packet } from '../../src/wire/builder.js';
import { WIRE_OK } from '../../src/wire/errors.js';
import { emitEthernet, EthernetView, parseEthernet, type EthernetHeader } from '../../src/wire/ethernet.js';
import { emitIcmp, IcmpView, parseIcmp, type IcmpHeader } from '../../src/wire/icmp.js';
import { emitIpip, parseIpip } from '../../src/wire/ipip.js';
import { emitIpv4, Ipv4View, parseIpv4, type Ipv4Header } from '../../src/wire/ipv4.js';
import { formatFrame, formatIpv4 } from '../../src/wire/printer.js';
import { emitTcp, parseTcp, TcpView, type TcpHeader } from '../../src/wire/tcp.js';
import { emitUdp, parseUdp, UdpView, type UdpHeader } from '../../src/wire/udp.js';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const mac = fc.integer({ min: 0, max: 2 ** 48 - 1 });
const words = (maxWords: number) =>
  fc.integer({ min: 0, max: maxWords }).chain((n) => fc.uint8Array({ minLength: n * 4, maxLength: n * 4 }));

describe('parse(emit(x)) == x', () => {
  it('Ethernet, with and without an 802.1Q tag', () => {
    const arb: fc.Arbitrary<EthernetHeader> = fc.oneof(
      fc.record({ dst: mac, src: mac, etherType: u16.filter((t) => t !== 0x8100) }),
      fc.record({
        dst: mac, src: mac, etherType: u16,
        vlan: fc.record({ id: fc.integer({ min: 0, max: 4095 }), pcp: fc.integer({ min: 0, max: 7 }), dei: fc.boolean() }),
      }),
    );
    fc.assert(fc.property(arb, (h) => {
      const buf = new Uint8Array(18);
      const n = emitEthernet(h, buf, 0);
      expect(n).toBe(h.vlan ? 18 : 14);
      expect(parseEthernet(buf, 0, n)).toEqual(h);
    }));
  });

  it('ARP', () => {
    const arb: fc.Arbitrary<ArpPacket> = fc.record({ op: u16, sha: mac, spa: u32, tha: mac, tpa: u32 });
    fc.assert(fc.property(arb, (p) => {
      const buf = new Uint8Array(28);
      expect(emitArp(p, buf, 0)).toBe(28);
      expect(parseArp(buf)).toEqual(p);
    }));
  });

  const ipv4Arb = (extra: number): fc.Arbitrary<Ipv4Header> => words(10).chain((options) =>
    fc.record({
      tos: u8,
      totalLength: fc.integer({ min: 20 + options.length, max: 20 + options.length + extra }),
      id: u16,
      flags: fc.integer({ min: 0, max: 7 }),
      fragOffset: fc.integer({ min: 0, max: 0x1fff }),
      ttl: u8,
      protocol: u8,
      checksum: u16,
      src: u32,
      dst: u32,
      options: fc.constant(options),
    }));

  it('IPv4, options included', () => {
    fc.assert(fc.property(ipv4Arb(40), (h) => {
      const buf = new Uint8Array(h.totalLength);
      expect(emitIpv4(h, buf, 0)).toBe(20 + h.options!.length);
      expect(parseIpv4(buf)).toEqual(h);
    }));
  });

  it('IPv4 without a given checksum gets a valid one', () => {
    fc.assert(fc.property(ipv4Arb(0), (h) => {
      const { checksum: _omit, ...rest } = h;
      const buf = new Uint8Array(h.totalLength);
      emitIpv4(rest, buf, 0);
      const v = new Ipv4View();
      expect(v.wrap(buf, 0, buf.length)).toBe(WIRE_OK);
      expect(v.checksumOk()).toBe(true);
    }));
  });

  it('TCP, options included', () => {
    const arb: fc.Arbitrary<TcpHeader> = fc.record({
      sport: u16, dport: u16, seq: u32, ack: u32, flags: fc.integer({ min: 0, max: 0x1ff }),
      window: u16, checksum: u16, urgent: u16, options: words(10),
    });
    fc.assert(fc.property(arb, fc.nat(30), (h, data) => {
      const buf = new Uint8Array(20 + h.options!.length + data);
      expect(emitTcp(h, buf, 0)).toBe(20 + h.options!.length);
      expect(parseTcp(buf)).toEqual(h);
    }));
  });

  it('UDP', () => {
    const arb: fc.Arbitrary<UdpHeader> = fc.record({
      sport: u16, dport: u16, length: fc.integer({ min: 8, max: 100 }), checksum: u16,
    });
    fc.assert(fc.property(arb, (h) => {
      const buf = new Uint8Array(h.length);
      expect(emitUdp(h, buf, 0)).toBe(8);
      expect(parseUdp(buf)).toEqual(h);
    }));
  });

  it('ICMP', () => {
    const arb: fc.Arbitrary<IcmpHeader> = fc.record({ type: u8, code: u8, checksum: u16, rest: u32 });
    fc.assert(fc.property(arb, (h) => {
      const buf = new Uint8Array(8);
      expect(emitIcmp(h, buf, 0)).toBe(8);
      expect(parseIcmp(buf)).toEqual(h);
    }));
  });

  it('IPIP: outer header and the inner packet both come back', () => {
    fc.assert(fc.property(ipv4Arb(0), u32, u32, fc.uint8Array({ maxLength: 20 }), (outer, isrc, idst, data) => {
      const inner = packet().ipv4({ src: isrc, dst: idst, id: 7 }).payload(data).build();
      const buf = new Uint8Array(outer.totalLength + inner.length);
      const n = emitIpip(outer, inner, buf, 0);
      expect(n).toBe(buf.length);
      const p = parseIpip(buf);
      expect(p.outer).toEqual({ ...outer, protocol: 4, totalLength: buf.length });
      expect(p.inner).toEqual(parseIpv4(inner));
      expect([p.inner.src, p.inner.dst]).toEqual([isrc, idst]);
    }));
  });
});

/** Reads every getter of a wrapped view; each must give a finite number or a boolean. */
function readAll(view: object, proto: object): void {
  for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
    if (!d.get) continue;
    const v: unknown = (view as Record<string, unknown>)[name];
    if (typeof v === 'boolean') continue;
    expect(Number.isInteger(v), `${proto.constructor.name}.${name} = ${String(v)}`).toBe(true);
  }
}

const VIEWS = [
  { V: EthernetView, sums: (v: EthernetView) => v.payloadLength },
  { V: ArpView, sums: (v: ArpView) => v.op },
  { V: Ipv4View, sums: (v: Ipv4View) => [v.checksumOk(), v.expectedChecksum()] },
  { V: IcmpView, sums: (v: IcmpView) => [v.checksumOk(), v.expectedChecksum()] },
  { V: TcpView, sums: (v: TcpView) => [v.checksumOk(1, 2), v.expectedChecksum(1, 2)] },
  { V: UdpView, sums: (v: UdpView) => [v.checksumOk(1, 2), v.expectedChecksum(1, 2)] },
] as const;

/** Random bytes, half of them nudged to look like IPv4 so that wraps get past the first checks. */
const bytesArb = fc.oneof(
  fc.uint8Array({ maxLength: 120 }),
  fc.uint8Array({ minLength: 20, maxLength: 120 }).map((b) => {
    b[0] = 0x40 | (b[0]! & 0x0f);
    b[2] = 0;
    b[3] = Math.min(b[3]!, b.length);
    return b;
  }),
);

describe('wrap on random bytes', () => {
  it('never throws; once OK, no getter throws or reads outside the buffer', () => {
    let oks = 0;
    fc.assert(fc.property(bytesArb, fc.nat(30), fc.nat(130), fc.boolean(), (buf, o, anyLen, rest) => {
      for (const { V, sums } of VIEWS) {
        const v = new V();
        const off = Math.min(o, buf.length);
        // mostly "the rest of the buffer", sometimes any length at all
        const l = rest ? buf.length - off : anyLen;
        const rc = v.wrap(buf, off, l);
        expect(Number.isInteger(rc)).toBe(true);
        if (rc !== WIRE_OK) continue;
        oks++;
        readAll(v, V.prototype);
        for (const x of [sums(v as never)].flat()) expect(typeof x === 'boolean' || Number.isInteger(x)).toBe(true);
        if (v instanceof UdpView) {
          expect(v.wrapHeader(buf, off, l)).toBe(WIRE_OK);
          readAll(v, UdpView.prototype);
        }
      }
    }), { numRuns: 3000 });
    // the generator must actually reach the getters
    expect(oks).toBeGreaterThan(1000);
  });

  it('the printer never throws on random frames or packets', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 150 }), fc.boolean(), (b, ipv4) => {
      if (ipv4 && b.length > 0) b[0] = 0x45;
      const lines = ipv4 ? formatIpv4(b) : formatFrame(b);
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) expect(l).not.toMatch(/undefined|NaN/);
    }), { numRuns: 2000 });
  });
});
