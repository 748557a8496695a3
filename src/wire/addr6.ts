// IPv6 addresses as four 32-bit words (word 0 holds the first four bytes on
// the wire), kept in a caller's Uint32Array at an offset so that the data
// path can read, compare and copy addresses without allocating. The text
// forms are for the control side: parseIp6 throws, ip6ToString prints what
// glibc's inet_ntop prints (and so what ipvsadm shows).

import { parseIp } from './addr.js';
import { get32, put32 } from './bytes.js';

/** Words per address. */
export const IP6_WORDS = 4;
export const IP6_LEN = 16;

/** A fresh all-zero address (control side; the data path reuses its own arrays). */
export function newIp6(): Uint32Array {
  return new Uint32Array(IP6_WORDS);
}

/** The 16 bytes at buf[off] -> out[outOff .. outOff+3]. */
export function readIp6(buf: Uint8Array, off: number, out: Uint32Array, outOff = 0): void {
  out[outOff] = get32(buf, off);
  out[outOff + 1] = get32(buf, off + 4);
  out[outOff + 2] = get32(buf, off + 8);
  out[outOff + 3] = get32(buf, off + 12);
}

export function writeIp6(buf: Uint8Array, off: number, a: Uint32Array, aOff = 0): void {
  put32(buf, off, a[aOff]!);
  put32(buf, off + 4, a[aOff + 1]!);
  put32(buf, off + 8, a[aOff + 2]!);
  put32(buf, off + 12, a[aOff + 3]!);
}

export function ip6Set(out: Uint32Array, outOff: number, w0: number, w1: number, w2: number, w3: number): void {
  out[outOff] = w0;
  out[outOff + 1] = w1;
  out[outOff + 2] = w2;
  out[outOff + 3] = w3;
}

export function ip6Copy(src: Uint32Array, srcOff: number, dst: Uint32Array, dstOff: number): void {
  dst[dstOff] = src[srcOff]!;
  dst[dstOff + 1] = src[srcOff + 1]!;
  dst[dstOff + 2] = src[srcOff + 2]!;
  dst[dstOff + 3] = src[srcOff + 3]!;
}

export function ip6Equal(a: Uint32Array, aOff: number, b: Uint32Array, bOff: number): boolean {
  return a[aOff] === b[bOff] && a[aOff + 1] === b[bOff + 1] &&
    a[aOff + 2] === b[bOff + 2] && a[aOff + 3] === b[bOff + 3];
}

/** Whether the 16 bytes at buf[off] hold the address a[aOff..]: no copy out of the packet. */
export function ip6EqualsBytes(buf: Uint8Array, off: number, a: Uint32Array, aOff = 0): boolean {
  return get32(buf, off + 12) === a[aOff + 3] && get32(buf, off) === a[aOff] &&
    get32(buf, off + 4) === a[aOff + 1] && get32(buf, off + 8) === a[aOff + 2];
}

/** Numeric order (-1, 0, 1), for sorted tables and tie-breaks. */
export function ip6Compare(a: Uint32Array, aOff: number, b: Uint32Array, bOff: number): number {
  for (let i = 0; i < IP6_WORDS; i++) {
    const x = a[aOff + i]!;
    const y = b[bOff + i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

// ---- prefixes ----

/** Mask bits of word i (0..3) for a prefix length, clamped to 0..128. */
function maskWord(prefix: number, i: number): number {
  const bits = Math.min(Math.max(prefix - 32 * i, 0), 32);
  // a shift by 32 is a shift by 0 in JS, hence the special case
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** Writes the netmask of a /prefix into out; throws outside 0..128. */
export function ip6PrefixMask(prefix: number, out: Uint32Array, outOff = 0): Uint32Array {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 128) {
    throw new Error(`invalid IPv6 prefix length ${prefix}: expected 0..128`);
  }
  for (let i = 0; i < IP6_WORDS; i++) out[outOff + i] = maskWord(prefix, i);
  return out;
}

/** out = a with the bits beyond /prefix cleared (the network address). Never throws. */
export function ip6Network(a: Uint32Array, aOff: number, prefix: number, out: Uint32Array, outOff = 0): void {
  for (let i = 0; i < IP6_WORDS; i++) out[outOff + i] = (a[aOff + i]! & maskWord(prefix, i)) >>> 0;
}

/** Whether addr lies in net/prefix. Never throws; prefix is clamped to 0..128. */
export function ip6InSubnet(addr: Uint32Array, aOff: number, net: Uint32Array, nOff: number, prefix: number): boolean {
  for (let i = 0; i < IP6_WORDS; i++) {
    const m = maskWord(prefix, i);
    if (m === 0) return true;
    if (((addr[aOff + i]! ^ net[nOff + i]!) & m) !== 0) return false;
  }
  return true;
}

/** Same, with the address still in the packet bytes. */
export function ip6BytesInSubnet(buf: Uint8Array, off: number, net: Uint32Array, nOff: number, prefix: number): boolean {
  for (let i = 0; i < IP6_WORDS; i++) {
    const m = maskWord(prefix, i);
    if (m === 0) return true;
    if (((get32(buf, off + 4 * i) ^ net[nOff + i]!) & m) !== 0) return false;
  }
  return true;
}

// ---- classes of addresses ----

export function ip6IsUnspecified(a: Uint32Array, off = 0): boolean {
  return (a[off]! | a[off + 1]! | a[off + 2]! | a[off + 3]!) === 0;
}

export function ip6IsLoopback(a: Uint32Array, off = 0): boolean {
  return (a[off]! | a[off + 1]! | a[off + 2]!) === 0 && a[off + 3] === 1;
}

/** fe80::/10 */
export function ip6IsLinkLocal(a: Uint32Array, off = 0): boolean {
  return (a[off]! >>> 22) === 0x3fa;
}

/** ff00::/8 */
export function ip6IsMulticast(a: Uint32Array, off = 0): boolean {
  return (a[off]! >>> 24) === 0xff;
}

/** ::ffff:0:0/96, an IPv4 address in IPv6 clothing. */
export function ip6IsV4Mapped(a: Uint32Array, off = 0): boolean {
  return a[off] === 0 && a[off + 1] === 0 && a[off + 2] === 0xffff;
}

/** ff02::1:ff00:0/104 */
export function ip6IsSolicitedNode(a: Uint32Array, off = 0): boolean {
  return a[off] === 0xff020000 && a[off + 1] === 0 && a[off + 2] === 1 && (a[off + 3]! >>> 24) === 0xff;
}

/** ::ffff:a.b.c.d for an IPv4 number. */
export function ip6FromV4Mapped(v4: number, out: Uint32Array, outOff = 0): void {
  ip6Set(out, outOff, 0, 0, 0xffff, v4 >>> 0);
}

// ---- neighbour discovery helpers ----

/** The solicited-node multicast group of an address: ff02::1:ff + its low 24 bits. */
export function ip6SolicitedNode(a: Uint32Array, aOff: number, out: Uint32Array, outOff = 0): void {
  ip6Set(out, outOff, 0xff020000, 0, 1, (0xff000000 | (a[aOff + 3]! & 0xffffff)) >>> 0);
}

/**
 * The Ethernet group address for an IPv6 multicast address: 33:33 and the
 * low 32 bits, so a solicited-node group maps to 33:33:ff:xx:xx:xx.
 */
export function ip6MulticastMac(a: Uint32Array, aOff = 0): number {
  return 0x3333 * 4294967296 + a[aOff + 3]!;
}

/**
 * fe80::/64 with the modified EUI-64 interface id of a 48-bit MAC: ff:fe in
 * the middle and the universal/local bit inverted.
 */
export function ip6LinkLocalFromMac(mac: number, out: Uint32Array, outOff = 0): void {
  const hi = Math.floor(mac / 4294967296) & 0xffff; // first two bytes
  const lo = mac >>> 0; // last four
  const b0 = (hi >>> 8) ^ 0x02;
  const b1 = hi & 0xff;
  const b2 = lo >>> 24;
  ip6Set(out, outOff, 0xfe800000, 0,
    ((b0 << 24) | (b1 << 16) | (b2 << 8) | 0xff) >>> 0,
    (0xfe000000 | (lo & 0xffffff)) >>> 0);
}

// ---- text ----

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const DOTTED = /^[0-9.]+$/;

function bad(s: string, why: string): Error {
  return new Error(`invalid IPv6 address '${s}': ${why}`);
}

/** Appends the 16-bit groups of one side of '::' to out16; only the last side may end in a dotted quad. */
function parseGroups(s: string, part: string, last: boolean, out16: number[]): void {
  if (part === '') return;
  const groups = part.split(':');
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    if (g === '') throw bad(s, 'empty group (a single \':\' at the start or end, or \':::\')');
    if (HEX_GROUP.test(g)) {
      out16.push(parseInt(g, 16));
      continue;
    }
    if (last && i === groups.length - 1 && g.includes('.')) {
      if (!DOTTED.test(g)) throw bad(s, `'${g}' is not a dotted IPv4 address`);
      let v4: number;
      try {
        v4 = parseIp(g);
      } catch (e) {
        throw bad(s, `embedded IPv4 part: ${(e as Error).message}`);
      }
      out16.push(v4 >>> 16, v4 & 0xffff);
      continue;
    }
    if (g.includes('.')) throw bad(s, `an embedded IPv4 address ('${g}') may only be the last 32 bits`);
    throw bad(s, `'${g}' is not a group of 1 to 4 hex digits`);
  }
}

/**
 * All RFC 4291 text forms: eight groups, '::' for one or more zero groups,
 * and a dotted IPv4 address as the last 32 bits. Zone ids (fe80::1%eth0)
 * are refused. Writes the words into out (a new array when omitted) and
 * returns it. Throws an Error naming the text.
 */
export function parseIp6(s: string, out: Uint32Array = newIp6(), outOff = 0): Uint32Array {
  const t = s.trim();
  if (t === '') throw bad(s, 'empty');
  if (t.includes('%')) throw bad(s, 'zone ids (%...) are not supported');
  const dc = t.indexOf('::');
  if (dc >= 0 && t.indexOf('::', dc + 1) >= 0) throw bad(s, '\'::\' may appear only once');
  const head: number[] = [];
  const tail: number[] = [];
  if (dc < 0) {
    parseGroups(s, t, true, head);
    if (head.length !== 8) throw bad(s, `${head.length} groups of 16 bits, expected 8 (or '::')`);
  } else {
    parseGroups(s, t.slice(0, dc), false, head);
    parseGroups(s, t.slice(dc + 2), true, tail);
    // '::' stands for at least one zero group
    if (head.length + tail.length > 7) throw bad(s, 'too many groups for \'::\' to stand for any');
  }
  const w16 = new Array<number>(8).fill(0);
  for (let i = 0; i < head.length; i++) w16[i] = head[i]!;
  for (let i = 0; i < tail.length; i++) w16[8 - tail.length + i] = tail[i]!;
  for (let i = 0; i < IP6_WORDS; i++) out[outOff + i] = ((w16[2 * i]! << 16) | w16[2 * i + 1]!) >>> 0;
  return out;
}

export function isIp6(s: string): boolean {
  try {
    parseIp6(s);
    return true;
  } catch {
    return false;
  }
}

/**
 * Text form as glibc's inet_ntop gives it (RFC 5952): lowercase, no leading
 * zeros, the longest run of two or more zero groups (the first of equal
 * runs) as '::'. Like glibc, the last 32 bits are dotted for ::ffff:a.b.c.d
 * (IPv4-mapped) and for ::a.b.c.d (the old IPv4-compatible form, which is
 * everything with six leading zero groups and a non-zero seventh group).
 */
export function ip6ToString(a: Uint32Array, off = 0): string {
  const w = [
    a[off]! >>> 16, a[off]! & 0xffff, a[off + 1]! >>> 16, a[off + 1]! & 0xffff,
    a[off + 2]! >>> 16, a[off + 2]! & 0xffff, a[off + 3]! >>> 16, a[off + 3]! & 0xffff,
  ];
  let bestAt = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) bestAt = -1;
  const dotted = bestAt === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff));
  const groups = dotted ? 6 : 8;
  let s = '';
  for (let i = 0; i < groups; i++) {
    if (i === bestAt) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (s !== '' && !s.endsWith(':')) s += ':';
    s += w[i]!.toString(16);
  }
  if (dotted) {
    if (!s.endsWith(':')) s += ':';
    const v4 = a[off + 3]!;
    s += `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.${v4 & 255}`;
  }
  return s;
}

/** Text form of the 16 bytes at buf[off] (printer, traces). */
export function ip6BytesToString(buf: Uint8Array, off: number): string {
  const a = newIp6();
  readIp6(buf, off, a, 0);
  return ip6ToString(a, 0);
}

/** "2001:db8::/32" -> { addr, prefix }; a bare address gets prefix 128. */
export function parseCidr6(s: string): { addr: Uint32Array; prefix: number } {
  const slash = s.indexOf('/');
  if (slash < 0) return { addr: parseIp6(s), prefix: 128 };
  const addr = parseIp6(s.slice(0, slash));
  const p = s.slice(slash + 1).trim();
  if (!/^\d{1,3}$/.test(p) || Number(p) > 128) throw new Error(`invalid prefix in '${s}': expected /0../128`);
  return { addr, prefix: Number(p) };
}

/** ff02::1, all nodes on the link. Shared: never write into it. */
export const IP6_ALL_NODES: Uint32Array = parseIp6('ff02::1');
/** ff02::2, all routers on the link. Shared: never write into it. */
export const IP6_ALL_ROUTERS: Uint32Array = parseIp6('ff02::2');

/**
 * The four words XORed into one: how IPVS reduces an IPv6 address to 32 bits
 * where it hashes addresses (the hashing schedulers, and here the connection
 * table's index records, which keep a fold and compare the full address).
 */
export function ip6Fold(a: Uint32Array, off = 0): number {
  return (a[off]! ^ a[off + 1]! ^ a[off + 2]! ^ a[off + 3]!) >>> 0;
}
