import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIp } from '../../src/wire/addr.js';
import { ip6ToString, newIp6, parseIp6 } from '../../src/wire/addr6.js';
import { packet } from '../../src/wire/builder.js';
import { tcpChecksumOk6 } from '../../src/wire/checksum6.js';
import {
  IP6IP6_NOT_IP6IP6, IP6IP6_NO_HEADROOM, IP6_BAD_PAYLOAD_LENGTH, IP6_EXT_HOP_NOT_FIRST, WIRE_OK,
} from '../../src/wire/errors.js';
import { emitIp6ip6, encapIp6ip6, ip4in6Inner, IP6IP6_OUTER_LEN, ip6ip6Inner, parseIp6ip6 } from '../../src/wire/ip6ip6.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { Ipv6View, parseIpv6, type Ipv6Header } from '../../src/wire/ipv6.js';
import { formatIpv6 } from '../../src/wire/printer.js';
import { TcpView } from '../../src/wire/tcp.js';

const DIP = parseIp6('2001:db8:1::1');
const RIP = parseIp6('2001:db8:1::11');

function clientSyn(): Uint8Array {
  return packet()
    .ipv6({ src: '2001:db8::1', dst: '2001:db8::100', hopLimit: 63, tc: 0xb9, flowLabel: 0x12345 })
    .tcp({ sport: 40000, dport: 80, flags: 'S', seq: 5 })
    .build();
}

function inHeadroom(inner: Uint8Array, room = IP6IP6_OUTER_LEN, tail = 0): Uint8Array {
  const buf = new Uint8Array(room + inner.length + tail).fill(0xaa);
  buf.set(inner, room);
  return buf;
}

describe('IPv6-in-IPv6 encapsulation in the headroom', () => {
  it('sends a congestion mark (CE) out as ECT(0) and keeps the DSCP, as INET_ECN_encapsulate', () => {
    // traffic class 0xbb: DSCP 0x2e (EF), ECN 11 (CE)
    const inner = packet()
      .ipv6({ src: '2001:db8::1', dst: '2001:db8::100', hopLimit: 63, tc: 0xbb })
      .tcp({ sport: 40000, dport: 80, flags: 'S', seq: 5 })
      .build();
    const buf = inHeadroom(inner);
    expect(encapIp6ip6(buf, 40, inner.length, DIP, 0, RIP, 0)).toBe(WIRE_OK);
    const outer = new Ipv6View();
    expect(outer.wrap(buf, 0, buf.length)).toBe(WIRE_OK);
    expect(outer.trafficClass).toBe(0xba);
    expect(buf[40 + 1]! >>> 4 | (buf[40]! & 0x0f) << 4).toBe(0xbb); // the inner mark itself is left alone
  });

  it('prepends the outer header IPVS writes and leaves the inner packet byte for byte', () => {
    const inner = clientSyn();
    const buf = inHeadroom(inner, 40, 5);
    expect(encapIp6ip6(buf, 40, inner.length, DIP, 0, RIP, 0)).toBe(WIRE_OK);
    const outer = new Ipv6View();
    expect(outer.wrap(buf, 0, buf.length)).toBe(WIRE_OK);
    // as ip_vs_tunnel_xmit_v6: traffic class (ECN bits too) and hop limit from the inner packet, flow label 0
    expect([outer.trafficClass, outer.flowLabel, outer.hopLimit, outer.nextHeader, outer.payloadLength])
      .toEqual([0xb9, 0, 63, 41, inner.length]);
    expect(outer.srcEquals(DIP) && outer.dstEquals(RIP)).toBe(true);
    expect(Array.from(buf.subarray(40, 40 + inner.length))).toEqual(Array.from(inner));
    const in2 = new Ipv6View();
    expect(ip6ip6Inner(outer, in2)).toBe(WIRE_OK);
    expect([in2.off, in2.len, in2.flowLabel, in2.hopLimit]).toEqual([40, inner.length, 0x12345, 63]);
    const tcp = new TcpView();
    expect(tcp.wrap(buf, in2.payloadOffset, in2.payloadLength)).toBe(WIRE_OK);
    expect(tcpChecksumOk6(tcp, in2.pseudoAddrSum())).toBe(true);
    const lines = formatIpv6(buf, 0, buf.length);
    expect(lines[0]).toBe(`ip6 2001:db8:1::1 > 2001:db8:1::11 hlim 63 tc 0xb9 IPv6 len ${inner.length}`);
    expect(lines[1]).toMatch(/^ {2}ip6 2001:db8::1 > 2001:db8::100 hlim 63 tc 0xb9 flow 0x12345 TCP/);
    expect(lines[2]).toMatch(/^ {2}tcp 40000 > 80 \[S\] .* cksum ok$/);
  });

  it('an explicit hop limit; an IPv4 inner packet gets next header 4, its TOS and TTL', () => {
    const inner = clientSyn();
    const buf = inHeadroom(inner);
    expect(encapIp6ip6(buf, 40, inner.length, DIP, 0, RIP, 0, 255)).toBe(WIRE_OK);
    expect(buf[7]).toBe(255);
    const v4 = packet().ipv4({ src: '10.0.0.1', dst: '10.0.0.100', ttl: 9, tos: 0x10 }).udp({ sport: 1, dport: 2 }).build();
    const b4 = inHeadroom(v4);
    expect(encapIp6ip6(b4, 40, v4.length, DIP, 0, RIP, 0)).toBe(WIRE_OK);
    const outer = new Ipv6View();
    expect(outer.wrap(b4, 0, b4.length)).toBe(WIRE_OK);
    expect([outer.nextHeader, outer.trafficClass, outer.hopLimit, outer.payloadLength]).toEqual([4, 0x10, 9, v4.length]);
    const inner4 = new Ipv4View();
    expect(ip4in6Inner(outer, inner4)).toBe(WIRE_OK);
    expect([inner4.src, inner4.checksumOk()]).toEqual([parseIp('10.0.0.1'), true]);
    expect(ip6ip6Inner(outer, new Ipv6View())).toBe(IP6IP6_NOT_IP6IP6);
    expect(formatIpv6(b4, 0, b4.length)[1]).toMatch(/^ {2}ip 10\.0\.0\.1 > 10\.0\.0\.100 ttl 9/);
  });

  it('refuses without 40 bytes of headroom, past the buffer, over 65535 bytes, or for a non-IP inner packet', () => {
    const inner = clientSyn();
    const buf = inHeadroom(inner, 39);
    expect(encapIp6ip6(buf, 39, inner.length, DIP, 0, RIP, 0)).toBe(IP6IP6_NO_HEADROOM);
    const ok = inHeadroom(inner);
    expect(encapIp6ip6(ok, 40, inner.length + 1, DIP, 0, RIP, 0)).toBe(IP6IP6_NO_HEADROOM);
    const big = new Uint8Array(40 + 65536);
    big[40] = 0x60;
    expect(encapIp6ip6(big, 40, 65536, DIP, 0, RIP, 0)).toBe(IP6_BAD_PAYLOAD_LENGTH);
    const junk = inHeadroom(Uint8Array.of(0x50, 0, 0, 0));
    expect(encapIp6ip6(junk, 40, 4, DIP, 0, RIP, 0)).toBe(IP6IP6_NOT_IP6IP6);
    expect(ok.subarray(0, 40).every((b) => b === 0xaa)).toBe(true);
  });

  it('decapsulates past outer extension headers (an RFC 2473 encapsulation limit option)', () => {
    const inner = clientSyn();
    // destination options: tunnel encapsulation limit (type 4, length 1, limit 4), then PadN
    const f = packet().ipv6({ src: DIP, dst: RIP }).destOpts({ options: [4, 1, 4], nextHeader: 41 }).payload(inner).build();
    const outer = new Ipv6View();
    expect(outer.wrap(f, 0, f.length)).toBe(WIRE_OK);
    const in2 = new Ipv6View();
    expect(ip6ip6Inner(outer, in2)).toBe(WIRE_OK);
    expect([in2.off, in2.len]).toEqual([48, inner.length]);
    // fragmented outer packets must be reassembled first; a broken chain names its problem
    const frag = packet().ipv6({ src: DIP, dst: RIP }).frag({ id: 1, m: true, nextHeader: 41 }).payload(inner).build();
    expect(outer.wrap(frag, 0, frag.length)).toBe(WIRE_OK);
    expect(ip6ip6Inner(outer, in2)).toBe(IP6IP6_NOT_IP6IP6);
    const bad = packet().ipv6({ src: DIP, dst: RIP }).destOpts().hopByHop({ nextHeader: 41 }).payload(inner).build();
    expect(outer.wrap(bad, 0, bad.length)).toBe(WIRE_OK);
    expect(ip6ip6Inner(outer, in2)).toBe(IP6_EXT_HOP_NOT_FIRST);
    const plain = clientSyn();
    expect(outer.wrap(plain, 0, plain.length)).toBe(WIRE_OK);
    expect(ip6ip6Inner(outer, in2)).toBe(IP6IP6_NOT_IP6IP6);
  });

  it('parse(emit(outer, inner)) gives both headers back', () => {
    const w = fc.integer({ min: 0, max: 0xffffffff });
    const addr = fc.tuple(w, w, w, w).map((x) => Uint32Array.from(x));
    const arb: fc.Arbitrary<Ipv6Header> = fc.record({
      trafficClass: fc.integer({ min: 0, max: 255 }), flowLabel: fc.integer({ min: 0, max: 0xfffff }),
      payloadLength: fc.constant(0), nextHeader: fc.constant(0), hopLimit: fc.integer({ min: 0, max: 255 }), src: addr, dst: addr,
    });
    fc.assert(fc.property(arb, fc.uint8Array({ maxLength: 20 }), (outer, data) => {
      const inner = packet().ipv6({ src: '::1', dst: '::2', nextHeader: 59 }).payload(data).build();
      const buf = new Uint8Array(40 + inner.length);
      expect(emitIp6ip6(outer, inner, buf, 0)).toBe(buf.length);
      const p = parseIp6ip6(buf);
      expect(p.outer).toEqual({ ...outer, nextHeader: 41, payloadLength: inner.length });
      expect(p.inner).toEqual(parseIpv6(inner));
    }));
    expect(() => parseIp6ip6(clientSyn())).toThrow(/ip6ip6 inner: IP6IP6_NOT_IP6IP6/);
  });

  it('rebuilds the scapy ip6ip6-tcp fixture byte for byte from its inner packet', () => {
    const fx = JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/wire/ip6ip6-tcp.json'), 'utf8')) as { hex: string };
    const frame = Uint8Array.from(Buffer.from(fx.hex, 'hex'));
    const outer = new Ipv6View();
    expect(outer.wrap(frame, 14, frame.length - 14)).toBe(WIRE_OK);
    const src = newIp6();
    const dst = newIp6();
    outer.readSrc(src);
    outer.readDst(dst);
    expect([ip6ToString(src), ip6ToString(dst)]).toEqual(['2001:db8:1::1', '2001:db8:1::11']);
    const inner = frame.slice(54);
    const buf = inHeadroom(inner);
    buf.fill(0, 0, 40);
    expect(encapIp6ip6(buf, 40, inner.length, src, 0, dst, 0)).toBe(WIRE_OK);
    expect(Buffer.from(buf).toString('hex')).toBe(Buffer.from(frame.subarray(14)).toString('hex'));
  });
});
