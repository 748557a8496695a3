import { describe, expect, it } from 'vitest';
import { parseIp } from '../../src/wire/addr.js';
import { eth, packet } from '../../src/wire/builder.js';
import { checksum } from '../../src/wire/checksum.js';
import {
  GRE_BAD_FLAGS, GRE_BAD_VERSION, GRE_NO_HEADROOM, GRE_NOT_GRE, GRE_TRUNCATED, IP_BAD_TOTAL_LENGTH, TUN_BAD_INNER,
  WIRE_OK, WireError,
} from '../../src/wire/errors.js';
import {
  emitGre, encapGre, GRE_FLAG_C, GRE_FLAG_K, GRE_FLAG_S, GRE_PROTO_IPV4, GRE_PROTO_IPV6, greEncapLength,
  greHeaderLength, greHeaderLengthOf, greOf, GreView, parseGre, type GreHeader,
} from '../../src/wire/gre.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { formatFrame, formatIpv4 } from '../../src/wire/printer.js';
import { TcpView } from '../../src/wire/tcp.js';
import { ecnEncapsulate } from '../../src/wire/tunnel.js';

const fromHex = (h: string): Uint8Array => Uint8Array.from(h.replace(/\s+/g, '').match(/../g) ?? [], (x) => parseInt(x, 16));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const DIP = parseIp('192.168.1.1');
const RIP = parseIp('192.168.1.11');

function view(b: Uint8Array, off = 0, len = b.length - off): GreView {
  const g = new GreView();
  expect(g.wrap(b, off, len)).toBe(WIRE_OK);
  return g;
}

describe('GRE header, byte by byte', () => {
  it('4 bytes: no flags, version 0, protocol 0x0800', () => {
    const g = view(fromHex('0000 0800'));
    expect([g.flags, g.version, g.protocol, g.hasChecksum, g.hasKey, g.hasSeq, g.headerLength, g.payloadOffset])
      .toEqual([0, 0, 0x0800, false, false, false, 4, 4]);
    expect([g.checksum, g.key, g.seq, g.reserved1]).toEqual([0, 0, 0, 0]);
  });

  it('C, K and S: checksum+reserved1 at 4, key after it, sequence number last (RFC 2784 / 2890 order)', () => {
    const b = fromHex(`
      b000 86dd
      1234 0000
      cafebabe
      00000007`);
    const g = view(b);
    expect([g.flags, g.hasChecksum, g.hasKey, g.hasSeq, g.protocol, g.headerLength])
      .toEqual([0xb000, true, true, true, GRE_PROTO_IPV6, 16]);
    expect([g.checksum, g.reserved1, g.key, g.seq]).toEqual([0x1234, 0, 0xcafebabe, 7]);
    const k = view(fromHex('2000 0800 00000042'));
    expect([k.key, k.seq, k.headerLength]).toEqual([0x42, 0, 8]);
    const s = view(fromHex('1000 0800 00000009'));
    expect([s.key, s.seq, s.headerLength]).toEqual([0, 9, 8]);
    const ks = view(fromHex('3000 0800 00000001 00000002'));
    expect([ks.key, ks.seq]).toEqual([1, 2]);
    expect([greHeaderLength(0), greHeaderLength(GRE_FLAG_C), greHeaderLength(GRE_FLAG_C | GRE_FLAG_K | GRE_FLAG_S)])
      .toEqual([4, 8, 16]);
  });

  it('setters write in place', () => {
    const b = fromHex('3000 0800 00000001 00000002');
    const g = view(b);
    g.key = 0xa1b2c3d4;
    g.seq = 99;
    g.protocol = GRE_PROTO_IPV6;
    expect(hex(b)).toBe('300086dda1b2c3d400000063');
    g.checksum = 5; // no C: nothing written
    expect(hex(b)).toBe('300086dda1b2c3d400000063');
  });
});

describe('refusals: named codes, never a throw', () => {
  it('every cut of a 16-byte header is GRE_TRUNCATED', () => {
    const b = fromHex('b000 0800 0000 0000 00000001 00000002');
    const g = new GreView();
    for (let n = 0; n < 16; n++) expect(g.wrap(b, 0, n), `len ${n}`).toBe(GRE_TRUNCATED);
    expect(g.wrap(b, 0, 16)).toBe(WIRE_OK);
    expect(g.wrap(b, 4, 16)).toBe(GRE_TRUNCATED); // past the buffer
  });

  it('a version other than 0 (PPTP uses 1), the routing bit: refused as the kernel does', () => {
    const g = new GreView();
    expect(g.wrap(fromHex('0001 880b'), 0, 4)).toBe(GRE_BAD_VERSION);
    expect(g.wrap(fromHex('2001 880b 00000000'), 0, 8)).toBe(GRE_BAD_VERSION);
    expect(g.wrap(fromHex('4000 0800 00000000'), 0, 8)).toBe(GRE_BAD_FLAGS);
    // strict source route and recursion bits are not checked (the kernel ignores them)
    expect(g.wrap(fromHex('0f00 0800'), 0, 4)).toBe(WIRE_OK);
  });

  it('greOf refuses a packet that is not GRE; parseGre throws the code', () => {
    const f = packet().ipv4({ src: '10.0.0.1', dst: '10.0.0.2' }).udp({ sport: 1, dport: 2 }).build();
    const ip = new Ipv4View();
    expect(ip.wrap(f, 0, f.length)).toBe(WIRE_OK);
    expect(greOf(ip, new GreView())).toBe(GRE_NOT_GRE);
    expect(() => parseGre(fromHex('8000 08'))).toThrow(WireError);
    try { parseGre(fromHex('0007 0800')); } catch (e) { expect((e as WireError).code).toBe(GRE_BAD_VERSION); }
  });

  it('random bytes never throw', () => {
    let x = 7;
    const g = new GreView();
    for (let k = 0; k < 3000; k++) {
      const n = k % 24;
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; b[i] = x >>> 24; }
      expect(() => {
        if (g.wrap(b, 0, n) === WIRE_OK) {
          expect(g.headerLength).toBeLessThanOrEqual(n);
          void [g.checksum, g.key, g.seq, g.checksumOk(), g.payloadLength];
        }
      }).not.toThrow();
    }
  });
});

describe('plain form', () => {
  it('round-trips every flag combination; the checksum covers header and payload', () => {
    const payload = Uint8Array.from({ length: 33 }, (_, i) => i * 7);
    for (let m = 0; m < 8; m++) {
      const h: GreHeader = {
        protocol: GRE_PROTO_IPV4,
        ...(m & 1 ? { csum: true } : {}), ...(m & 2 ? { key: 0x10203040 } : {}), ...(m & 4 ? { seq: 0xfffffffe } : {}),
      };
      const n = greHeaderLengthOf(h) + payload.length;
      const b = new Uint8Array(n + 3);
      expect(emitGre(h, payload, b, 3)).toBe(n);
      const g = view(b, 3, n);
      expect(g.checksumOk()).toBe(true);
      if (m & 1) expect(checksum(b, 3, n)).toBe(0);
      const back = parseGre(b, 3, n);
      expect({ ...back, checksum: undefined }).toEqual({ ...h, checksum: undefined });
      expect(hex(b.subarray(g.payloadOffset, g.payloadOffset + g.payloadLength))).toBe(hex(payload));
    }
  });
});

describe('encapGre: what kernel IPVS sends for --tun-type gre', () => {
  const inner = (): Uint8Array => packet()
    .ipv4({ src: '10.0.0.1', dst: '10.0.0.100', id: 77, ttl: 63, tos: 0xbb, flags: 'DF' }) // ECN bits 11: CE
    .tcp({ sport: 40000, dport: 80, flags: 'S', seq: 5, payload: 'odd' })
    .build();

  function encap(csum: boolean, innerPkt: Uint8Array, extra: Partial<Parameters<typeof encapGre>[3]> = {}): Uint8Array {
    const head = greEncapLength(csum);
    const buf = new Uint8Array(head + innerPkt.length);
    buf.set(innerPkt, head);
    expect(encapGre(buf, head, innerPkt.length, { src: DIP, dst: RIP, csum, ...extra }, 0x1234)).toBe(WIRE_OK);
    return buf;
  }

  for (const csum of [false, true]) {
    it(`--tun-${csum ? '' : 'no'}csum: outer IPv4 (proto 47), ${csum ? '8' : '4'}-byte GRE, the inner packet untouched`, () => {
      const i = inner();
      const b = encap(csum, i);
      expect(greEncapLength(csum)).toBe(csum ? 28 : 24);
      const outer = new Ipv4View();
      expect(outer.wrap(b, 0, b.length)).toBe(WIRE_OK);
      expect(outer.checksumOk()).toBe(true);
      expect([outer.ihl, outer.src, outer.dst, outer.protocol, outer.id, outer.totalLength, outer.ttl, outer.df, outer.mf])
        .toEqual([5, DIP, RIP, 47, 0x1234, b.length, 63, true, false]);
      // DSCP copied, CE (11) sent as ECT(0) (10)
      expect(outer.tos).toBe(0xba);
      const g = new GreView();
      expect(greOf(outer, g)).toBe(WIRE_OK);
      expect(hex(b.subarray(20, 20 + g.headerLength))).toBe(csum ? `80000800${hex(b.subarray(24, 26))}0000` : '00000800');
      expect([g.flags, g.protocol, g.checksumOk(), g.payloadLength]).toEqual([csum ? GRE_FLAG_C : 0, GRE_PROTO_IPV4, true, i.length]);
      if (csum) expect(checksum(b, 20, b.length - 20)).toBe(0);
      expect(hex(b.subarray(g.payloadOffset))).toBe(hex(i));
    });
  }

  it('ECN: not-ECT, ECT(1), ECT(0) copied; CE becomes ECT(0)', () => {
    expect([0x00, 0x01, 0x02, 0x03, 0xb8, 0xbb].map(ecnEncapsulate)).toEqual([0x00, 0x01, 0x02, 0x02, 0xb8, 0xba]);
  });

  it('TTL and DF: a configured TTL wins; no DF without path-MTU discovery or when the inner has none', () => {
    const b = encap(false, inner(), { ttl: 9, pmtuDisc: false });
    const o = new Ipv4View();
    expect(o.wrap(b, 0, b.length)).toBe(WIRE_OK);
    expect([o.ttl, o.df, o.checksumOk()]).toEqual([9, false, true]);
    const noDf = packet().ipv4({ src: '10.0.0.1', dst: '10.0.0.2', ttl: 5 }).udp({ sport: 1, dport: 2 }).build();
    const c = encap(true, noDf);
    expect(o.wrap(c, 0, c.length)).toBe(WIRE_OK);
    expect([o.ttl, o.df]).toEqual([5, false]);
  });

  it('an IPv6 inner packet: protocol 0x86DD, traffic class and hop limit copied, never DF', () => {
    const i6 = packet().ipv6({ src: '2001:db8::1', dst: '2001:db8::2', hopLimit: 33, tc: 0x2b })
      .tcp({ sport: 1, dport: 2, flags: 'S' }).build();
    const b = encap(true, i6);
    const o = new Ipv4View();
    expect(o.wrap(b, 0, b.length)).toBe(WIRE_OK);
    expect([o.protocol, o.ttl, o.tos, o.df]).toEqual([47, 33, 0x2a, false]);
    const g = view(b, 20);
    expect([g.protocol, g.checksumOk()]).toEqual([GRE_PROTO_IPV6, true]);
    const lines = formatIpv4(b);
    expect(lines[1]).toBe(`gre proto IPv6 len ${i6.length} cksum ok`);
    expect(lines[2]).toMatch(/^ {2}ip6 2001:db8::1 > 2001:db8::2 hlim 33 /);
    expect(lines[3]).toMatch(/^ {2}tcp 1 > 2 \[S\] .* cksum ok$/);
  });

  it('a computed checksum of 0 is sent as 0xFFFF (as skb_checksum_help), and verifies', () => {
    // inner: a 20-byte IPv4 header + 2 bytes chosen to make the GRE sum 0xFFFF
    const i = packet().ipv4({ src: '10.0.0.1', dst: '10.0.0.2' }).payload([0, 0]).build();
    const probe = encap(true, i);
    const c = probe[24]! << 8 | probe[25]!;
    i[20] = c >>> 8;
    i[21] = c & 0xff;
    i.set(packet().ipv4({ src: '10.0.0.1', dst: '10.0.0.2' }).payload([c >>> 8, c & 0xff]).build());
    const b = encap(true, i);
    expect(hex(b.subarray(24, 26))).toBe('ffff');
    expect(view(b, 20).checksumOk()).toBe(true);
  });

  it('refuses without headroom, a non-IP inner packet, and an outer packet over 65535 bytes', () => {
    const i = inner();
    const buf = new Uint8Array(27 + i.length);
    buf.set(i, 27);
    const t = { src: DIP, dst: RIP, csum: true };
    expect(encapGre(buf, 27, i.length, t, 1)).toBe(GRE_NO_HEADROOM);
    expect(encapGre(buf, 27, i.length, { ...t, csum: false }, 1)).toBe(WIRE_OK);
    expect(encapGre(buf, 28, i.length, { ...t, csum: false }, 1)).toBe(GRE_NO_HEADROOM); // runs past the buffer
    const junk = new Uint8Array(24 + 40);
    junk[24] = 0x50;
    expect(encapGre(junk, 24, 40, { ...t, csum: false }, 1)).toBe(TUN_BAD_INNER);
    const big = new Uint8Array(28 + 65520);
    big.set(packet().ipv4({ src: '1.1.1.1', dst: '2.2.2.2' }).build(), 28);
    expect(encapGre(big, 28, 65520, t, 1)).toBe(IP_BAD_TOTAL_LENGTH);
  });

  it('the printer shows the GRE line and then the inner packet indented', () => {
    const i = inner();
    const b = encap(true, i);
    const frame = new Uint8Array(14 + b.length);
    frame.set(eth({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' }).build().subarray(0, 12), 0);
    frame[12] = 0x08;
    frame.set(b, 14);
    const lines = formatFrame(frame);
    expect(lines[2]).toBe(`gre proto IPv4 len ${i.length} cksum ok`);
    expect(lines[3]).toMatch(/^ {2}ip 10\.0\.0\.1 > 10\.0\.0\.100 ttl 63 id 77 DF tos 0xbb TCP/);
    expect(lines[4]).toMatch(/^ {2}tcp 40000 > 80 \[S\] .* cksum ok$/);
    frame[14 + 24] ^= 1;
    expect(formatFrame(frame)[2]).toMatch(/^gre proto IPv4 len \d+ cksum BAD \(expected 0x[0-9a-f]{4}\)$/);
    const keyed = eth({}).ipv4({ src: '1.1.1.1', dst: '2.2.2.2' }).gre({ key: 0xab, seq: 3 }).ipv4({ src: '3.3.3.3', dst: '4.4.4.4' })
      .udp({ sport: 5, dport: 6 }).build();
    expect(formatFrame(keyed)[2]).toBe('gre proto IPv4 key 0x000000ab seq 3 len 28');
    const tcp = new TcpView();
    expect(tcp.wrap(b, 48, i.length - 20)).toBe(WIRE_OK);
  });
});
