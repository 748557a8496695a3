// The field-level dissector names each field where it is in the frame, so
// that a comparison can say which field differs and leave out the ones a
// user ignores (with the checksums over them).
import { describe, expect, it } from 'vitest';
import { eth } from '../../src/wire/builder.js';
import { dissectFrame, frameSummary, ignoredFields, isKnownFieldMask, maskedCopy, maskMatches } from '../../src/wire/dissect.js';

const syn = eth({ src: '02:00:00:00:00:fe', dst: '02:00:00:00:00:01' })
  .ipv4({ src: '203.0.113.7', dst: '10.0.0.100', ttl: 58, id: 0x1234, flags: 'DF', tos: 0x10 })
  .tcp({ sport: 45000, dport: 80, flags: 'S', seq: 100, options: [2, 4, 5, 0xb4], payload: 'hi' })
  .build();

const byName = (f: Uint8Array) => new Map(dissectFrame(f).fields.map((x) => [x.name, x]));

describe('dissectFrame', () => {
  it('gives every header field of Ethernet / IPv4 / TCP with its place and value', () => {
    const f = byName(syn);
    expect([...f.keys()]).toEqual([
      'eth.dst', 'eth.src', 'eth.type', 'ip.version', 'ip.hdr_len', 'ip.dsfield', 'ip.len', 'ip.id', 'ip.flags', 'ip.frag_offset',
      'ip.ttl', 'ip.proto', 'ip.checksum', 'ip.src', 'ip.dst', 'tcp.srcport', 'tcp.dstport', 'tcp.seq', 'tcp.ack', 'tcp.hdr_len',
      'tcp.flags', 'tcp.window_size', 'tcp.checksum', 'tcp.urgent_pointer', 'tcp.options', 'tcp.payload',
    ]);
    expect(f.get('eth.src')).toMatchObject({ off: 6, size: 6, text: '02:00:00:00:00:fe' });
    expect(f.get('ip.ttl')).toMatchObject({ off: 22, size: 1, text: '58' });
    expect(f.get('ip.id')).toMatchObject({ off: 18, size: 2, text: '0x1234 (4660)' });
    expect(f.get('ip.flags')).toMatchObject({ off: 20, size: 1, bits: 0xe0, text: '0x2 DF' });
    expect(f.get('ip.frag_offset')).toMatchObject({ off: 20, size: 2, bits: 0x1fff, text: '0' });
    expect(f.get('ip.dsfield')!.text).toBe('0x10');
    expect(f.get('ip.dst')).toMatchObject({ off: 30, size: 4, text: '10.0.0.100' });
    expect(f.get('tcp.srcport')).toMatchObject({ off: 34, text: '45000' });
    expect(f.get('tcp.hdr_len')!.text).toBe('24');
    expect(f.get('tcp.flags')!.text).toBe('0x002 [S]');
    expect(f.get('tcp.options')).toMatchObject({ off: 54, size: 4 });
    expect(f.get('tcp.payload')).toMatchObject({ off: 58, size: 2, text: '2 bytes 6869 "hi"' });
  });

  it('names the packets inside others "inner.": IPIP, and the packet an ICMP error quotes', () => {
    const inner = eth().ipv4({ src: '203.0.113.7', dst: '172.16.0.100', ttl: 58 }).tcp({ sport: 1, dport: 80 }).build().subarray(14);
    const ipip = eth().ipip({ src: '172.16.0.2', dst: '10.20.1.5', ttl: 58 }).payload(inner).build();
    const f = byName(ipip);
    expect(f.get('ip.proto')!.text).toBe('4');
    expect(f.get('inner.ip.dst')!.text).toBe('172.16.0.100');
    expect(f.get('inner.tcp.dstport')!.text).toBe('80');
    const icmp = eth().ipv4({ src: '10.0.0.100', dst: '203.0.113.7' }).icmp({ type: 3, code: 4, mtu: 1480, payload: inner.subarray(0, 28) }).build();
    const g = byName(icmp);
    expect(g.get('icmp.mtu')!.text).toBe('1480');
    expect(g.get('inner.ip.src')!.text).toBe('203.0.113.7');
    expect(g.get('inner.tcp.srcport')!.text).toBe('1');
    // an 8-byte quote has no TCP flags: the dissector does not invent them
    expect(g.has('inner.tcp.flags')).toBe(false);
  });

  it('keeps the padding of a short frame apart, and the VLAN tag fields', () => {
    const arp = eth({ dst: 'ff:ff:ff:ff:ff:ff' }).vlan(7, 3).arp({ op: 'request', sha: '02:00:00:00:00:01', spa: '10.0.0.1', tpa: '10.0.0.2' }).build();
    const padded = new Uint8Array(64);
    padded.set(arp);
    const f = byName(padded);
    expect(f.get('vlan.id')!.text).toBe('7');
    expect(f.get('vlan.priority')!.text).toBe('3');
    expect(f.get('arp.opcode')!.text).toBe('1 (request)');
    expect(f.get('eth.padding')).toMatchObject({ off: arp.length, size: 64 - arp.length });
    expect(dissectFrame(new Uint8Array(5)).fields.map((x) => x.name)).toEqual(['data']);
  });
});

describe('ignoring fields', () => {
  it('matches a whole name or its last parts, and knows which names exist', () => {
    expect(maskMatches('ttl', 'ip.ttl')).toBe(true);
    expect(maskMatches('ttl', 'inner.ip.ttl')).toBe(true);
    expect(maskMatches('ip.ttl', 'inner.ip.ttl')).toBe(true);
    expect(maskMatches('inner.ip.ttl', 'ip.ttl')).toBe(false);
    expect(maskMatches('tl', 'ip.ttl')).toBe(false);
    expect(isKnownFieldMask('ttl')).toBe(true);
    expect(isKnownFieldMask('inner.tcp.seq')).toBe(true);
    expect(isKnownFieldMask('ip.tll')).toBe(false);
  });

  it('takes the checksums over an ignored field with it, and no other', () => {
    const d = dissectFrame(syn);
    const names = (masks: string[]) => [...ignoredFields(d, masks)].map((i) => d.fields[i]!.name).sort();
    expect(names(['ip.id'])).toEqual(['ip.checksum', 'ip.id']);
    // the TCP checksum covers the pseudo-header's addresses, the IP checksum covers the header
    expect(names(['ip.dst'])).toEqual(['ip.checksum', 'ip.dst', 'tcp.checksum']);
    expect(names(['tcp.seq'])).toEqual(['tcp.checksum', 'tcp.seq']);
    expect(names([])).toEqual([]);
  });

  it('clears only the bits of a field that shares its bytes', () => {
    const d = dissectFrame(syn);
    const i = d.fields.findIndex((f) => f.name === 'ip.flags');
    const m = maskedCopy(syn, 0, syn.length, d, new Set([i]));
    expect(m[20]).toBe(syn[20]! & 0x1f);
    expect(m[21]).toBe(syn[21]);
    expect(Buffer.from(m.subarray(0, 20)).equals(Buffer.from(syn.subarray(0, 20)))).toBe(true);
  });
});

describe('frameSummary', () => {
  it('says in one line what a frame is', () => {
    expect(frameSummary(syn)).toBe('TCP 203.0.113.7:45000 > 10.0.0.100:80 [S] seq 100 ack 0 len 2');
    expect(frameSummary(eth().arp({ op: 'reply', sha: '02:00:00:00:10:11', spa: '192.168.10.11', tpa: '192.168.10.1' }).build()))
      .toBe('ARP reply 192.168.10.11 is-at 02:00:00:00:10:11');
    expect(frameSummary(eth().ipv4({ src: '1.2.3.4', dst: '5.6.7.8' }).udp({ sport: 5, dport: 53, payload: 'abc' }).build())).toBe('UDP 1.2.3.4:5 > 5.6.7.8:53 len 3');
    const later = eth().ipv4({ src: '1.2.3.4', dst: '5.6.7.8', id: 9, fragOffset: 185, protocol: 17 }).payload(new Uint8Array(20)).build();
    expect(frameSummary(later)).toBe('IPv4 1.2.3.4 > 5.6.7.8 proto 17 (fragment id 0x0009 offset 1480)');
    const q = eth().ipv4({ src: '10.0.0.100', dst: '203.0.113.7' }).tcp({ sport: 80, dport: 45000, flags: 'SA' }).build().subarray(14, 42);
    expect(frameSummary(eth().ipv4({ src: '198.51.100.1', dst: '10.0.0.100' }).icmp({ type: 3, code: 4, mtu: 1400, payload: q }).build()))
      .toBe('ICMP 198.51.100.1 > 10.0.0.100 type 3 code 4 mtu 1400 about TCP 10.0.0.100:80 > 203.0.113.7:45000');
    expect(frameSummary(new Uint8Array(9))).toBe('9 bytes, too short for Ethernet');
  });
});

describe('IPv6 in the dissector', () => {
  const C6 = '2001:db8:ff::7';
  const V6 = '2001:db8:0:1::100';
  const syn6 = eth({ src: '02:00:00:00:00:fe', dst: '02:00:00:00:00:01' })
    .ipv6({ src: C6, dst: V6, hopLimit: 58, tc: 0x28, flowLabel: 0x12345 })
    .tcp({ sport: 45000, dport: 80, flags: 'S', seq: 100 }).build();

  it('names IPv6 header fields and the TCP segment after it, with their places', () => {
    const f = byName(syn6);
    expect([...f.keys()]).toEqual([
      'eth.dst', 'eth.src', 'eth.type', 'ipv6.version', 'ipv6.tclass', 'ipv6.flow', 'ipv6.plen', 'ipv6.nxt', 'ipv6.hlim', 'ipv6.src', 'ipv6.dst',
      'tcp.srcport', 'tcp.dstport', 'tcp.seq', 'tcp.ack', 'tcp.hdr_len', 'tcp.flags', 'tcp.window_size', 'tcp.checksum', 'tcp.urgent_pointer',
    ]);
    expect(f.get('ipv6.hlim')).toMatchObject({ off: 21, size: 1, text: '58' });
    expect(f.get('ipv6.src')).toMatchObject({ off: 22, size: 16, text: C6 });
    expect(f.get('ipv6.dst')).toMatchObject({ off: 38, size: 16, text: V6 });
    expect(f.get('ipv6.flow')!.text).toBe('0x12345');
    expect(f.get('tcp.dstport')).toMatchObject({ off: 56, text: '80' });
    expect(frameSummary(syn6)).toBe(`TCP [${C6}]:45000 > [${V6}]:80 [S] seq 100 ack 0 len 0`);
  });

  it('walks extension headers, and reads ICMPv6: ND with its target, an error with the packet it quotes, ip6ip6', () => {
    const ext = byName(eth().ipv6({ src: C6, dst: V6 }).hopByHop().udp({ sport: 1, dport: 2, payload: 'x' }).build());
    expect(ext.get('ipv6.ext')).toMatchObject({ off: 54, size: 8 });
    expect(ext.get('udp.dstport')!.text).toBe('2');
    const ns = eth().ipv6({ src: 'fe80::1', dst: 'ff02::1:ff00:100', hopLimit: 255 }).icmpv6({ type: 135, target: V6, options: [{ sll: '02:00:00:00:00:01' }] }).build();
    expect(byName(ns).get('icmpv6.nd.target')!.text).toBe(V6);
    expect(byName(ns).get('icmpv6.nd.options')!.size).toBe(8);
    expect(frameSummary(ns)).toBe(`ICMPv6 fe80::1 > ff02::1:ff00:100 neighbour solicitation who-has ${V6}`);
    const na = eth().ipv6({ src: V6, dst: 'fe80::1', hopLimit: 255 }).icmpv6({ type: 136, target: V6, flags: 'RSO' }).build();
    expect(frameSummary(na)).toBe(`ICMPv6 ${V6} > fe80::1 neighbour advertisement ${V6} R S O`);
    const ptb = eth().ipv6({ src: V6, dst: C6 }).icmpv6({ type: 2, mtu: 1460 }).payload(syn6.subarray(14)).build();
    const p = byName(ptb);
    expect(p.get('icmpv6.mtu')!.text).toBe('1460');
    expect(p.get('inner.ipv6.dst')!.text).toBe(V6);
    expect(p.get('inner.tcp.dstport')!.text).toBe('80');
    expect(frameSummary(ptb)).toBe(`ICMPv6 ${V6} > ${C6} type 2 code 0 mtu 1460 about TCP [${C6}]:45000 > [${V6}]:80 [S] seq 100 ack 0 len 0`);
    const tun = eth().ip6ip6({ src: '2001:db8:2::2', dst: '2001:db8:20:1::5' }).payload(syn6.subarray(14)).build();
    expect(byName(tun).get('inner.tcp.srcport')!.text).toBe('45000');
    expect(frameSummary(tun)).toBe(`IPv6-in-IPv6 2001:db8:2::2 > 2001:db8:20:1::5: TCP [${C6}]:45000 > [${V6}]:80 [S] seq 100 ack 0 len 0`);
  });

  it('ignoring an IPv6 address takes the TCP and ICMPv6 checksums over its pseudo-header with it', () => {
    const d = dissectFrame(syn6);
    const names = [...ignoredFields(d, ['ipv6.dst'])].map((i) => d.fields[i]!.name).sort();
    expect(names).toEqual(['ipv6.dst', 'tcp.checksum']);
    const echo = eth().ipv6({ src: C6, dst: V6 }).icmpv6({ type: 128, id: 1, seq: 1 }).build();
    const e = dissectFrame(echo);
    expect([...ignoredFields(e, ['ipv6.src'])].map((i) => e.fields[i]!.name).sort()).toEqual(['icmpv6.checksum', 'ipv6.src']);
    expect([...ignoredFields(e, ['ipv6.hlim'])].map((i) => e.fields[i]!.name)).toEqual(['ipv6.hlim']);
  });
});
