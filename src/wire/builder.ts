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
import { parseIp6 } from './addr6.js';
import { emitArp, ARP_LEN, ARP_OP_REPLY, ARP_OP_REQUEST } from './arp.js';
import { EMPTY, put16 } from './bytes.js';
import { checksum } from './checksum.js';
import { pseudoAddrSum6Words, tcpFillChecksum6, udpFillChecksum6 } from './checksum6.js';
import { emitEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, type VlanTag } from './ethernet.js';
import { emitIcmp, ICMP_HEADER_LEN, IcmpView } from './icmp.js';
import { emitIpv4, IPV4_FLAG_DF, IPV4_FLAG_MF, IPV4_FLAG_RESERVED } from './ipv4.js';
import {
  emitIcmpv6, ICMPV6_HEADER_LEN, ICMPV6_NEIGHBOR_ADVERT, ICMPV6_NEIGHBOR_SOLICIT, ICMPV6_REDIRECT, Icmpv6View,
  ND_NA_OVERRIDE, ND_NA_ROUTER, ND_NA_SOLICITED, ND_OPT_SOURCE_LL_ADDR, ND_OPT_TARGET_LL_ADDR,
} from './icmpv6.js';
import { emitIp6ExtHeader, emitIpv6, emitIpv6Fragment, IPV6_HEADER_LEN, padIp6Options } from './ipv6.js';
import {
  emitTcp, TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_MIN_HEADER_LEN, TCP_NS, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG, TcpView,
} from './tcp.js';
import { emitUdp, UDP_HEADER_LEN, UdpView } from './udp.js';
import { IpvsSyncWriter, newIpvsSyncConn, type IpvsSyncConn } from './ipvs-sync.js';
import { emitVrrp, VRRP_PROTOCOL, VRRP_TTL, vrrpAdvertLength, VrrpView, type VrrpAdvert } from './vrrp.js';
import { emitGre, greHeaderLengthOf, GRE_PROTO_IPV4, GRE_PROTO_IPV6 } from './gre.js';
import { emitGue, gueHeaderLength, GUE_PROTO_IPIP, GUE_PROTO_IPV6 } from './gue.js';
import {
  emitSctp, sctpChunkType, sctpDataChunk, sctpHeartbeatChunk, sctpInitChunk, sctpLength, sctpSackChunk,
  sctpShutdownChunk, sctpSimpleChunk, SCTP_COOKIE_ECHO, SCTP_DATA, SCTP_DATA_B, SCTP_DATA_E, SCTP_HEARTBEAT,
  SCTP_HEARTBEAT_ACK, SCTP_INIT, SCTP_INIT_ACK, SCTP_SACK, SCTP_SHUTDOWN, type SctpChunk, SctpView,
} from './sctp.js';

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

/** One SCTP chunk: a type and either `value` (raw) or the typed fields of that type. */
export interface SctpChunkOpts {
  /** Number or name: 'INIT', 'INIT ACK' (or 'INIT_ACK'), 'DATA', 'SACK', 'COOKIE ECHO', 'ABORT', ... */
  type: number | string;
  flags?: number;
  /** The raw value (after the 4-byte chunk header, padding excluded); overrides the typed fields. */
  value?: Bytes;
  /** INIT / INIT ACK (defaults: a_rwnd 65535, 10 streams each way, initial TSN 0). */
  initTag?: number;
  aRwnd?: number;
  outStreams?: number;
  inStreams?: number;
  initialTsn?: number;
  params?: { type: number; value: Bytes }[];
  /** DATA (flags default B|E: a whole message). */
  tsn?: number;
  streamId?: number;
  streamSeq?: number;
  ppid?: number;
  data?: Bytes;
  /** SACK and SHUTDOWN. */
  cumTsnAck?: number;
  gaps?: [number, number][];
  dups?: number[];
  /** HEARTBEAT / HEARTBEAT ACK: the Heartbeat Info parameter's value. */
  info?: Bytes;
  /** COOKIE ECHO. */
  cookie?: Bytes;
  /** Damage: a chunk length field to write instead of the real one. */
  length?: number;
}

export interface SctpOpts {
  sport: number;
  dport: number;
  vtag?: number;
  chunks?: SctpChunkOpts[];
  /** A value to write instead of the CRC (the field read big-endian, as SctpView.checksum). */
  checksum?: number;
}

export interface GreOpts {
  /** EtherType of the payload; from the next layer's IP version when omitted (0x0800 / 0x86DD). */
  protocol?: number;
  /** Checksum present (C), computed unless `checksum` is given. */
  csum?: boolean;
  checksum?: number;
  key?: number;
  seq?: number;
  /** Damage: the first 16-bit word (flags and version) written as given. */
  flags?: number;
}

export interface GueOpts {
  /** Payload protocol; from the next layer's IP version when omitted (4 / 41). */
  protocol?: number;
  control?: boolean;
  /** Remote checksum offload fields. */
  remcsum?: { start: number; offset: number };
  /** Damage: the first byte (version, C, hlen) and the flags word written as given. */
  byte0?: number;
  flags?: number;
}

export interface ArpOpts {
  op?: 'request' | 'reply' | number;
  sha: Addr;
  spa: Addr;
  tha?: Addr;
  tpa: Addr;
}

export type Addr6 = string | Uint32Array;

export interface Ipv6Opts {
  src: Addr6;
  dst: Addr6;
  hopLimit?: number; // 64
  /** Traffic class (DSCP and ECN). */
  tc?: number;
  flowLabel?: number;
  /** Derived from the next layer when omitted (59, no next header, before raw payload). */
  nextHeader?: number;
  // Deliberate damage for malformed-input tests:
  payloadLength?: number;
  version?: number;
}

/** Hop-by-hop or destination options. */
export interface Ip6OptionsOpts {
  /** Raw TLV options; padded with Pad1/PadN to a multiple of 8 bytes, as scapy does. */
  options?: Bytes;
  nextHeader?: number;
  /** Overrides the length byte (damage). */
  length?: number;
}

export interface Ip6RoutingOpts {
  /** 0 (deprecated source route), 2 (mobility), 4 (segment routing); default 0. */
  type?: number;
  segmentsLeft?: number;
  /** The addresses: for type 4 in segment list order (list[0], the final destination, first). */
  addresses?: Addr6[];
  /** Type 4: last entry (default addresses.length - 1), flags, tag. */
  lastEntry?: number;
  flags?: number;
  tag?: number;
  /** Raw type-specific bytes after the first 4, instead of addresses. */
  data?: Bytes;
  nextHeader?: number;
  length?: number;
}

export interface Ip6FragOpts {
  /** In 8-byte units. */
  offset?: number;
  /** More fragments. */
  m?: boolean;
  id?: number;
  nextHeader?: number;
}

export type NdOptionSpec = { sll: Addr } | { tll: Addr } | { type: number; data: Bytes };

export interface Icmpv6Opts {
  type: number;
  code?: number;
  id?: number;
  seq?: number;
  /** Packet too big. */
  mtu?: number;
  /** Parameter problem. */
  pointer?: number;
  /** NS, NA, redirect. */
  target?: Addr6;
  /** NA flags: a number (ND_NA_*) or letters 'R', 'S', 'O'. */
  flags?: number | string;
  /** ND options, in order. */
  options?: NdOptionSpec[];
  /** Raw bytes 4..7 when none of the above fit. */
  rest?: number;
  payload?: Bytes;
  checksum?: number;
  /** Keep only this many bytes of the quoted packet. */
  quote?: number;
}

/** A VRRP advertisement; after ipv4() / ipv6() it also sets protocol 112 and TTL / hop limit 255 unless given. */
export interface VrrpOpts {
  version?: 2 | 3; // 3
  vrid: number;
  priority?: number; // 100
  /** v3: centiseconds (100); v2: seconds (1). */
  interval?: number;
  addrs?: Addr[];
  /** IPv6 addresses (after ipv6()). */
  addrs6?: Addr6[];
  // A v2 peer's authentication, or damage for malformed-input tests (written after the message is built):
  authType?: number;
  authData?: Bytes;
  type?: number;
  reserved?: number;
  count?: number;
  checksum?: number;
}

/** One IPVS sync message (ipvs-sync.ts) as a UDP payload: conns are filled over newIpvsSyncConn(). */
export interface IpvsSyncOpts {
  version?: 0 | 1; // 1
  syncid?: number;
  conns: Partial<IpvsSyncConn>[];
  v0SeqBigEndian?: boolean;
}

type Layer =
  | { kind: 'eth'; o: EthOpts; vlan?: VlanTag }
  | { kind: 'ipv6'; o: Ipv6Opts }
  | { kind: 'ip6opts'; nh: number; o: Ip6OptionsOpts }
  | { kind: 'routing'; o: Ip6RoutingOpts }
  | { kind: 'frag'; o: Ip6FragOpts }
  | { kind: 'icmpv6'; o: Icmpv6Opts }
  | { kind: 'ipv4'; o: Ipv4Opts }
  | { kind: 'tcp'; o: TcpOpts }
  | { kind: 'udp'; o: UdpOpts }
  | { kind: 'icmp'; o: IcmpOpts }
  | { kind: 'arp'; o: ArpOpts }
  | { kind: 'sctp'; o: SctpOpts }
  | { kind: 'gre'; o: GreOpts }
  | { kind: 'gue'; o: GueOpts }
  | { kind: 'raw'; bytes: Uint8Array };

export function toIp(a: Addr): number {
  return typeof a === 'number' ? a >>> 0 : parseIp(a);
}

export function toIp6(a: Addr6): Uint32Array {
  return typeof a === 'string' ? parseIp6(a) : Uint32Array.from(a);
}

export function naFlags(f: number | string | undefined): number {
  if (f === undefined) return 0;
  if (typeof f === 'number') return (f & 0xe0000000) >>> 0;
  let n = 0;
  for (const ch of f.toUpperCase()) {
    if (ch === 'R') n |= ND_NA_ROUTER;
    else if (ch === 'S') n |= ND_NA_SOLICITED;
    else if (ch === 'O') n |= ND_NA_OVERRIDE;
    else throw new Error(`unknown NA flag '${ch}' in '${f}' (R, S, O)`);
  }
  return n >>> 0;
}

/** Next header / protocol number of a layer, as the layer before it announces it. */
function protoOf(l: Layer | undefined, none: number): number {
  switch (l?.kind) {
    case 'tcp': return 6;
    case 'udp': return 17;
    case 'icmp': return 1;
    case 'icmpv6': return 58;
    case 'ipv4': return 4;
    case 'ipv6': return 41;
    case 'ip6opts': return l.nh;
    case 'routing': return 43;
    case 'frag': return 44;
    case 'sctp': return 132;
    default: return none;
  }
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

  ipv6(o: Ipv6Opts): this {
    this.layers.push({ kind: 'ipv6', o });
    return this;
  }

  /** An outer IPv6 header of next header 41; the next layer is the inner IPv6 packet. */
  ip6ip6(o: Ipv6Opts): this {
    this.layers.push({ kind: 'ipv6', o: { ...o, nextHeader: o.nextHeader ?? 41 } });
    return this;
  }

  hopByHop(o: Ip6OptionsOpts = {}): this {
    this.layers.push({ kind: 'ip6opts', nh: 0, o });
    return this;
  }

  destOpts(o: Ip6OptionsOpts = {}): this {
    this.layers.push({ kind: 'ip6opts', nh: 60, o });
    return this;
  }

  routing(o: Ip6RoutingOpts = {}): this {
    this.layers.push({ kind: 'routing', o });
    return this;
  }

  frag(o: Ip6FragOpts = {}): this {
    this.layers.push({ kind: 'frag', o });
    return this;
  }

  icmpv6(o: Icmpv6Opts): this {
    this.layers.push({ kind: 'icmpv6', o });
    if (o.payload !== undefined) this.payload(o.payload);
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

  /** SCTP common header and chunks; the CRC32c covers them and any payload() after. */
  sctp(o: SctpOpts): this {
    this.layers.push({ kind: 'sctp', o });
    return this;
  }

  /** A GRE header after an outer ipv4(); the next layer is the inner packet. */
  gre(o: GreOpts = {}): this {
    this.layers.push({ kind: 'gre', o });
    return this;
  }

  /** A GUE header after ipv4().udp({dport: tun-port}); the next layer is the inner packet. */
  gue(o: GueOpts = {}): this {
    const prev = this.layers[this.layers.length - 1];
    if (!prev || prev.kind !== 'udp') throw new Error('gue() must follow udp()');
    this.layers.push({ kind: 'gue', o });
    return this;
  }

  /** A VRRP advertisement, encoded at once from the enclosing IP layer's addresses (v3 checksum). */
  vrrp(o: VrrpOpts): this {
    const prev = this.layers[this.layers.length - 1];
    let src: number | Uint32Array = 0;
    let dst: number | Uint32Array = 0;
    if (prev?.kind === 'ipv4') {
      prev.o = { ...prev.o, protocol: prev.o.protocol ?? VRRP_PROTOCOL, ttl: prev.o.ttl ?? VRRP_TTL };
      src = toIp(prev.o.src);
      dst = toIp(prev.o.dst);
    } else if (prev?.kind === 'ipv6') {
      prev.o = { ...prev.o, nextHeader: prev.o.nextHeader ?? VRRP_PROTOCOL, hopLimit: prev.o.hopLimit ?? VRRP_TTL };
      src = toIp6(prev.o.src);
      dst = toIp6(prev.o.dst);
    }
    const version = o.version ?? 3;
    const a6 = o.addrs6?.map(toIp6);
    const a: VrrpAdvert = {
      version, vrid: o.vrid, priority: o.priority ?? 100,
      ...(a6 ? { addrs6: Uint32Array.from(a6.flatMap((x) => Array.from(x))) } : { addrs: (o.addrs ?? []).map(toIp) }),
      ...(version === 3 ? { maxAdvertIntCs: o.interval ?? 100 } : { advertIntSec: o.interval ?? 1 }),
      ...(o.type !== undefined ? { type: o.type } : {}),
      ...(o.reserved !== undefined ? { reserved: o.reserved } : {}),
      ...(o.count !== undefined ? { count: o.count } : {}),
    };
    const out = new Uint8Array(vrrpAdvertLength(a));
    emitVrrp(a, out, 0, src, dst);
    if (o.authType !== undefined || o.authData !== undefined) {
      const v = new VrrpView();
      v.buf = out; v.off = 0; v.len = out.length;
      if (o.authType !== undefined) out[4] = o.authType;
      if (o.authData !== undefined) out.set(toBytes(o.authData).subarray(0, 8), v.authDataOffset);
      v.family = a6 ? 6 : 4;
      if (typeof src === 'number' && typeof dst === 'number') v.fillChecksum(src, dst);
      else v.fillChecksum6(src as Uint32Array, 0, dst as Uint32Array, 0);
    }
    if (o.checksum !== undefined) put16(out, 6, o.checksum);
    return this.payload(out);
  }

  /** An IPVS sync message as the payload of the preceding udp() layer. */
  ipvsSync(o: IpvsSyncOpts): this {
    const w = new IpvsSyncWriter({
      version: o.version ?? 1, syncid: o.syncid ?? 0, maxlen: 65507, v0SeqBigEndian: o.v0SeqBigEndian ?? false,
    });
    for (const c of o.conns) {
      const rc = w.add({ ...newIpvsSyncConn(), ...c });
      if (rc !== 0) throw new Error(`ipvsSync: conn not encodable (code ${rc})`);
    }
    return this.payload(w.message().slice());
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
        const type = o.type ?? (next?.kind === 'arp' ? ETHERTYPE_ARP : next?.kind === 'ipv4' ? ETHERTYPE_IPV4
          : next?.kind === 'ipv6' ? ETHERTYPE_IPV6 : 0);
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
          (next?.kind === 'tcp' ? 6 : next?.kind === 'udp' ? 17 : next?.kind === 'icmp' ? 1 : next?.kind === 'ipv4' ? 4 : next?.kind === 'ipv6' ? 41 :
            next?.kind === 'sctp' ? 132 : next?.kind === 'gre' ? 47 : 0);
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
      case 'ipv6': {
        const o = layer.o;
        const out = new Uint8Array(IPV6_HEADER_LEN + tail.length);
        emitIpv6({
          trafficClass: o.tc ?? 0,
          flowLabel: o.flowLabel ?? 0,
          payloadLength: o.payloadLength ?? tail.length,
          nextHeader: o.nextHeader ?? protoOf(next, 59),
          hopLimit: o.hopLimit ?? 64,
          src: toIp6(o.src),
          dst: toIp6(o.dst),
        }, out, 0);
        if (o.version !== undefined) out[0] = ((o.version & 0x0f) << 4) | (out[0]! & 0x0f);
        out.set(tail, IPV6_HEADER_LEN);
        return out;
      }
      case 'ip6opts': {
        const o = layer.o;
        return ip6Ext(o.nextHeader ?? protoOf(next, 59), padIp6Options(toBytes(o.options)), o.length, tail);
      }
      case 'routing': {
        const o = layer.o;
        const type = o.type ?? 0;
        const addrs = (o.addresses ?? []).map(toIp6);
        let body: Uint8Array;
        if (o.data !== undefined) {
          const d = toBytes(o.data);
          body = new Uint8Array(2 + d.length);
          body.set(d, 2);
        } else {
          body = new Uint8Array(6 + 16 * addrs.length);
          if (type === 4) {
            body[2] = o.lastEntry ?? Math.max(addrs.length - 1, 0);
            body[3] = o.flags ?? 0;
            put16(body, 4, o.tag ?? 0);
          }
          addrs.forEach((a, k) => emitIp6Words(body, 6 + 16 * k, a));
        }
        body[0] = type;
        body[1] = o.segmentsLeft ?? 0;
        return ip6Ext(o.nextHeader ?? protoOf(next, 59), body, o.length, tail);
      }
      case 'frag': {
        const o = layer.o;
        const out = new Uint8Array(8 + tail.length);
        emitIpv6Fragment({ nextHeader: o.nextHeader ?? protoOf(next, 59), offset: o.offset ?? 0, m: o.m ?? false, id: o.id ?? 0 }, out, 0);
        out.set(tail, 8);
        return out;
      }
      case 'icmpv6': {
        const o = layer.o;
        const ip = this.enclosingIp(i);
        if (!ip.v6) throw new Error('icmpv6() must follow ipv6() (or its extension headers): the checksum needs its addresses');
        const body = o.quote !== undefined && o.quote < tail.length ? tail.subarray(0, o.quote) : tail;
        let rest = o.rest ?? 0;
        if (o.id !== undefined || o.seq !== undefined) rest = (((o.id ?? 0) << 16) | (o.seq ?? 0)) >>> 0;
        if (o.mtu !== undefined) rest = o.mtu >>> 0;
        if (o.pointer !== undefined) rest = o.pointer >>> 0;
        if (o.flags !== undefined) rest = naFlags(o.flags);
        const hasTarget = o.type === ICMPV6_NEIGHBOR_SOLICIT || o.type === ICMPV6_NEIGHBOR_ADVERT || o.type === ICMPV6_REDIRECT;
        const target = hasTarget || o.target !== undefined ? toIp6(o.target ?? '::') : undefined;
        const opts = (o.options ?? []).map(ndOption);
        const fixed = ICMPV6_HEADER_LEN + (target ? 16 : 0);
        const optLen = opts.reduce((n, x) => n + x.length, 0);
        const out = new Uint8Array(fixed + optLen + body.length);
        emitIcmpv6({ type: o.type, code: o.code ?? 0, rest }, out, 0);
        if (target) emitIp6Words(out, ICMPV6_HEADER_LEN, target);
        let p = fixed;
        for (const x of opts) { out.set(x, p); p += x.length; }
        out.set(body, p);
        const v = new Icmpv6View();
        v.buf = out; v.off = 0; v.len = out.length;
        v.fillChecksum(ip.addrSum);
        if (o.checksum !== undefined) v.checksum = o.checksum;
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
        if (ip.v6) tcpFillChecksum6(v, ip.addrSum);
        else v.fillChecksum(ip.src, ip.dst);
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
        if (ip.v6) udpFillChecksum6(v, ip.addrSum);
        else v.fillChecksum(ip.src, ip.dst);
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
      case 'sctp': {
        const o = layer.o;
        const pkt = { sport: o.sport, dport: o.dport, vtag: o.vtag ?? 0, chunks: (o.chunks ?? []).map(sctpChunkFrom) };
        const n = sctpLength(pkt);
        const out = new Uint8Array(n + tail.length);
        emitSctp(pkt, out, 0);
        let c = 12;
        (o.chunks ?? []).forEach((spec, k) => {
          if (spec.length !== undefined) put16(out, c + 2, spec.length);
          c += (4 + pkt.chunks[k]!.value.length + 3) & ~3;
        });
        out.set(tail, n);
        // the CRC covers any damage and the tail too: compute it over the finished packet
        const v = new SctpView();
        v.buf = out; v.off = 0; v.len = out.length;
        if (o.checksum !== undefined) v.checksum = o.checksum;
        else v.fillChecksum();
        return out;
      }
      case 'gre': {
        const o = layer.o;
        const protocol = o.protocol ?? (tail[0]! >>> 4 === 6 ? GRE_PROTO_IPV6 : tail[0]! >>> 4 === 4 ? GRE_PROTO_IPV4 : 0);
        const h = {
          protocol, csum: o.csum ?? false,
          ...(o.checksum !== undefined ? { checksum: o.checksum } : {}),
          ...(o.key !== undefined ? { key: o.key } : {}),
          ...(o.seq !== undefined ? { seq: o.seq } : {}),
        };
        const out = new Uint8Array(greHeaderLengthOf(h) + tail.length);
        emitGre(h, tail, out, 0);
        if (o.flags !== undefined) put16(out, 0, o.flags);
        return out;
      }
      case 'gue': {
        const o = layer.o;
        const protocol = o.protocol ?? (tail[0]! >>> 4 === 6 ? GUE_PROTO_IPV6 : tail[0]! >>> 4 === 4 ? GUE_PROTO_IPIP : 0);
        const h = { protocol, ...(o.control ? { control: true } : {}), ...(o.remcsum ? { remcsum: o.remcsum } : {}) };
        const n = gueHeaderLength(h);
        const out = new Uint8Array(n + tail.length);
        emitGue(h, out, 0);
        if (o.byte0 !== undefined) out[0] = o.byte0;
        if (o.flags !== undefined) put16(out, 2, o.flags);
        out.set(tail, n);
        return out;
      }
    }
  }

  /**
   * The IP header whose addresses go into layer i's checksum: the IPv4 layer
   * right before it, or the IPv6 layer before it and its extension headers,
   * with the final destination of a routing header that has segments left
   * (RFC 8200 section 8.1).
   */
  private enclosingIp(i: number): { v6: false; src: number; dst: number } | { v6: true; addrSum: number } {
    const prev = this.layers[i - 1];
    if (prev?.kind === 'ipv4') return { v6: false, src: toIp(prev.o.src), dst: toIp(prev.o.dst) };
    let finalDst: Uint32Array | undefined;
    for (let k = i - 1; k >= 0; k--) {
      const l = this.layers[k]!;
      if (l.kind === 'ipv6') {
        const dst = finalDst ?? toIp6(l.o.dst);
        return { v6: true, addrSum: pseudoAddrSum6Words(toIp6(l.o.src), 0, dst, 0) };
      }
      if (l.kind === 'routing') {
        const o = l.o;
        const n = o.addresses?.length ?? 0;
        const type = o.type ?? 0;
        if (finalDst === undefined && (o.segmentsLeft ?? 0) > 0 && n > 0 && (type === 0 || type === 2 || type === 4)) {
          finalDst = toIp6(o.addresses![type === 4 ? 0 : n - 1]!);
        }
        continue;
      }
      if (l.kind !== 'ip6opts' && l.kind !== 'frag') break;
    }
    throw new Error('tcp()/udp() must follow ipv4() or ipv6(): the checksum needs its addresses');
  }
}

function sctpChunkFrom(c: SctpChunkOpts): SctpChunk {
  const type = typeof c.type === 'number' ? c.type : sctpChunkType(c.type);
  if (type < 0 || type > 255) throw new Error(`unknown SCTP chunk type '${c.type}'`);
  if (c.value !== undefined) return sctpSimpleChunk(type, toBytes(c.value), c.flags ?? 0);
  let chunk: SctpChunk;
  switch (type) {
    case SCTP_INIT:
    case SCTP_INIT_ACK:
      chunk = sctpInitChunk({
        initTag: c.initTag ?? 0, aRwnd: c.aRwnd ?? 65535, outStreams: c.outStreams ?? 10, inStreams: c.inStreams ?? 10,
        initialTsn: c.initialTsn ?? 0, params: (c.params ?? []).map((p) => ({ type: p.type, value: toBytes(p.value) })),
      }, type === SCTP_INIT_ACK);
      break;
    case SCTP_DATA:
      chunk = sctpDataChunk({
        tsn: c.tsn ?? 0, streamId: c.streamId ?? 0, streamSeq: c.streamSeq ?? 0, ppid: c.ppid ?? 0,
        data: toBytes(c.data), flags: c.flags ?? (SCTP_DATA_B | SCTP_DATA_E),
      });
      break;
    case SCTP_SACK:
      chunk = sctpSackChunk({ cumTsnAck: c.cumTsnAck ?? 0, aRwnd: c.aRwnd ?? 65535, gaps: c.gaps ?? [], dups: c.dups ?? [] });
      break;
    case SCTP_HEARTBEAT:
    case SCTP_HEARTBEAT_ACK:
      chunk = sctpHeartbeatChunk(toBytes(c.info), type === SCTP_HEARTBEAT_ACK);
      break;
    case SCTP_SHUTDOWN:
      chunk = sctpShutdownChunk(c.cumTsnAck ?? 0);
      break;
    case SCTP_COOKIE_ECHO:
      chunk = sctpSimpleChunk(type, toBytes(c.cookie));
      break;
    default:
      chunk = sctpSimpleChunk(type);
  }
  if (c.flags !== undefined) chunk.flags = c.flags;
  return chunk;
}

function emitIp6Words(buf: Uint8Array, off: number, a: Uint32Array): void {
  for (let k = 0; k < 4; k++) {
    const w = a[k]!;
    buf[off + 4 * k] = w >>> 24;
    buf[off + 4 * k + 1] = w >>> 16;
    buf[off + 4 * k + 2] = w >>> 8;
    buf[off + 4 * k + 3] = w;
  }
}

/** An extension header in front of tail; `length` overrides its length byte. */
function ip6Ext(nextHeader: number, body: Uint8Array, length: number | undefined, tail: Uint8Array): Uint8Array {
  const hdr = new Uint8Array(2 + body.length);
  emitIp6ExtHeader(nextHeader, body, hdr, 0);
  if (length !== undefined) hdr[1] = length;
  return concat(hdr, tail);
}

/** An ND option's bytes, zero-padded to a multiple of 8. */
function ndOption(spec: NdOptionSpec): Uint8Array {
  let type: number;
  let data: Uint8Array;
  if ('sll' in spec) { type = ND_OPT_SOURCE_LL_ADDR; data = macBytes(toMac(spec.sll)); }
  else if ('tll' in spec) { type = ND_OPT_TARGET_LL_ADDR; data = macBytes(toMac(spec.tll)); }
  else { type = spec.type; data = toBytes(spec.data); }
  const units = Math.ceil((2 + data.length) / 8);
  const out = new Uint8Array(units * 8);
  out[0] = type;
  out[1] = units;
  out.set(data, 2);
  return out;
}

function macBytes(mac: number): Uint8Array {
  const b = new Uint8Array(6);
  const hi = Math.floor(mac / 4294967296);
  b[0] = hi >>> 8; b[1] = hi;
  b[2] = mac >>> 24; b[3] = mac >>> 16; b[4] = mac >>> 8; b[5] = mac;
  return b;
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
