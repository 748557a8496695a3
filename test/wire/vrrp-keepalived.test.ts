// Golden input: VRRP adverts sent by a real keepalived 2.2.7 (captured with
// fixtures/wire/keepalived/capture.sh; versions and configs in the README
// there). The view must read them, the receive rules must accept them, and
// emitVrrp must build the very same VRRP bytes from the same fields.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../../src/io/pcap-file.js';
import { parseIp } from '../../src/wire/addr.js';
import { parseIp6, readIp6 } from '../../src/wire/addr6.js';
import { WIRE_OK } from '../../src/wire/errors.js';
import { EthernetView, ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from '../../src/wire/ethernet.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { Ipv6View } from '../../src/wire/ipv6.js';
import { formatFrame } from '../../src/wire/printer.js';
import {
  emitVrrp, VRRP_GROUP_V4, VRRP_TOS, vrrpCheckAdvert, vrrpCheckIpv6, vrrpReceiveIpv4, vrrpSameAddrs4, vrrpSameAddrs6,
  VrrpView, type VrrpAdvert,
} from '../../src/wire/vrrp.js';

const DIR = join(import.meta.dirname, '../../fixtures/wire/keepalived');
const frames = (name: string): Uint8Array[] => readCapture(join(DIR, name)).frames.map((f) => f.data);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const KA_MAC = 0x020000770001;

describe('keepalived 2.2.7 IPv4 adverts', () => {
  const cases = [
    { file: 'vrrp-v2.pcap', version: 2 as const, vips: ['10.77.0.100'] },
    { file: 'vrrp-v3.pcap', version: 3 as const, vips: ['10.77.0.100', '10.77.0.101'] },
  ];
  for (const { file, version, vips } of cases) {
    it(`${file}: VRRPv${version}, accepted, fields as configured, the same bytes as emitVrrp`, () => {
      const fs = frames(file);
      expect(fs.length).toBe(3);
      const prios: number[] = [];
      for (const f of fs) {
        const e = new EthernetView();
        expect(e.wrap(f, 0, f.length)).toBe(WIRE_OK);
        expect([e.src, e.dst, e.etherType]).toEqual([KA_MAC, 0x01005e000012, ETHERTYPE_IPV4]);
        const ip = new Ipv4View();
        expect(ip.wrap(f, e.payloadOffset, e.payloadLength)).toBe(WIRE_OK);
        expect([ip.src, ip.dst, ip.ttl, ip.tos, ip.df, ip.checksumOk()]).toEqual([parseIp('10.77.0.1'), VRRP_GROUP_V4, 255, VRRP_TOS, false, true]);
        const v = new VrrpView();
        expect(vrrpReceiveIpv4(ip, v, { version })).toBe(WIRE_OK);
        expect([v.version, v.type, v.vrid, v.intervalCs, v.trailing]).toEqual([version, 1, 51, 100, 0]);
        if (version === 2) expect([v.authType, v.advertIntSec]).toEqual([0, 1]);
        else expect([v.maxAdvertIntCs, v.reserved]).toEqual([100, 0]);
        expect(vrrpSameAddrs4(v, vips.map(parseIp))).toBe(WIRE_OK);
        prios.push(v.priority);

        const a: VrrpAdvert = {
          version, vrid: 51, priority: v.priority, addrs: vips.map(parseIp),
          ...(version === 2 ? { advertIntSec: 1 } : { maxAdvertIntCs: 100 }),
        };
        const ours = new Uint8Array(v.messageLength);
        emitVrrp(a, ours, 0, ip.src, ip.dst);
        expect(hex(ours)).toBe(hex(f.subarray(v.off, v.off + v.messageLength)));
      }
      // two adverts, then priority 0 as it stops (RFC 5798 6.4.3 / RFC 3768 6.4.3)
      expect(prios).toEqual([100, 100, 0]);
    });
  }

  it('the printer lines', () => {
    expect(formatFrame(frames('vrrp-v2.pcap')[0]!)).toEqual([
      'eth 02:00:00:77:00:01 > 01:00:5e:00:00:12 IPv4 len 54',
      'ip 10.77.0.1 > 224.0.0.18 ttl 255 id 1 tos 0xc0 VRRP len 40 cksum ok',
      'VRRPv2, Advertisement, vrid 51, prio 100, authtype none, intvl 1s, addrs: 10.77.0.100, cksum ok',
    ]);
    expect(formatFrame(frames('vrrp-v3.pcap')[2]!).at(-1))
      .toBe('VRRPv3, Advertisement, vrid 51, prio 0, intvl 100cs, addrs: 10.77.0.100, 10.77.0.101, cksum ok');
  });

  it('an instance of the other version, or with other VIPs, would refuse them', () => {
    const f = frames('vrrp-v2.pcap')[0]!;
    const ip = new Ipv4View();
    ip.wrap(f, 14, f.length - 14);
    const v = new VrrpView();
    expect(vrrpReceiveIpv4(ip, v, { version: 3 })).not.toBe(WIRE_OK);
    expect(vrrpReceiveIpv4(ip, v)).toBe(WIRE_OK);
    expect(vrrpSameAddrs4(v, [parseIp('10.77.0.100'), parseIp('10.77.0.101')])).not.toBe(WIRE_OK);
  });
});

describe('keepalived 2.2.7 IPv6 adverts', () => {
  it('vrrp-v3-ipv6.pcap: hop limit 255 to ff02::12, checksum with the IPv6 pseudo-header, same bytes as emitVrrp', () => {
    const fs = frames('vrrp-v3-ipv6.pcap');
    expect(fs.length).toBe(3);
    const vips = new Uint32Array(8);
    parseIp6('fe80::52', vips, 0);
    parseIp6('2001:db8:77::100', vips, 4);
    const src = new Uint32Array(4);
    const dst = new Uint32Array(4);
    const prios: number[] = [];
    for (const f of fs) {
      const e = new EthernetView();
      expect(e.wrap(f, 0, f.length)).toBe(WIRE_OK);
      expect([e.src, e.dst, e.etherType]).toEqual([KA_MAC, 0x333300000012, ETHERTYPE_IPV6]);
      const ip = new Ipv6View();
      expect(ip.wrap(f, e.payloadOffset, e.payloadLength)).toBe(WIRE_OK);
      readIp6(f, ip.srcOffset, src);
      readIp6(f, ip.dstOffset, dst);
      expect(Array.from(src)).toEqual(Array.from(parseIp6('fe80::ff:fe77:1')));
      expect([ip.hopLimit, ip.trafficClass]).toEqual([255, 0xc0]);
      expect(vrrpCheckIpv6(ip.hopLimit, ip.nextHeader, dst)).toBe(WIRE_OK);
      const v = new VrrpView();
      expect(v.wrap(f, ip.payloadOffset, ip.payloadLength, 6)).toBe(WIRE_OK);
      expect(vrrpCheckAdvert(v, 3)).toBe(WIRE_OK);
      expect(v.checksumOk6(src, 0, dst, 0)).toBe(true);
      expect([v.vrid, v.maxAdvertIntCs, v.count]).toEqual([52, 100, 2]);
      expect(vrrpSameAddrs6(v, vips)).toBe(WIRE_OK);
      prios.push(v.priority);
      const ours = new Uint8Array(40);
      emitVrrp({ version: 3, vrid: 52, priority: v.priority, addrs6: vips }, ours, 0, src, dst);
      expect(hex(ours)).toBe(hex(f.subarray(v.off, v.off + 40)));
    }
    expect(prios).toEqual([150, 150, 0]);
    expect(formatFrame(fs[0]!).at(-1)).toBe('VRRPv3, Advertisement, vrid 52, prio 150, intvl 100cs, addrs: fe80::52, 2001:db8:77::100, cksum ok');
  });
});
