// GRE (RFC 2784, with the key and sequence number of RFC 2890), IP protocol
// 47, and LVS-TUN's GRE encapsulation (ipvsadm --tun-type gre).
//
//   0                   1                   2                   3
//   |C| |K|S|  reserved0    | ver |        protocol type          |
//   |   checksum (if C)             |   reserved1 (if C)            |
//   |                         key (if K)                            |
//   |                  sequence number (if S)                       |
//
// What the kernel's IPVS emits (ip_vs_xmit.c, ipvs_gre_encap and
// gre_build_header), matched here by encapGre:
//   - --tun-nocsum (the default): the 4-byte base header only, flags 0,
//     protocol 0x0800 for an IPv4 inner packet, 0x86DD for IPv6;
//   - --tun-csum: flags 0x8000 (C) and 4 more bytes, checksum then reserved1
//     = 0; the checksum is the Internet checksum of the GRE header and
//     everything after it, with no pseudo-header. The kernel leaves it to the
//     device or to skb_checksum_help, which sends a computed 0 as 0xFFFF;
//     so do we (both values verify).
//   - never a key or a sequence number;
//   - the outer IPv4 header as for every IPVS tunnel (see tunnel.ts), with
//     protocol 47.
//
// Receiving, the view accepts what the kernel's gre_parse_header accepts:
// version 0 and no routing bit (RFC 1701's R); other reserved bits are not
// checked, though RFC 2784 asks receivers to discard packets with them.

import { EMPTY, get16, get32, put16, put32 } from './bytes.js';
import { checksum } from './checksum.js';
import {
  GRE_BAD_FLAGS, GRE_BAD_VERSION, GRE_NOT_GRE, GRE_NO_HEADROOM, GRE_TRUNCATED, IP_BAD_TOTAL_LENGTH,
  TUN_BAD_INNER, WIRE_OK, WireError,
} from './errors.js';
import type { Ipv4View } from './ipv4.js';
import { innerIpVersion, TUN6_OUTER_LEN, TUN_OUTER_LEN, writeTunnelOuterIpv4, writeTunnelOuterIpv6 } from './tunnel.js';
import { IPPROTO_GRE } from './ipproto.js';


export const GRE_BASE_LEN = 4;
export const GRE_MAX_LEN = 16;

/** Bits of the first 16-bit word. */
export const GRE_FLAG_C = 0x8000;
export const GRE_FLAG_R = 0x4000;
export const GRE_FLAG_K = 0x2000;
export const GRE_FLAG_S = 0x1000;
export const GRE_VERSION_MASK = 0x0007;

export const GRE_PROTO_IPV4 = 0x0800;
export const GRE_PROTO_IPV6 = 0x86dd;

const FLAGS = 0;
const PROTO = 2;
const OPT = 4;
const OPT_LEN = 4;

/** GRE header length for a flags word: 4, plus 4 for each of C, K, S. */
export function greHeaderLength(flags: number): number {
  return GRE_BASE_LEN + (flags & GRE_FLAG_C ? OPT_LEN : 0) + (flags & GRE_FLAG_K ? OPT_LEN : 0) +
    (flags & GRE_FLAG_S ? OPT_LEN : 0);
}

export class GreView {
  buf: Uint8Array = EMPTY;
  off = 0;
  /** The GRE packet: header and payload (the outer IP payload length). */
  len = 0;

  /** Returns WIRE_OK, GRE_TRUNCATED, GRE_BAD_VERSION (not 0) or GRE_BAD_FLAGS (routing present). */
  wrap(buf: Uint8Array, off: number, len: number): number {
    if (len < GRE_BASE_LEN || off < 0 || off + len > buf.length) return GRE_TRUNCATED;
    const f = get16(buf, off + FLAGS);
    if ((f & GRE_VERSION_MASK) !== 0) return GRE_BAD_VERSION;
    if (f & GRE_FLAG_R) return GRE_BAD_FLAGS;
    if (greHeaderLength(f) > len) return GRE_TRUNCATED;
    this.buf = buf;
    this.off = off;
    this.len = len;
    return WIRE_OK;
  }

  /** The whole first word: flag bits and version. */
  get flags(): number { return get16(this.buf, this.off + FLAGS); }
  get version(): number { return get16(this.buf, this.off + FLAGS) & GRE_VERSION_MASK; }
  get hasChecksum(): boolean { return (this.buf[this.off + FLAGS]! & (GRE_FLAG_C >>> 8)) !== 0; }
  get hasKey(): boolean { return (this.buf[this.off + FLAGS]! & (GRE_FLAG_K >>> 8)) !== 0; }
  get hasSeq(): boolean { return (this.buf[this.off + FLAGS]! & (GRE_FLAG_S >>> 8)) !== 0; }
  /** EtherType of the payload. */
  get protocol(): number { return get16(this.buf, this.off + PROTO); }
  set protocol(v: number) { put16(this.buf, this.off + PROTO, v); }
  get headerLength(): number { return greHeaderLength(this.flags); }

  private get keyOff(): number { return this.off + OPT + (this.hasChecksum ? OPT_LEN : 0); }
  private get seqOff(): number { return this.keyOff + (this.hasKey ? OPT_LEN : 0); }

  /** The checksum field; 0 when C is clear. */
  get checksum(): number { return this.hasChecksum ? get16(this.buf, this.off + OPT) : 0; }
  set checksum(v: number) { if (this.hasChecksum) put16(this.buf, this.off + OPT, v); }
  /** reserved1, after the checksum; 0 when C is clear. */
  get reserved1(): number { return this.hasChecksum ? get16(this.buf, this.off + OPT + 2) : 0; }
  /** The key; 0 when K is clear. */
  get key(): number { return this.hasKey ? get32(this.buf, this.keyOff) : 0; }
  set key(v: number) { if (this.hasKey) put32(this.buf, this.keyOff, v); }
  /** The sequence number; 0 when S is clear. */
  get seq(): number { return this.hasSeq ? get32(this.buf, this.seqOff) : 0; }
  set seq(v: number) { if (this.hasSeq) put32(this.buf, this.seqOff, v); }

  get payloadOffset(): number { return this.off + this.headerLength; }
  get payloadLength(): number { return this.len - this.headerLength; }

  /** True when the checksum verifies, or when there is none (C clear). */
  checksumOk(): boolean {
    return !this.hasChecksum || checksum(this.buf, this.off, this.len) === 0;
  }

  /** The value the checksum field should hold (0xFFFF for a computed 0, as the kernel). */
  expectedChecksum(): number {
    const o = this.off + OPT;
    const old = get16(this.buf, o);
    put16(this.buf, o, 0);
    const c = checksum(this.buf, this.off, this.len);
    put16(this.buf, o, old);
    return c === 0 ? 0xffff : c;
  }

  /** Recomputes the checksum (C must be set); reserved1 is left as it is. */
  fillChecksum(): void {
    if (!this.hasChecksum) return;
    put16(this.buf, this.off + OPT, this.expectedChecksum());
  }
}

/**
 * Wraps `gre` over the GRE packet carried by the IPv4 packet `outer`.
 * Returns GRE_NOT_GRE for another protocol, else the wrap's code.
 */
export function greOf(outer: Ipv4View, gre: GreView): number {
  if (outer.protocol !== IPPROTO_GRE) return GRE_NOT_GRE;
  return gre.wrap(outer.buf, outer.payloadOffset, outer.payloadLength);
}

/** Headroom encapGre needs before the inner packet: outer IPv4 and GRE. */
export function greEncapLength(csum: boolean): number {
  return TUN_OUTER_LEN + GRE_BASE_LEN + (csum ? OPT_LEN : 0);
}

/** A real server's GRE tunnel, bound once (not per packet). */
export interface GreTunnel {
  /** Outer source (the director's address towards the real server) and destination (the real server). */
  src: number;
  dst: number;
  /** --tun-csum: C flag and checksum present; otherwise --tun-nocsum. */
  csum: boolean;
  /** Outer TTL; the inner TTL / hop limit when omitted or < 0. */
  ttl?: number;
  /** Copy DF from an IPv4 inner packet (the kernel's sysctl pmtu_disc, on by default). */
  pmtuDisc?: boolean;
}

/**
 * Writes outer IPv4 + GRE into the greEncapLength(t.csum) bytes of headroom
 * before the inner IP packet at innerOff, as the kernel's IPVS does for
 * --tun-type gre; the packet then starts at innerOff - greEncapLength(t.csum).
 * Returns WIRE_OK, GRE_NO_HEADROOM, TUN_BAD_INNER (not an IPv4 / IPv6
 * header) or IP_BAD_TOTAL_LENGTH (over 65535 bytes). Nothing is allocated.
 */
export function encapGre(buf: Uint8Array, innerOff: number, innerLen: number, t: GreTunnel, id: number): number {
  const glen = GRE_BASE_LEN + (t.csum ? OPT_LEN : 0);
  const head = TUN_OUTER_LEN + glen;
  if (innerOff < head || innerLen < 0 || innerOff + innerLen > buf.length) return GRE_NO_HEADROOM;
  const version = innerIpVersion(buf, innerOff, innerLen);
  if (version === 0) return TUN_BAD_INNER;
  const total = head + innerLen;
  if (total > 0xffff) return IP_BAD_TOTAL_LENGTH;
  writeGreHeader(buf, innerOff - glen, glen, innerLen, version, t.csum);
  writeTunnelOuterIpv4(buf, innerOff - head, total, IPPROTO_GRE, t.src, t.dst, id, t.ttl ?? -1,
    t.pmtuDisc ?? true, innerOff, version);
  return WIRE_OK;
}

/** The GRE header IPVS writes at g (glen bytes) before an inner packet of innerLen bytes. */
function writeGreHeader(buf: Uint8Array, g: number, glen: number, innerLen: number, version: number, csum: boolean): void {
  put16(buf, g + FLAGS, csum ? GRE_FLAG_C : 0);
  put16(buf, g + PROTO, version === 4 ? GRE_PROTO_IPV4 : GRE_PROTO_IPV6);
  if (csum) {
    put32(buf, g + OPT, 0);
    const c = checksum(buf, g, glen + innerLen);
    put16(buf, g + OPT, c === 0 ? 0xffff : c);
  }
}

/** Headroom encapGre6 needs: outer IPv6 and GRE. */
export function greEncapLength6(csum: boolean): number {
  return TUN6_OUTER_LEN + GRE_BASE_LEN + (csum ? OPT_LEN : 0);
}

/**
 * The same towards an IPv6 real server (ip_vs_tunnel_xmit_v6 with
 * ipvs_gre_encap): the GRE header as encapGre writes it, then the outer IPv6
 * header of tunnel.ts with next header 47. src / dst are the outer addresses
 * as four words at srcOff / dstOff. Returns WIRE_OK, GRE_NO_HEADROOM,
 * TUN_BAD_INNER or IP_BAD_TOTAL_LENGTH (a payload over 65535 bytes).
 */
export function encapGre6(
  buf: Uint8Array, innerOff: number, innerLen: number, csum: boolean,
  src: Uint32Array, srcOff: number, dst: Uint32Array, dstOff: number, hopLimit = -1,
): number {
  const glen = GRE_BASE_LEN + (csum ? OPT_LEN : 0);
  const head = TUN6_OUTER_LEN + glen;
  if (innerOff < head || innerLen < 0 || innerOff + innerLen > buf.length) return GRE_NO_HEADROOM;
  const version = innerIpVersion(buf, innerOff, innerLen);
  if (version === 0) return TUN_BAD_INNER;
  if (glen + innerLen > 0xffff) return IP_BAD_TOTAL_LENGTH;
  writeGreHeader(buf, innerOff - glen, glen, innerLen, version, csum);
  writeTunnelOuterIpv6(buf, innerOff - head, glen + innerLen, IPPROTO_GRE, src, srcOff, dst, dstOff, hopLimit, innerOff, version);
  return WIRE_OK;
}

// ---- plain-object form ----

export interface GreHeader {
  /** EtherType of the payload. */
  protocol: number;
  /** Checksum present (C). On emit, `checksum` is written as given, else computed over `payload`. */
  csum?: boolean;
  checksum?: number;
  /** Key (K) when given. */
  key?: number;
  /** Sequence number (S) when given. */
  seq?: number;
}

export function parseGre(buf: Uint8Array, off = 0, len = buf.length - off): GreHeader {
  const v = new GreView();
  const rc = v.wrap(buf, off, len);
  if (rc !== WIRE_OK) throw new WireError(rc, 'gre');
  const h: GreHeader = { protocol: v.protocol };
  if (v.hasChecksum) { h.csum = true; h.checksum = v.checksum; }
  if (v.hasKey) h.key = v.key;
  if (v.hasSeq) h.seq = v.seq;
  return h;
}

export function greHeaderLengthOf(h: GreHeader): number {
  return GRE_BASE_LEN + (h.csum ? OPT_LEN : 0) + (h.key !== undefined ? OPT_LEN : 0) + (h.seq !== undefined ? OPT_LEN : 0);
}

/**
 * Writes the header and then `payload` (the checksum covers both); returns
 * the bytes written.
 */
export function emitGre(h: GreHeader, payload: Uint8Array, buf: Uint8Array, off: number): number {
  const flags = (h.csum ? GRE_FLAG_C : 0) | (h.key !== undefined ? GRE_FLAG_K : 0) | (h.seq !== undefined ? GRE_FLAG_S : 0);
  put16(buf, off + FLAGS, flags);
  put16(buf, off + PROTO, h.protocol);
  let o = off + OPT;
  if (h.csum) { put32(buf, o, 0); o += OPT_LEN; }
  if (h.key !== undefined) { put32(buf, o, h.key); o += OPT_LEN; }
  if (h.seq !== undefined) { put32(buf, o, h.seq); o += OPT_LEN; }
  buf.set(payload, o);
  const n = o - off + payload.length;
  if (h.csum) {
    const c = h.checksum ?? checksum(buf, off, n);
    put16(buf, off + OPT, h.checksum === undefined && c === 0 ? 0xffff : c);
  }
  return n;
}
