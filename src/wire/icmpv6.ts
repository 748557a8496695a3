// ICMPv6 (RFC 4443) and neighbour discovery (RFC 4861): a checked view and
// plain forms. The checksum covers the IPv6 pseudo-header (RFC 8200 section
// 8.1): the checksum methods take its address sum (Ipv6View.pseudoAddrSum).

import { readMac, writeMac } from './addr.js';
import { ip6EqualsBytes, readIp6, writeIp6 } from './addr6.js';
import { EMPTY, get16, get32, put16, put32 } from './bytes.js';
import { csumFinish, sumBytes } from './checksum.js';
import { pseudoHeaderSum6 } from './checksum6.js';
import { ICMPV6_BAD_ND_OPTION, ICMPV6_TRUNCATED, WIRE_OK, WireError } from './errors.js';
import { NEXTHDR_ICMP, Ipv6Headers, IPV6_HEADER_LEN } from './ipv6.js';

export const ICMPV6_HEADER_LEN = 8;

// error messages (types below 128)
export const ICMPV6_DEST_UNREACH = 1;
export const ICMPV6_PACKET_TOO_BIG = 2;
export const ICMPV6_TIME_EXCEEDED = 3;
export const ICMPV6_PARAM_PROBLEM = 4;
// informational
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;
export const ICMPV6_ROUTER_SOLICIT = 133;
export const ICMPV6_ROUTER_ADVERT = 134;
export const ICMPV6_NEIGHBOR_SOLICIT = 135;
export const ICMPV6_NEIGHBOR_ADVERT = 136;
export const ICMPV6_REDIRECT = 137;

// codes of ICMPV6_DEST_UNREACH
export const ICMPV6_NOROUTE = 0;
export const ICMPV6_ADM_PROHIBITED = 1;
export const ICMPV6_NOT_NEIGHBOUR = 2; // beyond the scope of the source address
export const ICMPV6_ADDR_UNREACH = 3;
export const ICMPV6_PORT_UNREACH = 4;
export const ICMPV6_POLICY_FAIL = 5;
export const ICMPV6_REJECT_ROUTE = 6;
// codes of ICMPV6_TIME_EXCEEDED
export const ICMPV6_EXC_HOPLIMIT = 0;
export const ICMPV6_EXC_FRAGTIME = 1;
// codes of ICMPV6_PARAM_PROBLEM
export const ICMPV6_HDR_FIELD = 0;
export const ICMPV6_UNK_NEXTHDR = 1;
export const ICMPV6_UNK_OPTION = 2;
export const ICMPV6_HDR_INCOMP = 3; // first fragment without the whole header chain (RFC 7112)

/** Neighbour advertisement flags, as they sit in bytes 4..7. */
export const ND_NA_ROUTER = 0x80000000;
export const ND_NA_SOLICITED = 0x40000000;
export const ND_NA_OVERRIDE = 0x20000000;
/** Router advertisement flag byte. */
export const ND_RA_MANAGED = 0x80;
export const ND_RA_OTHER = 0x40;

// neighbour discovery option types
export const ND_OPT_SOURCE_LL_ADDR = 1;
export const ND_OPT_TARGET_LL_ADDR = 2;
export const ND_OPT_PREFIX_INFO = 3;
export const ND_OPT_REDIRECTED_HEADER = 4;
export const ND_OPT_MTU = 5;

/** Neighbour discovery must arrive with hop limit 255: proof it was not routed (RFC 4861 section 7.1). */
export const ND_HOP_LIMIT = 255;

// offsets in the message
const TYPE = 0;
const CODE = 1;
const CSUM = 2;
const REST = 4;
const ND_TARGET = 8;
const REDIRECT_DEST = 24;
const RA_HOPLIMIT = 4;
const RA_FLAGS = 5;
const RA_LIFETIME = 6;
const RA_REACHABLE = 8;
const RA_RETRANS = 12;
// quoted packet, from the start of the quoted IPv6 header
const Q_PLEN = 4;
const Q_SRC = 8;
const Q_DST = 24;
// an ND option: type, length in 8-byte units, data
const OPT_TYPE = 0;
const OPT_LEN = 1;
const OPT_DATA = 2;

/** Types whose body quotes the offending packet. */
export function icmpv6IsError(type: number): boolean {
  return type < 128;
}

/** Where the ND options start, from the message start; 0 for a type with none. */
function ndOptionsStart(type: number): number {
  switch (type) {
    case ICMPV6_ROUTER_SOLICIT: return 8;
    case ICMPV6_ROUTER_ADVERT: return 16;
    case ICMPV6_NEIGHBOR_SOLICIT:
    case ICMPV6_NEIGHBOR_ADVERT: return 24;
    case ICMPV6_REDIRECT: return 40;
    default: return 0;
  }
}

/** The least length a message of this type can have. */
function minLength(type: number): number {
  const nd = ndOptionsStart(type);
  return nd > 0 ? nd : ICMPV6_HEADER_LEN;
}

export class Icmpv6View {
  buf: Uint8Array = EMPTY;
  off = 0;
  /** The whole message: header and body (the upper-layer length). */
  len = 0;
  private qComplete = false;
  private qTransport = 0;
  private qProto = 0;
  /** Walks the quoted packet's extension headers; one per view, reused. */
  private readonly quoted = new Ipv6Headers();

  /**
   * Returns WIRE_OK or ICMPV6_TRUNCATED: under 8 bytes, or shorter than its
   * type's fixed part (24 bytes for NS and NA, 16 for RA, 40 for redirect).
   * For error messages it also walks the quoted packet once (see
   * embeddedComplete).
   */
  wrap(buf: Uint8Array, off: number, len: number): number {
    if (len < ICMPV6_HEADER_LEN || off < 0 || off + len > buf.length) return ICMPV6_TRUNCATED;
    const type = buf[off]!;
    if (len < minLength(type)) return ICMPV6_TRUNCATED;
    this.buf = buf;
    this.off = off;
    this.len = len;
    this.qComplete = false;
    this.qTransport = 0;
    this.qProto = 0;
    if (type < 128) this.walkQuoted();
    return WIRE_OK;
  }

  private walkQuoted(): void {
    const q = this.off + ICMPV6_HEADER_LEN;
    const avail = this.len - ICMPV6_HEADER_LEN;
    if (avail < IPV6_HEADER_LEN || this.buf[q]! >>> 4 !== 6) return;
    // the quote is usually cut short: walk what is there
    const end = q + Math.min(avail, IPV6_HEADER_LEN + get16(this.buf, q + Q_PLEN));
    const h = this.quoted;
    if (h.walkChain(this.buf, q, end) !== WIRE_OK || h.isLaterFragment) return;
    if (h.upperOffset + 8 > end) return;
    this.qComplete = true;
    this.qTransport = h.upperOffset;
    this.qProto = h.upperProtocol;
  }

  get type(): number { return this.buf[this.off + TYPE]!; }
  set type(v: number) { this.buf[this.off + TYPE] = v; }
  get code(): number { return this.buf[this.off + CODE]!; }
  set code(v: number) { this.buf[this.off + CODE] = v; }
  get checksum(): number { return get16(this.buf, this.off + CSUM); }
  set checksum(v: number) { put16(this.buf, this.off + CSUM, v); }
  /** Bytes 4..7, whatever the type puts there. */
  get rest(): number { return get32(this.buf, this.off + REST); }
  set rest(v: number) { put32(this.buf, this.off + REST, v); }
  /** Echo identifier. */
  get id(): number { return get16(this.buf, this.off + REST); }
  set id(v: number) { put16(this.buf, this.off + REST, v); }
  /** Echo sequence number. */
  get seq(): number { return get16(this.buf, this.off + REST + 2); }
  set seq(v: number) { put16(this.buf, this.off + REST + 2, v); }
  /** MTU of a packet too big message (32 bits). */
  get mtu(): number { return get32(this.buf, this.off + REST); }
  set mtu(v: number) { put32(this.buf, this.off + REST, v); }
  /** Byte offset, in the quoted packet, of a parameter problem (32 bits). */
  get pointer(): number { return get32(this.buf, this.off + REST); }
  set pointer(v: number) { put32(this.buf, this.off + REST, v); }

  get isError(): boolean { return this.buf[this.off]! < 128; }
  get isEcho(): boolean {
    const t = this.buf[this.off]!;
    return t === ICMPV6_ECHO_REQUEST || t === ICMPV6_ECHO_REPLY;
  }
  /** Router / neighbour solicitation or advertisement, or redirect. */
  get isNd(): boolean { return ndOptionsStart(this.buf[this.off]!) !== 0; }

  // ---- neighbour discovery ----

  /** Absolute offset of the target address of NS, NA and redirect. */
  get targetOffset(): number { return this.off + ND_TARGET; }
  /** The target of NS / NA / redirect; zeros for other types. */
  readTarget(out: Uint32Array, outOff = 0): void {
    if (ndOptionsStart(this.type) >= 24) readIp6(this.buf, this.off + ND_TARGET, out, outOff);
    else out.fill(0, outOff, outOff + 4);
  }
  targetEquals(a: Uint32Array, aOff = 0): boolean {
    return ndOptionsStart(this.type) >= 24 && ip6EqualsBytes(this.buf, this.off + ND_TARGET, a, aOff);
  }
  writeTarget(a: Uint32Array, aOff = 0): void {
    if (ndOptionsStart(this.type) >= 24) writeIp6(this.buf, this.off + ND_TARGET, a, aOff);
  }
  /** Destination of a redirect. */
  readRedirectDest(out: Uint32Array, outOff = 0): void {
    if (this.type === ICMPV6_REDIRECT) readIp6(this.buf, this.off + REDIRECT_DEST, out, outOff);
    else out.fill(0, outOff, outOff + 4);
  }

  /** NA flags: ND_NA_ROUTER | ND_NA_SOLICITED | ND_NA_OVERRIDE (the reserved bits masked off). */
  get naFlags(): number { return (get32(this.buf, this.off + REST) & 0xe0000000) >>> 0; }
  set naFlags(v: number) { put32(this.buf, this.off + REST, v & 0xe0000000); }
  get routerFlag(): boolean { return (this.buf[this.off + REST]! & 0x80) !== 0; }
  get solicitedFlag(): boolean { return (this.buf[this.off + REST]! & 0x40) !== 0; }
  get overrideFlag(): boolean { return (this.buf[this.off + REST]! & 0x20) !== 0; }

  // router advertisement (read only); 0 for other types
  get raCurHopLimit(): number { return this.type === ICMPV6_ROUTER_ADVERT ? this.buf[this.off + RA_HOPLIMIT]! : 0; }
  get raFlags(): number { return this.type === ICMPV6_ROUTER_ADVERT ? this.buf[this.off + RA_FLAGS]! : 0; }
  /** Seconds; 0 = not a default router. */
  get raRouterLifetime(): number { return this.type === ICMPV6_ROUTER_ADVERT ? get16(this.buf, this.off + RA_LIFETIME) : 0; }
  /** Milliseconds. */
  get raReachableTime(): number { return this.type === ICMPV6_ROUTER_ADVERT ? get32(this.buf, this.off + RA_REACHABLE) : 0; }
  get raRetransTimer(): number { return this.type === ICMPV6_ROUTER_ADVERT ? get32(this.buf, this.off + RA_RETRANS) : 0; }

  /** Absolute offset of the first ND option; for non-ND types, the end of the message. */
  get ndOptionsOffset(): number {
    const s = ndOptionsStart(this.type);
    return s === 0 ? this.off + this.len : this.off + s;
  }
  get ndOptionsLength(): number { return this.off + this.len - this.ndOptionsOffset; }

  /**
   * WIRE_OK when every ND option has a non-zero length and ends inside the
   * message; else ICMPV6_BAD_ND_OPTION (RFC 4861 says to drop the message).
   */
  ndOptionsOk(): number {
    const end = this.off + this.len;
    for (let p = this.ndOptionsOffset; p < end;) {
      if (p + OPT_DATA > end) return ICMPV6_BAD_ND_OPTION;
      const n = this.buf[p + OPT_LEN]! << 3;
      if (n === 0 || p + n > end) return ICMPV6_BAD_ND_OPTION;
      p += n;
    }
    return WIRE_OK;
  }

  /**
   * Absolute offset of the first option of this type, or -1 when there is
   * none, or when a malformed option comes before it (never reads past the
   * message).
   */
  ndFindOption(type: number): number {
    const end = this.off + this.len;
    for (let p = this.ndOptionsOffset; p + OPT_DATA <= end;) {
      const n = this.buf[p + OPT_LEN]! << 3;
      if (n === 0 || p + n > end) return -1;
      if (this.buf[p + OPT_TYPE] === type) return p;
      p += n;
    }
    return -1;
  }

  /** The MAC of the source link-layer address option, or -1 when absent. */
  get sourceLinkAddr(): number { return this.linkAddr(ND_OPT_SOURCE_LL_ADDR); }
  /** The MAC of the target link-layer address option, or -1 when absent. */
  get targetLinkAddr(): number { return this.linkAddr(ND_OPT_TARGET_LL_ADDR); }

  private linkAddr(type: number): number {
    const p = this.ndFindOption(type);
    // Ethernet: one 8-byte unit, the MAC after type and length
    return p < 0 ? -1 : readMac(this.buf, p + OPT_DATA);
  }

  // ---- the packet quoted by an error message ----

  /** Absolute offset of the body: for errors, the quoted IPv6 header. */
  get embeddedOffset(): number { return this.off + ICMPV6_HEADER_LEN; }
  get embeddedLength(): number { return this.len - ICMPV6_HEADER_LEN; }
  /**
   * For error types: whether the quoted packet is IPv6, its extension headers
   * (walked) are all present, it is not a later fragment, and the first 8
   * bytes of its transport header (the ports) are there.
   */
  get embeddedComplete(): boolean { return this.qComplete; }

  // The quoted packet's fields, for matching an error to a connection and
  // rewriting it (NAT). They read 0 and ignore writes unless embeddedComplete.
  /** Upper-layer protocol of the quoted packet, after its extension headers. */
  get embeddedProtocol(): number { return this.qProto; }
  /** Absolute offset of the quoted transport header (its first 8 bytes); 0 unless complete. */
  get embeddedTransportOffset(): number { return this.qTransport; }
  get embeddedSrcOffset(): number { return this.qComplete ? this.off + ICMPV6_HEADER_LEN + Q_SRC : 0; }
  get embeddedDstOffset(): number { return this.qComplete ? this.off + ICMPV6_HEADER_LEN + Q_DST : 0; }
  readEmbeddedSrc(out: Uint32Array, outOff = 0): void {
    if (this.qComplete) readIp6(this.buf, this.off + ICMPV6_HEADER_LEN + Q_SRC, out, outOff);
    else out.fill(0, outOff, outOff + 4);
  }
  readEmbeddedDst(out: Uint32Array, outOff = 0): void {
    if (this.qComplete) readIp6(this.buf, this.off + ICMPV6_HEADER_LEN + Q_DST, out, outOff);
    else out.fill(0, outOff, outOff + 4);
  }
  embeddedSrcEquals(a: Uint32Array, aOff = 0): boolean {
    return this.qComplete && ip6EqualsBytes(this.buf, this.off + ICMPV6_HEADER_LEN + Q_SRC, a, aOff);
  }
  embeddedDstEquals(a: Uint32Array, aOff = 0): boolean {
    return this.qComplete && ip6EqualsBytes(this.buf, this.off + ICMPV6_HEADER_LEN + Q_DST, a, aOff);
  }
  /** Word i (0..3) of the quoted source / destination; 0 unless complete. */
  embeddedSrcWord(i: number): number { return this.qComplete ? get32(this.buf, this.off + ICMPV6_HEADER_LEN + Q_SRC + 4 * (i & 3)) : 0; }
  embeddedDstWord(i: number): number { return this.qComplete ? get32(this.buf, this.off + ICMPV6_HEADER_LEN + Q_DST + 4 * (i & 3)) : 0; }
  /** Plain writes: refill the ICMPv6 checksum afterwards (fillChecksum), as IPVS does. */
  writeEmbeddedSrc(a: Uint32Array, aOff = 0): void {
    if (this.qComplete) writeIp6(this.buf, this.off + ICMPV6_HEADER_LEN + Q_SRC, a, aOff);
  }
  writeEmbeddedDst(a: Uint32Array, aOff = 0): void {
    if (this.qComplete) writeIp6(this.buf, this.off + ICMPV6_HEADER_LEN + Q_DST, a, aOff);
  }
  get embeddedSport(): number { return this.qComplete ? get16(this.buf, this.qTransport) : 0; }
  set embeddedSport(v: number) { if (this.qComplete) put16(this.buf, this.qTransport, v); }
  get embeddedDport(): number { return this.qComplete ? get16(this.buf, this.qTransport + 2) : 0; }
  set embeddedDport(v: number) { if (this.qComplete) put16(this.buf, this.qTransport + 2, v); }
  /** The quoted packet's extension-header walk (fragment header, offsets): valid while wrapped. */
  get embeddedHeaders(): Ipv6Headers { return this.quoted; }

  // ---- checksum (with the pseudo-header) ----

  checksumOk(addrSum: number): boolean {
    return csumFinish(pseudoHeaderSum6(addrSum, NEXTHDR_ICMP, this.len) + sumBytes(this.buf, this.off, this.len, 0)) === 0;
  }

  expectedChecksum(addrSum: number): number {
    const acc = pseudoHeaderSum6(addrSum, NEXTHDR_ICMP, this.len) + sumBytes(this.buf, this.off, this.len, 0) -
      get16(this.buf, this.off + CSUM);
    return csumFinish(acc);
  }

  fillChecksum(addrSum: number): void {
    put16(this.buf, this.off + CSUM, 0);
    put16(this.buf, this.off + CSUM,
      csumFinish(pseudoHeaderSum6(addrSum, NEXTHDR_ICMP, this.len) + sumBytes(this.buf, this.off, this.len, 0)));
  }
}

// ---- plain forms ----

/** The 8-byte header of any ICMPv6 message. */
export interface Icmpv6Header {
  type: number;
  code: number;
  /** On emit: written as given, 0 when omitted (fill it with Icmpv6View.fillChecksum). */
  checksum?: number;
  /** Bytes 4..7: id and seq of echo, MTU, pointer, NA flags... */
  rest: number;
}

export function icmpv6EchoRest(id: number, seq: number): number {
  return (((id & 0xffff) << 16) | (seq & 0xffff)) >>> 0;
}

export function parseIcmpv6(buf: Uint8Array, off = 0, len = buf.length - off): Icmpv6Header {
  const v = new Icmpv6View();
  const rc = v.wrap(buf, off, len);
  if (rc !== WIRE_OK) throw new WireError(rc, 'icmpv6');
  return { type: v.type, code: v.code, checksum: v.checksum, rest: v.rest };
}

/** Writes the 8-byte header; returns 8. */
export function emitIcmpv6(h: Icmpv6Header, buf: Uint8Array, off: number): number {
  buf[off + TYPE] = h.type;
  buf[off + CODE] = h.code;
  put16(buf, off + CSUM, h.checksum ?? 0);
  put32(buf, off + REST, h.rest);
  return ICMPV6_HEADER_LEN;
}

export interface NdOption {
  type: number;
  /** The bytes after type and length: 8 * length - 2 of them. */
  data: Uint8Array;
}

/** A neighbour discovery message. Fields that its type does not have are absent. */
export interface NdMessage {
  type: number;
  code: number;
  checksum?: number;
  /** NA: ND_NA_* bits; RA: the flag byte (ND_RA_*); 0 otherwise. */
  flags: number;
  /** NS, NA, redirect. */
  target?: Uint32Array;
  /** Redirect. */
  destination?: Uint32Array;
  /** RA. */
  curHopLimit?: number;
  routerLifetime?: number;
  reachableTime?: number;
  retransTimer?: number;
  options: NdOption[];
}

/** A source or target link-layer address option for Ethernet. */
export function ndLinkAddrOption(type: number, mac: number): NdOption {
  const data = new Uint8Array(6);
  writeMac(data, 0, mac);
  return { type, data };
}

/** The MAC in a link-layer address option, -1 when the option is too short. */
export function ndOptionMac(o: NdOption): number {
  return o.data.length >= 6 ? readMac(o.data, 0) : -1;
}

/** MTU option (RA). */
export function ndOptionMtu(o: NdOption): number {
  return o.type === ND_OPT_MTU && o.data.length >= 6 ? get32(o.data, 2) : -1;
}

export interface NdPrefixInfo {
  prefixLength: number;
  onLink: boolean;
  autonomous: boolean;
  /** Seconds; 0xffffffff = infinite. */
  validLifetime: number;
  preferredLifetime: number;
  prefix: Uint32Array;
}

/** Prefix information option (RA); undefined for another option or a short one. */
export function ndOptionPrefix(o: NdOption): NdPrefixInfo | undefined {
  if (o.type !== ND_OPT_PREFIX_INFO || o.data.length < 30) return undefined;
  const d = o.data;
  const prefix = new Uint32Array(4);
  readIp6(d, 14, prefix, 0);
  return {
    prefixLength: d[0]!,
    onLink: (d[1]! & 0x80) !== 0,
    autonomous: (d[1]! & 0x40) !== 0,
    validLifetime: get32(d, 2),
    preferredLifetime: get32(d, 6),
    prefix,
  };
}

/** Parses RS, RA, NS, NA or redirect; throws for other types and malformed options. */
export function parseNd(buf: Uint8Array, off = 0, len = buf.length - off): NdMessage {
  const v = new Icmpv6View();
  const rc = v.wrap(buf, off, len);
  if (rc !== WIRE_OK) throw new WireError(rc, 'icmpv6 nd');
  if (!v.isNd) throw new Error(`icmpv6 type ${v.type} is not a neighbour discovery message`);
  const orc = v.ndOptionsOk();
  if (orc !== WIRE_OK) throw new WireError(orc, 'icmpv6 nd options');
  const type = v.type;
  const m: NdMessage = { type, code: v.code, checksum: v.checksum, flags: 0, options: [] };
  if (type === ICMPV6_NEIGHBOR_ADVERT) m.flags = v.naFlags;
  if (type === ICMPV6_NEIGHBOR_SOLICIT || type === ICMPV6_NEIGHBOR_ADVERT || type === ICMPV6_REDIRECT) {
    m.target = new Uint32Array(4);
    v.readTarget(m.target);
  }
  if (type === ICMPV6_REDIRECT) {
    m.destination = new Uint32Array(4);
    v.readRedirectDest(m.destination);
  }
  if (type === ICMPV6_ROUTER_ADVERT) {
    m.flags = v.raFlags;
    m.curHopLimit = v.raCurHopLimit;
    m.routerLifetime = v.raRouterLifetime;
    m.reachableTime = v.raReachableTime;
    m.retransTimer = v.raRetransTimer;
  }
  const end = off + len;
  for (let p = v.ndOptionsOffset; p < end;) {
    const n = buf[p + OPT_LEN]! << 3;
    m.options.push({ type: buf[p + OPT_TYPE]!, data: buf.slice(p + OPT_DATA, p + n) });
    p += n;
  }
  return m;
}

export function ndMessageLength(m: NdMessage): number {
  let n = ndOptionsStart(m.type);
  for (const o of m.options) n += 2 + o.data.length + ((8 - ((2 + o.data.length) % 8)) % 8);
  return n;
}

/**
 * Writes NS, NA or RS with its options (each zero-padded to a multiple of 8
 * bytes); returns the length. RA and redirect are parse-only. The checksum
 * is written as given (0 when omitted): fill it with Icmpv6View.fillChecksum.
 */
export function emitNd(m: NdMessage, buf: Uint8Array, off: number): number {
  const start = ndOptionsStart(m.type);
  if (m.type !== ICMPV6_NEIGHBOR_SOLICIT && m.type !== ICMPV6_NEIGHBOR_ADVERT && m.type !== ICMPV6_ROUTER_SOLICIT) {
    throw new Error(`emitNd writes NS, NA and RS only (got type ${m.type})`);
  }
  const n = ndMessageLength(m);
  buf.fill(0, off, off + n);
  buf[off + TYPE] = m.type;
  buf[off + CODE] = m.code;
  put16(buf, off + CSUM, m.checksum ?? 0);
  if (m.type === ICMPV6_NEIGHBOR_ADVERT) put32(buf, off + REST, m.flags & 0xe0000000);
  if (start === 24) {
    if (!m.target) throw new Error('NS and NA need a target address');
    writeIp6(buf, off + ND_TARGET, m.target, 0);
  }
  let p = off + start;
  for (const o of m.options) {
    const units = Math.ceil((2 + o.data.length) / 8);
    if (units > 255) throw new Error(`ND option of ${o.data.length} bytes is too long`);
    buf[p + OPT_TYPE] = o.type;
    buf[p + OPT_LEN] = units;
    buf.set(o.data, p + OPT_DATA);
    p += units * 8;
  }
  return n;
}
