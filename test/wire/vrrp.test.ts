// VRRP adverts laid out by hand from RFC 3768 section 5.1 (v2) and RFC 5798
// section 5.1 (v3), checksums worked out by hand and by a summing function
// written here (not checksum.ts), against what vrrp.ts emits and reads.

import { describe, expect, it } from 'vitest';
import { parseIp } from '../../src/wire/addr.js';
import { pseudoAddrSum6Words } from '../../src/wire/checksum6.js';
import { eth, packet } from '../../src/wire/builder.js';
import {
  VRRP_ADDR_MISMATCH, VRRP_AUTH_AH, VRRP_AUTH_PASSWORD, VRRP_BAD_AUTH_TYPE, VRRP_BAD_CHECKSUM, VRRP_BAD_DEST,
  VRRP_BAD_INTERVAL, VRRP_BAD_LENGTH, VRRP_BAD_PROTOCOL, VRRP_BAD_TTL, VRRP_BAD_TYPE, VRRP_BAD_VERSION, VRRP_TRUNCATED,
  WIRE_OK, WireError, wireErrorName,
} from '../../src/wire/errors.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { formatFrame, formatVrrp, formatVrrp6 } from '../../src/wire/printer.js';
import {
  emitVrrp, parseVrrp, VRRP_GROUP_V4, VRRP_GROUP_V6, vrrpCheckAdvert, vrrpCheckIpv4, vrrpCheckIpv6, vrrpMasterDownCs,
  vrrpMessageLength, vrrpReceiveIpv4, vrrpSameAddrs4, vrrpSameAddrs6, vrrpSkewTimeCs, VrrpView, vrrpVirtualMac,
} from '../../src/wire/vrrp.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

/** RFC 1071 by hand: add 16-bit words, fold the carries, complement. Independent of src/wire/checksum.ts. */
function onesComplement(...parts: Uint8Array[]): number {
  let sum = 0;
  for (const p of parts) for (let i = 0; i < p.length; i += 2) sum += (p[i]! << 8) + (p[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

const SRC4 = parseIp('10.0.0.2');
const VIP = parseIp('10.0.0.100');

// ---- VRRPv3 over IPv4: vrid 51, priority 100, 100 cs, one address 10.0.0.100, from 10.0.0.2 to 224.0.0.18
const V3_IPV4 = bytes(`
  31        00 1B version 3 | type 1 (advertisement)
  33        01 1B virtual router id 51
  64        02 1B priority 100
  01        03 1B count of IPv4 addresses: 1
  00 64     04 2B 4 reserved bits 0 | max advert interval 100 centiseconds
  75 72     06 2B checksum
  0a 00 00 64  08 4B IPv4 address 10.0.0.100
`.replace(/\s[0-9a-f]{2} \d+B [^\n]*/g, ''));
// by hand: pseudo-header 0a00+0002 (src) + e000+0012 (dst) + 0070 (zero, protocol 112) + 000c (length 12) = ea90;
// message 3133+6401+0064+0000+0a00+0064 = 9ffc; ea90+9ffc = 18a8c -> 8a8c+1 = 8a8d; ~8a8d = 7572

// ---- VRRPv2: vrid 51, priority 100, auth none, 1 s, one address 10.0.0.100
const V2 = bytes(`
  21        00 1B version 2 | type 1
  33        01 1B virtual router id 51
  64        02 1B priority 100
  01        03 1B count of IP addresses
  00        04 1B auth type 0 (none)
  01        05 1B advertisement interval 1 second
  70 66     06 2B checksum (no pseudo-header in v2)
  0a 00 00 64  08 4B IP address 10.0.0.100
  00 00 00 00  12 4B authentication data (1)
  00 00 00 00  16 4B authentication data (2)
`.replace(/\s[0-9a-f]{2} \d+B [^\n]*/g, ''));
// by hand: 2133+6401+0001+0a00+0064 (+ zeros) = 8f99; ~8f99 = 7066

// ---- VRRPv3 over IPv6: vrid 1, priority 200, 100 cs, fe80::100 and 2001:db8::100, fe80::1 -> ff02::12
const SRC6 = Uint32Array.of(0xfe800000, 0, 0, 1);
const ADDRS6 = Uint32Array.of(0xfe800000, 0, 0, 0x100, 0x20010db8, 0, 0, 0x100);
const V3_IPV6 = bytes(`
  31        00 1B version 3 | type 1
  01        01 1B virtual router id 1
  c8        02 1B priority 200
  02        03 1B count of IPv6 addresses: 2
  00 64     04 2B reserved 0 | max advert interval 100 cs
  da 2e     06 2B checksum
  fe 80 00 00 00 00 00 00 00 00 00 00 00 00 01 00  08 16B fe80::100
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 01 00  24 16B 2001:db8::100
`.replace(/\s[0-9a-f]{2} \d+B [^\n]*/g, ''));
// by hand: pseudo fe80+0001 + ff02+0012 + 0028 (32-bit length 40) + 0070 (next header) = 1fe2d;
// message 3101+c802+0064+fe80+0100+2001+0db8+0100 = 227a0; sum 425cd -> 25d1; ~25d1 = da2e

const PSEUDO4 = (len: number): Uint8Array => bytes(`0a000002 e0000012 0070 ${len.toString(16).padStart(4, '0')}`);
const PSEUDO6 = (len: number): Uint8Array => bytes(
  `fe800000000000000000000000000001 ff020000000000000000000000000012 ${len.toString(16).padStart(8, '0')} 00000070`,
);

describe('VRRP advert bytes, laid out by hand', () => {
  it('the hand checksums are what RFC 1071 gives (checked without checksum.ts)', () => {
    const z = (b: Uint8Array): Uint8Array => { const c = b.slice(); c[6] = 0; c[7] = 0; return c; };
    expect(onesComplement(PSEUDO4(12), z(V3_IPV4))).toBe(0x7572);
    expect(onesComplement(z(V2))).toBe(0x7066);
    expect(onesComplement(PSEUDO6(40), z(V3_IPV6))).toBe(0xda2e);
    // and a correct message sums to zero with its checksum in place
    expect(onesComplement(PSEUDO4(12), V3_IPV4)).toBe(0);
    expect(onesComplement(V2)).toBe(0);
  });

  it('v3 over IPv4: emit gives the bytes; the view and parse read every field back', () => {
    const out = new Uint8Array(12);
    expect(emitVrrp({ version: 3, vrid: 51, priority: 100, maxAdvertIntCs: 100, addrs: [VIP] }, out, 0, SRC4, VRRP_GROUP_V4)).toBe(12);
    expect(hex(out)).toBe(hex(V3_IPV4));
    const v = new VrrpView();
    expect(v.wrap(V3_IPV4, 0, 12)).toBe(WIRE_OK);
    expect([v.version, v.type, v.vrid, v.priority, v.count, v.reserved, v.maxAdvertIntCs, v.intervalCs, v.checksum])
      .toEqual([3, 1, 51, 100, 1, 0, 100, 100, 0x7572]);
    expect([v.addr4(0), v.messageLength, v.trailing, v.checksumOk(SRC4, VRRP_GROUP_V4)]).toEqual([VIP, 12, 0, true]);
    // the pseudo-header matters: another source gives another checksum
    expect(v.checksumOk(SRC4 + 1, VRRP_GROUP_V4)).toBe(false);
    expect(parseVrrp(V3_IPV4)).toEqual({
      version: 3, type: 1, vrid: 51, priority: 100, checksum: 0x7572, count: 1, maxAdvertIntCs: 100, reserved: 0, addrs: [VIP],
    });
  });

  it('v2: emit gives the bytes, auth data zero; checksum ignores the IP addresses', () => {
    const out = new Uint8Array(20).fill(0xee);
    expect(emitVrrp({ version: 2, vrid: 51, priority: 100, advertIntSec: 1, addrs: [VIP] }, out, 0)).toBe(20);
    expect(hex(out)).toBe(hex(V2));
    const v = new VrrpView();
    expect(v.wrap(V2, 0, 20)).toBe(WIRE_OK);
    expect([v.version, v.authType, v.advertIntSec, v.intervalCs, v.authDataOffset, v.messageLength]).toEqual([2, 0, 1, 100, 12, 20]);
    expect(v.checksumOk()).toBe(true);
    expect(v.checksumOk(1, 2)).toBe(true);
    const p = parseVrrp(V2);
    expect(p.authData).toEqual(new Uint8Array(8));
    expect([p.advertIntSec, p.authType, p.addrs]).toEqual([1, 0, [VIP]]);
  });

  it('v3 over IPv6: emit gives the bytes; addresses and checksum read back as words', () => {
    const out = new Uint8Array(40);
    expect(emitVrrp({ version: 3, vrid: 1, priority: 200, addrs6: ADDRS6 }, out, 0, SRC6, VRRP_GROUP_V6)).toBe(40);
    expect(hex(out)).toBe(hex(V3_IPV6));
    const v = new VrrpView();
    expect(v.wrap(V3_IPV6, 0, 40, 6)).toBe(WIRE_OK);
    const a = new Uint32Array(4);
    v.addr6(1, a);
    expect(Array.from(a)).toEqual([0x20010db8, 0, 0, 0x100]);
    expect([v.count, v.messageLength, v.checksumOk6(SRC6, 0, VRRP_GROUP_V6, 0)]).toEqual([2, 40, true]);
    expect(v.checksumOk6(Uint32Array.of(0xfe800000, 0, 0, 2), 0, VRRP_GROUP_V6, 0)).toBe(false);
    expect(vrrpSameAddrs6(v, Uint32Array.of(0x20010db8, 0, 0, 0x100, 0xfe800000, 0, 0, 0x100))).toBe(WIRE_OK);
    expect(vrrpSameAddrs6(v, ADDRS6.subarray(0, 4))).toBe(VRRP_ADDR_MISMATCH);
    expect(Array.from(parseVrrp(V3_IPV6, 0, 40, 6).addrs6!)).toEqual(Array.from(ADDRS6));
    // read as IPv4 the same 40 bytes mean 2 IPv4 addresses and 24 trailing bytes
    expect(v.wrap(V3_IPV6, 0, 40, 4)).toBe(WIRE_OK);
    expect([v.messageLength, v.trailing, vrrpCheckAdvert(v)]).toEqual([16, 24, VRRP_BAD_LENGTH]);
  });

  it('fillChecksum after a priority change (what a master does when it stops: priority 0)', () => {
    const b = V3_IPV4.slice();
    const v = new VrrpView();
    v.wrap(b, 0, b.length);
    v.priority = 0;
    expect(v.checksumOk(SRC4, VRRP_GROUP_V4)).toBe(false);
    v.fillChecksum(SRC4, VRRP_GROUP_V4);
    const z = b.slice(); z[6] = 0; z[7] = 0;
    expect(v.checksum).toBe(onesComplement(PSEUDO4(12), z));
  });

  it('emit refuses what it must not send', () => {
    const out = new Uint8Array(64);
    expect(() => emitVrrp({ version: 2, vrid: 1, priority: 1, addrs6: ADDRS6 }, out, 0)).toThrow(/IPv4 only/);
    expect(() => emitVrrp({ version: 2, vrid: 1, priority: 1, authType: 1, addrs: [VIP] }, out, 0)).toThrow(/auth type 1/);
    expect(() => emitVrrp({ version: 3, vrid: 1, priority: 1, maxAdvertIntCs: 4096, addrs: [VIP] }, out, 0, 1, 2)).toThrow(/0\.\.4095/);
    expect(() => emitVrrp({ version: 3, vrid: 1, priority: 1, addrs6: ADDRS6 }, out, 0, 1, 2)).toThrow(/IPv6 source/);
  });
});

describe('VRRP view limits', () => {
  it('every cut of every advert is VRRP_TRUNCATED, never a throw', () => {
    const v = new VrrpView();
    for (const [b, fam] of [[V3_IPV4, 4], [V2, 4], [V3_IPV6, 6]] as const) {
      for (let n = 0; n < b.length; n++) expect(v.wrap(b, 0, n, fam), `${hex(b)} cut to ${n}`).toBe(VRRP_TRUNCATED);
      expect(v.wrap(b, 0, b.length, fam)).toBe(WIRE_OK);
      expect(v.wrap(b, 1, b.length, fam)).toBe(VRRP_TRUNCATED); // past the buffer's end
    }
    expect(() => parseVrrp(V2, 0, 19)).toThrow(WireError);
  });

  it('versions other than 2 and 3, and v2 over IPv6, are VRRP_BAD_VERSION', () => {
    const v = new VrrpView();
    for (const ver of [0, 1, 4, 15]) {
      const b = V3_IPV4.slice();
      b[0] = (ver << 4) | 1;
      expect(v.wrap(b, 0, b.length)).toBe(VRRP_BAD_VERSION);
    }
    const b = new Uint8Array(40);
    b.set(V2);
    expect(v.wrap(b, 0, 40, 6)).toBe(VRRP_BAD_VERSION);
  });
});

describe('receive rules (RFC 5798 7.1, RFC 3768 7.1, keepalived 2.2.7)', () => {
  const frame = (o: { ttl?: number; dst?: string; version?: 2 | 3; authType?: number; type?: number; interval?: number; checksum?: number } = {}): Ipv4View => {
    const f = packet().ipv4({ src: '10.0.0.2', dst: o.dst ?? '224.0.0.18', ttl: o.ttl ?? 255 })
      .vrrp({
        version: o.version ?? 3, vrid: 51, priority: 100, addrs: ['10.0.0.100'],
        ...(o.authType !== undefined ? { authType: o.authType } : {}),
        ...(o.type !== undefined ? { type: o.type } : {}),
        ...(o.interval !== undefined ? { interval: o.interval } : {}),
        ...(o.checksum !== undefined ? { checksum: o.checksum } : {}),
      }).build();
    const ip = new Ipv4View();
    expect(ip.wrap(f, 0, f.length)).toBe(WIRE_OK);
    return ip;
  };

  it('a good advert passes, either version', () => {
    const v = new VrrpView();
    expect(vrrpReceiveIpv4(frame(), v)).toBe(WIRE_OK);
    expect(v.vrid).toBe(51);
    expect(vrrpReceiveIpv4(frame({ version: 2 }), v, { version: 2 })).toBe(WIRE_OK);
  });

  it('each broken rule gives its own reason', () => {
    const v = new VrrpView();
    const cases: [Ipv4View, number, number?][] = [
      [frame({ ttl: 254 }), VRRP_BAD_TTL],
      [frame({ dst: '224.0.0.19' }), VRRP_BAD_DEST],
      [frame({ dst: '10.0.0.3' }), VRRP_BAD_DEST],
      [frame({ version: 2 }), VRRP_BAD_VERSION, 3],
      [frame(), VRRP_BAD_VERSION, 2],
      [frame({ version: 2, authType: 1 }), VRRP_AUTH_PASSWORD],
      [frame({ version: 2, authType: 2 }), VRRP_AUTH_AH],
      [frame({ version: 2, authType: 3 }), VRRP_BAD_AUTH_TYPE],
      [frame({ type: 2 }), VRRP_BAD_TYPE],
      [frame({ checksum: 0x1234 }), VRRP_BAD_CHECKSUM],
      [frame({ interval: 0 }), VRRP_BAD_INTERVAL],
    ];
    for (const [ip, want, version] of cases) {
      expect(wireErrorName(vrrpReceiveIpv4(ip, v, version ? { version } : {}))).toBe(wireErrorName(want));
    }
  });

  it('unicast peers: any TTL, but not a multicast destination', () => {
    const v = new VrrpView();
    expect(vrrpReceiveIpv4(frame({ ttl: 60, dst: '10.0.0.3' }), v, { unicast: true })).toBe(WIRE_OK);
    expect(vrrpReceiveIpv4(frame(), v, { unicast: true })).toBe(VRRP_BAD_DEST);
  });

  it('trailing bytes after the message are refused (keepalived checks the exact length)', () => {
    const f = packet().ipv4({ src: '10.0.0.2', dst: '224.0.0.18', ttl: 255, protocol: 112 })
      .payload([...V3_IPV4, 0, 0, 0, 0]).build();
    const ip = new Ipv4View();
    ip.wrap(f, 0, f.length);
    expect(vrrpReceiveIpv4(ip, new VrrpView())).toBe(VRRP_BAD_LENGTH);
  });

  it('IP protocol 51 carrying VRRP is the v2 AH peer; any other protocol is not VRRP', () => {
    const ah = new Uint8Array(24 + 20);
    ah[0] = 112; // AH next header: VRRP
    ah[1] = 4; // payload length in words - 2
    ah.set(V2, 24);
    const f = packet().ipv4({ src: '10.0.0.2', dst: '224.0.0.18', ttl: 255, protocol: 51 }).payload(ah).build();
    const ip = new Ipv4View();
    ip.wrap(f, 0, f.length);
    expect(vrrpReceiveIpv4(ip, new VrrpView())).toBe(VRRP_AUTH_AH);
    f[20] = 6;
    expect(vrrpReceiveIpv4(ip, new VrrpView())).toBe(VRRP_BAD_PROTOCOL);
    const udp = packet().ipv4({ src: '10.0.0.2', dst: '224.0.0.18', ttl: 255 }).udp({ sport: 1, dport: 2 }).build();
    ip.wrap(udp, 0, udp.length);
    expect(vrrpReceiveIpv4(ip, new VrrpView())).toBe(VRRP_BAD_PROTOCOL);
  });

  it('the IP-layer helpers alone', () => {
    expect(vrrpCheckIpv4(255, 112, VRRP_GROUP_V4)).toBe(WIRE_OK);
    expect(vrrpCheckIpv4(255, 17, VRRP_GROUP_V4)).toBe(VRRP_BAD_PROTOCOL);
    expect(vrrpCheckIpv4(1, 112, VRRP_GROUP_V4)).toBe(VRRP_BAD_TTL);
    expect(vrrpCheckIpv6(255, 112, VRRP_GROUP_V6)).toBe(WIRE_OK);
    expect(vrrpCheckIpv6(64, 112, VRRP_GROUP_V6)).toBe(VRRP_BAD_TTL);
    expect(vrrpCheckIpv6(255, 112, Uint32Array.of(0xff020000, 0, 0, 1))).toBe(VRRP_BAD_DEST);
    expect(vrrpCheckIpv6(255, 112, SRC6, 0, true)).toBe(WIRE_OK);
    expect(vrrpCheckIpv6(1, 58, VRRP_GROUP_V6)).toBe(VRRP_BAD_PROTOCOL);
  });

  it('address list: same set in any order, same count', () => {
    const b = packet().ipv4({ src: '10.0.0.2', dst: '224.0.0.18' }).vrrp({ vrid: 1, addrs: ['10.0.0.100', '10.0.0.101'] }).build();
    const v = new VrrpView();
    expect(v.wrap(b, 20, b.length - 20)).toBe(WIRE_OK);
    expect(vrrpSameAddrs4(v, [parseIp('10.0.0.101'), parseIp('10.0.0.100')])).toBe(WIRE_OK);
    expect(vrrpSameAddrs4(v, [parseIp('10.0.0.100')])).toBe(VRRP_ADDR_MISMATCH);
    expect(vrrpSameAddrs4(v, [parseIp('10.0.0.100'), parseIp('10.0.0.102')])).toBe(VRRP_ADDR_MISMATCH);
  });
});

describe('VRRP helpers, builder and printer', () => {
  it('lengths, virtual MACs and RFC 5798 timers', () => {
    expect([vrrpMessageLength(3, 4, 1), vrrpMessageLength(2, 4, 1), vrrpMessageLength(3, 6, 2)]).toEqual([12, 20, 40]);
    expect(vrrpVirtualMac(51)).toBe(0x00005e000133);
    expect(vrrpVirtualMac(1, 6)).toBe(0x00005e000201);
    // priority 100, 1 s: skew (156 * 100) / 256 = 60 cs, master down 360 cs
    expect([vrrpSkewTimeCs(100, 100), vrrpMasterDownCs(100, 100)]).toEqual([60, 360]);
  });

  it('the builder sets protocol 112 and TTL 255 and fills the v3 checksum from the IPv4 layer', () => {
    const f = eth({ src: '00:00:5e:00:01:33', dst: '01:00:5e:00:00:12' })
      .ipv4({ src: '10.0.0.2', dst: '224.0.0.18' }).vrrp({ vrid: 51, priority: 100, addrs: ['10.0.0.100'] }).build();
    expect(f[14 + 8]).toBe(255);
    expect(f[14 + 9]).toBe(112);
    expect(hex(f.subarray(34))).toBe(hex(V3_IPV4));
    expect(formatFrame(f)).toEqual([
      'eth 00:00:5e:00:01:33 > 01:00:5e:00:00:12 IPv4 len 46',
      'ip 10.0.0.2 > 224.0.0.18 ttl 255 id 0 VRRP len 32 cksum ok',
      'VRRPv3, Advertisement, vrid 51, prio 100, intvl 100cs, addrs: 10.0.0.100, cksum ok',
    ]);
  });

  it('over IPv6 the builder sets next header 112 and hop limit 255; the printer checks the v3 checksum', () => {
    const f = eth({ src: '00:00:5e:00:02:01', dst: '33:33:00:00:00:12' })
      .ipv6({ src: 'fe80::1', dst: 'ff02::12' }).vrrp({ vrid: 1, priority: 200, addrs6: ['fe80::100', '2001:db8::100'] }).build();
    expect([f[14 + 6], f[14 + 7]]).toEqual([112, 255]);
    expect(hex(f.subarray(54))).toBe(hex(V3_IPV6));
    expect(formatFrame(f).slice(2)).toEqual([
      'VRRPv3, Advertisement, vrid 1, prio 200, intvl 100cs, addrs: fe80::100, 2001:db8::100, cksum ok',
    ]);
    const bad = f.slice();
    bad[54 + 2] = 201; // priority changed, checksum not
    expect(formatFrame(bad).at(-1)).toMatch(/cksum BAD \(expected 0x[0-9a-f]{4}\)$/);
  });

  it('printer lines for v2, a refused v2 peer, IPv6 and a cut message', () => {
    expect(formatVrrp(V2, 0, V2.length, 0, 0))
      .toBe('VRRPv2, Advertisement, vrid 51, prio 100, authtype none, intvl 1s, addrs: 10.0.0.100, cksum ok');
    const pw = packet().ipv4({ src: '10.0.0.2', dst: '224.0.0.18' })
      .vrrp({ version: 2, vrid: 9, priority: 150, interval: 3, addrs: ['10.0.0.9'], authType: 1, authData: 'secret12' }).build();
    expect(formatVrrp(pw, 20, pw.length - 20, 0, 0))
      .toBe('VRRPv2, Advertisement, vrid 9, prio 150, authtype simple, intvl 3s, addrs: 10.0.0.9, cksum ok [VRRP_AUTH_PASSWORD]');
    expect(new TextDecoder().decode(parseVrrp(pw, 20).authData)).toBe('secret12');
    expect(formatVrrp6(V3_IPV6, 0, V3_IPV6.length, pseudoAddrSum6Words(SRC6, 0, VRRP_GROUP_V6, 0)))
      .toBe('VRRPv3, Advertisement, vrid 1, prio 200, intvl 100cs, addrs: fe80::100, 2001:db8::100, cksum ok');
    expect(formatVrrp(V3_IPV4, 0, 11, SRC4, VRRP_GROUP_V4)).toBe('vrrp VRRP_TRUNCATED (11 bytes)');
    expect(formatVrrp(V3_IPV4, 0, 12, SRC4, 1)).toBe(
      'VRRPv3, Advertisement, vrid 51, prio 100, intvl 100cs, addrs: 10.0.0.100, cksum BAD (expected 0x5584)',
    );
  });
});
