import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMac } from '../../src/wire/addr.js';
import {
  IP6_ALL_NODES, IP6_ALL_ROUTERS, ip6BytesInSubnet, ip6BytesToString, ip6Compare, ip6Copy, ip6Equal, ip6EqualsBytes,
  ip6FromV4Mapped, ip6InSubnet, ip6IsLinkLocal, ip6IsLoopback, ip6IsMulticast, ip6IsSolicitedNode, ip6IsUnspecified,
  ip6IsV4Mapped, ip6LinkLocalFromMac, ip6MulticastMac, ip6Network, ip6PrefixMask, ip6SolicitedNode, ip6ToString,
  isIp6, newIp6, parseCidr6, parseIp6, readIp6, writeIp6,
} from '../../src/wire/addr6.js';

interface TextVectors { ntop: [string, string][]; pton_ok: [string, string][]; pton_bad: string[] }
const vectors = JSON.parse(
  readFileSync(join(import.meta.dirname, '../../fixtures/wire/text/ip6.json'), 'utf8'),
) as TextVectors;

function fromHex(h: string): Uint32Array {
  const a = newIp6();
  for (let i = 0; i < 4; i++) a[i] = parseInt(h.slice(8 * i, 8 * i + 8), 16);
  return a;
}

function toHex(a: Uint32Array, off = 0): string {
  return Array.from(a.subarray(off, off + 4), (w) => w.toString(16).padStart(8, '0')).join('');
}

/** Addresses with many zero groups, where the text forms differ most. */
const addr6Arb = fc.array(
  fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(0xffff) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }) }),
  { minLength: 8, maxLength: 8 },
).map((g) => Uint32Array.of((g[0]! << 16 | g[1]!) >>> 0, (g[2]! << 16 | g[3]!) >>> 0, (g[4]! << 16 | g[5]!) >>> 0,
  (g[6]! << 16 | g[7]!) >>> 0));

describe('IPv6 text forms against glibc (fixtures/wire/text/ip6.json, made by gen.py)', () => {
  it('formats every vector as inet_ntop does', () => {
    expect(vectors.ntop.length).toBeGreaterThan(400);
    for (const [hex, text] of vectors.ntop) expect(ip6ToString(fromHex(hex)), hex).toBe(text);
  });

  it('parses what inet_pton accepts, to the same bytes, and refuses what it refuses', () => {
    for (const [text, hex] of vectors.pton_ok) expect(toHex(parseIp6(text)), text).toBe(hex);
    for (const text of vectors.pton_bad) expect(() => parseIp6(text), JSON.stringify(text)).toThrow(/invalid IPv6 address/);
    expect(vectors.pton_bad.length).toBeGreaterThan(20);
  });
});

describe('IPv6 text forms (RFC 4291 in, RFC 5952 out)', () => {
  it('RFC 5952 rules: lowercase, no leading zeros, longest zero run, first of equal runs, no lone :: group', () => {
    expect(ip6ToString(parseIp6('2001:0DB8:0000:0000:0000:0000:0000:0001'))).toBe('2001:db8::1');
    expect(ip6ToString(parseIp6('2001:db8:0:0:1:0:0:0'))).toBe('2001:db8:0:0:1::');
    expect(ip6ToString(parseIp6('2001:db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1');
    expect(ip6ToString(parseIp6('2001:db8:0:1:1:1:1:1'))).toBe('2001:db8:0:1:1:1:1:1');
    expect(ip6ToString(parseIp6('::'))).toBe('::');
    expect(ip6ToString(parseIp6('0:0:0:0:0:0:0:1'))).toBe('::1');
    expect(ip6ToString(parseIp6('1:0:0:0:0:0:0:0'))).toBe('1::');
  });

  it('embedded IPv4: mapped and compatible forms dotted, other prefixes in hex', () => {
    expect(ip6ToString(parseIp6('0:0:0:0:0:ffff:c000:0201'))).toBe('::ffff:192.0.2.1');
    expect(ip6ToString(parseIp6('::ffff:10.0.0.1'))).toBe('::ffff:10.0.0.1');
    expect(ip6ToString(parseIp6('::10.0.0.1'))).toBe('::10.0.0.1');
    expect(ip6ToString(parseIp6('64:ff9b::192.0.2.33'))).toBe('64:ff9b::c000:221');
    const m = parseIp6('::ffff:10.0.0.1');
    expect([ip6IsV4Mapped(m), m[3]]).toEqual([true, 0x0a000001]);
    const a = newIp6();
    ip6FromV4Mapped(0xc0a80001, a);
    expect(ip6ToString(a)).toBe('::ffff:192.168.0.1');
  });

  it('round-trips any address, and parse accepts the uncompressed and uppercase forms of it', () => {
    fc.assert(fc.property(addr6Arb, (a) => {
      const s = ip6ToString(a);
      expect(s).toBe(s.toLowerCase());
      expect(toHex(parseIp6(s))).toBe(toHex(a));
      const full = Array.from({ length: 8 }, (_, i) => ((a[i >> 1]! >>> (i & 1 ? 0 : 16)) & 0xffff).toString(16)).join(':');
      expect(toHex(parseIp6(full.toUpperCase()))).toBe(toHex(a));
    }));
  });

  it('refuses bad input with a message naming the text and the reason', () => {
    expect(() => parseIp6('2001:db8::1::2')).toThrow("invalid IPv6 address '2001:db8::1::2': '::' may appear only once");
    expect(() => parseIp6('fe80::1%eth0')).toThrow(/'fe80::1%eth0': zone ids/);
    expect(() => parseIp6('1:2:3:4:5:6:7')).toThrow(/7 groups of 16 bits, expected 8/);
    expect(() => parseIp6('::1.2.3.4:5')).toThrow(/may only be the last 32 bits/);
    expect(() => parseIp6('::ffff:1.2.3.256')).toThrow(/'::ffff:1.2.3.256': embedded IPv4 part: .*256 is larger than 255/);
    expect(() => parseIp6('12345::')).toThrow(/'12345' is not a group of 1 to 4 hex digits/);
    expect(() => parseIp6('::ffff: 1.2.3.4')).toThrow(/not a dotted IPv4 address/);
    expect([isIp6('::1'), isIp6('10.0.0.1'), isIp6('')]).toEqual([true, false, false]);
  });

  it('writes into a caller array at an offset, leaving its neighbours', () => {
    const out = new Uint32Array(7).fill(0xdeadbeef);
    expect(parseIp6('2001:db8::7', out, 2)).toBe(out);
    expect(Array.from(out)).toEqual([0xdeadbeef, 0xdeadbeef, 0x20010db8, 0, 0, 7, 0xdeadbeef]);
    expect(ip6ToString(out, 2)).toBe('2001:db8::7');
  });

  it('parses CIDR', () => {
    const c = parseCidr6('2001:db8::/32');
    expect([toHex(c.addr), c.prefix]).toEqual(['20010db8000000000000000000000000', 32]);
    expect(parseCidr6('::1').prefix).toBe(128);
    expect(() => parseCidr6('::/129')).toThrow(/expected \/0..\/128/);
    expect(() => parseCidr6('::/x')).toThrow(/invalid prefix/);
  });
});

describe('IPv6 addresses as words', () => {
  it('reads and writes 16 bytes at any offset, big-endian words', () => {
    const b = new Uint8Array(21).fill(0xee);
    const a = parseIp6('2001:db8:1:2:3:4:5:6');
    writeIp6(b, 3, a);
    expect(Buffer.from(b.subarray(3, 19)).toString('hex')).toBe('20010db8000100020003000400050006');
    expect([b[2], b[19]]).toEqual([0xee, 0xee]);
    const back = new Uint32Array(6);
    readIp6(b, 3, back, 1);
    expect(ip6Equal(back, 1, a, 0)).toBe(true);
    expect(ip6EqualsBytes(b, 3, a)).toBe(true);
    b[18] ^= 1;
    expect(ip6EqualsBytes(b, 3, a)).toBe(false);
    expect(ip6BytesToString(b, 3)).toBe('2001:db8:1:2:3:4:5:7');
  });

  it('copies, compares (unsigned: ffff:: sorts after 7fff::)', () => {
    const a = parseIp6('ffff::');
    const b = parseIp6('7fff::');
    expect([ip6Compare(a, 0, b, 0), ip6Compare(b, 0, a, 0), ip6Compare(a, 0, a, 0)]).toEqual([1, -1, 0]);
    expect(ip6Compare(parseIp6('::1'), 0, parseIp6('::2'), 0)).toBe(-1);
    const c = new Uint32Array(8);
    ip6Copy(a, 0, c, 4);
    expect(ip6Equal(c, 4, a, 0)).toBe(true);
    expect(ip6Equal(c, 0, a, 0)).toBe(false);
  });

  it('prefix masks, networks and subnet membership', () => {
    const m = newIp6();
    const mask = (p: number): string => toHex(ip6PrefixMask(p, m));
    expect(mask(0)).toBe('00000000000000000000000000000000');
    expect(mask(1)).toBe('80000000000000000000000000000000');
    expect(mask(31)).toBe('fffffffe000000000000000000000000');
    expect(mask(32)).toBe('ffffffff000000000000000000000000');
    expect(mask(33)).toBe('ffffffff800000000000000000000000');
    expect(mask(64)).toBe('ffffffffffffffff0000000000000000');
    expect(mask(127)).toBe('fffffffffffffffffffffffffffffffe');
    expect(mask(128)).toBe('ffffffffffffffffffffffffffffffff');
    expect(() => ip6PrefixMask(129, m)).toThrow(/0..128/);
    expect(() => ip6PrefixMask(-1, m)).toThrow();
    const net = parseIp6('2001:db8:1:2::');
    const n = newIp6();
    ip6Network(parseIp6('2001:db8:1:2:ffff::9'), 0, 64, n);
    expect(ip6ToString(n)).toBe('2001:db8:1:2::');
    expect(ip6InSubnet(parseIp6('2001:db8:1:2::77'), 0, net, 0, 64)).toBe(true);
    expect(ip6InSubnet(parseIp6('2001:db8:1:3::77'), 0, net, 0, 64)).toBe(false);
    expect(ip6InSubnet(parseIp6('2001:db8:1:3::77'), 0, net, 0, 47)).toBe(true);
    expect(ip6InSubnet(parseIp6('::'), 0, net, 0, 0)).toBe(true);
    expect(ip6InSubnet(parseIp6('2001:db8:1:2::'), 0, net, 0, 128)).toBe(true);
    expect(ip6InSubnet(parseIp6('2001:db8:1:2::1'), 0, net, 0, 128)).toBe(false);
    // a difference in the top bit of a word: signed arithmetic would miss it
    expect(ip6InSubnet(parseIp6('8000::'), 0, parseIp6('::'), 0, 1)).toBe(false);
    const bytes = new Uint8Array(16);
    writeIp6(bytes, 0, parseIp6('2001:db8:1:2::77'));
    expect([ip6BytesInSubnet(bytes, 0, net, 0, 64), ip6BytesInSubnet(bytes, 0, net, 0, 65)]).toEqual([true, true]);
    expect(ip6BytesInSubnet(bytes, 0, parseIp6('2001:db8:1:3::'), 0, 64)).toBe(false);
  });

  it('agrees with a bit-by-bit model of subnet membership', () => {
    const bit = (a: Uint32Array, i: number): number => (a[i >> 5]! >>> (31 - (i & 31))) & 1;
    fc.assert(fc.property(addr6Arb, addr6Arb, fc.integer({ min: 0, max: 128 }), (a, n, p) => {
      let same = true;
      for (let i = 0; i < p; i++) if (bit(a, i) !== bit(n, i)) same = false;
      expect(ip6InSubnet(a, 0, n, 0, p)).toBe(same);
    }));
  });

  it('classes: unspecified, loopback, link-local, multicast, solicited-node', () => {
    expect([ip6IsUnspecified(parseIp6('::')), ip6IsUnspecified(parseIp6('::1'))]).toEqual([true, false]);
    expect([ip6IsLoopback(parseIp6('::1')), ip6IsLoopback(parseIp6('::2')), ip6IsLoopback(parseIp6('1::1'))])
      .toEqual([true, false, false]);
    // fe80::/10 ends at febf:...; fec0:: (old site-local) is outside
    expect(['fe80::1', 'febf:ffff::', 'fec0::1', 'fe00::1', '2001:db8::'].map((s) => ip6IsLinkLocal(parseIp6(s))))
      .toEqual([true, true, false, false, false]);
    expect(['ff02::1', 'ff05::2', 'fe80::1'].map((s) => ip6IsMulticast(parseIp6(s)))).toEqual([true, true, false]);
    expect(['ff02::1:ff00:1', 'ff02::1:fe00:1', 'ff02::2:ff00:1'].map((s) => ip6IsSolicitedNode(parseIp6(s))))
      .toEqual([true, false, false]);
    expect([ip6ToString(IP6_ALL_NODES), ip6ToString(IP6_ALL_ROUTERS)]).toEqual(['ff02::1', 'ff02::2']);
  });

  it('solicited-node group and its Ethernet address', () => {
    const g = newIp6();
    ip6SolicitedNode(parseIp6('2001:db8::1:2345:6789'), 0, g);
    expect(ip6ToString(g)).toBe('ff02::1:ff45:6789');
    expect(ip6MulticastMac(g)).toBe(parseMac('33:33:ff:45:67:89'));
    expect(ip6MulticastMac(IP6_ALL_NODES)).toBe(parseMac('33:33:00:00:00:01'));
  });

  it('EUI-64 link-local address from a MAC (U/L bit inverted, ff:fe inserted)', () => {
    const a = newIp6();
    ip6LinkLocalFromMac(parseMac('00:25:96:12:34:56'), a);
    expect(ip6ToString(a)).toBe('fe80::225:96ff:fe12:3456');
    ip6LinkLocalFromMac(parseMac('02:00:00:00:00:0a'), a);
    expect(ip6ToString(a)).toBe('fe80::ff:fe00:a');
    ip6LinkLocalFromMac(parseMac('ff:ff:ff:ff:ff:ff'), a);
    expect(ip6ToString(a)).toBe('fe80::fdff:ffff:feff:ffff');
    expect(ip6IsLinkLocal(a)).toBe(true);
  });
});
