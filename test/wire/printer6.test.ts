import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eth, packet } from '../../src/wire/builder.js';
import { formatFrame, formatFrameLine, formatIpv6 } from '../../src/wire/printer.js';

const A = { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' };
const S = '2001:db8::1';
const D = '2001:db8::2';

describe('printer, IPv6', () => {
  it('ip6 line, then one line per extension header, then the upper layer', () => {
    const f = eth(A).ipv6({ src: S, dst: D, hopLimit: 61, tc: 0x10, flowLabel: 0xabc }).hopByHop()
      .frag({ id: 0x1234, m: false }).tcp({ sport: 40000, dport: 80, flags: 'SA', seq: 10, ack: 20, window: 1000, payload: 'abc' })
      .build();
    expect(formatFrame(f)).toEqual([
      'eth 02:00:00:00:00:01 > 02:00:00:00:00:02 IPv6 len 93',
      'ip6 2001:db8::1 > 2001:db8::2 hlim 61 tc 0x10 flow 0xabc HBH len 39',
      'hbh len 8 Frag',
      'frag id 0x00001234 off 0 TCP',
      'tcp 40000 > 80 [S.] seq 10 ack 20 win 1000 len 3 cksum ok',
    ]);
    expect(formatFrameLine(f)).toBe(formatFrame(f).join(' | '));
  });

  it('UDP over IPv6: a zero checksum is BAD, a wrong one shows the right one', () => {
    expect(formatIpv6(packet().ipv6({ src: S, dst: D }).udp({ sport: 7, dport: 8, checksum: 0, payload: 'hi' }).build())[1])
      .toBe('udp 7 > 8 len 2 cksum BAD (zero, mandatory over IPv6)');
    const good = packet().ipv6({ src: S, dst: D }).udp({ sport: 7, dport: 8, payload: 'hi' }).build();
    const sum = (good[46]! << 8) | good[47]!;
    expect(formatIpv6(packet().ipv6({ src: S, dst: D }).udp({ sport: 7, dport: 8, payload: 'hi', checksum: sum ^ 1 }).build())[1])
      .toBe(`udp 7 > 8 len 2 cksum BAD (expected 0x${sum.toString(16).padStart(4, '0')})`);
  });

  it('ICMPv6: echo, neighbour discovery with options, errors and what they quote', () => {
    expect(formatIpv6(packet().ipv6({ src: S, dst: D }).icmpv6({ type: 129, id: 3, seq: 4 }).build())[1])
      .toBe('icmp6 echo reply id 3 seq 4 len 0 cksum ok');
    expect(formatIpv6(packet().ipv6({ src: 'fe80::1', dst: 'ff02::1:ff00:2', hopLimit: 255 })
      .icmpv6({ type: 135, target: D, options: [{ sll: A.src }] }).build())[1])
      .toBe('icmp6 neighbor solicitation who-has 2001:db8::2 sll 02:00:00:00:00:01 len 24 cksum ok');
    expect(formatIpv6(packet().ipv6({ src: D, dst: 'fe80::1', hopLimit: 255 })
      .icmpv6({ type: 136, target: D, flags: 'RSO', options: [{ tll: A.dst }] }).build())[1])
      .toBe('icmp6 neighbor advertisement tgt 2001:db8::2 [RSO] tll 02:00:00:00:00:02 len 24 cksum ok');
    expect(formatIpv6(packet().ipv6({ src: D, dst: 'fe80::1' })
      .icmpv6({ type: 136, target: D, payload: [2, 0, 0, 0, 0, 0, 0, 0] }).build())[1])
      .toMatch(/ICMPV6_BAD_ND_OPTION/);
    const err = formatIpv6(packet().ipv6({ src: D, dst: S }).icmpv6({ type: 1, code: 4 })
      .ipv6({ src: S, dst: D }).udp({ sport: 53, dport: 999, payload: 'abcdef' }).build());
    expect(err.slice(1)).toEqual([
      'icmp6 unreachable port len 54 cksum ok',
      '  quoted ip6 2001:db8::1 > 2001:db8::2 UDP len 14 ports 53 > 999',
    ]);
    const cut = formatIpv6(packet().ipv6({ src: D, dst: S }).icmpv6({ type: 4, code: 1, pointer: 40, quote: 44 })
      .ipv6({ src: S, dst: D }).udp({ sport: 53, dport: 999 }).build());
    expect(cut.slice(1)).toEqual([
      'icmp6 param problem code 1 pointer 40 len 44 cksum ok',
      '  quoted ip6 2001:db8::1 > 2001:db8::2 UDP len 8 (incomplete: headers + 8 bytes not all present)',
    ]);
    expect(formatIpv6(packet().ipv6({ src: D, dst: S }).icmpv6({ type: 2, mtu: 1280, quote: 10 })
      .ipv6({ src: S, dst: D }).udp({ sport: 1, dport: 2 }).build())[2]).toBe('  quoted 10 bytes (not an IPv6 header)');
  });

  it('fragments, walk errors and packets in packets', () => {
    expect(formatIpv6(packet().ipv6({ src: S, dst: D }).frag({ id: 7, offset: 3, nextHeader: 17 }).payload([1, 2, 3, 4]).build()))
      .toEqual(['ip6 2001:db8::1 > 2001:db8::2 hlim 64 Frag len 12', 'frag id 0x00000007 off 24 UDP', 'fragment data 4 bytes']);
    expect(formatIpv6(packet().ipv6({ src: S, dst: D }).frag({ id: 7, m: true }).udp({ sport: 1, dport: 2, payload: 'ab' }).build())[2])
      .toBe('udp 1 > 2 len 2 cksum ? (fragment)');
    expect(formatIpv6(packet().ipv6({ src: S, dst: D }).destOpts().hopByHop().udp({ sport: 1, dport: 2 }).build()))
      .toEqual(['ip6 2001:db8::1 > 2001:db8::2 hlim 64 DstOpts len 24', 'dstopts len 8 HBH',
        'ext IP6_EXT_HOP_NOT_FIRST at byte 40']);
    expect(formatIpv6(packet().ipv6({ src: S, dst: D }).hopByHop({ length: 9 }).udp({ sport: 1, dport: 2 }).build()).slice(1))
      .toEqual(['ext IP6_EXT_TRUNCATED at byte 41']);
    expect(formatIpv6(packet().ipv6({ src: S, dst: D }).routing({ type: 4, segmentsLeft: 1, addresses: [D, S] })
      .tcp({ sport: 1, dport: 2 }).build())[1]).toBe('routing type 4 segleft 1 len 40 TCP');
    const six4 = formatFrame(eth(A).ipv4({ src: '192.0.2.1', dst: '192.0.2.2' }).ipv6({ src: S, dst: D })
      .udp({ sport: 1, dport: 2 }).build());
    expect(six4.slice(1)).toEqual([
      'ip 192.0.2.1 > 192.0.2.2 ttl 64 id 0 IPv6 len 68 cksum ok',
      '  ip6 2001:db8::1 > 2001:db8::2 hlim 64 UDP len 8',
      '  udp 1 > 2 len 0 cksum ok',
    ]);
    expect(formatIpv6(packet().ipv6({ src: S, dst: D, nextHeader: 59 }).build())).toEqual(['ip6 2001:db8::1 > 2001:db8::2 hlim 64 NoNext len 0']);
    expect(formatIpv6(packet().ipv6({ src: S, dst: D, nextHeader: 99 }).payload([1, 2]).build())[1]).toBe('payload 2 bytes');
  });

  it('names the problem for every prefix of IPv6 frames, never throws', () => {
    const frames = [
      eth(A).ipv6({ src: S, dst: D }).hopByHop().destOpts().frag({ id: 1 }).tcp({ sport: 1, dport: 2, options: [2, 4, 5, 0xb4] }).build(),
      eth(A).ipv6({ src: S, dst: D }).udp({ sport: 1, dport: 2, payload: 'abc' }).build(),
      eth(A).ipv6({ src: 'fe80::1', dst: D }).icmpv6({ type: 135, target: D, options: [{ sll: A.src }] }).build(),
      eth(A).ipv6({ src: D, dst: S }).icmpv6({ type: 2, mtu: 1280 }).ipv6({ src: S, dst: D }).tcp({ sport: 1, dport: 2 }).build(),
    ];
    for (const f of frames) {
      for (let n = 0; n < f.length; n++) {
        const line = formatFrameLine(f.subarray(0, n));
        expect(line, `prefix ${n}`).toMatch(/_TRUNCATED|_BAD_/);
        expect(line).not.toMatch(/undefined|NaN/);
      }
      expect(formatFrameLine(f)).not.toMatch(/_TRUNCATED|_BAD_|BAD/);
    }
  });

  it('never throws on random bytes after an IPv6 ethertype or header', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 160 }), fc.boolean(), (b, bare) => {
      if (b.length > 0) b[0] = 0x60 | (b[0]! & 0x0f);
      if (b.length > 6 && bare) b[4] = 0;
      const lines = bare ? formatIpv6(b) : formatFrame(eth({ ...A, type: 0x86dd }).payload(b).build());
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) expect(l).not.toMatch(/undefined|NaN/);
    }), { numRuns: 3000 });
  });
});
