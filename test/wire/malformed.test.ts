// Malformed input: every view must refuse it with the right named code and
// never throw; the printer must say what is wrong instead of crashing.

import { describe, expect, it } from 'vitest';
import { ArpView } from '../../src/wire/arp.js';
import { eth, packet } from '../../src/wire/builder.js';
import {
  ARP_TRUNCATED, ARP_UNSUPPORTED, ETH_TRUNCATED, ETH_VLAN_TRUNCATED, ICMP_TRUNCATED, IP_BAD_IHL, IP_BAD_TOTAL_LENGTH,
  IP_BAD_VERSION, IP_TRUNCATED, TCP_BAD_OFFSET, TCP_TRUNCATED, UDP_BAD_LENGTH, UDP_TRUNCATED, WIRE_ERROR_COUNT,
  WIRE_ERROR_NAMES, WIRE_OK, wireErrorName,
} from '../../src/wire/errors.js';
import { EthernetView } from '../../src/wire/ethernet.js';
import { IcmpView } from '../../src/wire/icmp.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { formatFrame, formatFrameLine } from '../../src/wire/printer.js';
import { TcpView } from '../../src/wire/tcp.js';
import { UdpView } from '../../src/wire/udp.js';

const A = { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' };
const IPS = { src: '10.0.0.1', dst: '10.0.0.2' };

describe('error codes', () => {
  it('have distinct names, reachable by code', () => {
    expect(new Set(WIRE_ERROR_NAMES).size).toBe(WIRE_ERROR_COUNT);
    expect(wireErrorName(IP_BAD_IHL)).toBe('IP_BAD_IHL');
    expect(wireErrorName(WIRE_OK)).toBe('OK');
    expect(wireErrorName(999)).toBe('WIRE_ERROR_999');
  });
});

describe('truncation at every byte offset', () => {
  const tcpFrame = eth(A).ipv4(IPS).tcp({ sport: 1, dport: 2, flags: 'S', options: [2, 4, 5, 0xb4] }).build();
  const udpFrame = eth(A).ipv4(IPS).udp({ sport: 1, dport: 2, payload: 'abc' }).build();
  const icmpFrame = eth(A).ipv4(IPS).icmp({ type: 8, id: 1, seq: 1 }).build();
  const arpFrame = eth(A).arp({ sha: A.src, spa: IPS.src, tpa: IPS.dst }).build();
  const vlanFrame = eth(A).vlan(5).ipv4(IPS).udp({ sport: 1, dport: 2 }).build();

  it('Ethernet: under 14 bytes is ETH_TRUNCATED, a cut tag ETH_VLAN_TRUNCATED', () => {
    const v = new EthernetView();
    for (let n = 0; n < 14; n++) expect(v.wrap(vlanFrame, 0, n)).toBe(ETH_TRUNCATED);
    for (let n = 14; n < 18; n++) expect(v.wrap(vlanFrame, 0, n)).toBe(ETH_VLAN_TRUNCATED);
    expect(v.wrap(vlanFrame, 0, 18)).toBe(WIRE_OK);
  });

  it('IPv4 in a cut TCP frame: TRUNCATED below 20 bytes, then BAD_TOTAL_LENGTH until whole', () => {
    const v = new Ipv4View();
    for (let n = 0; n < tcpFrame.length - 14; n++) {
      const rc = v.wrap(tcpFrame, 14, n);
      expect(rc, `len ${n}`).toBe(n < 20 ? IP_TRUNCATED : IP_BAD_TOTAL_LENGTH);
    }
    expect(v.wrap(tcpFrame, 14, tcpFrame.length - 14)).toBe(WIRE_OK);
  });

  it('TCP: TRUNCATED below 20 bytes, BAD_OFFSET while the options are cut', () => {
    const v = new TcpView();
    const seg = tcpFrame.subarray(34);
    for (let n = 0; n < seg.length; n++) {
      expect(v.wrap(seg, 0, n), `len ${n}`).toBe(n < 20 ? TCP_TRUNCATED : TCP_BAD_OFFSET);
    }
    expect(v.wrap(seg, 0, seg.length)).toBe(WIRE_OK);
    expect(v.optionsLength).toBe(4);
  });

  it('UDP: TRUNCATED below 8 bytes, BAD_LENGTH while the data is cut', () => {
    const v = new UdpView();
    const d = udpFrame.subarray(34);
    for (let n = 0; n < d.length; n++) {
      expect(v.wrap(d, 0, n), `len ${n}`).toBe(n < 8 ? UDP_TRUNCATED : UDP_BAD_LENGTH);
    }
    expect(v.wrap(d, 0, d.length)).toBe(WIRE_OK);
  });

  it('ICMP and ARP', () => {
    const i = new IcmpView();
    for (let n = 0; n < 8; n++) expect(i.wrap(icmpFrame, 34, n)).toBe(ICMP_TRUNCATED);
    expect(i.wrap(icmpFrame, 34, 8)).toBe(WIRE_OK);
    const a = new ArpView();
    for (let n = 0; n < 28; n++) expect(a.wrap(arpFrame, 14, n)).toBe(ARP_TRUNCATED);
    expect(a.wrap(arpFrame, 14, 28)).toBe(WIRE_OK);
  });

  it('the printer names the problem for every prefix of every frame, never throws', () => {
    for (const f of [tcpFrame, udpFrame, icmpFrame, arpFrame, vlanFrame]) {
      for (let n = 0; n < f.length; n++) {
        const line = formatFrameLine(f.subarray(0, n));
        expect(line, `prefix ${n}`).toMatch(/_TRUNCATED|_BAD_/);
      }
    }
    expect(formatFrameLine(tcpFrame.subarray(0, 40))).toMatch(/ip IP_BAD_TOTAL_LENGTH/);
  });

  it('a length argument beyond the buffer is refused, not read past', () => {
    expect(new Ipv4View().wrap(tcpFrame, 14, tcpFrame.length)).toBe(IP_TRUNCATED);
    expect(new EthernetView().wrap(tcpFrame, 0, tcpFrame.length + 1)).toBe(ETH_TRUNCATED);
    expect(new TcpView().wrap(tcpFrame, -1, 30)).toBe(TCP_TRUNCATED);
  });
});

describe('IPv4 header fields that lie', () => {
  const v = new Ipv4View();
  const wrapIp = (f: Uint8Array): number => v.wrap(f, 0, f.length);

  it('IHL below 5', () => {
    for (let ihl = 0; ihl < 5; ihl++) {
      expect(wrapIp(packet().ipv4({ ...IPS, ihl }).udp({ sport: 1, dport: 2 }).build()), `ihl ${ihl}`).toBe(IP_BAD_IHL);
    }
  });

  it('IHL past the end of the packet', () => {
    // 20-byte header + 8-byte UDP = 28 bytes; IHL 8 claims 32
    expect(wrapIp(packet().ipv4({ ...IPS, ihl: 8 }).udp({ sport: 1, dport: 2 }).build())).toBe(IP_BAD_IHL);
    // IHL 7 = 28 bytes fits; total length 28 >= 28, so it wraps (the "options" eat the UDP header)
    expect(wrapIp(packet().ipv4({ ...IPS, ihl: 7 }).udp({ sport: 1, dport: 2 }).build())).toBe(WIRE_OK);
  });

  it('total length beyond the frame, or below the header', () => {
    expect(wrapIp(packet().ipv4({ ...IPS, totalLength: 29 }).udp({ sport: 1, dport: 2 }).build())).toBe(IP_BAD_TOTAL_LENGTH);
    expect(wrapIp(packet().ipv4({ ...IPS, totalLength: 19 }).udp({ sport: 1, dport: 2 }).build())).toBe(IP_BAD_TOTAL_LENGTH);
    expect(wrapIp(packet().ipv4({ ...IPS, totalLength: 0 }).build())).toBe(IP_BAD_TOTAL_LENGTH);
  });

  it('trailing bytes beyond total length are padding, ignored', () => {
    const f = eth(A).ipv4(IPS).udp({ sport: 1, dport: 2, payload: 'x' }).padTo(60).build();
    expect(f.length).toBe(60);
    expect(v.wrap(f, 14, 46)).toBe(WIRE_OK);
    expect([v.totalLength, v.payloadLength]).toEqual([29, 9]);
    const u = new UdpView();
    expect(u.wrap(f, v.payloadOffset, v.payloadLength)).toBe(WIRE_OK);
    expect(u.checksumOk(v.src, v.dst)).toBe(true);
  });

  it('a version other than 4', () => {
    expect(wrapIp(packet().ipv4({ ...IPS, version: 6 }).build())).toBe(IP_BAD_VERSION);
  });

  it('TCP data offset below 5 or past the segment', () => {
    const t = new TcpView();
    for (const dataOffset of [0, 4, 6, 15]) {
      const f = packet().ipv4(IPS).tcp({ sport: 1, dport: 2, dataOffset }).build();
      expect(t.wrap(f, 20, f.length - 20), `doff ${dataOffset}`).toBe(TCP_BAD_OFFSET);
    }
  });

  it('UDP length field below 8', () => {
    const f = packet().ipv4(IPS).udp({ sport: 1, dport: 2, length: 7 }).build();
    expect(new UdpView().wrap(f, 20, 8)).toBe(UDP_BAD_LENGTH);
  });

  it('ARP for something other than IPv4 over Ethernet', () => {
    const f = eth(A).arp({ sha: A.src, spa: IPS.src, tpa: IPS.dst }).build();
    const a = new ArpView();
    for (const [at, val] of [[15, 6], [16, 0x86], [18, 8], [19, 16]] as const) {
      const g = f.slice();
      g[at] = val;
      expect(a.wrap(g, 14, 28), `byte ${at}`).toBe(ARP_UNSUPPORTED);
    }
  });
});

describe('bad checksums are reported, never thrown', () => {
  it('IPv4, TCP, UDP, ICMP: checksumOk false, printer shows the expected value', () => {
    const good = eth(A).ipv4(IPS).tcp({ sport: 1, dport: 2, flags: 'SA' }).build();
    const goodSum = (good[50]! << 8) | good[51]!;
    const ipSum = (good[24]! << 8) | good[25]!;
    const bad = eth(A).ipv4({ ...IPS, checksum: ipSum ^ 1 }).tcp({ sport: 1, dport: 2, flags: 'SA', checksum: goodSum ^ 0x100 }).build();
    const ip = new Ipv4View();
    expect(ip.wrap(bad, 14, bad.length - 14)).toBe(WIRE_OK);
    expect(ip.checksumOk()).toBe(false);
    expect(ip.expectedChecksum()).toBe(ipSum);
    const tcp = new TcpView();
    expect(tcp.wrap(bad, 34, ip.payloadLength)).toBe(WIRE_OK);
    expect(tcp.checksumOk(ip.src, ip.dst)).toBe(false);
    expect(tcp.expectedChecksum(ip.src, ip.dst)).toBe(goodSum);
    const lines = formatFrame(bad);
    expect(lines[1]).toContain(`cksum BAD (expected 0x${ipSum.toString(16).padStart(4, '0')})`);
    expect(lines[2]).toContain(`cksum BAD (expected 0x${goodSum.toString(16).padStart(4, '0')})`);

    const u = eth(A).ipv4(IPS).udp({ sport: 1, dport: 2, payload: 'q', checksum: 0x1111 }).build();
    expect(formatFrame(u)[2]).toMatch(/udp 1 > 2 len 1 cksum BAD \(expected 0x[0-9a-f]{4}\)/);
    const ic = eth(A).ipv4(IPS).icmp({ type: 8, id: 1, seq: 2, checksum: 0x2222 }).build();
    const iv = new IcmpView();
    expect(iv.wrap(ic, 34, 8)).toBe(WIRE_OK);
    expect(iv.checksumOk()).toBe(false);
    iv.fillChecksum();
    expect(iv.checksumOk()).toBe(true);
  });

  it('an ICMP error quoting less than header + 8 bytes is flagged incomplete', () => {
    for (const quote of [0, 19, 20, 27]) {
      const f = eth(A).ipv4(IPS).icmp({ type: 3, code: 3, quote }).ipv4(IPS).udp({ sport: 5, dport: 6, payload: 'zz' }).build();
      const i = new IcmpView();
      expect(i.wrap(f, 34, f.length - 34)).toBe(WIRE_OK);
      expect(i.embeddedLength).toBe(quote);
      expect(i.embeddedComplete, `quote ${quote}`).toBe(false);
      expect(formatFrameLine(f)).toMatch(/incomplete|not an IPv4 header/);
    }
    const full = eth(A).ipv4(IPS).icmp({ type: 3, code: 3, quote: 28 }).ipv4(IPS).udp({ sport: 5, dport: 6 }).build();
    const i = new IcmpView();
    expect(i.wrap(full, 34, full.length - 34)).toBe(WIRE_OK);
    expect(i.embeddedComplete).toBe(true);
    expect([i.embeddedSport, i.embeddedDport]).toEqual([5, 6]);
    // an echo is no error: nothing is quoted
    const echo = eth(A).ipv4(IPS).icmp({ type: 8, payload: full.subarray(34) }).build();
    expect(i.wrap(echo, 34, echo.length - 34)).toBe(WIRE_OK);
    expect(i.embeddedComplete).toBe(false);
  });
});
