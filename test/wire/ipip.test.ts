import { describe, expect, it } from 'vitest';
import { parseIp } from '../../src/wire/addr.js';
import { packet } from '../../src/wire/builder.js';
import { IPIP_NOT_IPIP, IPIP_NO_HEADROOM, WIRE_OK } from '../../src/wire/errors.js';
import { encapIpip, IPIP_OUTER_LEN, ipipInner } from '../../src/wire/ipip.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { formatIpv4 } from '../../src/wire/printer.js';
import { TcpView } from '../../src/wire/tcp.js';

const DIP = parseIp('192.168.1.1');
const RIP = parseIp('192.168.1.11');

function clientSyn(): Uint8Array {
  return packet()
    .ipv4({ src: '10.0.0.1', dst: '10.0.0.100', id: 77, ttl: 63, tos: 0xb8, flags: 'DF' })
    .tcp({ sport: 40000, dport: 80, flags: 'S', seq: 5 })
    .build();
}

describe('IPIP encapsulation in the headroom', () => {
  it('prepends a valid outer header and leaves the inner packet byte for byte', () => {
    const inner = clientSyn();
    const buf = new Uint8Array(IPIP_OUTER_LEN + inner.length + 7).fill(0xaa);
    buf.set(inner, IPIP_OUTER_LEN);
    expect(encapIpip(buf, IPIP_OUTER_LEN, inner.length, DIP, RIP, 0x1234)).toBe(WIRE_OK);

    const outer = new Ipv4View();
    expect(outer.wrap(buf, 0, buf.length)).toBe(WIRE_OK);
    expect(outer.checksumOk()).toBe(true);
    expect([outer.src, outer.dst, outer.protocol, outer.id, outer.totalLength])
      .toEqual([DIP, RIP, 4, 0x1234, inner.length + 20]);
    // as IPVS: inner TOS, DF and TTL are copied to the outer header
    expect([outer.tos, outer.df, outer.mf, outer.fragOffset, outer.ttl]).toEqual([0xb8, true, false, 0, 63]);
    expect(Array.from(buf.subarray(20, 20 + inner.length))).toEqual(Array.from(inner));

    const in2 = new Ipv4View();
    expect(ipipInner(outer, in2)).toBe(WIRE_OK);
    expect([in2.off, in2.src, in2.dst, in2.checksumOk()]).toEqual([20, parseIp('10.0.0.1'), parseIp('10.0.0.100'), true]);
    const tcp = new TcpView();
    expect(tcp.wrap(buf, in2.payloadOffset, in2.payloadLength)).toBe(WIRE_OK);
    expect(tcp.checksumOk(in2.src, in2.dst)).toBe(true);

    const lines = formatIpv4(buf, 0, buf.length);
    expect(lines[0]).toMatch(/^ip 192\.168\.1\.1 > 192\.168\.1\.11 ttl 63 id 4660 DF tos 0xb8 IPIP len \d+ cksum ok$/);
    expect(lines[1]).toMatch(/^ {2}ip 10\.0\.0\.1 > 10\.0\.0\.100 /);
  });

  it('uses an explicit TTL and copies no DF when the inner has none', () => {
    const inner = packet().ipv4({ src: '10.0.0.1', dst: '10.0.0.100', ttl: 9 }).udp({ sport: 1, dport: 2 }).build();
    const buf = new Uint8Array(20 + inner.length);
    buf.set(inner, 20);
    expect(encapIpip(buf, 20, inner.length, DIP, RIP, 1, 64)).toBe(WIRE_OK);
    const outer = new Ipv4View();
    expect(outer.wrap(buf, 0, buf.length)).toBe(WIRE_OK);
    expect([outer.ttl, outer.df, outer.checksumOk()]).toEqual([64, false, true]);
  });

  it('refuses without 20 bytes of headroom', () => {
    const inner = clientSyn();
    const buf = new Uint8Array(19 + inner.length);
    buf.set(inner, 19);
    expect(encapIpip(buf, 19, inner.length, DIP, RIP, 1)).toBe(IPIP_NO_HEADROOM);
    expect(encapIpip(buf, 19, inner.length + 1, DIP, RIP, 1)).toBe(IPIP_NO_HEADROOM);
  });

  it('ipipInner refuses a packet of another protocol', () => {
    const f = clientSyn();
    const outer = new Ipv4View();
    expect(outer.wrap(f, 0, f.length)).toBe(WIRE_OK);
    expect(ipipInner(outer, new Ipv4View())).toBe(IPIP_NOT_IPIP);
  });
});
