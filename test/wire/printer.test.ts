import { describe, expect, it } from 'vitest';
import { eth, packet } from '../../src/wire/builder.js';
import { formatFrame, formatFrameLine } from '../../src/wire/printer.js';

const A = { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' };
const IPS = { src: '10.0.0.1', dst: '10.0.0.2' };

describe('printer', () => {
  it('renders one line per layer, tcpdump-like', () => {
    const f = eth(A).ipv4({ ...IPS, id: 9, ttl: 61, flags: 'DF' })
      .tcp({ sport: 40000, dport: 80, flags: 'SA', seq: 10, ack: 20, window: 1000, payload: 'abc' }).build();
    expect(formatFrame(f)).toEqual([
      'eth 02:00:00:00:00:01 > 02:00:00:00:00:02 IPv4 len 57',
      'ip 10.0.0.1 > 10.0.0.2 ttl 61 id 9 DF TCP len 43 cksum ok',
      'tcp 40000 > 80 [S.] seq 10 ack 20 win 1000 len 3 cksum ok',
    ]);
    expect(formatFrameLine(f)).toBe(formatFrame(f).join(' | '));
  });

  it('UDP without checksum, VLAN tag, fragments, ARP reply, ICMP echo and errors', () => {
    expect(formatFrame(eth(A).vlan(42, 5).ipv4(IPS).udp({ sport: 7, dport: 8, checksum: 0, payload: 'hi' }).build()))
      .toEqual([
        'eth 02:00:00:00:00:01 > 02:00:00:00:00:02 vlan 42 pcp 5 IPv4 len 48',
        'ip 10.0.0.1 > 10.0.0.2 ttl 64 id 0 UDP len 30 cksum ok',
        'udp 7 > 8 len 2 cksum none',
      ]);
    expect(formatFrame(eth(A).ipv4({ ...IPS, flags: 'MF', fragOffset: 3, protocol: 17 }).payload([1, 2, 3, 4]).build())[1])
      .toBe('ip 10.0.0.1 > 10.0.0.2 ttl 64 id 0 MF off 24 UDP len 24 cksum ok');
    expect(formatFrame(eth(A).arp({ op: 'reply', sha: A.src, spa: IPS.src, tha: A.dst, tpa: IPS.dst }).build())[1])
      .toBe('arp 10.0.0.1 is-at 02:00:00:00:00:01 (to 10.0.0.2 02:00:00:00:00:02)');
    expect(formatFrame(eth(A).ipv4(IPS).icmp({ type: 0, id: 3, seq: 4 }).build())[2])
      .toBe('icmp echo reply id 3 seq 4 len 0 cksum ok');
    const err = formatFrame(eth(A).ipv4(IPS).icmp({ type: 3, code: 3, quote: 28 })
      .ipv4({ src: '10.0.0.2', dst: '10.0.0.1' }).udp({ sport: 53, dport: 999, payload: 'abcdef' }).build());
    expect(err.slice(2)).toEqual([
      'icmp unreachable port len 28 cksum ok',
      '  quoted ip 10.0.0.2 > 10.0.0.1 UDP len 34 ports 53 > 999',
    ]);
  });

  it('an ethertype it does not know shows the payload size only', () => {
    expect(formatFrame(eth({ ...A, type: 0x88cc }).payload([1, 2, 3]).build())).toEqual([
      'eth 02:00:00:00:00:01 > 02:00:00:00:00:02 0x88cc len 17',
      'payload 3 bytes',
    ]);
  });

  it('bare packets from the builder have no link layer', () => {
    const p = packet().ipv4(IPS).udp({ sport: 1, dport: 2 }).build();
    expect(p.length).toBe(28);
    expect(p[0]).toBe(0x45);
  });
});
