// IPv6 (RFC 8200): the fixed 40-byte header as a checked view and a plain
// form, and an allocation-free walk of the extension header chain to the
// upper-layer protocol.
//
// There is no header checksum. Rewriting an address (NAT) changes the
// pseudo-header of TCP, UDP and ICMPv6, so rewriteSrc/rewriteDst return the
// checksum delta to apply to the upper-layer checksum (csumAdjust or, for
// UDP, udpCsumAdjust in checksum6.ts). The hop limit is in no checksum.

import { ip6WordsSum, csumDelta, pseudoAddrSum6 } from './checksum6.js';
import { readIp6, writeIp6, ip6EqualsBytes } from './addr6.js';
import { EMPTY, get16, get32, put16, put32 } from './bytes.js';
import { sumBytes } from './checksum.js';
import {
  IP6_BAD_PAYLOAD_LENGTH, IP6_BAD_VERSION, IP6_EXT_HOP_NOT_FIRST, IP6_EXT_TRUNCATED, IP6_EXT_UNKNOWN, IP6_TRUNCATED,
  WIRE_OK, WireError,
} from './errors.js';

export const IPV6_HEADER_LEN = 40;
/** Every link must carry packets of this size (RFC 8200 section 5). */
export const IPV6_MIN_MTU = 1280;

// field offsets in the fixed header
const VTF = 0; // version (4 bits), traffic class (8), flow label (20)
const PLEN = 4;
const NXT = 6;
const HLIM = 7;
const SRC = 8;
const DST = 24;
// field offsets in an extension header
const EXT_NXT = 0;
const EXT_LEN = 1; // 8-byte units less one (AH: 4-byte units less two)
const RT_TYPE = 2;
const RT_SEGLEFT = 3;
const RT_ADDRS = 8; // type 0 and 2 addresses, type 4 segment list
const FRAG_OFFLG = 2; // offset (13 bits), 2 reserved bits, M
const FRAG_ID = 4;

// Next header values, named as the kernel names them (protocol numbers of
// the IANA registry; extension headers among them).
export const NEXTHDR_HOP = 0;
export const NEXTHDR_IPV4 = 4;
export const NEXTHDR_TCP = 6;
export const NEXTHDR_UDP = 17;
export const NEXTHDR_IPV6 = 41;
export const NEXTHDR_ROUTING = 43;
export const NEXTHDR_FRAGMENT = 44;
export const NEXTHDR_ESP = 50;
export const NEXTHDR_AUTH = 51;
export const NEXTHDR_ICMP = 58;
export const NEXTHDR_NONE = 59;
export const NEXTHDR_DEST = 60;
export const NEXTHDR_SCTP = 132;
export const NEXTHDR_MOBILITY = 135;

export const IPV6_FRAG_HEADER_LEN = 8;

export class Ipv6View {
  buf: Uint8Array = EMPTY;
  off = 0;
  /** Bytes available to the view; may exceed 40 + payloadLength (Ethernet padding). */
  len = 0;

  /**
   * Returns WIRE_OK, IP6_TRUNCATED (under 40 bytes), IP6_BAD_VERSION, or
   * IP6_BAD_PAYLOAD_LENGTH when the payload length runs past the bytes
   * present. Jumbograms (payload length 0 with a jumbo option) are not
   * supported: a payload length of 0 means an empty payload.
   */
  wrap(buf: Uint8Array, off: number, len: number): number {
    if (len < IPV6_HEADER_LEN || off < 0 || off + len > buf.length) return IP6_TRUNCATED;
    if (buf[off]! >>> 4 !== 6) return IP6_BAD_VERSION;
    if (get16(buf, off + PLEN) + IPV6_HEADER_LEN > len) return IP6_BAD_PAYLOAD_LENGTH;
    this.buf = buf;
    this.off = off;
    this.len = len;
    return WIRE_OK;
  }

  /** Points at a header whose fields the caller is about to write (its lengths not yet right); off+40 must fit. */
  wrapHeaderOnly(buf: Uint8Array, off: number): void {
    this.buf = buf;
    this.off = off;
    this.len = IPV6_HEADER_LEN;
  }

  get version(): number { return this.buf[this.off]! >>> 4; }
  /** DSCP (6 bits) and ECN (2 bits), like the IPv4 TOS byte. */
  get trafficClass(): number { return (get16(this.buf, this.off + VTF) >>> 4) & 0xff; }
  set trafficClass(v: number) {
    const o = this.off + VTF;
    this.buf[o] = 0x60 | ((v >>> 4) & 0x0f);
    this.buf[o + 1] = ((v & 0x0f) << 4) | (this.buf[o + 1]! & 0x0f);
  }
  get dscp(): number { return this.trafficClass >>> 2; }
  get ecn(): number { return this.trafficClass & 3; }
  get flowLabel(): number { return get32(this.buf, this.off + VTF) & 0xfffff; }
  set flowLabel(v: number) {
    const o = this.off + VTF;
    this.buf[o + 1] = (this.buf[o + 1]! & 0xf0) | ((v >>> 16) & 0x0f);
    put16(this.buf, o + 2, v);
  }
  /** Bytes after the fixed header: extension headers and the upper layer. */
  get payloadLength(): number { return get16(this.buf, this.off + PLEN); }
  set payloadLength(v: number) { put16(this.buf, this.off + PLEN, v); }
  get nextHeader(): number { return this.buf[this.off + NXT]!; }
  set nextHeader(v: number) { this.buf[this.off + NXT] = v; }
  get hopLimit(): number { return this.buf[this.off + HLIM]!; }
  set hopLimit(v: number) { this.buf[this.off + HLIM] = v; }

  /** Decrements the hop limit (caller checks it is > 1 first); nothing to patch. */
  decHopLimit(): number {
    const o = this.off + HLIM;
    const h = (this.buf[o]! - 1) & 0xff;
    this.buf[o] = h;
    return h;
  }

  /** Absolute offsets of the 16-byte addresses in buf. */
  get srcOffset(): number { return this.off + SRC; }
  get dstOffset(): number { return this.off + DST; }
  /** Word i (0..3) of an address, for hashing without copying it out. */
  srcWord(i: number): number { return get32(this.buf, this.off + SRC + 4 * (i & 3)); }
  dstWord(i: number): number { return get32(this.buf, this.off + DST + 4 * (i & 3)); }
  readSrc(out: Uint32Array, outOff = 0): void { readIp6(this.buf, this.off + SRC, out, outOff); }
  readDst(out: Uint32Array, outOff = 0): void { readIp6(this.buf, this.off + DST, out, outOff); }
  srcEquals(a: Uint32Array, aOff = 0): boolean { return ip6EqualsBytes(this.buf, this.off + SRC, a, aOff); }
  dstEquals(a: Uint32Array, aOff = 0): boolean { return ip6EqualsBytes(this.buf, this.off + DST, a, aOff); }
  /** Plain writes: no checksum is told. */
  writeSrc(a: Uint32Array, aOff = 0): void { writeIp6(this.buf, this.off + SRC, a, aOff); }
  writeDst(a: Uint32Array, aOff = 0): void { writeIp6(this.buf, this.off + DST, a, aOff); }

  /**
   * Rewrites the source address and returns the delta that the upper-layer
   * checksum (TCP, UDP, ICMPv6) must take: tcp.checksum = csumAdjust(tcp.checksum, d).
   */
  rewriteSrc(a: Uint32Array, aOff = 0): number {
    const o = this.off + SRC;
    const old = sumBytes(this.buf, o, 16, 0);
    writeIp6(this.buf, o, a, aOff);
    return csumDelta(old, ip6WordsSum(a, aOff));
  }

  rewriteDst(a: Uint32Array, aOff = 0): number {
    const o = this.off + DST;
    const old = sumBytes(this.buf, o, 16, 0);
    writeIp6(this.buf, o, a, aOff);
    return csumDelta(old, ip6WordsSum(a, aOff));
  }

  /**
   * Sum of source and destination for the upper-layer pseudo-header. With a
   * routing header whose segments left is non-zero, the pseudo-header holds
   * the final destination instead: use Ipv6Headers.pseudoAddrSum.
   */
  pseudoAddrSum(): number { return pseudoAddrSum6(this.buf, this.off + SRC, this.off + DST); }

  /** Absolute offset of the payload (the first extension header or the upper layer). */
  get payloadOffset(): number { return this.off + IPV6_HEADER_LEN; }
  /** Header plus payload: the packet without any link padding. */
  get totalLength(): number { return IPV6_HEADER_LEN + get16(this.buf, this.off + PLEN); }
  /** Absolute offset one past the packet's last byte. */
  get end(): number { return this.off + IPV6_HEADER_LEN + get16(this.buf, this.off + PLEN); }
}

// ---- the extension header chain ----

/** Whether a next header value is one of the extension headers the walk follows. */
export function ip6IsWalkedExtension(nh: number): boolean {
  return nh === NEXTHDR_HOP || nh === NEXTHDR_ROUTING || nh === NEXTHDR_FRAGMENT ||
    nh === NEXTHDR_DEST || nh === NEXTHDR_AUTH;
}

/**
 * Extension header types registered with IANA that the walk cannot see
 * past (mobility, HIP, shim6, experimental): what follows them is unknown.
 */
function unwalkable(nh: number): boolean {
  return nh === NEXTHDR_MOBILITY || nh === 139 || nh === 140 || nh === 253 || nh === 254;
}

/**
 * The result of walking an IPv6 packet's extension headers. One instance is
 * reused for every packet (no allocation); walk() overwrites every field.
 *
 * Followed: hop-by-hop options, routing, fragment, destination options and
 * AH (to find what it protects). The walk stops at anything else, which is
 * then the upper-layer protocol: TCP, UDP, ICMPv6, ESP (opaque), no next
 * header (59), an encapsulated IPv4/IPv6 packet, or a protocol the caller
 * does not handle (and may answer with a parameter problem, pointing at
 * upperNextHeaderOffset). It also stops after a fragment header with a
 * non-zero offset: a later fragment carries no upper-layer header.
 *
 * Ordering (RFC 8200 section 4.1): the kernel is strict only about
 * hop-by-hop options, which must come right after the fixed header; later it
 * is an unrecognised next header (IP6_EXT_HOP_NOT_FIRST here). The
 * recommended order of the others and "each at most once" are not enforced
 * by Linux, nor here. RFC 8200 section 4.5 (and Linux) drop a first fragment
 * whose header chain does not reach the upper-layer header: walk() reports
 * such a chain as IP6_EXT_TRUNCATED; the upper header's own length is the
 * caller's check when it wraps the transport view.
 */
export class Ipv6Headers {
  buf: Uint8Array = EMPTY;
  /** The upper-layer protocol (the last next header value). */
  upperProtocol = NEXTHDR_NONE;
  /** Absolute offset of the upper-layer header (or a later fragment's data). */
  upperOffset = 0;
  /** Bytes from upperOffset to the end of the packet. */
  upperLength = 0;
  /** Absolute offset of the byte that holds upperProtocol (the field a parameter problem points at). */
  upperNextHeaderOffset = 0;
  /** Bytes of extension headers walked. */
  extLength = 0;
  /** Absolute offsets of headers seen, -1 when absent (the last one, for repeated headers). */
  hopByHopOffset = -1;
  destOptsOffset = -1;
  routingOffset = -1;
  routingType = 0;
  segmentsLeft = 0;
  /**
   * Where the pseudo-header's destination is (RFC 8200 section 8.1): the
   * fixed header's destination, or the final one of a routing header that
   * still has segments left (type 0 and 2: its last address; type 4,
   * segment routing: segment list[0]).
   */
  finalDstOffset = 0;
  srcOffset = 0;
  /** Absolute offset of the fragment header, -1 when there is none. */
  fragHeaderOffset = -1;
  /** Fragment offset in 8-byte units, as on the wire. */
  fragOffset = 0;
  /** The M (more fragments) flag. */
  fragMore = false;
  fragId = 0;
  /** On failure: absolute offset of the field that made the walk fail; -1 on success. */
  errorOffset = -1;

  /** Walks the packet's chain, within its payload length. Returns WIRE_OK or an IP6_EXT_* code. */
  walk(ip: Ipv6View): number {
    return this.walkChain(ip.buf, ip.off, ip.end);
  }

  /**
   * Walks the chain of the IPv6 packet whose fixed header is at `off` (its 40
   * bytes must be present), stopping at `end` at the latest: for a packet
   * quoted by an ICMPv6 error, the bytes present rather than its payload
   * length. Returns WIRE_OK, IP6_EXT_TRUNCATED when a header runs past end,
   * IP6_EXT_HOP_NOT_FIRST, or IP6_EXT_UNKNOWN for a header it cannot follow.
   */
  walkChain(buf: Uint8Array, off: number, end: number): number {
    this.buf = buf;
    this.hopByHopOffset = -1;
    this.destOptsOffset = -1;
    this.routingOffset = -1;
    this.routingType = 0;
    this.segmentsLeft = 0;
    this.srcOffset = off + SRC;
    this.finalDstOffset = off + DST;
    this.fragHeaderOffset = -1;
    this.fragOffset = 0;
    this.fragMore = false;
    this.fragId = 0;
    this.errorOffset = -1;
    const start = off + IPV6_HEADER_LEN;
    if (off < 0 || start > end || end > buf.length) return this.fail(off, IP6_EXT_TRUNCATED);
    let nhAt = off + NXT;
    let nh = buf[nhAt]!;
    let p = start;
    for (;;) {
      if (!ip6IsWalkedExtension(nh)) {
        if (unwalkable(nh)) return this.fail(nhAt, IP6_EXT_UNKNOWN);
        break;
      }
      if (nh === NEXTHDR_HOP && p !== start) return this.fail(nhAt, IP6_EXT_HOP_NOT_FIRST);
      // every extension header starts with next header and a length byte
      if (p + EXT_LEN + 1 > end) return this.fail(nhAt, IP6_EXT_TRUNCATED);
      let hl: number;
      if (nh === NEXTHDR_FRAGMENT) hl = IPV6_FRAG_HEADER_LEN;
      else if (nh === NEXTHDR_AUTH) hl = (buf[p + EXT_LEN]! + 2) << 2;
      else hl = (buf[p + EXT_LEN]! + 1) << 3;
      if (p + hl > end) return this.fail(nh === NEXTHDR_FRAGMENT ? nhAt : p + EXT_LEN, IP6_EXT_TRUNCATED);
      if (nh === NEXTHDR_HOP) this.hopByHopOffset = p;
      else if (nh === NEXTHDR_DEST) this.destOptsOffset = p;
      else if (nh === NEXTHDR_ROUTING) this.routing(buf, p);
      else if (nh === NEXTHDR_FRAGMENT) {
        const fo = get16(buf, p + FRAG_OFFLG);
        this.fragHeaderOffset = p;
        this.fragOffset = fo >>> 3;
        this.fragMore = (fo & 1) !== 0;
        this.fragId = get32(buf, p + FRAG_ID);
        if (this.fragOffset !== 0) {
          // a later fragment: what follows is data, not headers
          nhAt = p + EXT_NXT;
          nh = buf[nhAt]!;
          p += hl;
          break;
        }
      }
      nhAt = p + EXT_NXT;
      nh = buf[nhAt]!;
      p += hl;
    }
    this.upperProtocol = nh;
    this.upperNextHeaderOffset = nhAt;
    this.upperOffset = p;
    this.upperLength = end - p;
    this.extLength = p - start;
    return WIRE_OK;
  }

  private routing(buf: Uint8Array, p: number): void {
    this.routingOffset = p;
    this.routingType = buf[p + RT_TYPE]!;
    this.segmentsLeft = buf[p + RT_SEGLEFT]!;
    if (this.segmentsLeft === 0) return;
    const units = buf[p + EXT_LEN]!; // 8-byte units after the first 8 bytes: two per address
    if (units < 2) return;
    if (this.routingType === 0 || this.routingType === 2) this.finalDstOffset = p + RT_ADDRS + 16 * ((units >>> 1) - 1);
    else if (this.routingType === 4) this.finalDstOffset = p + RT_ADDRS;
  }

  private fail(at: number, code: number): number {
    this.errorOffset = at;
    this.upperProtocol = NEXTHDR_NONE;
    this.upperOffset = 0;
    this.upperLength = 0;
    this.upperNextHeaderOffset = 0;
    this.extLength = 0;
    return code;
  }

  /** Whether a fragment header says this packet is a fragment (an atomic fragment is not). */
  get isFragment(): boolean { return this.fragHeaderOffset >= 0 && (this.fragOffset !== 0 || this.fragMore); }
  /** A fragment other than the first: no upper-layer header here. */
  get isLaterFragment(): boolean { return this.fragOffset !== 0; }
  /** The pseudo-header address sum: source and final destination. */
  pseudoAddrSum(): number { return pseudoAddrSum6(this.buf, this.srcOffset, this.finalDstOffset); }
}

// ---- options of hop-by-hop and destination options headers ----

/** Option types (RFC 8200 section 4.2, IANA): the ones a host knows. */
export const IP6OPT_PAD1 = 0;
export const IP6OPT_PADN = 1;
export const IP6OPT_ROUTER_ALERT = 5;
export const IP6OPT_CALIPSO = 7;
export const IP6OPT_IOAM = 0x31;
export const IP6OPT_JUMBO = 0xc2;

/** What a node that does not know an option must do, from its type's top two bits. */
export const IP6OPT_ACTION_SKIP = 0;
export const IP6OPT_ACTION_DISCARD = 1;
/** Discard and send a parameter problem (code 2) to the source. */
export const IP6OPT_ACTION_DISCARD_ICMP = 2;
/** Discard and send a parameter problem unless the destination is multicast. */
export const IP6OPT_ACTION_DISCARD_ICMP_UNICAST = 3;

/**
 * Walks the options of the hop-by-hop or destination options header at
 * `hdrOff` (its length already checked by the extension-header walk) and
 * returns the absolute offset of the first option that is unknown here (Pad1,
 * PadN, router alert, CALIPSO and IOAM are known; jumbo payload is not, as
 * jumbograms are not supported) and whose type says not to skip it; -1 when
 * every option may be passed. An option running past the header ends the
 * walk at the header's end (returned as that offset, an error to the caller
 * as well: ip6OptionAction gives IP6OPT_ACTION_DISCARD for it).
 */
export function ip6FirstUnknownOption(buf: Uint8Array, hdrOff: number): number {
  const end = hdrOff + ((buf[hdrOff + EXT_LEN]! + 1) << 3);
  let p = hdrOff + 2;
  while (p < end) {
    const t = buf[p]!;
    if (t === IP6OPT_PAD1) {
      p++;
      continue;
    }
    if (p + 2 > end) return end;
    const n = 2 + buf[p + 1]!;
    if (p + n > end) return end;
    const known = t === IP6OPT_PADN || t === IP6OPT_ROUTER_ALERT || t === IP6OPT_CALIPSO || t === IP6OPT_IOAM;
    if (!known && (t >>> 6) !== IP6OPT_ACTION_SKIP) return p;
    p += n;
  }
  return -1;
}

/** The action for the option found by ip6FirstUnknownOption at `at` in the header at hdrOff (DISCARD for a malformed one). */
export function ip6OptionAction(buf: Uint8Array, hdrOff: number, at: number): number {
  const end = hdrOff + ((buf[hdrOff + EXT_LEN]! + 1) << 3);
  return at >= end ? IP6OPT_ACTION_DISCARD : buf[at]! >>> 6;
}

// ---- plain form ----

export interface Ipv6Header {
  trafficClass: number;
  flowLabel: number;
  payloadLength: number;
  nextHeader: number;
  hopLimit: number;
  src: Uint32Array;
  dst: Uint32Array;
}

export function parseIpv6(buf: Uint8Array, off = 0, len = buf.length - off): Ipv6Header {
  const v = new Ipv6View();
  const rc = v.wrap(buf, off, len);
  if (rc !== WIRE_OK) throw new WireError(rc, 'ipv6');
  const src = new Uint32Array(4);
  const dst = new Uint32Array(4);
  v.readSrc(src);
  v.readDst(dst);
  return {
    trafficClass: v.trafficClass,
    flowLabel: v.flowLabel,
    payloadLength: v.payloadLength,
    nextHeader: v.nextHeader,
    hopLimit: v.hopLimit,
    src,
    dst,
  };
}

/** Writes the 40-byte fixed header; returns 40. */
export function emitIpv6(h: Ipv6Header, buf: Uint8Array, off: number): number {
  put32(buf, off, ((6 << 28) | ((h.trafficClass & 0xff) << 20) | (h.flowLabel & 0xfffff)) >>> 0);
  put16(buf, off + PLEN, h.payloadLength);
  buf[off + NXT] = h.nextHeader;
  buf[off + HLIM] = h.hopLimit;
  writeIp6(buf, off + SRC, h.src, 0);
  writeIp6(buf, off + DST, h.dst, 0);
  return IPV6_HEADER_LEN;
}

// ---- extension headers, plain forms (builder, tests) ----

/**
 * Options of a hop-by-hop or destination options header, padded with Pad1 /
 * PadN so that the header is a multiple of 8 bytes, as senders must.
 */
export function padIp6Options(options: Uint8Array): Uint8Array {
  const need = (8 - ((2 + options.length) % 8)) % 8;
  const out = new Uint8Array(options.length + need);
  out.set(options, 0);
  if (need === 1) out[options.length] = 0; // Pad1
  else if (need >= 2) {
    out[options.length] = 1; // PadN with need - 2 zero bytes
    out[options.length + 1] = need - 2;
  }
  return out;
}

/**
 * Writes an extension header in the generic form (next header, length in
 * 8-byte units less one, then `body`, which must make it a multiple of 8).
 */
export function emitIp6ExtHeader(nextHeader: number, body: Uint8Array, buf: Uint8Array, off: number): number {
  const n = 2 + body.length;
  if (n % 8 !== 0 || n > 2048) throw new Error(`extension header of ${n} bytes: must be a multiple of 8, at most 2048`);
  buf[off + EXT_NXT] = nextHeader;
  buf[off + EXT_LEN] = n / 8 - 1;
  buf.set(body, off + EXT_LEN + 1);
  return n;
}

export interface Ipv6Fragment {
  nextHeader: number;
  /** In 8-byte units. */
  offset: number;
  /** More fragments follow. */
  m: boolean;
  id: number;
}

/** Writes an 8-byte fragment header; returns 8. */
export function emitIpv6Fragment(f: Ipv6Fragment, buf: Uint8Array, off: number): number {
  buf[off + EXT_NXT] = f.nextHeader;
  buf[off + 1] = 0; // reserved
  put16(buf, off + FRAG_OFFLG, ((f.offset & 0x1fff) << 3) | (f.m ? 1 : 0));
  put32(buf, off + FRAG_ID, f.id);
  return IPV6_FRAG_HEADER_LEN;
}

export function parseIpv6Fragment(buf: Uint8Array, off: number): Ipv6Fragment {
  if (off < 0 || off + IPV6_FRAG_HEADER_LEN > buf.length) throw new WireError(IP6_EXT_TRUNCATED, 'ipv6 fragment header');
  const fo = get16(buf, off + FRAG_OFFLG);
  return { nextHeader: buf[off + EXT_NXT]!, offset: fo >>> 3, m: (fo & 1) !== 0, id: get32(buf, off + FRAG_ID) };
}
