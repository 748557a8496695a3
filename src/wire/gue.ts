// GUE, Generic UDP Encapsulation (draft-ietf-intarea-gue; the kernel's
// include/net/gue.h and net/ipv4/fou_core.c), and LVS-TUN's GUE
// encapsulation (ipvsadm --tun-type gue --tun-port P).
//
// Version 0 header, after the UDP header:
//   byte 0: version (2 bits) | C, control message (1 bit) | hlen (5 bits):
//           the length of the optional fields in 32-bit words
//   byte 1: proto/ctype: for data, the IP protocol of the payload (4 IPv4, 41 IPv6)
//   bytes 2-3: flags; the kernel knows only bit 0, P: private flags present
//   then hlen * 4 bytes of fields; with P the first 4 are the private flags,
//   where the kernel knows only bit 31, REMCSUM, followed by two 16-bit
//   fields: checksum start and checksum field offset, both counted from the
//   start of the GUE payload (the inner IP packet).
// Version 1 has no header: the UDP payload is the IPv4 or IPv6 packet itself
// (its first two bits, 01, read as version 1).
//
// What the kernel's IPVS emits (ip_vs_xmit.c, ipvs_gue_encap, then
// udp_set_csum), matched by encapGue:
//   - outer IPv4 as for every IPVS tunnel (see tunnel.ts), protocol 17;
//   - UDP destination port: the real server's tun-port; source port: from
//     the packet's flow hash (udp_flow_src_port over the ephemeral port
//     range, 32768-60999 by default), see gueSourcePort;
//   - GUE version 0, C = 0, flags 0, hlen 0, proto 4 (IPIP) or 41 (IPv6);
//   - --tun-remcsum adds P, private flags = REMCSUM and start / offset
//     (hlen 2, 12 bytes of GUE), but only when the inner packet's transport
//     checksum is still to be computed (the kernel's CHECKSUM_PARTIAL, here:
//     the caller passes csumStart >= 0); a packet whose checksum is complete
//     gets the plain 4-byte header;
//   - UDP checksum: computed (a computed 0 sent as 0xFFFF) with --tun-csum
//     and also with --tun-remcsum, which needs it; 0 with --tun-nocsum.
//
// The drafts describe remote checksum offload as a GUE extension of their
// own; the kernel (and so IPVS) signals it with its private flag instead,
// which is the layout here.

import { EMPTY, get16, get32, put16, put32 } from './bytes.js';
import { csumFinish, pseudoHeaderSum, sumBytes } from './checksum.js';
import {
  GUE_BAD_CSUM_OFFSET, GUE_BAD_FLAGS, GUE_BAD_HLEN, GUE_BAD_VERSION, GUE_NO_HEADROOM, GUE_TRUNCATED,
  IP_BAD_TOTAL_LENGTH, TUN_BAD_INNER, WIRE_OK, WireError,
} from './errors.js';
import type { UdpView } from './udp.js';
import { innerIpVersion, TUN6_OUTER_LEN, TUN_OUTER_LEN, writeTunnelOuterIpv4, writeTunnelOuterIpv6 } from './tunnel.js';
import { pseudoAddrSum6Words, pseudoHeaderSum6 } from './checksum6.js';
import { IPPROTO_UDP } from './ipproto.js';


export const GUE_HEADER_LEN = 4;
/** Standard flag: private flags follow the header. */
export const GUE_FLAG_PRIV = 0x0001;
export const GUE_LEN_PRIV = 4;
/** Private flag: remote checksum offload fields follow the private flags. */
export const GUE_PFLAG_REMCSUM = 0x80000000;
export const GUE_PLEN_REMCSUM = 4;
/** Payload protocols of data messages. */
export const GUE_PROTO_IPIP = 4;
export const GUE_PROTO_IPV6 = 41;
/** The default ephemeral port range (net.ipv4.ip_local_port_range) the kernel picks source ports in. */
export const GUE_PORT_MIN = 32768;
export const GUE_PORT_MAX = 60999;

const UDP_HEADER_LEN = 8;
// UDP header, relative to it
const U_SPORT = 0;
const U_DPORT = 2;
const U_LEN = 4;
const U_CSUM = 6;
// GUE header, relative to it
const G_BYTE0 = 0;
const G_PROTO = 1;
const G_FLAGS = 2;
const G_FIELDS = 4;
const VERSION_SHIFT = 6;
const CONTROL_BIT = 0x20;
const HLEN_MASK = 0x1f;
// inner IPv4 / IPv6 fields the flow hash reads
const V4_FRAG = 6;
const V4_PROTO = 9;
const V4_SRC = 12;
const V4_DST = 16;
const V6_NEXT = 6;
const V6_SRC = 8;
const V6_DST = 24;
const V6_HEADER_LEN = 40;

export class GueView {
  buf: Uint8Array = EMPTY;
  off = 0;
  /** The UDP payload: GUE header and the encapsulated packet. */
  len = 0;

  /**
   * Returns WIRE_OK, GUE_TRUNCATED, GUE_BAD_VERSION (2 or 3, or version 1
   * not followed by IPv4 / IPv6), GUE_BAD_FLAGS (a standard or private flag
   * the kernel does not know: it drops those) or GUE_BAD_HLEN (the flags need
   * more fields than hlen gives).
   */
  wrap(buf: Uint8Array, off: number, len: number): number {
    if (len < 1 || off < 0 || off + len > buf.length) return GUE_TRUNCATED;
    const b0 = buf[off + G_BYTE0]!;
    const version = b0 >>> VERSION_SHIFT;
    if (version === 1) {
      const ipv = b0 >>> 4;
      if (ipv !== 4 && ipv !== 6) return GUE_BAD_VERSION;
    } else if (version !== 0) {
      return GUE_BAD_VERSION;
    } else {
      if (len < GUE_HEADER_LEN) return GUE_TRUNCATED;
      const optlen = (b0 & HLEN_MASK) << 2;
      if (GUE_HEADER_LEN + optlen > len) return GUE_TRUNCATED;
      const flags = get16(buf, off + G_FLAGS);
      if (flags & ~GUE_FLAG_PRIV) return GUE_BAD_FLAGS;
      if (flags & GUE_FLAG_PRIV) {
        if (optlen < GUE_LEN_PRIV) return GUE_BAD_HLEN;
        const pflags = get32(buf, off + G_FIELDS);
        if ((pflags & ~GUE_PFLAG_REMCSUM) !== 0) return GUE_BAD_FLAGS;
        if (pflags & GUE_PFLAG_REMCSUM && optlen < GUE_LEN_PRIV + GUE_PLEN_REMCSUM) return GUE_BAD_HLEN;
      }
    }
    this.buf = buf;
    this.off = off;
    this.len = len;
    return WIRE_OK;
  }

  /** 0, or 1 for an IP packet carried with no GUE header. */
  get version(): number { return this.buf[this.off + G_BYTE0]! >>> VERSION_SHIFT; }
  /** A control message (proto/ctype is then a control type). */
  get control(): boolean { return this.version === 0 && (this.buf[this.off + G_BYTE0]! & CONTROL_BIT) !== 0; }
  /** Length of the optional fields in 32-bit words. */
  get hlen(): number { return this.version === 0 ? this.buf[this.off + G_BYTE0]! & HLEN_MASK : 0; }
  get headerLength(): number { return this.version === 0 ? GUE_HEADER_LEN + (this.hlen << 2) : 0; }
  /** IP protocol of the payload (version 1: from the IP version), or the control type. */
  get protocol(): number {
    if (this.version === 0) return this.buf[this.off + G_PROTO]!;
    return this.buf[this.off]! >>> 4 === 4 ? GUE_PROTO_IPIP : GUE_PROTO_IPV6;
  }
  set protocol(v: number) { if (this.version === 0) this.buf[this.off + G_PROTO] = v; }
  get flags(): number { return this.version === 0 ? get16(this.buf, this.off + G_FLAGS) : 0; }
  get hasPriv(): boolean { return (this.flags & GUE_FLAG_PRIV) !== 0; }
  /** The private flags word; 0 without P. */
  get privFlags(): number { return this.hasPriv ? get32(this.buf, this.off + G_FIELDS) : 0; }
  get hasRemcsum(): boolean { return (this.privFlags & GUE_PFLAG_REMCSUM) !== 0; }
  /** Remote checksum offload: where the checksummed range starts, from the payload start. */
  get remcsumStart(): number { return this.hasRemcsum ? get16(this.buf, this.off + G_FIELDS + GUE_LEN_PRIV) : 0; }
  /** ... and where the checksum field is, from the payload start. */
  get remcsumOffset(): number { return this.hasRemcsum ? get16(this.buf, this.off + G_FIELDS + GUE_LEN_PRIV + 2) : 0; }

  get payloadOffset(): number { return this.off + this.headerLength; }
  get payloadLength(): number { return this.len - this.headerLength; }
}

/** Wraps `gue` over the payload of a UDP datagram (the caller knows the port is a GUE port). */
export function gueOf(udp: UdpView, gue: GueView): number {
  return gue.wrap(udp.buf, udp.payloadOffset, udp.payloadLength);
}

// ---- the source port ----

function mixWord(h: number, w: number): number {
  h = Math.imul(h ^ w, 0x9e3779b1);
  return h ^ (h >>> 16);
}

/** Folds an IPv6 address (4 words at o) to one word. */
function fold6(buf: Uint8Array, o: number): number {
  return get32(buf, o) ^ get32(buf, o + 4) ^ get32(buf, o + 8) ^ get32(buf, o + 12);
}

function hasPorts(proto: number): boolean {
  return proto === 6 || proto === 17 || proto === 33 || proto === 132 || proto === 136;
}

/**
 * A 32-bit hash of the inner packet's flow: addresses, protocol and, for
 * TCP / UDP / SCTP / DCCP / UDP-Lite that is not a fragment, the ports. Like
 * the kernel's flow hash it is the same in both directions (each pair is
 * ordered before mixing) and never 0. Unlike it, it is not keyed with a
 * random per-boot secret: the same flow gets the same hash on every run, so
 * a replayed capture produces the same source ports. 0 if the buffer does
 * not start with an IPv4 / IPv6 header.
 */
export function gueFlowHash(buf: Uint8Array, off: number, len: number, seed = 0): number {
  const version = innerIpVersion(buf, off, len);
  let a: number;
  let b: number;
  let proto: number;
  let l4: number;
  if (version === 4) {
    a = get32(buf, off + V4_SRC);
    b = get32(buf, off + V4_DST);
    proto = buf[off + V4_PROTO]!;
    const fragmented = (get16(buf, off + V4_FRAG) & 0x3fff) !== 0;
    l4 = fragmented ? -1 : off + ((buf[off]! & 0x0f) << 2);
  } else if (version === 6) {
    a = fold6(buf, off + V6_SRC) >>> 0;
    b = fold6(buf, off + V6_DST) >>> 0;
    proto = buf[off + V6_NEXT]!;
    l4 = off + V6_HEADER_LEN;
  } else {
    return 0;
  }
  let sp = 0;
  let dp = 0;
  if (l4 >= 0 && hasPorts(proto) && l4 + 4 <= off + len) {
    sp = get16(buf, l4);
    dp = get16(buf, l4 + 2);
  }
  let h = mixWord(seed ^ 0x2f6b1c3d, Math.min(a, b) | 0);
  h = mixWord(h, Math.max(a, b) | 0);
  h = mixWord(h, (Math.min(sp, dp) << 16) | Math.max(sp, dp));
  h = mixWord(h, proto);
  h = Math.imul(h ^ (h >>> 15), 0x9e3779b1);
  h = (h ^ (h >>> 13)) >>> 0;
  return h === 0 ? 1 : h;
}

/**
 * The UDP source port the kernel's udp_flow_src_port derives from a flow
 * hash: the hash folded (h ^ h << 16, so the low bits count too), then
 * scaled into [min, max): min + (h * (max - min)) >> 32.
 */
export function gueSourcePort(hash: number, min = GUE_PORT_MIN, max = GUE_PORT_MAX): number {
  const h = (hash ^ (hash << 16)) >>> 0;
  return min + Math.floor((h * (max - min)) / 4294967296);
}

// ---- encapsulation ----

/** A real server's GUE tunnel, bound once (not per packet): what both outer families share. */
export interface GueTunnel6 {
  /** The real server's tun-port: the outer UDP destination. */
  dport: number;
  /** --tun-csum: compute the UDP checksum (otherwise 0, --tun-nocsum). */
  csum: boolean;
  /** --tun-remcsum: remote checksum offload for packets whose inner checksum is partial; implies a UDP checksum. */
  remcsum: boolean;
  /** Outer TTL; the inner TTL / hop limit when omitted or < 0. */
  ttl?: number;
  /** A fixed UDP source port; when omitted, gueSourcePort(gueFlowHash(inner)). */
  sport?: number;
  /** Source port range and hash seed; defaults 32768, 60999, 0. */
  portMin?: number;
  portMax?: number;
  hashSeed?: number;
}

/** The same towards an IPv4 real server: the outer addresses and DF. */
export interface GueTunnel extends GueTunnel6 {
  src: number;
  dst: number;
  /** Copy DF from an IPv4 inner packet (the kernel's sysctl pmtu_disc, on by default). */
  pmtuDisc?: boolean;
}

/** Headroom encapGue needs: outer IPv4, UDP, GUE (12 bytes of it when the remote checksum fields are added). */
export function gueEncapLength(t: GueTunnel, csumStart = -1): number {
  return TUN_OUTER_LEN + UDP_HEADER_LEN + gueLength(t, csumStart);
}

/**
 * Writes outer IPv4 + UDP + GUE into the gueEncapLength(t, csumStart) bytes
 * of headroom before the inner IP packet at innerOff, as the kernel's IPVS
 * does for --tun-type gue. csumStart >= 0 says the inner transport checksum
 * is partial (to be completed by the receiver): it starts csumStart bytes
 * into the inner packet and its field is csumOffset bytes after that (the
 * kernel's csum_start and csum_offset). The inner bytes are not touched.
 * Returns WIRE_OK, GUE_NO_HEADROOM, TUN_BAD_INNER, GUE_BAD_CSUM_OFFSET (the
 * field not inside the inner packet) or IP_BAD_TOTAL_LENGTH.
 */
export function encapGue(
  buf: Uint8Array, innerOff: number, innerLen: number, t: GueTunnel, id: number,
  csumStart = -1, csumOffset = 0,
): number {
  const glen = gueLength(t, csumStart);
  const head = TUN_OUTER_LEN + UDP_HEADER_LEN + glen;
  if (innerOff < head || innerLen < 0 || innerOff + innerLen > buf.length) return GUE_NO_HEADROOM;
  const version = innerIpVersion(buf, innerOff, innerLen);
  if (version === 0) return TUN_BAD_INNER;
  const total = head + innerLen;
  if (total > 0xffff) return IP_BAD_TOTAL_LENGTH;
  if (glen > GUE_HEADER_LEN && (csumOffset < 0 || csumStart + csumOffset + 2 > innerLen)) return GUE_BAD_CSUM_OFFSET;
  const ulen = UDP_HEADER_LEN + glen + innerLen;
  const u = writeGueUdp(buf, innerOff, innerLen, glen, version, t, csumStart, csumOffset);
  if (t.csum || t.remcsum) {
    const c = csumFinish(pseudoHeaderSum(t.src >>> 0, t.dst >>> 0, IPPROTO_UDP, ulen) + sumBytes(buf, u, ulen, 0));
    put16(buf, u + U_CSUM, c === 0 ? 0xffff : c);
  }
  writeTunnelOuterIpv4(buf, innerOff - head, total, IPPROTO_UDP, t.src, t.dst, id, t.ttl ?? -1,
    t.pmtuDisc ?? true, innerOff, version);
  return WIRE_OK;
}

/** GUE header bytes for these settings: 4, or 12 with the remote checksum fields (only for a partial inner checksum). */
function gueLength(t: GueTunnel6, csumStart: number): number {
  return GUE_HEADER_LEN + (t.remcsum && csumStart >= 0 ? GUE_LEN_PRIV + GUE_PLEN_REMCSUM : 0);
}

/**
 * The UDP and GUE headers IPVS writes before the inner packet, the UDP
 * checksum left 0 for the caller (its pseudo-header is the outer family's).
 * Returns where the UDP header starts.
 */
function writeGueUdp(
  buf: Uint8Array, innerOff: number, innerLen: number, glen: number, version: number, t: GueTunnel6,
  csumStart: number, csumOffset: number,
): number {
  const g = innerOff - glen;
  buf[g + G_BYTE0] = (glen - GUE_HEADER_LEN) >>> 2; // version 0, C 0, hlen
  buf[g + G_PROTO] = version === 4 ? GUE_PROTO_IPIP : GUE_PROTO_IPV6;
  put16(buf, g + G_FLAGS, glen > GUE_HEADER_LEN ? GUE_FLAG_PRIV : 0);
  if (glen > GUE_HEADER_LEN) {
    put32(buf, g + G_FIELDS, GUE_PFLAG_REMCSUM);
    put16(buf, g + G_FIELDS + GUE_LEN_PRIV, csumStart);
    put16(buf, g + G_FIELDS + GUE_LEN_PRIV + 2, csumStart + csumOffset);
  }
  const u = g - UDP_HEADER_LEN;
  const sport = t.sport ?? gueSourcePort(gueFlowHash(buf, innerOff, innerLen, t.hashSeed ?? 0),
    t.portMin ?? GUE_PORT_MIN, t.portMax ?? GUE_PORT_MAX);
  put16(buf, u + U_SPORT, sport);
  put16(buf, u + U_DPORT, t.dport);
  put16(buf, u + U_LEN, UDP_HEADER_LEN + glen + innerLen);
  put16(buf, u + U_CSUM, 0);
  return u;
}

/** Headroom encapGue6 needs: outer IPv6, UDP, GUE. */
export function gueEncapLength6(t: GueTunnel6, csumStart = -1): number {
  return TUN6_OUTER_LEN + UDP_HEADER_LEN + gueLength(t, csumStart);
}

/**
 * The same towards an IPv6 real server (ip_vs_tunnel_xmit_v6 with
 * ipvs_gue_encap and udp6_set_csum): UDP and GUE as encapGue writes them,
 * the UDP checksum over the IPv6 pseudo-header with --tun-csum /
 * --tun-remcsum and 0 with --tun-nocsum (as the kernel sends it: a receiver
 * must allow zero-checksum UDP over IPv6, RFC 6936), then the outer IPv6
 * header with next header 17. Returns as encapGue.
 */
export function encapGue6(
  buf: Uint8Array, innerOff: number, innerLen: number, t: GueTunnel6,
  src: Uint32Array, srcOff: number, dst: Uint32Array, dstOff: number,
  csumStart = -1, csumOffset = 0,
): number {
  const glen = gueLength(t, csumStart);
  const head = TUN6_OUTER_LEN + UDP_HEADER_LEN + glen;
  if (innerOff < head || innerLen < 0 || innerOff + innerLen > buf.length) return GUE_NO_HEADROOM;
  const version = innerIpVersion(buf, innerOff, innerLen);
  if (version === 0) return TUN_BAD_INNER;
  const ulen = UDP_HEADER_LEN + glen + innerLen;
  if (ulen > 0xffff) return IP_BAD_TOTAL_LENGTH;
  if (glen > GUE_HEADER_LEN && (csumOffset < 0 || csumStart + csumOffset + 2 > innerLen)) return GUE_BAD_CSUM_OFFSET;
  const u = writeGueUdp(buf, innerOff, innerLen, glen, version, t, csumStart, csumOffset);
  if (t.csum || t.remcsum) {
    const pseudo = pseudoHeaderSum6(pseudoAddrSum6Words(src, srcOff, dst, dstOff), IPPROTO_UDP, ulen);
    const c = csumFinish(pseudo + sumBytes(buf, u, ulen, 0));
    put16(buf, u + U_CSUM, c === 0 ? 0xffff : c);
  }
  writeTunnelOuterIpv6(buf, innerOff - head, ulen, IPPROTO_UDP, src, srcOff, dst, dstOff, t.ttl ?? -1, innerOff, version);
  return WIRE_OK;
}

// ---- plain-object form ----

export interface GueHeader {
  /** Payload IP protocol (4, 41), or the control type with `control`. */
  protocol: number;
  control?: boolean;
  /** Remote checksum offload fields (sets P and the REMCSUM private flag). */
  remcsum?: { start: number; offset: number };
}

export function parseGue(buf: Uint8Array, off = 0, len = buf.length - off): GueHeader & { version: number; hlen: number } {
  const v = new GueView();
  const rc = v.wrap(buf, off, len);
  if (rc !== WIRE_OK) throw new WireError(rc, 'gue');
  const h: GueHeader & { version: number; hlen: number } = { version: v.version, hlen: v.hlen, protocol: v.protocol };
  if (v.control) h.control = true;
  if (v.hasRemcsum) h.remcsum = { start: v.remcsumStart, offset: v.remcsumOffset };
  return h;
}

export function gueHeaderLength(h: GueHeader): number {
  return GUE_HEADER_LEN + (h.remcsum ? GUE_LEN_PRIV + GUE_PLEN_REMCSUM : 0);
}

/** Writes a version 0 header; returns its length. */
export function emitGue(h: GueHeader, buf: Uint8Array, off: number): number {
  const n = gueHeaderLength(h);
  buf[off + G_BYTE0] = (h.control ? CONTROL_BIT : 0) | ((n - GUE_HEADER_LEN) >>> 2);
  buf[off + G_PROTO] = h.protocol;
  put16(buf, off + G_FLAGS, h.remcsum ? GUE_FLAG_PRIV : 0);
  if (h.remcsum) {
    put32(buf, off + G_FIELDS, GUE_PFLAG_REMCSUM);
    put16(buf, off + G_FIELDS + GUE_LEN_PRIV, h.remcsum.start);
    put16(buf, off + G_FIELDS + GUE_LEN_PRIV + 2, h.remcsum.offset);
  }
  return n;
}
