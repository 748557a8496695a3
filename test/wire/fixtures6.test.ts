// What the IPv6 scapy fixtures (fixtures/wire/ipv6-*, icmpv6-*, ip6ip6-*)
// show beyond the per-field checks of fixtures.test.ts.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ip6LinkLocalFromMac, ip6MulticastMac, ip6SolicitedNode, ip6ToString, newIp6 } from '../../src/wire/addr6.js';
import { tcpChecksumOk6 } from '../../src/wire/checksum6.js';
import { IP6_BAD_PAYLOAD_LENGTH, WIRE_OK } from '../../src/wire/errors.js';
import { EthernetView } from '../../src/wire/ethernet.js';
import { ND_HOP_LIMIT } from '../../src/wire/icmpv6.js';
import { Ipv6View } from '../../src/wire/ipv6.js';
import { formatFrame } from '../../src/wire/printer.js';
import { decode6, type Decoded6 } from './fixtures6.js';

const DIR = join(import.meta.dirname, '../../fixtures/wire');

function frame(name: string): Uint8Array {
  const fx = JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as { hex: string };
  return Uint8Array.from(Buffer.from(fx.hex, 'hex'));
}

function decode(name: string): { f: Uint8Array; eth: EthernetView; d: Decoded6 } {
  const f = frame(name);
  const eth = new EthernetView();
  expect(eth.wrap(f, 0, f.length)).toBe(WIRE_OK);
  return { f, eth, d: decode6(f, eth.payloadOffset, eth.payloadLength) };
}

describe('IPv6 fixture specifics', () => {
  it('icmpv6-ns: addressed as RFC 4861 says, from the EUI-64 address of the sender', () => {
    const { eth, d } = decode('icmpv6-ns');
    const target = newIp6();
    d.icmp!.readTarget(target);
    const group = newIp6();
    ip6SolicitedNode(target, 0, group);
    expect(d.ip.dstEquals(group)).toBe(true);
    expect(eth.dst).toBe(ip6MulticastMac(group));
    const ll = newIp6();
    ip6LinkLocalFromMac(eth.src, ll);
    expect(d.ip.srcEquals(ll)).toBe(true);
    expect([d.ip.hopLimit, d.icmp!.code, d.icmp!.sourceLinkAddr]).toEqual([ND_HOP_LIMIT, 0, eth.src]);
  });

  it('icmpv6-na: solicited and override, not router; target link-layer address of the sender', () => {
    const { eth, d } = decode('icmpv6-na');
    const i = d.icmp!;
    expect([i.routerFlag, i.solicitedFlag, i.overrideFlag, i.targetLinkAddr, i.sourceLinkAddr]).toEqual([false, true, true, eth.src, -1]);
    expect(d.ip.srcEquals(new Uint32Array([0x20010db8, 0, 0, 0x100]))).toBe(true);
    expect(i.targetEquals(new Uint32Array([0x20010db8, 0, 0, 0x100]))).toBe(true);
  });

  it('icmpv6-packet-too-big: 32-bit MTU, and a quote that is a cut packet, not a packet', () => {
    const { f, d } = decode('icmpv6-packet-too-big');
    const i = d.icmp!;
    expect([i.mtu, i.isError, i.embeddedComplete, i.embeddedProtocol, i.embeddedSport, i.embeddedDport, i.embeddedLength])
      .toEqual([1280, true, true, 6, 40000, 80, 72]);
    // the quoted header claims 1420 bytes of payload, only 32 are here: wrap must refuse it
    expect(new Ipv6View().wrap(f, i.embeddedOffset, i.embeddedLength)).toBe(IP6_BAD_PAYLOAD_LENGTH);
    expect(formatFrame(f)[3]).toBe('  quoted ip6 2001:db8::1 > 2001:db8::100 TCP len 1420 ports 40000 > 80');
  });

  it('icmpv6-time-exceeded: the whole probe quoted, ports readable', () => {
    const { d } = decode('icmpv6-time-exceeded');
    const i = d.icmp!;
    expect([i.type, i.code, i.embeddedComplete, i.embeddedProtocol, i.embeddedSport, i.embeddedDport]).toEqual([3, 0, true, 17, 33434, 33435]);
    const a = newIp6();
    i.readEmbeddedDst(a);
    expect(ip6ToString(a)).toBe('2001:db8::100');
  });

  it('ipv6-ext-chain: offsets of each header, an atomic fragment is no fragment', () => {
    const { d } = decode('ipv6-ext-chain');
    const h = d.ext;
    expect([h.hopByHopOffset, h.destOptsOffset, h.fragHeaderOffset, h.upperOffset, h.extLength, h.upperProtocol])
      .toEqual([54, 62, 70, 78, 24, 17]);
    expect([h.fragId, h.fragOffset, h.fragMore, h.isFragment]).toEqual([0x01020304, 0, false, false]);
    expect(d.udp!.complete).toBe(true);
  });

  it('ipv6 fragments: first carries the UDP header, later only data', () => {
    const first = decode('ipv6-first-fragment').d.ext;
    expect([first.isFragment, first.isLaterFragment, first.fragMore, first.fragId, first.upperProtocol, first.upperLength])
      .toEqual([true, false, true, 9, 17, 40]);
    const later = decode('ipv6-later-fragment').d.ext;
    expect([later.isFragment, later.isLaterFragment, later.fragOffset, later.fragMore, later.upperProtocol, later.upperLength])
      .toEqual([true, true, 5, false, 17, 32]);
  });

  it('ipv6-srh-tcp: scapy and tapvs both sum the final destination (segment list[0]), not the current one', () => {
    const { f, d } = decode('ipv6-srh-tcp');
    expect([d.ext.routingType, d.ext.segmentsLeft, d.ext.finalDstOffset]).toEqual([4, 1, d.ext.routingOffset + 8]);
    expect(tcpChecksumOk6(d.tcp!, d.ext.pseudoAddrSum())).toBe(true);
    expect(tcpChecksumOk6(d.tcp!, d.ip.pseudoAddrSum())).toBe(false);
    expect(formatFrame(f).join('\n')).not.toMatch(/BAD/);
  });

  it('ipv6-tcp-syn: traffic class and flow label; ip6ip6-tcp: the outer header as IPVS writes it', () => {
    const syn = decode('ipv6-tcp-syn').d.ip;
    expect([syn.trafficClass, syn.dscp, syn.ecn, syn.flowLabel]).toEqual([0xb8, 46, 0, 0x12345]);
    const t = decode('ip6ip6-tcp').d;
    expect([t.ip.nextHeader, t.ip.trafficClass, t.ip.flowLabel, t.ip.hopLimit]).toEqual([41, t.inner!.trafficClass, 0, t.inner!.hopLimit]);
    expect(t.inner!.flowLabel).toBe(0xbeef);
  });
});
