// The IPv6 half of the scapy fixture checks (fixtures.test.ts): decoding an
// IPv6 frame with the views, and what they read for each field scapy named.

import { expect } from 'vitest';
import { macToString } from '../../src/wire/addr.js';
import { ip6BytesToString, ip6ToString, newIp6 } from '../../src/wire/addr6.js';
import { tcpChecksumOk6, udpChecksumOk6 } from '../../src/wire/checksum6.js';
import { UDP_BAD_LENGTH, WIRE_OK } from '../../src/wire/errors.js';
import { Icmpv6View, ND_OPT_SOURCE_LL_ADDR, ND_OPT_TARGET_LL_ADDR } from '../../src/wire/icmpv6.js';
import { ip6ip6Inner } from '../../src/wire/ip6ip6.js';
import { Ipv6Headers, Ipv6View } from '../../src/wire/ipv6.js';
import { TcpView } from '../../src/wire/tcp.js';
import { UdpView } from '../../src/wire/udp.js';

export interface Field6 { layer: string; field: string; offset: number; length: number; bytes: string; value: string | number }

export interface Decoded6 {
  ip: Ipv6View;
  inner?: Ipv6View;
  /** The extension headers of the innermost packet. */
  ext: Ipv6Headers;
  tcp?: TcpView;
  udp?: UdpView;
  icmp?: Icmpv6View;
}

function hexRange(buf: Uint8Array, off: number, len: number): string {
  return Buffer.from(buf.subarray(off, off + len)).toString('hex');
}

export function decode6(frame: Uint8Array, off: number, len: number): Decoded6 {
  const ip = new Ipv6View();
  expect(ip.wrap(frame, off, len)).toBe(WIRE_OK);
  const d: Decoded6 = { ip, ext: new Ipv6Headers() };
  let l3 = ip;
  if (ip.nextHeader === 41) {
    d.inner = new Ipv6View();
    expect(ip6ip6Inner(ip, d.inner)).toBe(WIRE_OK);
    l3 = d.inner;
  }
  expect(d.ext.walk(l3)).toBe(WIRE_OK);
  const h = d.ext;
  if (h.isLaterFragment) return d;
  const p = h.upperOffset;
  const n = h.upperLength;
  if (h.upperProtocol === 6) { d.tcp = new TcpView(); expect(d.tcp.wrap(frame, p, n)).toBe(WIRE_OK); }
  if (h.upperProtocol === 17) {
    d.udp = new UdpView();
    if (h.isFragment) {
      // first fragment: the UDP length counts bytes in later fragments
      expect(d.udp.wrap(frame, p, n)).toBe(UDP_BAD_LENGTH);
      expect(d.udp.wrapHeader(frame, p, n)).toBe(WIRE_OK);
      expect(d.udp.complete).toBe(false);
    } else {
      expect(d.udp.wrap(frame, p, n)).toBe(WIRE_OK);
      expect(d.udp.complete).toBe(true);
    }
  }
  if (h.upperProtocol === 58) { d.icmp = new Icmpv6View(); expect(d.icmp.wrap(frame, p, n)).toBe(WIRE_OK); }
  return d;
}

function ipv6Field(ip: Ipv6View | undefined, field: string): string | number | undefined {
  if (!ip) return undefined;
  const a = newIp6();
  switch (field) {
    case 'version': return ip.version;
    case 'tc': return ip.trafficClass;
    case 'fl': return ip.flowLabel;
    case 'plen': return ip.payloadLength;
    case 'nh': return ip.nextHeader;
    case 'hlim': return ip.hopLimit;
    case 'src': ip.readSrc(a); return ip6ToString(a);
    case 'dst': ip.readDst(a); return ip6ToString(a);
  }
  return undefined;
}

/** Offset of the extension header scapy named, from the walk. */
function extOffset(d: Decoded6, layer: string): number {
  switch (layer) {
    case 'IPv6ExtHdrHopByHop': return d.ext.hopByHopOffset;
    case 'IPv6ExtHdrDestOpt': return d.ext.destOptsOffset;
    case 'IPv6ExtHdrFragment': return d.ext.fragHeaderOffset;
    case 'IPv6ExtHdrSegmentRouting': return d.ext.routingOffset;
  }
  return -1;
}

/** What the views say for a field of an IPv6 layer; undefined for layers they leave to the caller (Ether). */
export function ourValue6(d: Decoded6, f: Field6): string | number | undefined {
  const buf = d.ip.buf;
  switch (f.layer) {
    case 'IPv6': return ipv6Field(d.ip, f.field);
    case 'IPv6 inner': return ipv6Field(d.inner, f.field);
    case 'IPv6ExtHdrHopByHop':
    case 'IPv6ExtHdrDestOpt':
    case 'IPv6ExtHdrSegmentRouting': {
      const o = extOffset(d, f.layer);
      const addr = /^addresses\[(\d+)\]$/.exec(f.field);
      const rel = addr ? 8 + 16 * Number(addr[1]) : ({ nh: 0, len: 1, options: 2, type: 2, segleft: 3, lastentry: 4 } as Record<string, number>)[f.field]!;
      expect(o, `${f.layer} where the walk found it`).toBe(f.offset - rel);
      const hl = (buf[o + 1]! + 1) * 8;
      if (f.field === 'nh') return buf[o];
      if (f.field === 'len') return buf[o + 1];
      if (f.field === 'options') return hexRange(buf, o + 2, hl - 2);
      if (f.field === 'type') return d.ext.routingType;
      if (f.field === 'segleft') return d.ext.segmentsLeft;
      if (f.field === 'lastentry') return buf[o + 4];
      if (addr) return ip6BytesToString(buf, o + 8 + 16 * Number(addr[1]));
      return undefined;
    }
    case 'IPv6ExtHdrFragment': {
      const e = d.ext;
      expect(e.fragHeaderOffset).toBeGreaterThanOrEqual(0);
      const m: Record<string, number> = {
        nh: buf[e.fragHeaderOffset]!, offset: e.fragOffset, m: e.fragMore ? 1 : 0, id: e.fragId,
      };
      return m[f.field];
    }
    case 'TCP': {
      const t = d.tcp!;
      const m: Record<string, string | number> = {
        sport: t.sport, dport: t.dport, seq: t.seq, ack: t.ack, dataofs: t.dataOffset, flags: t.flags,
        window: t.window, chksum: t.checksum, urgptr: t.urgentPointer,
        options: hexRange(t.buf, t.optionsOffset, t.optionsLength),
      };
      return m[f.field];
    }
    case 'UDP': {
      const u = d.udp!;
      return ({ sport: u.sport, dport: u.dport, len: u.length, chksum: u.checksum } as Record<string, number>)[f.field];
    }
    case 'ICMPv6': {
      const i = d.icmp!;
      const a = newIp6();
      i.readTarget(a);
      const m: Record<string, string | number> = {
        type: i.type, code: i.code, cksum: i.checksum, id: i.id, seq: i.seq, mtu: i.mtu,
        R: +i.routerFlag, S: +i.solicitedFlag, O: +i.overrideFlag, tgt: ip6ToString(a),
      };
      return m[f.field];
    }
    case 'ICMPv6NDOptSrcLLAddr':
    case 'ICMPv6NDOptDstLLAddr': {
      const i = d.icmp!;
      const type = f.layer === 'ICMPv6NDOptSrcLLAddr' ? ND_OPT_SOURCE_LL_ADDR : ND_OPT_TARGET_LL_ADDR;
      const o = i.ndFindOption(type);
      expect(o).toBe(f.offset - (f.field === 'type' ? 0 : f.field === 'len' ? 1 : 2));
      if (f.field === 'type') return buf[o];
      if (f.field === 'len') return buf[o + 1];
      return macToString(type === ND_OPT_SOURCE_LL_ADDR ? i.sourceLinkAddr : i.targetLinkAddr);
    }
    case 'IPv6 quoted': {
      const i = d.icmp!;
      expect(i.embeddedComplete).toBe(true);
      const a = newIp6();
      if (f.field === 'nh') return i.embeddedProtocol;
      if (f.field === 'src') { i.readEmbeddedSrc(a); return ip6ToString(a); }
      if (f.field === 'dst') { i.readEmbeddedDst(a); return ip6ToString(a); }
      return undefined;
    }
    case 'quoted transport': {
      const i = d.icmp!;
      return f.field === 'sport' ? i.embeddedSport : f.field === 'dport' ? i.embeddedDport : undefined;
    }
  }
  return undefined;
}

/** Every upper-layer checksum verifies with the IPv6 pseudo-header (final destination included). */
export function checkSums6(d: Decoded6): void {
  const sum = d.ext.pseudoAddrSum();
  if (d.tcp) expect(tcpChecksumOk6(d.tcp, sum)).toBe(true);
  if (d.udp) expect(udpChecksumOk6(d.udp, sum)).toBe(d.udp.complete);
  if (d.icmp) expect(d.icmp.checksumOk(sum)).toBe(true);
}
