import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  inSubnet, ipToString, isMulticastMac, macToBytes, macToNumber, macToString, maskToPrefix, MAC_BROADCAST,
  parseCidr, parseIp, parseMac, prefixToMask, readMac, writeMac,
} from '../../src/wire/addr.js';

describe('IPv4 addresses', () => {
  it('parses and prints dotted quads as uint32', () => {
    expect(parseIp('10.0.0.1')).toBe(0x0a000001);
    expect(parseIp('255.255.255.255')).toBe(0xffffffff);
    expect(parseIp('0.0.0.0')).toBe(0);
    expect(parseIp('192.168.1.200')).toBe(0xc0a801c8);
    expect(ipToString(0xc0a801c8)).toBe('192.168.1.200');
    expect(ipToString(0xffffffff)).toBe('255.255.255.255');
  });

  it('round-trips every uint32', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (a) => parseIp(ipToString(a)) === a));
  });

  it('refuses bad input with a message naming it', () => {
    for (const bad of ['', '10.0.0', '10.0.0.256', '10.0.0.1.2', 'a.b.c.d', '10.0.0.01', '1e1.0.0.1', '10.0.0.-1']) {
      expect(() => parseIp(bad), bad).toThrow(/invalid IPv4 address/);
    }
  });

  it('converts prefixes and masks', () => {
    expect(prefixToMask(0)).toBe(0);
    expect(prefixToMask(8)).toBe(0xff000000);
    expect(prefixToMask(24)).toBe(0xffffff00);
    expect(prefixToMask(32)).toBe(0xffffffff);
    for (let p = 0; p <= 32; p++) expect(maskToPrefix(prefixToMask(p))).toBe(p);
    expect(() => maskToPrefix(parseIp('255.0.255.0'))).toThrow(/not contiguous/);
    expect(() => prefixToMask(33)).toThrow();
  });

  it('tests subnet membership', () => {
    const net = parseIp('10.1.2.0');
    expect(inSubnet(parseIp('10.1.2.77'), net, 24)).toBe(true);
    expect(inSubnet(parseIp('10.1.3.77'), net, 24)).toBe(false);
    expect(inSubnet(parseIp('10.1.3.77'), net, 16)).toBe(true);
    expect(inSubnet(parseIp('200.1.3.77'), net, 0)).toBe(true);
    expect(inSubnet(parseIp('10.1.2.0'), net, 32)).toBe(true);
    expect(inSubnet(parseIp('10.1.2.1'), net, 32)).toBe(false);
    // high addresses: a signed comparison would get these wrong
    expect(inSubnet(parseIp('192.168.0.9'), parseIp('192.168.0.0'), 24)).toBe(true);
  });

  it('parses CIDR', () => {
    expect(parseCidr('10.0.0.0/8')).toEqual({ addr: 0x0a000000, prefix: 8 });
    expect(parseCidr('10.0.0.5')).toEqual({ addr: 0x0a000005, prefix: 32 });
    expect(() => parseCidr('10.0.0.0/33')).toThrow();
  });
});

describe('MAC addresses', () => {
  it('parses, prints and converts', () => {
    const m = parseMac('02:00:5e:10:ab:FF');
    expect(m).toBe(0x02005e10abff);
    expect(macToString(m)).toBe('02:00:5e:10:ab:ff');
    expect(parseMac('02-00-5e-10-ab-ff')).toBe(m);
    expect(Array.from(macToBytes(m))).toEqual([0x02, 0x00, 0x5e, 0x10, 0xab, 0xff]);
    expect(macToNumber(Uint8Array.of(9, 0x02, 0x00, 0x5e, 0x10, 0xab, 0xff), 1)).toBe(m);
    expect(macToString(MAC_BROADCAST)).toBe('ff:ff:ff:ff:ff:ff');
    expect(isMulticastMac(MAC_BROADCAST)).toBe(true);
    expect(isMulticastMac(parseMac('01:00:5e:00:00:01'))).toBe(true);
    expect(isMulticastMac(m)).toBe(false);
    expect(() => parseMac('02:00:5e:10:ab')).toThrow(/invalid MAC/);
    expect(() => parseMac('02:00:5e:10:ab:fg')).toThrow(/invalid MAC/);
  });

  it('writes and reads every 48-bit value at any offset', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.integer({ min: 0, max: 10 }), (mac, off) => {
      const b = new Uint8Array(17).fill(0xee);
      writeMac(b, off, mac);
      expect(readMac(b, off)).toBe(mac);
      expect(parseMac(macToString(mac))).toBe(mac);
      // neighbours untouched
      if (off > 0) expect(b[off - 1]).toBe(0xee);
      expect(b[off + 6]).toBe(0xee);
    }));
  });
});
