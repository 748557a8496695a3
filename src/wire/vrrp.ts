// VRRP advertisements: version 3 (RFC 5798, IPv4 and IPv6) and version 2
// (RFC 3768, IPv4 only). A checked view, a plain form with parse/emit, and
// the IP-layer rules a receiver applies before it believes an advert.
//
//   byte 0: version (high nibble) | type (low nibble); 1 = advertisement
//   byte 1: virtual router id      byte 2: priority      byte 3: address count
//   v2  bytes 4..5: auth type, advertisement interval (seconds)
//   v3  bytes 4..5: 4 reserved bits | 12-bit max advertisement interval (centiseconds)
//   bytes 6..7: checksum
//   then `count` addresses (4 bytes each for IPv4, 16 for IPv6)
//   v2 only: 8 bytes of authentication data after the addresses
//
// Checksums: v2 sums the VRRP message alone; v3 also sums a pseudo-header
// (source, destination, protocol 112, VRRP length), the IPv4 one of UDP for
// IPv4 and the RFC 8200 one for IPv6.
//
// Interop notes, keepalived 2.2.7 (the Debian package; read from its vrrp.c
// and global_data.c):
// - An IPv4 vrrp_instance sends VRRPv2 unless `vrrp_version 3` is set
//   (globally or in the instance); IPv6 instances always use v3. Adverts go
//   out with TTL 255, TOS 0xc0 (IPv6: traffic class 0xc0, hop limit 255) and
//   an IP id the kernel fills, to 224.0.0.18 / ff02::12, from the
//   interface's own MAC unless use_vmac is set. `state MASTER` still starts
//   in BACKUP for one Master_Down_Interval; on exit it sends priority 0.
//   (Captured: fixtures/wire/keepalived/.)
// - On receive it drops, in this order: a length that is not exactly IP
//   header (+ AH) + VRRP message (trailing bytes are an error, not padding);
//   TTL / hop limit other than 255 (multicast only); a version other than the
//   instance's own (v2 and v3 do not mix); v2 auth type other than the
//   instance's; a v2 interval different from its own; a type other than
//   advertisement; an address count or list that differs from its
//   virtual_ipaddress block (order does not matter; with
//   skip_check_adv_addr only the first advert of each new master is
//   checked); an IPv4 total length that disagrees; a bad checksum (v3 over
//   IPv4 with the pseudo-header; for IPv6 the kernel checks it through
//   IPV6_CHECKSUM and drops silently); a multicast advert when unicast peers
//   are configured or the other way round.
// - It reads the v3 interval as `& 0x0fff`: the 4 reserved bits are ignored.
// - v2 authentication PASS (1) and AH (2) exist only in builds with
//   --enable-vrrp-auth; AH adverts are IP protocol 51 with an AH header
//   (next header 112, 24 bytes: HMAC-MD5-96) before the VRRP message.
//   tapvs parses both so such a peer is recognised, and refuses them by name.

import { EMPTY, get16, put16 } from './bytes.js';
import { csumFinish, pseudoHeaderSum, sumBytes } from './checksum.js';
import {
  VRRP_ADDR_MISMATCH, VRRP_AUTH_AH, VRRP_AUTH_PASSWORD, VRRP_BAD_AUTH_TYPE, VRRP_BAD_CHECKSUM, VRRP_BAD_DEST,
  VRRP_BAD_INTERVAL, VRRP_BAD_LENGTH, VRRP_BAD_PROTOCOL, VRRP_BAD_TTL, VRRP_BAD_TYPE, VRRP_BAD_VERSION,
  VRRP_TRUNCATED, WIRE_OK, WireError,
} from './errors.js';
import type { Ipv4View } from './ipv4.js';
import { IPPROTO_AH } from './ipproto.js';

// ---- constants -------------------------------------------------------------

/** IP protocol number / IPv6 next header of VRRP (IPPROTO_VRRP). */
export const VRRP_PROTOCOL = 112;
/** IP protocol number of an IPsec Authentication Header (v2 auth type AH). */
/** TTL / hop limit every multicast advert must carry, and must arrive with. */
export const VRRP_TTL = 255;
/** 224.0.0.18 */
export const VRRP_GROUP_V4 = 0xe0000012;
/** ff02::12 as words (addr6.ts form). */
export const VRRP_GROUP_V6: Uint32Array = Uint32Array.of(0xff020000, 0, 0, 0x12);
/** IPv4 TOS keepalived sends adverts with (network control). */
export const VRRP_TOS = 0xc0;

export const VRRP_VERSION_2 = 2;
export const VRRP_VERSION_3 = 3;
export const VRRP_TYPE_ADVERT = 1;

export const VRRP_AUTH_NONE = 0;
/** RFC 2338 simple text password; removed by RFC 3768. */
export const VRRP_AUTH_PASS = 1;
/** RFC 2338 IPsec AH; removed by RFC 3768. */
export const VRRP_AUTH_AH_TYPE = 2;

/** Priority of the address owner. */
export const VRRP_PRIO_OWNER = 255;
export const VRRP_PRIO_DEFAULT = 100;
/** A master that stops sends one advert with priority 0. */
export const VRRP_PRIO_STOP = 0;

/** RFC 5798 default Max Advertisement Interval, centiseconds. */
export const VRRP_V3_DEFAULT_INTERVAL_CS = 100;
/** RFC 3768 default Advertisement Interval, seconds. */
export const VRRP_V2_DEFAULT_INTERVAL_S = 1;
/** The v3 interval field is 12 bits. */
export const VRRP_V3_MAX_INTERVAL_CS = 0x0fff;

export const VRRP_HEADER_LEN = 8;
export const VRRP_AUTH_DATA_LEN = 8;
/** AH header as keepalived builds it: 12 bytes fixed + a 12-byte HMAC-MD5-96. */
export const VRRP_AH_LEN = 24;

// field offsets from the start of the VRRP message
const OFF_VER_TYPE = 0;
const OFF_VRID = 1;
const OFF_PRIO = 2;
const OFF_COUNT = 3;
const OFF_AUTH_TYPE = 4; // v2
const OFF_ADVER_INT = 5; // v2, one byte
const OFF_MAX_ADVER_INT = 4; // v3, 16 bits, low 12 used
const OFF_CHECKSUM = 6;
const OFF_ADDRS = 8;

export type VrrpFamily = 4 | 6;

/** Bytes a VRRP message of this version / family / address count occupies. */
export function vrrpMessageLength(version: number, family: VrrpFamily, count: number): number {
  return VRRP_HEADER_LEN + count * (family === 6 ? 16 : 4) + (version === VRRP_VERSION_2 ? VRRP_AUTH_DATA_LEN : 0);
}

/** The virtual router MAC: 00-00-5e-00-01-{vrid} for IPv4, 00-00-5e-00-02-{vrid} for IPv6. */
export function vrrpVirtualMac(vrid: number, family: VrrpFamily = 4): number {
  return 0x00005e000000 + (family === 6 ? 0x0200 : 0x0100) + (vrid & 0xff);
}

/** RFC 5798 Skew_Time in centiseconds: ((256 - priority) * interval) / 256. */
export function vrrpSkewTimeCs(priority: number, intervalCs: number): number {
  return Math.floor(((256 - priority) * intervalCs) / 256);
}

/** RFC 5798 Master_Down_Interval in centiseconds: 3 * interval + skew. */
export function vrrpMasterDownCs(priority: number, intervalCs: number): number {
  return 3 * intervalCs + vrrpSkewTimeCs(priority, intervalCs);
}

function pseudo6Sum(src: Uint32Array, srcOff: number, dst: Uint32Array, dstOff: number, len: number): number {
  let acc = len + VRRP_PROTOCOL; // a VRRP message is far below 65536: the 32-bit length is one word
  for (let i = 0; i < 4; i++) {
    const s = src[srcOff + i]!;
    const d = dst[dstOff + i]!;
    acc += (s >>> 16) + (s & 0xffff) + (d >>> 16) + (d & 0xffff);
  }
  return acc;
}

// ---- view ------------------------------------------------------------------

export class VrrpView {
  buf: Uint8Array = EMPTY;
  off = 0;
  /** Bytes available (the IP payload); the message itself is messageLength of them. */
  len = 0;
  family: VrrpFamily = 4;

  /**
   * Returns WIRE_OK, VRRP_TRUNCATED (under 8 bytes, or fewer than the count
   * and version need) or VRRP_BAD_VERSION (not 2 or 3; 2 over IPv6). Type,
   * auth, interval, length and checksum are left to vrrpCheckAdvert(), so a
   * refused advert can still be shown.
   */
  wrap(buf: Uint8Array, off: number, len: number, family: VrrpFamily = 4): number {
    if (len < VRRP_HEADER_LEN || off < 0 || off + len > buf.length) return VRRP_TRUNCATED;
    const version = buf[off + OFF_VER_TYPE]! >>> 4;
    if (version !== VRRP_VERSION_3 && (version !== VRRP_VERSION_2 || family === 6)) return VRRP_BAD_VERSION;
    if (vrrpMessageLength(version, family, buf[off + OFF_COUNT]!) > len) return VRRP_TRUNCATED;
    this.buf = buf;
    this.off = off;
    this.len = len;
    this.family = family;
    return WIRE_OK;
  }

  get version(): number { return this.buf[this.off + OFF_VER_TYPE]! >>> 4; }
  get type(): number { return this.buf[this.off + OFF_VER_TYPE]! & 0x0f; }
  get vrid(): number { return this.buf[this.off + OFF_VRID]!; }
  get priority(): number { return this.buf[this.off + OFF_PRIO]!; }
  /** Changes the priority; call fillChecksum() afterwards. */
  set priority(v: number) { this.buf[this.off + OFF_PRIO] = v; }
  get count(): number { return this.buf[this.off + OFF_COUNT]!; }
  /** v2 only (byte 4). */
  get authType(): number { return this.buf[this.off + OFF_AUTH_TYPE]!; }
  /** v2 only: Adver Int in seconds. */
  get advertIntSec(): number { return this.buf[this.off + OFF_ADVER_INT]!; }
  /** v3 only: Max Adver Int in centiseconds (12 bits). */
  get maxAdvertIntCs(): number { return get16(this.buf, this.off + OFF_MAX_ADVER_INT) & 0x0fff; }
  /** v3 only: the 4 reserved bits (senders set 0, receivers ignore them). */
  get reserved(): number { return this.buf[this.off + OFF_MAX_ADVER_INT]! >>> 4; }
  /** The advertisement interval in centiseconds, either version. */
  get intervalCs(): number { return this.version === VRRP_VERSION_2 ? this.advertIntSec * 100 : this.maxAdvertIntCs; }
  get checksum(): number { return get16(this.buf, this.off + OFF_CHECKSUM); }
  set checksum(v: number) { put16(this.buf, this.off + OFF_CHECKSUM, v); }

  get addrLen(): number { return this.family === 6 ? 16 : 4; }
  get addrsOffset(): number { return this.off + OFF_ADDRS; }
  /** v2: absolute offset of the 8 authentication bytes. */
  get authDataOffset(): number { return this.off + OFF_ADDRS + this.count * this.addrLen; }
  get messageLength(): number { return vrrpMessageLength(this.version, this.family, this.count); }
  /** Bytes after the message (keepalived refuses an advert that has any). */
  get trailing(): number { return this.len - this.messageLength; }

  /** IPv4 address i (0-based, below count). */
  addr4(i: number): number {
    const o = this.off + OFF_ADDRS + 4 * i;
    return ((this.buf[o]! << 24) | (this.buf[o + 1]! << 16) | (this.buf[o + 2]! << 8) | this.buf[o + 3]!) >>> 0;
  }

  /** Word w (0..3) of IPv6 address i. */
  addr6Word(i: number, w: number): number {
    const o = this.off + OFF_ADDRS + 16 * i + 4 * w;
    return ((this.buf[o]! << 24) | (this.buf[o + 1]! << 16) | (this.buf[o + 2]! << 8) | this.buf[o + 3]!) >>> 0;
  }

  /** IPv6 address i into out[outOff..outOff+3]. */
  addr6(i: number, out: Uint32Array, outOff = 0): void {
    for (let w = 0; w < 4; w++) out[outOff + w] = this.addr6Word(i, w);
  }

  hasAddr4(a: number): boolean {
    a >>>= 0;
    for (let i = 0, n = this.count; i < n; i++) if (this.addr4(i) === a) return true;
    return false;
  }

  hasAddr6(a: Uint32Array, aOff = 0): boolean {
    for (let i = 0, n = this.count; i < n; i++) {
      if (this.addr6Word(i, 0) === a[aOff] && this.addr6Word(i, 1) === a[aOff + 1] &&
        this.addr6Word(i, 2) === a[aOff + 2] && this.addr6Word(i, 3) === a[aOff + 3]) return true;
    }
    return false;
  }

  /** Unfolded sum of the message with the checksum field counted as zero. */
  private bodySum(): number {
    return sumBytes(this.buf, this.off, this.messageLength, 0) - get16(this.buf, this.off + OFF_CHECKSUM);
  }

  /** IPv4 (either version): v2 ignores src/dst, v3 sums them into the pseudo-header. */
  expectedChecksum(src = 0, dst = 0): number {
    const l = this.messageLength;
    const pseudo = this.version === VRRP_VERSION_3 ? pseudoHeaderSum(src, dst, VRRP_PROTOCOL, l) : 0;
    return csumFinish(pseudo + this.bodySum());
  }

  checksumOk(src = 0, dst = 0): boolean {
    return this.expectedChecksum(src, dst) === this.checksum;
  }

  fillChecksum(src = 0, dst = 0): void {
    this.checksum = this.expectedChecksum(src, dst);
  }

  /** IPv6 (v3 only): addresses in the addr6.ts word form. */
  expectedChecksum6(src: Uint32Array, srcOff: number, dst: Uint32Array, dstOff: number): number {
    return csumFinish(pseudo6Sum(src, srcOff, dst, dstOff, this.messageLength) + this.bodySum());
  }

  /**
   * IPv6 with the two pseudo-header addresses already summed
   * (Ipv6Headers.pseudoAddrSum, checksum6.ts pseudoAddrSum6 / pseudoAddrSum6Words).
   */
  expectedChecksumAddrSum6(addrSum: number): number {
    return csumFinish(addrSum + this.messageLength + VRRP_PROTOCOL + this.bodySum());
  }

  checksumOkAddrSum6(addrSum: number): boolean {
    return this.expectedChecksumAddrSum6(addrSum) === this.checksum;
  }

  checksumOk6(src: Uint32Array, srcOff: number, dst: Uint32Array, dstOff: number): boolean {
    return this.expectedChecksum6(src, srcOff, dst, dstOff) === this.checksum;
  }

  fillChecksum6(src: Uint32Array, srcOff: number, dst: Uint32Array, dstOff: number): void {
    this.checksum = this.expectedChecksum6(src, srcOff, dst, dstOff);
  }
}

// ---- receive rules ---------------------------------------------------------

/**
 * The IPv4 rules of RFC 5798 section 7.1 / RFC 3768 section 7.1 that the IP
 * header decides: protocol 112 (VRRP_BAD_PROTOCOL), and for multicast adverts
 * TTL 255 (VRRP_BAD_TTL) and destination 224.0.0.18 (VRRP_BAD_DEST). With
 * `unicast` (keepalived's unicast_peer) TTL is not checked and the
 * destination must not be multicast.
 */
export function vrrpCheckIpv4(ttl: number, protocol: number, dst: number, unicast = false): number {
  if (protocol !== VRRP_PROTOCOL) return VRRP_BAD_PROTOCOL;
  if (!unicast && ttl !== VRRP_TTL) return VRRP_BAD_TTL;
  const multicast = dst >>> 28 === 0xe;
  if (unicast ? multicast : dst >>> 0 !== VRRP_GROUP_V4) return VRRP_BAD_DEST;
  return WIRE_OK;
}

/** The same for IPv6: next header 112, hop limit 255, destination ff02::12. */
export function vrrpCheckIpv6(hopLimit: number, nextHeader: number, dst: Uint32Array, dstOff = 0, unicast = false): number {
  if (nextHeader !== VRRP_PROTOCOL) return VRRP_BAD_PROTOCOL;
  if (!unicast && hopLimit !== VRRP_TTL) return VRRP_BAD_TTL;
  const multicast = dst[dstOff]! >>> 24 === 0xff;
  const group = dst[dstOff] === VRRP_GROUP_V6[0] && dst[dstOff + 1] === 0 && dst[dstOff + 2] === 0 &&
    dst[dstOff + 3] === VRRP_GROUP_V6[3];
  if (unicast ? multicast : !group) return VRRP_BAD_DEST;
  return WIRE_OK;
}

/**
 * The message rules, after wrap(): the version the instance runs
 * (`version` 0 = either; VRRP_BAD_VERSION), v2 auth type none
 * (VRRP_AUTH_PASSWORD / VRRP_AUTH_AH for the RFC 2338 types,
 * VRRP_BAD_AUTH_TYPE for others), type advertisement (VRRP_BAD_TYPE), no
 * bytes after the message (VRRP_BAD_LENGTH, as keepalived) and a non-zero
 * interval (VRRP_BAD_INTERVAL: a zero interval would make Master_Down only
 * the skew). Checksum and addresses are separate: they need the IP header
 * and the configuration.
 */
export function vrrpCheckAdvert(v: VrrpView, version = 0): number {
  const ver = v.version;
  if (version !== 0 && ver !== version) return VRRP_BAD_VERSION;
  if (ver === VRRP_VERSION_2) {
    const auth = v.authType;
    if (auth === VRRP_AUTH_PASS) return VRRP_AUTH_PASSWORD;
    if (auth === VRRP_AUTH_AH_TYPE) return VRRP_AUTH_AH;
    if (auth !== VRRP_AUTH_NONE) return VRRP_BAD_AUTH_TYPE;
  }
  if (v.type !== VRRP_TYPE_ADVERT) return VRRP_BAD_TYPE;
  if (v.trailing !== 0) return VRRP_BAD_LENGTH;
  if (v.intervalCs === 0) return VRRP_BAD_INTERVAL;
  return WIRE_OK;
}

export interface VrrpRxOptions {
  /** The version this instance runs; 0 (default) accepts either. */
  version?: number;
  /** Adverts come from unicast peers (no TTL rule; destination not multicast). */
  unicast?: boolean;
}

const NO_RX_OPTIONS: VrrpRxOptions = {};

/**
 * Everything a receiver checks on an IPv4 advert that needs no instance
 * configuration, in keepalived's order: AH-wrapped VRRP (VRRP_AUTH_AH),
 * protocol, length, TTL, version, auth, type, trailing bytes, checksum,
 * destination, interval. On WIRE_OK `v` is wrapped over the message. Left to
 * the caller: VRID, the v2 interval against its own, and the address list
 * (vrrpSameAddrs4).
 */
export function vrrpReceiveIpv4(ip: Ipv4View, v: VrrpView, opts: VrrpRxOptions = NO_RX_OPTIONS): number {
  const p = ip.payloadOffset;
  const n = ip.payloadLength;
  if (ip.protocol === IPPROTO_AH) return n > 0 && ip.buf[p] === VRRP_PROTOCOL ? VRRP_AUTH_AH : VRRP_BAD_PROTOCOL;
  if (ip.protocol !== VRRP_PROTOCOL) return VRRP_BAD_PROTOCOL;
  let rc = v.wrap(ip.buf, p, n, 4);
  if (rc !== WIRE_OK) return rc;
  if (!opts.unicast && ip.ttl !== VRRP_TTL) return VRRP_BAD_TTL;
  const version = opts.version ?? 0;
  if (version !== 0 && v.version !== version) return VRRP_BAD_VERSION;
  rc = vrrpCheckAdvert(v, version);
  if (rc !== WIRE_OK && rc !== VRRP_BAD_INTERVAL) return rc;
  if (!v.checksumOk(ip.src, ip.dst)) return VRRP_BAD_CHECKSUM;
  const dst = vrrpCheckIpv4(ip.ttl, ip.protocol, ip.dst, opts.unicast ?? false);
  if (dst !== WIRE_OK) return dst;
  return rc;
}

/**
 * keepalived's address-list rule: the advert carries exactly as many
 * addresses as configured and every configured one is among them (any
 * order). Returns WIRE_OK or VRRP_ADDR_MISMATCH.
 */
export function vrrpSameAddrs4(v: VrrpView, configured: readonly number[]): number {
  if (v.count !== configured.length) return VRRP_ADDR_MISMATCH;
  for (const a of configured) if (!v.hasAddr4(a)) return VRRP_ADDR_MISMATCH;
  return WIRE_OK;
}

/** The same for IPv6: `configured` holds count addresses, 4 words each. */
export function vrrpSameAddrs6(v: VrrpView, configured: Uint32Array): number {
  const n = configured.length >>> 2;
  if (v.count !== n) return VRRP_ADDR_MISMATCH;
  for (let i = 0; i < n; i++) if (!v.hasAddr6(configured, 4 * i)) return VRRP_ADDR_MISMATCH;
  return WIRE_OK;
}

// ---- plain form ------------------------------------------------------------

export interface VrrpAdvert {
  version: 2 | 3;
  /** VRRP_TYPE_ADVERT when omitted. */
  type?: number;
  vrid: number;
  priority: number;
  /** v3: Max Adver Int in centiseconds, 12 bits (100 when omitted). */
  maxAdvertIntCs?: number;
  /** v3: the 4 reserved bits (0 when omitted). */
  reserved?: number;
  /** v2: Adver Int in seconds (1 when omitted). */
  advertIntSec?: number;
  /** v2: parse gives what is there; emit writes only VRRP_AUTH_NONE. */
  authType?: number;
  /** v2: the 8 bytes after the addresses (zeros on emit). */
  authData?: Uint8Array;
  /** On emit: written as given; computed when omitted. */
  checksum?: number;
  /** IPv4 addresses (family 4). */
  addrs?: readonly number[];
  /** IPv6 addresses (family 6), 4 words each, in one array. */
  addrs6?: Uint32Array;
  /** The count field; the number of addresses when omitted (set it only to damage a message). */
  count?: number;
}

export function vrrpAdvertFamily(a: VrrpAdvert): VrrpFamily {
  return a.addrs6 !== undefined ? 6 : 4;
}

export function vrrpAdvertLength(a: VrrpAdvert): number {
  const fam = vrrpAdvertFamily(a);
  const n = fam === 6 ? a.addrs6!.length >>> 2 : a.addrs?.length ?? 0;
  return vrrpMessageLength(a.version, fam, n);
}

export function parseVrrp(buf: Uint8Array, off = 0, len = buf.length - off, family: VrrpFamily = 4): VrrpAdvert {
  const v = new VrrpView();
  const rc = v.wrap(buf, off, len, family);
  if (rc !== WIRE_OK) throw new WireError(rc, 'vrrp');
  const a: VrrpAdvert = {
    version: v.version as 2 | 3,
    type: v.type,
    vrid: v.vrid,
    priority: v.priority,
    checksum: v.checksum,
    count: v.count,
  };
  if (v.version === VRRP_VERSION_2) {
    a.authType = v.authType;
    a.advertIntSec = v.advertIntSec;
    a.authData = buf.slice(v.authDataOffset, v.authDataOffset + VRRP_AUTH_DATA_LEN);
  } else {
    a.maxAdvertIntCs = v.maxAdvertIntCs;
    a.reserved = v.reserved;
  }
  if (family === 6) {
    const out = new Uint32Array(4 * v.count);
    for (let i = 0; i < v.count; i++) v.addr6(i, out, 4 * i);
    a.addrs6 = out;
  } else {
    const out: number[] = [];
    for (let i = 0; i < v.count; i++) out.push(v.addr4(i));
    a.addrs = out;
  }
  return a;
}

/**
 * Writes the message at buf[off]; returns its length. The v3 checksum needs
 * the IP source and destination: numbers for IPv4, Uint32Array words for
 * IPv6 (each at offset 0). Throws for what it will not send: v2 over IPv6,
 * v2 authentication other than none, out-of-range fields.
 */
export function emitVrrp(
  a: VrrpAdvert, buf: Uint8Array, off: number,
  src: number | Uint32Array = 0, dst: number | Uint32Array = 0,
): number {
  const fam = vrrpAdvertFamily(a);
  if (a.version !== VRRP_VERSION_2 && a.version !== VRRP_VERSION_3) throw new Error(`VRRP version must be 2 or 3 (got ${a.version})`);
  if (a.version === VRRP_VERSION_2 && fam === 6) throw new Error('VRRPv2 is IPv4 only (RFC 3768); use version 3 for IPv6');
  if ((a.authType ?? VRRP_AUTH_NONE) !== VRRP_AUTH_NONE) {
    throw new Error(`VRRP auth type ${a.authType} is not sent: RFC 3768 removed password and AH authentication`);
  }
  const n = fam === 6 ? a.addrs6!.length >>> 2 : a.addrs?.length ?? 0;
  if (n > 255) throw new Error(`VRRP carries at most 255 addresses (got ${n})`);
  const total = vrrpMessageLength(a.version, fam, n);
  buf[off + OFF_VER_TYPE] = (a.version << 4) | ((a.type ?? VRRP_TYPE_ADVERT) & 0x0f);
  buf[off + OFF_VRID] = a.vrid;
  buf[off + OFF_PRIO] = a.priority;
  buf[off + OFF_COUNT] = a.count ?? n;
  if (a.version === VRRP_VERSION_2) {
    const s = a.advertIntSec ?? VRRP_V2_DEFAULT_INTERVAL_S;
    if (s < 0 || s > 255) throw new Error(`VRRPv2 interval is 0..255 s (got ${s})`);
    buf[off + OFF_AUTH_TYPE] = VRRP_AUTH_NONE;
    buf[off + OFF_ADVER_INT] = s;
  } else {
    const cs = a.maxAdvertIntCs ?? VRRP_V3_DEFAULT_INTERVAL_CS;
    if (cs < 0 || cs > VRRP_V3_MAX_INTERVAL_CS) throw new Error(`VRRPv3 interval is 0..4095 cs (got ${cs})`);
    put16(buf, off + OFF_MAX_ADVER_INT, (((a.reserved ?? 0) & 0x0f) << 12) | cs);
  }
  put16(buf, off + OFF_CHECKSUM, 0);
  let o = off + OFF_ADDRS;
  if (fam === 6) {
    const w = a.addrs6!;
    for (let i = 0; i < 4 * n; i++, o += 4) {
      const x = w[i]!;
      buf[o] = x >>> 24; buf[o + 1] = x >>> 16; buf[o + 2] = x >>> 8; buf[o + 3] = x;
    }
  } else {
    for (const x of a.addrs ?? []) {
      buf[o] = x >>> 24; buf[o + 1] = x >>> 16; buf[o + 2] = x >>> 8; buf[o + 3] = x;
      o += 4;
    }
  }
  if (a.version === VRRP_VERSION_2) buf.fill(0, o, o + VRRP_AUTH_DATA_LEN);
  let sum: number;
  if (a.checksum !== undefined) {
    sum = a.checksum;
  } else {
    let pseudo = 0;
    if (a.version === VRRP_VERSION_3) {
      if (fam === 6) {
        if (typeof src === 'number' || typeof dst === 'number') throw new Error('VRRPv3 over IPv6: the checksum needs IPv6 source and destination words');
        pseudo = pseudo6Sum(src, 0, dst, 0, total);
      } else {
        if (typeof src !== 'number' || typeof dst !== 'number') throw new Error('VRRPv3 over IPv4: the checksum needs IPv4 source and destination');
        pseudo = pseudoHeaderSum(src >>> 0, dst >>> 0, VRRP_PROTOCOL, total);
      }
    }
    sum = csumFinish(pseudo + sumBytes(buf, off, total, 0));
  }
  put16(buf, off + OFF_CHECKSUM, sum);
  return total;
}
