// A fluent packet builder for tests, fixtures and the CLI's "send" helpers.
// Not for the data path: it allocates freely.
//
//   eth({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' })
//     .ipv4({ src: '10.0.0.1', dst: '10.0.0.2', flags: 'DF' })
//     .tcp({ sport: 40000, dport: 80, flags: 'S', seq: 1 })
//     .build()
//
// Layers are encoded last to first, so every length and checksum covers what
// follows it. Layers after an ICMP error become the quoted datagram.

import { parseIp, parseMac } from './addr.js';
import { emitArp, ARP_LEN, ARP_OP_REPLY, ARP_OP_REQUEST } from './arp.js';
import { EMPTY, put16 } from './bytes.js';
import { checksum } from './checksum.js';
import { emitEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4, type VlanTag } from './ethernet.js';
import { emitIcmp, ICMP_HEADER_LEN, IcmpView } from './icmp.js';
import { emitIpv4, IPV4_FLAG_DF, IPV4_FLAG_MF, IPV4_FLAG_RESERVED } from './ipv4.js';
import {
  emitTcp, TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_MIN_HEADER_LEN, TCP_NS, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG, TcpView,
} from './tcp.js';
import { emitUdp, UDP_HEADER_LEN, UdpView } from './udp.js';

export type Addr = string | number;
export type Bytes = Uint8Array | readonly number[] | string;

export interface EthOpts {
  src?: Addr;
  dst?: Addr;
  /** Ethertype; derived from the next layer when omitted. */
  type?: number;
}

export interface Ipv4Opts {
  src: Addr;
  dst: Addr;
  ttl?: number; // 64
  id?: number; // 0
  tos?: number;
  /** Number (IPV4_FLAG_*) or 'DF', 'MF', 'DF|MF', 'evil' (reserved bit). */
  flags?: number | string;
  /** In 8-byte units. */
  fragOffset?: number;
  options?: Bytes;
  /** Derived from the next layer when omitted (0 before raw payload). */
  protocol?: number;
  // Deliberate damage for malformed-input tests:
  checksum?: number;
  totalLength?: number;
  ihl?: number;
  version?: number;
}

export interface TcpOpts {
  sport: number;
  dport: number;
  /** Number (TCP_*) or letters as scapy writes them: 'S', 'SA', 'PA', 'FA', 'R' ... */
  flags?: number | string;
  seq?: number;
  ack?: number;
  window?: number; // 65535
  urgent?: number;
  options?: Bytes;
  payload?: Bytes;
  checksum?: number;
  dataOffset?: number;
}

export interface UdpOpts {
  sport: number;
  dport: number;
  payload?: Bytes;
  /** A value to write instead of the computed one; 0 means "no checksum". */
  checksum?: number;
  length?: number;
}

export interface IcmpOpts {
  type: number;
  code?: number;
  id?: number;
  seq?: number;
  /** Next-hop MTU of fragmentation-needed. */
  mtu?: number;
  gateway?: Addr;
  /** Raw bytes 4..7 when none of the above fit. */
  rest?: number;
  payload?: Bytes;
  checksum?: number;
  /** Keep only this many bytes of the quoted datagram (e.g. 28: IP header + 8). */
  quote?: number;
}

export interface ArpOpts {
  op?: 'request' | 'reply' | number;
  sha: Addr;
  spa: Addr;
  tha?: Addr;
  tpa: Addr;
}

type Layer =
  | { kind: 'eth'; o: EthOpts; vlan?: VlanTag }
  | { kind: 'ipv4'; o: Ipv4Opts }
  | { kind: 'tcp'; o: TcpOpts }
  | { kind: 'udp'; o: UdpOpts }
  | { kind: 'icmp'; o: IcmpOpts }
  | { kind: 'arp'; o: ArpOpts }
  | { kind: 'raw'; bytes: Uint8Array };

export function toIp(a: Addr): number {
  return typeof a === 'number' ? a >>> 0 : parseIp(a);
}

export function toMac(a: Addr): number {
  return typeof a === 'number' ? a : parseMac(a);
}

export function toBytes(b: Bytes | undefined): Uint8Array {
  if (b === undefined) return EMPTY;
  if (typeof b === 'string') return new TextEncoder().encode(b);
  return Uint8Array.from(b);
}

export function ipv4Flags(f: number | string | undefined): number {
  if (f === undefined) return 0;
  if (typeof f === 'number') return f & 7;
  let n = 0;
  for (const part of f.split(/[|+, ]+/).filter(Boolean)) {
    const p = part.toUpperCase();
    if (p === 'DF') n |= IPV4_FLAG_DF;
    else if (p === 'MF') n |= IPV4_FLAG_MF;
    else if (p === 'EVIL' || p === 'RESERVED') n |= IPV4_FLAG_RESERVED;
    else throw new Error(`unknown IPv4 flag '${part}'`);
  }
  return n;
}

const TCP_LETTERS: Record<string, number> = {
  F: TCP_FIN, S: TCP_SYN, R: TCP_RST, P: TCP_PSH, A: TCP_ACK, '.': TCP_ACK,
  U: TCP_URG, E: TCP_ECE, C: TCP_CWR, N: TCP_NS,
};

export function tcpFlags(f: number | string | undefined): number {
  if (f === undefined) return 0;
  if (typeof f === 'number') return f & 0x1ff;
  let n = 0;
  for (const ch of f.toUpperCase()) {
    const bit = TCP_LETTERS[ch];
    if (bit === undefined) throw new Error(`unknown TCP flag '${ch}' in '${f}'`);
    n |= bit;
  }
  return n;
}

function concat(head: Uint8Array, tail: Uint8Array): Uint8Array {
  const out = new Uint8Array(head.length + tail.length);
  out.set(head, 0);
  out.set(tail, head.length);
  return out;
}

export class PacketBuilder {
  private readonly layers: Layer[] = [];
  private padLen = 0;

  eth(o: EthOpts = {}): this {
    this.layers.push({ kind: 'eth', o });
    return this;
  }

  /** Adds an 802.1Q tag to the preceding Ethernet layer. */
  vlan(id: number, pcp = 0, dei = false): this {
    const last = this.layers[this.layers.length - 1];
    if (!last || last.kind !== 'eth') throw new Error('vlan() must follow eth()');
    last.vlan = { id, pcp, dei };
    return this;
  }

  ipv4(o: Ipv4Opts): this {
    this.layers.push({ kind: 'ipv4', o });
    return this;
  }

  /** An outer IPv4 header of protocol 4; the next layer is the inner IPv4 packet. */
  ipip(o: Ipv4Opts): this {
    this.layers.push({ kind: 'ipv4', o: { ...o, protocol: o.protocol ?? 4 } });
    return this;
  }

  tcp(o: TcpOpts): this {
    this.layers.push({ kind: 'tcp', o });
    if (o.payload !== undefined) this.payload(o.payload);
    return this;
  }

  udp(o: UdpOpts): this {
    this.layers.push({ kind: 'udp', o });
    if (o.payload !== undefined) this.payload(o.payload);
    return this;
  }

  icmp(o: IcmpOpts): this {
    this.layers.push({ kind: 'icmp', o });
    if (o.payload !== undefined) this.payload(o.payload);
    return this;
  }

  arp(o: ArpOpts): this {
    this.layers.push({ kind: 'arp', o });
    return this;
  }

  payload(b: Bytes): this {
    this.layers.push({ kind: 'raw', bytes: toBytes(b) });
    return this;
  }

  /** Pads the finished frame with zeros to at least n bytes (60 = Ethernet minimum without FCS). */
  padTo(n: number): this {
    this.padLen = n;
    return this;
  }

  build(): Uint8Array {
    let tail: Uint8Array = EMPTY;
    for (let i = this.layers.length - 1; i >= 0; i--) tail = this.encode(i, tail);
    if (tail.length < this.padLen) {
      const padded = new Uint8Array(this.padLen);
      padded.set(tail, 0);
      tail = padded;
    }
    return tail;
  }

  private encode(i: number, tail: Uint8Array): Uint8Array {
    const layer = this.layers[i]!;
    const next = this.layers[i + 1];
    switch (layer.kind) {
      case 'raw':
        return concat(layer.bytes, tail);
      case 'eth': {
        const o = layer.o;
        const type = o.type ?? (next?.kind === 'arp' ? ETHERTYPE_ARP : next?.kind === 'ipv4' ? ETHERTYPE_IPV4 : 0);
        const hdr = new Uint8Array(layer.vlan ? 18 : 14);
        emitEthernet({
          dst: toMac(o.dst ?? 'ff:ff:ff:ff:ff:ff'),
          src: toMac(o.src ?? '02:00:00:00:00:00'),
          etherType: type,
          ...(layer.vlan ? { vlan: layer.vlan } : {}),
        }, hdr, 0);
        return concat(hdr, tail);
      }
      case 'arp': {
        const o = layer.o;
        const hdr = new Uint8Array(ARP_LEN);
        const op = o.op === undefined || o.op === 'request' ? ARP_OP_REQUEST : o.op === 'reply' ? ARP_OP_REPLY : o.op;
        emitArp({ op, sha: toMac(o.sha), spa: toIp(o.spa), tha: toMac(o.tha ?? 0), tpa: toIp(o.tpa) }, hdr, 0);
        return concat(hdr, tail);
      }
      case 'ipv4': {
        const o = layer.o;
        const options = toBytes(o.options);
        const protocol = o.protocol ??
          (next?.kind === 'tcp' ? 6 : next?.kind === 'udp' ? 17 : next?.kind === 'icmp' ? 1 : next?.kind === 'ipv4' ? 4 : 0);
        const hl = 20 + options.length;
        const out = new Uint8Array(hl + tail.length);
        emitIpv4({
          tos: o.tos ?? 0,
          totalLength: o.totalLength ?? hl + tail.length,
          id: o.id ?? 0,
          flags: ipv4Flags(o.flags),
          fragOffset: o.fragOffset ?? 0,
          ttl: o.ttl ?? 64,
          protocol,
          src: toIp(o.src),
          dst: toIp(o.dst),
          options,
        }, out, 0);
        if (o.version !== undefined || o.ihl !== undefined) {
          out[0] = ((o.version ?? 4) << 4) | ((o.ihl ?? hl >>> 2) & 0x0f);
          if (o.checksum === undefined) recomputeIpv4Checksum(out, hl);
        }
        if (o.checksum !== undefined) put16(out, 10, o.checksum);
        out.set(tail, hl);
        return out;
      }
      case 'tcp': {
        const o = layer.o;
        const ip = this.enclosingIp(i);
        const options = toBytes(o.options);
        const hl = TCP_MIN_HEADER_LEN + options.length;
        const out = new Uint8Array(hl + tail.length);
        emitTcp({
          sport: o.sport, dport: o.dport, seq: o.seq ?? 0, ack: o.ack ?? 0, flags: tcpFlags(o.flags),
          window: o.window ?? 65535, urgent: o.urgent ?? 0, options,
        }, out, 0);
        out.set(tail, hl);
        const v = new TcpView();
        v.buf = out; v.off = 0; v.len = out.length;
        v.fillChecksum(ip.src, ip.dst);
        if (o.dataOffset !== undefined) out[12] = (o.dataOffset << 4) | (out[12]! & 0x0f);
        if (o.checksum !== undefined) v.checksum = o.checksum;
        return out;
      }
      case 'udp': {
        const o = layer.o;
        const ip = this.enclosingIp(i);
        const out = new Uint8Array(UDP_HEADER_LEN + tail.length);
        emitUdp({ sport: o.sport, dport: o.dport, length: out.length }, out, 0);
        out.set(tail, UDP_HEADER_LEN);
        const v = new UdpView();
        v.buf = out; v.off = 0; v.len = out.length;
        v.fillChecksum(ip.src, ip.dst);
        if (o.length !== undefined) v.length = o.length;
        if (o.checksum !== undefined) v.checksum = o.checksum;
        return out;
      }
      case 'icmp': {
        const o = layer.o;
        const body = o.quote !== undefined && o.quote < tail.length ? tail.subarray(0, o.quote) : tail;
        let rest = o.rest ?? 0;
        if (o.id !== undefined || o.seq !== undefined) rest = (((o.id ?? 0) << 16) | (o.seq ?? 0)) >>> 0;
        if (o.mtu !== undefined) rest = o.mtu & 0xffff;
        if (o.gateway !== undefined) rest = toIp(o.gateway);
        const out = new Uint8Array(ICMP_HEADER_LEN + body.length);
        emitIcmp({ type: o.type, code: o.code ?? 0, rest }, out, 0);
        out.set(body, ICMP_HEADER_LEN);
        const v = new IcmpView();
        v.buf = out; v.off = 0; v.len = out.length;
        v.fillChecksum();
        if (o.checksum !== undefined) v.checksum = o.checksum;
        return out;
      }
    }
  }

  private enclosingIp(i: number): { src: number; dst: number } {
    const prev = this.layers[i - 1];
    if (!prev || prev.kind !== 'ipv4') throw new Error('tcp()/udp() must follow ipv4(): the checksum needs its addresses');
    return { src: toIp(prev.o.src), dst: toIp(prev.o.dst) };
  }
}

function recomputeIpv4Checksum(out: Uint8Array, hl: number): void {
  put16(out, 10, 0);
  put16(out, 10, checksum(out, 0, hl));
}

/** Starts a frame with an Ethernet header. */
export function eth(o: EthOpts = {}): PacketBuilder {
  return new PacketBuilder().eth(o);
}

/** Starts a bare packet (no link layer), e.g. packet().ipv4(...).udp(...). */
export function packet(): PacketBuilder {
  return new PacketBuilder();
}
