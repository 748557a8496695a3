import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMac } from '../../src/wire/addr.js';
import { ip6ToString, newIp6, parseIp6, writeIp6 } from '../../src/wire/addr6.js';
import { packet } from '../../src/wire/builder.js';
import { pseudoAddrSum6Words } from '../../src/wire/checksum6.js';
import { ICMPV6_BAD_ND_OPTION, ICMPV6_TRUNCATED, WIRE_OK, WireError } from '../../src/wire/errors.js';
import {
  emitIcmpv6, emitNd, ICMPV6_NEIGHBOR_ADVERT, ICMPV6_NEIGHBOR_SOLICIT, ICMPV6_ROUTER_ADVERT, ICMPV6_ROUTER_SOLICIT,
  Icmpv6View, ND_NA_OVERRIDE, ND_NA_ROUTER, ND_NA_SOLICITED, ND_OPT_MTU, ND_OPT_PREFIX_INFO, ND_OPT_SOURCE_LL_ADDR,
  ND_OPT_TARGET_LL_ADDR, ND_RA_MANAGED, ND_RA_OTHER, ndLinkAddrOption, ndMessageLength, ndOptionMac, ndOptionMtu,
  ndOptionPrefix, parseIcmpv6, parseNd, type Icmpv6Header, type NdMessage,
} from '../../src/wire/icmpv6.js';
import { Ipv6View } from '../../src/wire/ipv6.js';

function fromHex(h: string): Uint8Array {
  return Uint8Array.from(h.replace(/\s+/g, '').match(/../g) ?? [], (x) => parseInt(x, 16));
}

/** RFC 1071 over the pseudo-header bytes and the message, the slow obvious way. */
function refChecksum(src: Uint32Array, dst: Uint32Array, msg: Uint8Array): number {
  const ph = new Uint8Array(40);
  writeIp6(ph, 0, src);
  writeIp6(ph, 16, dst);
  ph[34] = msg.length >>> 8;
  ph[35] = msg.length & 0xff;
  ph[39] = 58;
  const all = [...ph, ...msg];
  let s = 0;
  for (let i = 0; i < all.length; i += 2) {
    s += (all[i]! << 8) + (all[i + 1] ?? 0);
    s = (s & 0xffff) + (s >>> 16);
  }
  return ~s & 0xffff;
}

const LL_A = parseIp6('fe80::ff:fe00:a');
const SN = parseIp6('ff02::1:ff00:100');
const T = parseIp6('2001:db8::100');
const S6 = '2001:db8::1';
const D6 = '2001:db8::100';

function view(buf: Uint8Array, off = 0, len = buf.length - off): Icmpv6View {
  const v = new Icmpv6View();
  expect(v.wrap(buf, off, len)).toBe(WIRE_OK);
  return v;
}

describe('ICMPv6 neighbour solicitation, annotated bytes', () => {
  // the message of fixtures/wire/icmpv6-ns.json (fe80::ff:fe00:a > ff02::1:ff00:100):
  // 0: 87 type 135 | 1: 00 code | 2: 4a 51 checksum | 4: 00000000 reserved
  // 8: 2001:db8::100 target
  // 24: 01 source link-layer address option, 25: 01 length (8 bytes), 26: 02:00:00:00:00:0a
  const msg = fromHex('87004a51 00000000 20010db8000000000000000000000100 0101 02000000000a');

  it('reads type, target and the option where the annotation says', () => {
    const v = view(msg);
    expect([v.type, v.code, v.checksum, v.rest, v.isNd, v.isError, v.isEcho]).toEqual([135, 0, 0x4a51, 0, true, false, false]);
    expect([v.targetOffset, v.ndOptionsOffset, v.ndOptionsLength, v.ndOptionsOk()]).toEqual([8, 24, 8, WIRE_OK]);
    const a = newIp6();
    v.readTarget(a);
    expect(ip6ToString(a)).toBe('2001:db8::100');
    expect([v.targetEquals(T), v.targetEquals(LL_A)]).toEqual([true, false]);
    expect([v.ndFindOption(ND_OPT_SOURCE_LL_ADDR), v.ndFindOption(ND_OPT_TARGET_LL_ADDR)]).toEqual([24, -1]);
    expect([v.sourceLinkAddr, v.targetLinkAddr]).toEqual([parseMac('02:00:00:00:00:0a'), -1]);
  });

  it('the checksum covers the pseudo-header: right addresses verify, others do not', () => {
    const v = view(msg);
    expect(v.checksumOk(pseudoAddrSum6Words(LL_A, 0, SN, 0))).toBe(true);
    expect(v.checksumOk(pseudoAddrSum6Words(SN, 0, LL_A, 0))).toBe(true); // the sum does not care about order
    expect(v.checksumOk(pseudoAddrSum6Words(LL_A, 0, T, 0))).toBe(false);
    expect(refChecksum(LL_A, SN, Uint8Array.from([...msg.subarray(0, 2), 0, 0, ...msg.subarray(4)]))).toBe(0x4a51);
    const copy = msg.slice();
    const c = view(copy);
    c.fillChecksum(pseudoAddrSum6Words(LL_A, 0, T, 0));
    expect(c.checksum).toBe(refChecksum(LL_A, T, Uint8Array.from([...copy.subarray(0, 2), 0, 0, ...copy.subarray(4)])));
    expect(c.expectedChecksum(pseudoAddrSum6Words(LL_A, 0, SN, 0))).toBe(0x4a51);
  });

  it('writes the target in place', () => {
    const copy = msg.slice();
    view(copy).writeTarget(parseIp6('fe80::9'));
    expect(Buffer.from(copy.subarray(8, 24)).toString('hex')).toBe('fe800000000000000000000000000009');
  });
});

describe('ICMPv6 message fields', () => {
  it('echo, packet too big (32-bit MTU), parameter problem (32-bit pointer), NA flags', () => {
    const b = new Uint8Array(8);
    const v = view(b);
    v.type = 128;
    v.id = 0x1234;
    v.seq = 0xfffe;
    expect([v.isEcho, v.rest, v.id, v.seq]).toEqual([true, 0x1234fffe, 0x1234, 0xfffe]);
    v.type = 2;
    v.mtu = 0x00012345;
    expect([v.isError, v.mtu, Array.from(b.subarray(4))]).toEqual([true, 0x12345, [0, 1, 0x23, 0x45]]);
    v.type = 4;
    v.pointer = 0x10006;
    expect(v.pointer).toBe(0x10006);
    const na = new Uint8Array(24);
    na[0] = ICMPV6_NEIGHBOR_ADVERT;
    const n = view(na);
    n.naFlags = 0xffffffff; // the reserved bits stay clear
    expect([n.naFlags >>> 0, na[4], na[5], n.routerFlag, n.solicitedFlag, n.overrideFlag])
      .toEqual([(ND_NA_ROUTER | ND_NA_SOLICITED | ND_NA_OVERRIDE) >>> 0, 0xe0, 0, true, true, true]);
    n.naFlags = ND_NA_SOLICITED;
    expect([n.routerFlag, n.solicitedFlag, n.overrideFlag]).toEqual([false, true, false]);
  });

  it('wrap needs 8 bytes, and the fixed part of NS/NA (24), RA (16) and redirect (40)', () => {
    const v = new Icmpv6View();
    for (const [type, min] of [[128, 8], [1, 8], [135, 24], [136, 24], [133, 8], [134, 16], [137, 40], [200, 8]] as const) {
      const b = new Uint8Array(min);
      b[0] = type;
      for (let n = 0; n < min; n++) expect(v.wrap(b, 0, n), `type ${type} len ${n}`).toBe(ICMPV6_TRUNCATED);
      expect(v.wrap(b, 0, min)).toBe(WIRE_OK);
    }
    expect(v.wrap(new Uint8Array(8), 1, 8)).toBe(ICMPV6_TRUNCATED);
  });

  it('fields of other types read 0 for the ND and RA accessors', () => {
    const b = new Uint8Array(40).fill(0xff);
    b[0] = 128;
    const v = view(b);
    const a = newIp6();
    v.readTarget(a);
    expect([ip6ToString(a), v.targetEquals(newIp6()), v.raCurHopLimit, v.raRouterLifetime, v.isNd]).toEqual(['::', false, 0, 0, false]);
    expect([v.ndOptionsLength, v.ndFindOption(0xff), v.sourceLinkAddr, v.ndOptionsOk()]).toEqual([0, -1, -1, WIRE_OK]);
  });
});

describe('ND options are walked safely', () => {
  function ns(options: number[]): Icmpv6View {
    const b = new Uint8Array(24 + options.length);
    b[0] = ICMPV6_NEIGHBOR_SOLICIT;
    b.set(options, 24);
    return view(b);
  }
  const sll = [1, 1, 2, 0, 0, 0, 0, 1];
  const tll = [2, 1, 2, 0, 0, 0, 0, 2];
  const nonce = [14, 1, 1, 2, 3, 4, 5, 6];

  it('finds options past others, first of a type wins', () => {
    const v = ns([...nonce, ...tll, ...sll, 1, 1, 9, 9, 9, 9, 9, 9]);
    expect([v.ndOptionsOk(), v.ndFindOption(14), v.ndFindOption(2), v.ndFindOption(1)]).toEqual([WIRE_OK, 24, 32, 40]);
    expect([v.sourceLinkAddr, v.targetLinkAddr]).toEqual([parseMac('02:00:00:00:00:01'), parseMac('02:00:00:00:00:02')]);
  });

  it('a zero length, an option past the end or a stray byte is ICMPV6_BAD_ND_OPTION; nothing after it is found', () => {
    for (const bad of [[0, 0, 0, 0, 0, 0, 0, 0, ...sll], [...nonce, 1, 2, 2, 0, 0, 0, 0, 1], [...nonce, 1], [1, 0]]) {
      const v = ns(bad);
      expect(v.ndOptionsOk(), JSON.stringify(bad)).toBe(ICMPV6_BAD_ND_OPTION);
      expect(v.sourceLinkAddr).toBe(-1);
    }
    // before the bad one, an option is still found
    const v = ns([...sll, 0, 0]);
    expect([v.ndOptionsOk(), v.sourceLinkAddr]).toEqual([ICMPV6_BAD_ND_OPTION, parseMac('02:00:00:00:00:01')]);
  });

  it('never reads outside the message on random option bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 0, max: 255 }), (opts, t) => {
      const v = ns(Array.from(opts));
      const rc = v.ndOptionsOk();
      const at = v.ndFindOption(t);
      expect(at === -1 || (at >= 24 && at + 2 <= v.len)).toBe(true);
      const m = v.sourceLinkAddr;
      expect(Number.isInteger(m)).toBe(true);
      if (rc === WIRE_OK && m >= 0) expect(v.ndFindOption(1) + 8).toBeLessThanOrEqual(v.len);
    }), { numRuns: 2000 });
  });
});

describe('the packet quoted by an ICMPv6 error', () => {
  const inner = () => packet().ipv6({ src: S6, dst: D6, hopLimit: 3 });

  it('is complete once its header chain and 8 transport bytes are there', () => {
    for (let quote = 0; quote <= 60; quote++) {
      const f = packet().ipv6({ src: D6, dst: S6 }).icmpv6({ type: 1, code: 4, quote })
        .ipv6({ src: S6, dst: D6 }).tcp({ sport: 40000, dport: 80, payload: 'abc' }).build();
      const v = view(f, 40);
      expect(v.embeddedLength).toBe(quote);
      expect(v.embeddedComplete, `quote ${quote}`).toBe(quote >= 48);
      if (quote < 48) {
        expect([v.embeddedProtocol, v.embeddedSport, v.embeddedDport, v.embeddedTransportOffset, v.embeddedSrcOffset])
          .toEqual([0, 0, 0, 0, 0]);
      } else {
        expect([v.embeddedProtocol, v.embeddedSport, v.embeddedDport, v.embeddedTransportOffset]).toEqual([6, 40000, 80, 88]);
      }
    }
  });

  it('finds the protocol after the quoted extension headers; a quoted later fragment has no ports', () => {
    const f = packet().ipv6({ src: D6, dst: S6 }).icmpv6({ type: 2, mtu: 1280, quote: 72 })
      .ipv6({ src: S6, dst: D6 }).hopByHop().frag({ id: 5, m: true }).udp({ sport: 53, dport: 9999, payload: 'x'.repeat(40) }).build();
    const v = view(f, 40);
    expect([v.embeddedComplete, v.embeddedProtocol, v.embeddedSport, v.embeddedDport, v.embeddedTransportOffset])
      .toEqual([true, 17, 53, 9999, 40 + 8 + 40 + 16]);
    expect([v.embeddedHeaders.fragId, v.embeddedHeaders.isFragment]).toEqual([5, true]);
    const later = packet().ipv6({ src: D6, dst: S6 }).icmpv6({ type: 3, code: 1 })
      .ipv6({ src: S6, dst: D6 }).frag({ id: 5, offset: 10, nextHeader: 17 }).payload(new Uint8Array(16)).build();
    expect(view(later, 40).embeddedComplete).toBe(false);
    const badChain = packet().ipv6({ src: D6, dst: S6 }).icmpv6({ type: 4 })
      .ipv6({ src: S6, dst: D6 }).destOpts().hopByHop().udp({ sport: 1, dport: 2 }).build();
    expect(view(badChain, 40).embeddedComplete).toBe(false);
  });

  it('is not looked at for informational messages or a quoted non-IPv6 packet', () => {
    const q = inner().udp({ sport: 1, dport: 2 }).build();
    const echo = packet().ipv6({ src: D6, dst: S6 }).icmpv6({ type: 129, payload: q }).build();
    expect(view(echo, 40).embeddedComplete).toBe(false);
    const v4 = packet().ipv6({ src: D6, dst: S6 }).icmpv6({ type: 1 }).ipv4({ src: '10.0.0.1', dst: '10.0.0.2' })
      .udp({ sport: 1, dport: 2, payload: new Uint8Array(40) }).build();
    expect(view(v4, 40).embeddedComplete).toBe(false);
  });

  it('NAT rewrite of the quoted addresses and ports, then a full checksum, as IPVS does', () => {
    const f = packet().ipv6({ src: D6, dst: S6 }).icmpv6({ type: 1, code: 4 })
      .ipv6({ src: S6, dst: D6 }).udp({ sport: 1111, dport: 53 }).build();
    const ip = new Ipv6View();
    expect(ip.wrap(f, 0, f.length)).toBe(WIRE_OK);
    const v = view(f, 40);
    expect(v.checksumOk(ip.pseudoAddrSum())).toBe(true);
    const vip = parseIp6('2001:db8:ffff::80');
    expect(v.embeddedDstEquals(parseIp6(D6))).toBe(true);
    v.writeEmbeddedDst(vip);
    v.embeddedDport = 80;
    v.embeddedSport = 2222;
    v.writeEmbeddedSrc(parseIp6('::1'));
    const a = newIp6();
    v.readEmbeddedDst(a);
    expect([ip6ToString(a), v.embeddedDport, v.embeddedSport, v.embeddedSrcWord(3), v.embeddedDstWord(0)])
      .toEqual(['2001:db8:ffff::80', 80, 2222, 1, 0x20010db8]);
    expect(v.embeddedSrcEquals(parseIp6('::1'))).toBe(true);
    expect(v.checksumOk(ip.pseudoAddrSum())).toBe(false);
    v.fillChecksum(ip.pseudoAddrSum());
    expect(v.checksumOk(ip.pseudoAddrSum())).toBe(true);
    // writes are ignored while incomplete
    const cut = packet().ipv6({ src: D6, dst: S6 }).icmpv6({ type: 1, quote: 20 }).ipv6({ src: S6, dst: D6 })
      .udp({ sport: 1, dport: 2 }).build();
    const w = view(cut, 40);
    const before = cut.slice();
    w.writeEmbeddedDst(vip);
    w.embeddedSport = 7;
    expect(Array.from(cut)).toEqual(Array.from(before));
  });
});

describe('ICMPv6 plain forms', () => {
  it('header: parse(emit(x)) == x', () => {
    const arb: fc.Arbitrary<Icmpv6Header> = fc.record({
      type: fc.constantFrom(1, 2, 3, 4, 128, 129, 200), code: fc.integer({ min: 0, max: 255 }),
      checksum: fc.integer({ min: 0, max: 0xffff }), rest: fc.integer({ min: 0, max: 0xffffffff }),
    });
    fc.assert(fc.property(arb, (h) => {
      const b = new Uint8Array(8);
      expect(emitIcmpv6(h, b, 0)).toBe(8);
      expect(parseIcmpv6(b)).toEqual(h);
    }));
    expect(() => parseIcmpv6(new Uint8Array(7))).toThrow(/ICMPV6_TRUNCATED/);
  });

  it('NS, NA and RS: parse(emit(x)) == x, options padded to 8 bytes', () => {
    const msgs: NdMessage[] = [
      { type: ICMPV6_NEIGHBOR_SOLICIT, code: 0, checksum: 0, flags: 0, target: T,
        options: [ndLinkAddrOption(ND_OPT_SOURCE_LL_ADDR, parseMac('02:00:00:00:00:0a')), { type: 14, data: Uint8Array.of(1, 2, 3, 4, 5, 6) }] },
      { type: ICMPV6_NEIGHBOR_ADVERT, code: 0, checksum: 0x1234, flags: (ND_NA_SOLICITED | ND_NA_OVERRIDE) >>> 0, target: T,
        options: [ndLinkAddrOption(ND_OPT_TARGET_LL_ADDR, parseMac('02:00:00:00:00:0b'))] },
      { type: ICMPV6_ROUTER_SOLICIT, code: 0, checksum: 0, flags: 0, options: [] },
    ];
    for (const m of msgs) {
      const b = new Uint8Array(ndMessageLength(m));
      expect(emitNd(m, b, 0)).toBe(b.length);
      expect(parseNd(b)).toEqual(m);
    }
    // an option whose data does not fill its 8-byte units comes back zero-padded
    const short: NdMessage = { type: ICMPV6_ROUTER_SOLICIT, code: 0, flags: 0, options: [{ type: 1, data: Uint8Array.of(9) }] };
    const b = new Uint8Array(ndMessageLength(short));
    expect(emitNd(short, b, 0)).toBe(16);
    expect(Array.from(b.subarray(8))).toEqual([1, 1, 9, 0, 0, 0, 0, 0]);
    expect(() => emitNd({ ...short, type: ICMPV6_ROUTER_ADVERT }, new Uint8Array(32), 0)).toThrow(/NS, NA and RS only/);
    expect(() => emitNd({ type: ICMPV6_NEIGHBOR_SOLICIT, code: 0, flags: 0, options: [] }, new Uint8Array(24), 0))
      .toThrow(/target/);
  });

  it('router advertisement: fixed fields and the prefix, MTU and link-layer options (parse only)', () => {
    // 86 00 cksum | hop limit 64, flags M+O, lifetime 1800 | reachable 30000 ms | retrans 1000 ms
    // then: source link-layer 02:00:00:00:00:fe; MTU 1500; prefix 2001:db8:1::/64 L+A, valid 86400, preferred 14400
    const ra = fromHex(
      '86000000 40c00708 00007530 000003e8' +
      '0101 0200000000fe' +
      '0501 0000 000005dc' +
      '0304 40c0 00015180 00003840 00000000 20010db8000100000000000000000000');
    const v = view(ra);
    expect([v.raCurHopLimit, v.raFlags, v.raRouterLifetime, v.raReachableTime, v.raRetransTimer, v.ndOptionsOk()])
      .toEqual([64, ND_RA_MANAGED | ND_RA_OTHER, 1800, 30000, 1000, WIRE_OK]);
    expect([v.ndOptionsOffset, v.sourceLinkAddr]).toEqual([16, parseMac('02:00:00:00:00:fe')]);
    const m = parseNd(ra);
    expect([m.curHopLimit, m.flags, m.routerLifetime, m.reachableTime, m.retransTimer, m.options.length])
      .toEqual([64, 0xc0, 1800, 30000, 1000, 3]);
    expect(ndOptionMac(m.options[0]!)).toBe(parseMac('02:00:00:00:00:fe'));
    expect([m.options[1]!.type, ndOptionMtu(m.options[1]!), ndOptionMtu(m.options[0]!)]).toEqual([ND_OPT_MTU, 1500, -1]);
    const p = ndOptionPrefix(m.options[2]!)!;
    expect(m.options[2]!.type).toBe(ND_OPT_PREFIX_INFO);
    expect([p.prefixLength, p.onLink, p.autonomous, p.validLifetime, p.preferredLifetime, ip6ToString(p.prefix)])
      .toEqual([64, true, true, 86400, 14400, '2001:db8:1::']);
    expect(ndOptionPrefix(m.options[1]!)).toBeUndefined();
  });

  it('parseNd refuses other types and malformed options', () => {
    expect(() => parseNd(new Uint8Array([128, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/not a neighbour discovery message/);
    const bad = new Uint8Array(26);
    bad[0] = ICMPV6_NEIGHBOR_SOLICIT;
    bad[24] = 1;
    expect(() => parseNd(bad)).toThrow(WireError);
    expect(() => parseNd(bad)).toThrow(/ICMPV6_BAD_ND_OPTION/);
  });
});

describe('Icmpv6View on random bytes', () => {
  it('never throws; every accessor stays inside the message', () => {
    let oks = 0;
    fc.assert(fc.property(fc.uint8Array({ minLength: 8, maxLength: 120 }), fc.nat(4), fc.integer({ min: 0, max: 255 }), (b, o, type) => {
      if (b.length > 0) b[0] = type;
      // sometimes make the body look like a quoted IPv6 header
      if (b.length > 8 && (type & 1)) b[8] = 0x60 | (b[8]! & 0x0f);
      const v = new Icmpv6View();
      const off = Math.min(o, b.length);
      if (v.wrap(b, off, b.length - off) !== WIRE_OK) return;
      oks++;
      const a = newIp6();
      v.readTarget(a);
      v.readEmbeddedSrc(a);
      v.readEmbeddedDst(a);
      for (const x of [v.type, v.rest, v.mtu, v.sourceLinkAddr, v.targetLinkAddr, v.ndOptionsOk(), v.embeddedProtocol,
        v.embeddedSport, v.embeddedDport, v.embeddedTransportOffset, v.raReachableTime, v.checksumOk(0) ? 1 : 0,
        v.expectedChecksum(12345), v.embeddedSrcWord(2), v.embeddedDstWord(1)]) {
        expect(Number.isInteger(x)).toBe(true);
      }
      if (v.embeddedComplete) expect(v.embeddedTransportOffset + 8).toBeLessThanOrEqual(off + v.len);
    }), { numRuns: 3000 });
    expect(oks).toBeGreaterThan(1000);
  });
});
