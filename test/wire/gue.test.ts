import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIp } from '../../src/wire/addr.js';
import { packet } from '../../src/wire/builder.js';
import { checksum } from '../../src/wire/checksum.js';
import {
  GUE_BAD_CSUM_OFFSET, GUE_BAD_FLAGS, GUE_BAD_HLEN, GUE_BAD_VERSION, GUE_NO_HEADROOM, GUE_TRUNCATED,
  IP_BAD_TOTAL_LENGTH, TUN_BAD_INNER, WIRE_OK, WireError,
} from '../../src/wire/errors.js';
import {
  emitGue, encapGue, GUE_FLAG_PRIV, GUE_PFLAG_REMCSUM, GUE_PORT_MAX, GUE_PORT_MIN, GUE_PROTO_IPIP, GUE_PROTO_IPV6,
  gueEncapLength, gueFlowHash, gueHeaderLength, gueOf, gueSourcePort, type GueTunnel, GueView, parseGue,
} from '../../src/wire/gue.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { formatIpv4, GUE_PRINT_PORTS } from '../../src/wire/printer.js';
import { TcpView } from '../../src/wire/tcp.js';
import { UdpView } from '../../src/wire/udp.js';

const fromHex = (h: string): Uint8Array => Uint8Array.from(h.replace(/\s+/g, '').match(/../g) ?? [], (x) => parseInt(x, 16));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const DIP = parseIp('192.168.1.1');
const RIP = parseIp('192.168.1.11');
const PORT = 6080;

function view(b: Uint8Array, off = 0, len = b.length - off): GueView {
  const g = new GueView();
  expect(g.wrap(b, off, len)).toBe(WIRE_OK);
  return g;
}

describe('GUE header, byte by byte', () => {
  it('version 0, no fields: ver|C|hlen = 0x00, proto 4, flags 0', () => {
    const g = view(fromHex('00 04 0000  45000014'));
    expect([g.version, g.control, g.hlen, g.headerLength, g.protocol, g.flags, g.hasPriv, g.privFlags, g.hasRemcsum])
      .toEqual([0, false, 0, 4, GUE_PROTO_IPIP, 0, false, 0, false]);
    expect([g.payloadOffset, g.payloadLength, g.remcsumStart, g.remcsumOffset]).toEqual([4, 4, 0, 0]);
  });

  it('remote checksum offload as the kernel lays it out: hlen 2, P (bit 0 of flags), private REMCSUM (bit 31), start, offset', () => {
    const b = fromHex([
      '02 29 0001', // 0..3   version 0, C 0, hlen 2; proto 41; flags P
      '80000000', //   4..7   private flags: REMCSUM
      '0028 0038', //  8..11  checksum start 40, checksum field at 56 (from the inner packet)
    ].join(''));
    const g = view(b);
    expect([g.hlen, g.headerLength, g.protocol, g.flags, g.privFlags, g.hasRemcsum, g.remcsumStart, g.remcsumOffset])
      .toEqual([2, 12, GUE_PROTO_IPV6, GUE_FLAG_PRIV, GUE_PFLAG_REMCSUM, true, 40, 56]);
  });

  it('a control message (C set): proto/ctype is the control type', () => {
    const g = view(fromHex('20 07 0000'));
    expect([g.control, g.protocol, g.payloadLength]).toEqual([true, 7, 0]);
  });

  it('version 1: no header, the payload is the IPv4 or IPv6 packet (its protocol from the IP version)', () => {
    const v4 = view(fromHex('45000014 00000000 40000000 01020304 05060708'));
    expect([v4.version, v4.headerLength, v4.protocol, v4.hlen, v4.flags, v4.payloadOffset]).toEqual([1, 0, 4, 0, 0, 0]);
    const v6 = view(fromHex('60000000 0000 3b 40'));
    expect([v6.version, v6.protocol, v6.control]).toEqual([1, GUE_PROTO_IPV6, false]);
  });
});

describe('refusals: named codes, never a throw', () => {
  it('every cut of a 12-byte header is GUE_TRUNCATED', () => {
    const b = fromHex('02 04 0001 80000000 0014 0024');
    const g = new GueView();
    for (let n = 0; n < 12; n++) expect(g.wrap(b, 0, n), `len ${n}`).toBe(GUE_TRUNCATED);
    expect(g.wrap(b, 0, 12)).toBe(WIRE_OK);
    expect(g.wrap(b, 1, 12)).toBe(GUE_TRUNCATED);
  });

  it('versions 2 and 3, and version 1 not followed by IPv4 / IPv6', () => {
    const g = new GueView();
    expect(g.wrap(fromHex('80 04 0000'), 0, 4)).toBe(GUE_BAD_VERSION);
    expect(g.wrap(fromHex('c0 04 0000'), 0, 4)).toBe(GUE_BAD_VERSION);
    expect(g.wrap(fromHex('50 00 0000'), 0, 4)).toBe(GUE_BAD_VERSION);
  });

  it('flags the kernel does not know are refused (validate_gue_flags); so are fields hlen does not hold', () => {
    const g = new GueView();
    expect(g.wrap(fromHex('00 04 0002'), 0, 4)).toBe(GUE_BAD_FLAGS);
    expect(g.wrap(fromHex('00 04 8000'), 0, 4)).toBe(GUE_BAD_FLAGS);
    expect(g.wrap(fromHex('00 04 0001'), 0, 4)).toBe(GUE_BAD_HLEN); // P without room for private flags
    expect(g.wrap(fromHex('01 04 0001 40000000'), 0, 8)).toBe(GUE_BAD_FLAGS); // unknown private flag
    expect(g.wrap(fromHex('01 04 0001 80000000'), 0, 8)).toBe(GUE_BAD_HLEN); // REMCSUM without its 4 bytes
    expect(g.wrap(fromHex('01 04 0001 00000000'), 0, 8)).toBe(WIRE_OK); // P, no private flag set
    // hlen may count fields the flags do not name: the kernel skips them
    expect(g.wrap(fromHex('03 04 0000 00000000 00000000 00000000'), 0, 16)).toBe(WIRE_OK);
  });

  it('parseGue throws the code; random bytes never throw', () => {
    expect(() => parseGue(fromHex('0004'))).toThrow(WireError);
    try { parseGue(fromHex('c0040000')); } catch (e) { expect((e as WireError).code).toBe(GUE_BAD_VERSION); }
    let x = 3;
    const g = new GueView();
    for (let k = 0; k < 3000; k++) {
      const n = k % 20;
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; b[i] = x >>> 24; }
      expect(() => {
        if (g.wrap(b, 0, n) === WIRE_OK) {
          expect(g.headerLength).toBeLessThanOrEqual(n);
          void [g.protocol, g.privFlags, g.remcsumStart, g.remcsumOffset, g.payloadLength];
        }
      }).not.toThrow();
    }
  });
});

describe('plain form', () => {
  it('round-trips plain, control and remote-checksum headers', () => {
    for (const h of [{ protocol: 4 }, { protocol: 41 }, { protocol: 9, control: true }, { protocol: 4, remcsum: { start: 20, offset: 36 } }]) {
      const n = gueHeaderLength(h);
      const b = new Uint8Array(n + 2);
      expect(emitGue(h, b, 1)).toBe(n);
      const back = parseGue(b, 1, n);
      expect(back).toEqual({ version: 0, hlen: (n - 4) >>> 2, ...h });
    }
    const b = new Uint8Array(12);
    emitGue({ protocol: 4, remcsum: { start: 20, offset: 36 } }, b, 0);
    expect(hex(b)).toBe('020400018000000000140024');
  });
});

describe('the outer UDP source port', () => {
  it('follows the kernel formula: min + ((h ^ h << 16) * (max - min)) >> 32, over 32768..60999 by default', () => {
    // worked by hand: h = 0 -> 32768; h = 0x80000000 -> h ^ h << 16 = 0x80000000 -> 32768 + 28231 / 2 = 46883
    expect(gueSourcePort(0)).toBe(32768);
    expect(gueSourcePort(0x80000000)).toBe(46883);
    // h = 0xffffffff -> h ^ (h << 16) = 0x0000ffff: tiny -> the bottom of the range
    expect(gueSourcePort(0xffffffff)).toBe(32768);
    // h = 0x0000ffff -> 0xffffffff: the top of the range, max itself never reached
    expect(gueSourcePort(0x0000ffff)).toBe(60998);
    expect(gueSourcePort(0x80000000, 1000, 2000)).toBe(1500);
    expect([GUE_PORT_MIN, GUE_PORT_MAX]).toEqual([32768, 60999]);
  });

  const flow = (src: string, dst: string, sport: number, dport: number, frag = false): Uint8Array => packet()
    .ipv4({ src, dst, ...(frag ? { flags: 'MF' } : {}) }).tcp({ sport, dport, flags: 'S' }).build();
  const hashOf = (b: Uint8Array, seed = 0): number => gueFlowHash(b, 0, b.length, seed);

  it('comes from a hash of the inner flow: the same flow and its reply give the same hash, others differ', () => {
    const a = hashOf(flow('10.0.0.1', '10.0.0.100', 40000, 80));
    expect(a).toBe(hashOf(flow('10.0.0.1', '10.0.0.100', 40000, 80)));
    expect(a).toBe(hashOf(flow('10.0.0.100', '10.0.0.1', 80, 40000)));
    const others = new Set<number>();
    for (let p = 40001; p < 40201; p++) others.add(gueSourcePort(hashOf(flow('10.0.0.1', '10.0.0.100', p, 80))));
    expect(others.size).toBeGreaterThan(190); // spread over the range
    for (const port of others) expect(port >= 32768 && port < 60999).toBe(true);
    expect(hashOf(flow('10.0.0.2', '10.0.0.100', 40000, 80))).not.toBe(a);
    expect(hashOf(flow('10.0.0.1', '10.0.0.100', 40000, 80), 1)).not.toBe(a); // another seed
  });

  it('ignores the ports of fragments (they are not in every fragment), and of IPv6 too, and is never 0', () => {
    expect(hashOf(flow('10.0.0.1', '10.0.0.100', 1, 2, true))).toBe(hashOf(flow('10.0.0.1', '10.0.0.100', 3, 4, true)));
    const v6 = (sport: number): Uint8Array => packet().ipv6({ src: '2001:db8::1', dst: '2001:db8::2' }).udp({ sport, dport: 53 }).build();
    expect(hashOf(v6(1000))).not.toBe(hashOf(v6(1001)));
    expect(hashOf(v6(1000))).not.toBe(0);
    expect(gueFlowHash(new Uint8Array(40), 0, 40)).toBe(0); // not an IP packet
  });
});

describe('encapGue: what kernel IPVS sends for --tun-type gue', () => {
  const inner = (): Uint8Array => packet()
    .ipv4({ src: '10.0.0.1', dst: '10.0.0.100', id: 5, ttl: 61, tos: 0x10, flags: 'DF' })
    .tcp({ sport: 40000, dport: 80, flags: 'PA', seq: 9, payload: 'hello' })
    .build();
  const tun = (o: Partial<GueTunnel> = {}): GueTunnel => ({ src: DIP, dst: RIP, dport: PORT, csum: false, remcsum: false, ...o });

  function encap(t: GueTunnel, i: Uint8Array, csumStart = -1, csumOffset = 0): Uint8Array {
    const head = gueEncapLength(t, csumStart);
    const buf = new Uint8Array(head + i.length);
    buf.set(i, head);
    expect(encapGue(buf, head, i.length, t, 0x4321, csumStart, csumOffset)).toBe(WIRE_OK);
    return buf;
  }

  function layers(b: Uint8Array): { ip: Ipv4View; udp: UdpView; gue: GueView } {
    const ip = new Ipv4View();
    expect(ip.wrap(b, 0, b.length)).toBe(WIRE_OK);
    const udp = new UdpView();
    expect(udp.wrap(b, ip.payloadOffset, ip.payloadLength)).toBe(WIRE_OK);
    const gue = new GueView();
    expect(gueOf(udp, gue)).toBe(WIRE_OK);
    return { ip, udp, gue };
  }

  it('--tun-nocsum: outer IPv4 (proto 17), UDP to the tun-port with checksum 0, 4-byte GUE proto 4', () => {
    const i = inner();
    const b = encap(tun(), i);
    expect(gueEncapLength(tun())).toBe(32);
    const { ip, udp, gue } = layers(b);
    expect([ip.protocol, ip.src, ip.dst, ip.id, ip.ttl, ip.tos, ip.df, ip.totalLength, ip.checksumOk()])
      .toEqual([17, DIP, RIP, 0x4321, 61, 0x10, true, 32 + i.length, true]);
    expect([udp.dport, udp.length, udp.checksum]).toEqual([PORT, 12 + i.length, 0]);
    expect(udp.sport).toBe(gueSourcePort(gueFlowHash(i, 0, i.length)));
    expect(hex(b.subarray(28, 32))).toBe('00040000');
    expect([gue.protocol, gue.hlen]).toEqual([GUE_PROTO_IPIP, 0]);
    expect(hex(b.subarray(32))).toBe(hex(i));
  });

  it('--tun-csum: the UDP checksum is computed over GUE and the inner packet', () => {
    const { ip, udp } = layers(encap(tun({ csum: true }), inner()));
    expect(udp.hasChecksum).toBe(true);
    expect(udp.checksumOk(ip.src, ip.dst)).toBe(true);
  });

  it('--tun-remcsum with a partial inner checksum: P, REMCSUM, start = the inner IP header, offset = its checksum field', () => {
    const i = inner();
    // a partial TCP checksum holds the pseudo-header sum, as the sender leaves it
    const tcp = new TcpView();
    expect(tcp.wrap(i, 20, i.length - 20)).toBe(WIRE_OK);
    const t = tun({ remcsum: true });
    expect(gueEncapLength(t, 20)).toBe(40);
    const b = encap(t, i, 20, 16);
    const { ip, udp, gue } = layers(b);
    expect(hex(b.subarray(28, 40))).toBe('02040001800000000014' + '0024');
    expect([gue.hasRemcsum, gue.remcsumStart, gue.remcsumOffset, gue.payloadOffset]).toEqual([true, 20, 36, 40]);
    // remcsum needs the outer checksum even without --tun-csum
    expect([udp.hasChecksum, udp.checksumOk(ip.src, ip.dst)]).toEqual([true, true]);
    expect(hex(b.subarray(40))).toBe(hex(i)); // the inner bytes are not touched
  });

  it('--tun-remcsum with a complete inner checksum: the plain header, but still a UDP checksum (as the kernel)', () => {
    const t = tun({ remcsum: true });
    expect(gueEncapLength(t)).toBe(32);
    const { ip, udp, gue } = layers(encap(t, inner()));
    expect([gue.headerLength, gue.hasPriv, udp.checksumOk(ip.src, ip.dst), udp.hasChecksum]).toEqual([4, false, true, true]);
  });

  it('a fixed source port, a configured TTL, no DF without path-MTU discovery', () => {
    const { ip, udp } = layers(encap(tun({ sport: 1234, ttl: 7, pmtuDisc: false }), inner()));
    expect([udp.sport, ip.ttl, ip.df]).toEqual([1234, 7, false]);
  });

  it('an IPv6 inner packet: GUE proto 41', () => {
    const i6 = packet().ipv6({ src: '2001:db8::1', dst: '2001:db8::2', hopLimit: 12 }).udp({ sport: 1, dport: 2 }).build();
    const { ip, gue } = layers(encap(tun({ csum: true }), i6));
    expect([gue.protocol, ip.ttl, ip.df]).toEqual([GUE_PROTO_IPV6, 12, false]);
  });

  it('refuses without headroom, a non-IP inner packet, a checksum field outside it, and over 65535 bytes', () => {
    const i = inner();
    const t = tun({ remcsum: true });
    const buf = new Uint8Array(39 + i.length);
    buf.set(i, 39);
    expect(encapGue(buf, 39, i.length, t, 1, 20, 16)).toBe(GUE_NO_HEADROOM);
    expect(encapGue(buf, 39, i.length, t, 1)).toBe(WIRE_OK); // no option needed: 32 bytes suffice
    const b2 = new Uint8Array(40 + i.length);
    b2.set(i, 40);
    expect(encapGue(b2, 40, i.length, t, 1, 20, i.length)).toBe(GUE_BAD_CSUM_OFFSET);
    expect(encapGue(b2, 40, i.length, t, 1, i.length - 1, 0)).toBe(GUE_BAD_CSUM_OFFSET);
    expect(encapGue(b2, 40, i.length, t, 1, 20, -1)).toBe(GUE_BAD_CSUM_OFFSET);
    const junk = new Uint8Array(32 + 20);
    expect(encapGue(junk, 32, 20, tun(), 1)).toBe(TUN_BAD_INNER);
    const big = new Uint8Array(32 + 65510);
    big.set(packet().ipv4({ src: '1.1.1.1', dst: '2.2.2.2' }).build(), 32);
    expect(encapGue(big, 32, 65510, tun(), 1)).toBe(IP_BAD_TOTAL_LENGTH);
  });

  describe('printer', () => {
    beforeAll(() => { GUE_PRINT_PORTS.add(PORT); });
    afterAll(() => { GUE_PRINT_PORTS.delete(PORT); });

    it('shows GUE after the UDP line on a tun-port, then the inner packet; a partial inner checksum is named', () => {
      const i = inner();
      const lines = formatIpv4(encap(tun({ csum: true }), i));
      expect(lines[2]).toBe(`gue v0 proto IPIP hlen 0 len ${i.length}`);
      expect(lines[3]).toMatch(/^ {2}ip 10\.0\.0\.1 > 10\.0\.0\.100 ttl 61 id 5 DF tos 0x10 TCP/);
      expect(lines[4]).toMatch(/^ {2}tcp 40000 > 80 \[P\.\] .* len 5 cksum ok$/);
      // make the inner checksum partial: the folded pseudo-header sum
      const p = i.slice();
      const seedSum = 0x0a00 + 0x0001 + 0x0a00 + 0x0064 + 6 + (p.length - 20);
      p[36] = seedSum >>> 8;
      p[37] = seedSum & 0xff;
      const rl = formatIpv4(encap(tun({ remcsum: true }), p, 20, 16));
      expect(rl[2]).toBe(`gue v0 proto IPIP hlen 2 remcsum start 20 offset 36 len ${p.length}`);
      expect(rl[4]).toMatch(/ cksum partial ok \(remote checksum offload\)$/);
      p[37] ^= 1;
      expect(formatIpv4(encap(tun({ remcsum: true }), p, 20, 16))[4]).toMatch(/ cksum partial BAD \(remote checksum offload\)$/);
      // completing it as the receiver does gives a valid checksum
      const done = p.slice();
      done[37] ^= 1;
      const c = checksum(done, 20, done.length - 20);
      done[36] = c >>> 8;
      done[37] = c & 0xff;
      const tcp = new TcpView();
      expect(tcp.wrap(done, 20, done.length - 20)).toBe(WIRE_OK);
      expect(tcp.checksumOk(parseIp('10.0.0.1'), parseIp('10.0.0.100'))).toBe(true);
    });

    it('a broken GUE header is named; another port is plain UDP', () => {
      const b = encap(tun(), inner());
      b[28] = 0xc0;
      expect(formatIpv4(b)[2]).toMatch(/^gue GUE_BAD_VERSION/);
      GUE_PRINT_PORTS.delete(PORT);
      expect(formatIpv4(b)).toHaveLength(2);
      GUE_PRINT_PORTS.add(PORT);
    });
  });
});
