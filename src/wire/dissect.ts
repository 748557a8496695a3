// A field-level dissection of a frame: every header field with its name, its
// place in the frame (bytes, and bits for fields that share a byte) and its
// value as text. The comparison of captures uses it to name what differs
// ("ip.ttl expected 64 got 63") and to leave out fields a user chose to
// ignore (`--ignore ip.id,ttl`). Names follow Wireshark's display filters
// where it has one (eth.dst, ip.ttl, tcp.srcport); a packet inside another
// (IPIP's inner packet, the packet an ICMP error quotes) has its fields
// prefixed with "inner.". Slow path only: it allocates.
//
// The layouts here are for display, written down once in this file; the
// data path reads headers through the views of each protocol file.
import { ipToString, macToString } from './addr.js';
import { ip6BytesToString } from './addr6.js';
import { get16, get32 } from './bytes.js';
import { WIRE_OK } from './errors.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_VLAN } from './ethernet.js';
import { Ipv6Headers } from './ipv6.js';
import { sctpChunkName } from './sctp.js';
import { tcpFlagsString } from './tcp.js';

/** One header field of a dissected frame. */
export interface Field {
  /** "ip.ttl", "inner.tcp.srcport", "eth.padding". */
  name: string;
  /** Byte offset in the frame and length in bytes. */
  off: number;
  size: number;
  /** For a field that shares its bytes: the bits of the big-endian value at off..off+size that are its own. */
  bits?: number;
  /** Its value as text ("64", "10.0.0.1", "0x1c46", "[S.]", "18 bytes 474554202f..."). */
  text: string;
  /** Index into the dissection's layers. */
  layer: number;
  /** A checksum field: which bytes it covers decides what ignoring a field does to it. */
  checksum?: 'header' | 'l4' | 'all';
}

export interface Layer {
  /** "eth", "vlan", "arp", "ip", "ipv6", "tcp", "udp", "icmp", "icmpv6", "inner ip", "inner ipv6", ... */
  label: string;
  /** Index of the layer that carries it, -1 for the outermost. */
  parent: number;
}

export interface Dissection {
  layers: Layer[];
  fields: Field[];
}

/** Base names of the fields the dissector knows (without the "inner." prefix), for --ignore's check. */
export const FIELD_NAMES: readonly string[] = [
  'eth.dst', 'eth.src', 'eth.type', 'eth.padding', 'vlan.priority', 'vlan.dei', 'vlan.id', 'vlan.etype',
  'arp.hw.type', 'arp.proto.type', 'arp.hw.size', 'arp.proto.size', 'arp.opcode',
  'arp.src.hw_mac', 'arp.src.proto_ipv4', 'arp.dst.hw_mac', 'arp.dst.proto_ipv4',
  'ip.version', 'ip.hdr_len', 'ip.dsfield', 'ip.len', 'ip.id', 'ip.flags', 'ip.frag_offset', 'ip.ttl', 'ip.proto',
  'ip.checksum', 'ip.src', 'ip.dst', 'ip.options', 'ip.payload',
  'ipv6.version', 'ipv6.tclass', 'ipv6.flow', 'ipv6.plen', 'ipv6.nxt', 'ipv6.hlim', 'ipv6.src', 'ipv6.dst', 'ipv6.ext', 'ipv6.payload',
  'tcp.srcport', 'tcp.dstport', 'tcp.seq', 'tcp.ack', 'tcp.hdr_len', 'tcp.flags', 'tcp.window_size', 'tcp.checksum',
  'tcp.urgent_pointer', 'tcp.options', 'tcp.payload',
  'udp.srcport', 'udp.dstport', 'udp.length', 'udp.checksum', 'udp.payload',
  'sctp.srcport', 'sctp.dstport', 'sctp.verification_tag', 'sctp.checksum', 'sctp.chunk_type', 'sctp.chunk_flags',
  'sctp.chunk_length', 'sctp.chunk_value', 'sctp.chunk_padding',
  'icmp.type', 'icmp.code', 'icmp.checksum', 'icmp.ident', 'icmp.seq', 'icmp.mtu', 'icmp.unused', 'icmp.gateway',
  'icmp.pointer', 'icmp.rest', 'icmp.data',
  'icmpv6.type', 'icmpv6.code', 'icmpv6.checksum', 'icmpv6.ident', 'icmpv6.seq', 'icmpv6.mtu', 'icmpv6.pointer', 'icmpv6.unused',
  'icmpv6.nd.flags', 'icmpv6.nd.target', 'icmpv6.nd.options', 'icmpv6.rest', 'icmpv6.data',
  'data',
];

/** True when `mask` (as --ignore takes it) names at least one field the dissector knows. */
export function isKnownFieldMask(mask: string): boolean {
  const base = mask.startsWith('inner.') ? mask.slice(6) : mask;
  return FIELD_NAMES.some((n) => n === base || n.endsWith('.' + base));
}

/** Does `mask` cover field `name`? The whole name, or its last dot-separated parts: "ttl" and "ip.ttl" cover "inner.ip.ttl". */
export function maskMatches(mask: string, name: string): boolean {
  return name === mask || name.endsWith('.' + mask);
}

const hex = (n: number, digits: number): string => '0x' + n.toString(16).padStart(digits, '0');

function bytesText(buf: Uint8Array, off: number, len: number): string {
  const shown = Math.min(len, 16);
  let h = '';
  for (let i = 0; i < shown; i++) h += buf[off + i]!.toString(16).padStart(2, '0');
  let printable = true;
  for (let i = 0; i < shown; i++) {
    const c = buf[off + i]!;
    if ((c < 0x20 || c > 0x7e) && c !== 0x0a && c !== 0x0d) printable = false;
  }
  const text = printable && shown > 0
    ? ` "${String.fromCharCode(...buf.subarray(off, off + shown)).replace(/\r/g, '\\r').replace(/\n/g, '\\n')}"`
    : '';
  return `${len} bytes ${h}${len > shown ? '...' : ''}${text}`;
}

class Builder {
  readonly layers: Layer[] = [];
  readonly fields: Field[] = [];
  constructor(readonly buf: Uint8Array, readonly end: number) {}

  layer(label: string, parent: number): number {
    this.layers.push({ label, parent });
    return this.layers.length - 1;
  }

  /** A field of `size` bytes at `off`, if the frame holds it; returns false when it does not. */
  add(layer: number, name: string, off: number, size: number, text: (v: number) => string, bits?: number, checksum?: Field['checksum']): boolean {
    if (off + size > this.end || size <= 0) return false;
    let v = 0;
    if (size === 1) v = this.buf[off]!;
    else if (size === 2) v = get16(this.buf, off);
    else if (size === 4) v = get32(this.buf, off);
    if (bits !== undefined) {
      v &= bits;
      let b = bits;
      while ((b & 1) === 0) {
        b >>>= 1;
        v >>>= 1;
      }
    }
    const f: Field = { name, off, size, text: text(v >>> 0), layer };
    if (bits !== undefined) f.bits = bits;
    if (checksum) f.checksum = checksum;
    this.fields.push(f);
    return true;
  }

  mac(layer: number, name: string, off: number): boolean {
    if (off + 6 > this.end) return false;
    this.fields.push({ name, off, size: 6, text: macToString(get16(this.buf, off) * 0x100000000 + get32(this.buf, off + 2)), layer });
    return true;
  }

  ip(layer: number, name: string, off: number): boolean {
    return this.add(layer, name, off, 4, (v) => ipToString(v));
  }

  ip6(layer: number, name: string, off: number): boolean {
    if (off + 16 > this.end) return false;
    this.fields.push({ name, off, size: 16, text: ip6BytesToString(this.buf, off), layer });
    return true;
  }

  bytes(layer: number, name: string, off: number, len: number): void {
    const n = Math.min(len, this.end - off);
    if (n > 0) this.fields.push({ name, off, size: n, text: bytesText(this.buf, off, n), layer });
  }
}

const dec = (v: number): string => String(v);

/** Dissects the Ethernet frame buf[off, off+len). Fields a short frame cuts off are left out; bytes after the last header are `data`. */
export function dissectFrame(buf: Uint8Array, off = 0, len = buf.length - off): Dissection {
  const b = new Builder(buf, off + len);
  const L = b.layer('eth', -1);
  if (!b.mac(L, 'eth.dst', off) || !b.mac(L, 'eth.src', off + 6)) {
    b.bytes(L, 'data', off, len);
    return b;
  }
  let p = off + 12;
  let parent = L;
  let type = -1;
  while (p + 2 <= b.end) {
    const t = get16(buf, p);
    if (t !== ETHERTYPE_VLAN && t !== 0x88a8) {
      b.add(parent, parent === L ? 'eth.type' : 'vlan.etype', p, 2, (v) => hex(v, 4));
      type = t;
      p += 2;
      break;
    }
    // an 802.1Q / 802.1ad tag: its TPID is the type field of the layer before
    b.add(parent, parent === L ? 'eth.type' : 'vlan.etype', p, 2, (v) => hex(v, 4));
    const V = b.layer('vlan', parent);
    b.add(V, 'vlan.priority', p + 2, 2, dec, 0xe000);
    b.add(V, 'vlan.dei', p + 2, 2, dec, 0x1000);
    b.add(V, 'vlan.id', p + 2, 2, dec, 0x0fff);
    parent = V;
    p += 4;
  }
  let used = p;
  if (type === ETHERTYPE_IPV4) used = ipv4(b, p, b.end - p, parent, '');
  else if (type === ETHERTYPE_ARP) used = arp(b, p, parent);
  else if (type === ETHERTYPE_IPV6) used = ipv6(b, p, parent, '');
  // what follows the packet in the frame: the padding to Ethernet's 60-byte minimum, or a trailer
  if (used < b.end) b.bytes(L, used === p ? 'data' : 'eth.padding', used, b.end - used);
  return b;
}

function arp(b: Builder, p: number, parent: number): number {
  const A = b.layer('arp', parent);
  b.add(A, 'arp.hw.type', p, 2, dec);
  b.add(A, 'arp.proto.type', p + 2, 2, (v) => hex(v, 4));
  b.add(A, 'arp.hw.size', p + 4, 1, dec);
  b.add(A, 'arp.proto.size', p + 5, 1, dec);
  b.add(A, 'arp.opcode', p + 6, 2, (v) => (v === 1 ? '1 (request)' : v === 2 ? '2 (reply)' : dec(v)));
  b.mac(A, 'arp.src.hw_mac', p + 8);
  b.ip(A, 'arp.src.proto_ipv4', p + 14);
  b.mac(A, 'arp.dst.hw_mac', p + 18);
  b.ip(A, 'arp.dst.proto_ipv4', p + 24);
  return Math.min(p + 28, b.end);
}

/**
 * An IPv4 packet at p (at most `avail` bytes of the frame) and what it
 * carries; `pre` is "" or "inner.". Returns where it ends in the frame (its
 * total length, or the frame's end for a cut packet).
 */
function ipv4(b: Builder, p: number, avail: number, parent: number, pre: string): number {
  const buf = b.buf;
  const I = b.layer(pre ? 'inner ip' : 'ip', parent);
  if (!b.add(I, `${pre}ip.version`, p, 1, dec, 0xf0)) return p;
  b.add(I, `${pre}ip.hdr_len`, p, 1, (v) => `${v * 4}`, 0x0f);
  b.add(I, `${pre}ip.dsfield`, p + 1, 1, (v) => hex(v, 2));
  b.add(I, `${pre}ip.len`, p + 2, 2, dec);
  b.add(I, `${pre}ip.id`, p + 4, 2, (v) => `${hex(v, 4)} (${v})`);
  b.add(I, `${pre}ip.flags`, p + 6, 1, (v) => `${hex(v, 1)}${v & 2 ? ' DF' : ''}${v & 1 ? ' MF' : ''}`, 0xe0);
  b.add(I, `${pre}ip.frag_offset`, p + 6, 2, (v) => `${v * 8}`, 0x1fff);
  b.add(I, `${pre}ip.ttl`, p + 8, 1, dec);
  b.add(I, `${pre}ip.proto`, p + 9, 1, dec);
  b.add(I, `${pre}ip.checksum`, p + 10, 2, (v) => hex(v, 4), undefined, 'header');
  b.ip(I, `${pre}ip.src`, p + 12);
  if (!b.ip(I, `${pre}ip.dst`, p + 16)) return b.end;
  const hl = (buf[p]! & 0x0f) * 4;
  if (hl > 20) b.bytes(I, `${pre}ip.options`, p + 20, hl - 20);
  const total = get16(buf, p + 2);
  const end = Math.min(p + Math.max(total, hl), p + avail, b.end);
  const l4 = p + hl;
  if (l4 >= end) return end;
  const fragOff = get16(buf, p + 6) & 0x1fff;
  if (fragOff !== 0) {
    // a later fragment: no L4 header in it
    b.bytes(I, `${pre}ip.payload`, l4, end - l4);
    return end;
  }
  const proto = buf[p + 9]!;
  const quoted = pre !== '' && parentIsIcmp(b, parent);
  if (proto === 6) tcp(b, l4, end, I, pre, quoted);
  else if (proto === 17) udp(b, l4, end, I, pre, quoted);
  else if (proto === 132) sctp(b, l4, end, I, pre, quoted);
  else if (proto === 1) icmp(b, l4, end, I, pre);
  else if (proto === 4 && pre === '') ipv4(b, l4, end - l4, I, 'inner.');
  else b.bytes(I, `${pre}ip.payload`, l4, end - l4);
  return end;
}

function parentIsIcmp(b: Builder, layer: number): boolean {
  return /icmp(v6)?$/.test(b.layers[layer]?.label ?? '');
}

function tcp(b: Builder, p: number, end: number, parent: number, pre: string, quoted: boolean): void {
  const T = b.layer(`${pre ? 'inner ' : ''}tcp`, parent);
  const f = (name: string, o: number, size: number, text: (v: number) => string, bits?: number, ck?: Field['checksum']) =>
    b.add(T, `${pre}tcp.${name}`, o, size, text, bits, ck) && o + size <= end;
  if (!f('srcport', p, 2, dec) || !f('dstport', p + 2, 2, dec) || !f('seq', p + 4, 4, dec)) return;
  if (!f('ack', p + 8, 4, dec)) return;
  f('hdr_len', p + 12, 1, (v) => `${v * 4}`, 0xf0);
  f('flags', p + 12, 2, (v) => `${hex(v, 3)} [${tcpFlagsString(v)}]`, 0x01ff);
  f('window_size', p + 14, 2, dec);
  f('checksum', p + 16, 2, (v) => hex(v, 4), undefined, 'l4');
  if (!f('urgent_pointer', p + 18, 2, dec)) return;
  const hl = (b.buf[p + 12]! >>> 4) * 4;
  if (hl > 20) b.bytes(T, `${pre}tcp.options`, p + 20, Math.min(hl - 20, end - p - 20));
  if (!quoted && p + hl < end) b.bytes(T, `${pre}tcp.payload`, p + hl, end - p - hl);
}

function udp(b: Builder, p: number, end: number, parent: number, pre: string, quoted: boolean): void {
  const U = b.layer(`${pre ? 'inner ' : ''}udp`, parent);
  const f = (name: string, o: number, text: (v: number) => string, ck?: Field['checksum']) =>
    b.add(U, `${pre}udp.${name}`, o, 2, text, undefined, ck) && o + 2 <= end;
  if (!f('srcport', p, dec) || !f('dstport', p + 2, dec) || !f('length', p + 4, dec)) return;
  if (!f('checksum', p + 6, (v) => hex(v, 4), 'l4')) return;
  if (!quoted && p + 8 < end) b.bytes(U, `${pre}udp.payload`, p + 8, end - p - 8);
}

/**
 * SCTP (RFC 9260): the common header (its CRC32c covers the whole packet,
 * not the IP pseudo-header, so it goes with any change inside the layer),
 * then each chunk's type, flags, length and value; a quoted header (ICMP
 * error) stops after what is there.
 */
function sctp(b: Builder, p: number, end: number, parent: number, pre: string, quoted: boolean): void {
  const S = b.layer(`${pre ? 'inner ' : ''}sctp`, parent);
  const n = (name: string) => `${pre}sctp.${name}`;
  if (!b.add(S, n('srcport'), p, 2, dec) || !b.add(S, n('dstport'), p + 2, 2, dec)) return;
  if (!b.add(S, n('verification_tag'), p + 4, 4, (v) => hex(v, 8))) return;
  if (!b.add(S, n('checksum'), p + 8, 4, (v) => hex(v, 8), undefined, 'all')) return;
  if (quoted) return;
  let c = p + 12;
  while (c + 4 <= end) {
    const len = get16(b.buf, c + 2);
    b.add(S, n('chunk_type'), c, 1, (v) => `${v} (${sctpChunkName(v)})`);
    b.add(S, n('chunk_flags'), c + 1, 1, (v) => hex(v, 2));
    b.add(S, n('chunk_length'), c + 2, 2, dec);
    if (len < 4) break;
    const vEnd = Math.min(c + len, end);
    if (vEnd > c + 4) b.bytes(S, n('chunk_value'), c + 4, vEnd - c - 4);
    const padded = c + ((len + 3) & ~3);
    if (padded > vEnd && vEnd < end) b.bytes(S, n('chunk_padding'), vEnd, Math.min(padded, end) - vEnd);
    c = padded;
  }
  if (c < end) b.bytes(S, 'data', c, end - c);
}

const ICMP_ERRORS = new Set([3, 4, 5, 11, 12]);

function icmp(b: Builder, p: number, end: number, parent: number, pre: string): void {
  const C = b.layer(`${pre ? 'inner ' : ''}icmp`, parent);
  const n = (name: string) => `${pre}icmp.${name}`;
  if (!b.add(C, n('type'), p, 1, dec) || !b.add(C, n('code'), p + 1, 1, dec)) return;
  b.add(C, n('checksum'), p + 2, 2, (v) => hex(v, 4), undefined, 'all');
  const type = b.buf[p]!;
  const code = b.buf[p + 1]!;
  if (type === 0 || type === 8 || type === 13 || type === 14) {
    b.add(C, n('ident'), p + 4, 2, dec);
    b.add(C, n('seq'), p + 6, 2, dec);
  } else if (type === 3 && code === 4) {
    b.add(C, n('unused'), p + 4, 2, dec);
    b.add(C, n('mtu'), p + 6, 2, dec);
  } else if (type === 5) {
    b.ip(C, n('gateway'), p + 4);
  } else if (type === 12) {
    b.add(C, n('pointer'), p + 4, 1, dec);
    b.add(C, n('unused'), p + 5, 1, dec);
    b.add(C, n('unused'), p + 6, 2, dec);
  } else if (ICMP_ERRORS.has(type)) {
    b.add(C, n('unused'), p + 4, 4, dec);
  } else {
    b.add(C, n('rest'), p + 4, 4, (v) => hex(v, 8));
  }
  const body = p + 8;
  if (body >= end) return;
  // an error quotes the packet it is about: its header and the first bytes of its L4 header
  if (ICMP_ERRORS.has(type) && pre === '' && (b.buf[body]! >>> 4) === 4) ipv4(b, body, end - body, C, 'inner.');
  else b.bytes(C, n('data'), body, end - body);
}

/**
 * An IPv6 packet at p and what it carries: the extension headers walked (as
 * one field), then TCP, UDP, ICMPv6, or for IPv6-in-IPv6 the packet inside
 * (`inner.`); `pre` is "" or "inner.". Returns where it ends in the frame.
 */
function ipv6(b: Builder, p: number, parent: number, pre: string): number {
  const I = b.layer(pre ? 'inner ipv6' : 'ipv6', parent);
  const n = (name: string) => `${pre}ipv6.${name}`;
  if (!b.add(I, n('version'), p, 1, dec, 0xf0)) return p;
  b.add(I, n('tclass'), p, 2, (v) => hex(v, 2), 0x0ff0);
  b.add(I, n('flow'), p + 1, 4, (v) => hex(v, 5), 0x0fffff00);
  b.add(I, n('plen'), p + 4, 2, dec);
  b.add(I, n('nxt'), p + 6, 1, dec);
  b.add(I, n('hlim'), p + 7, 1, dec);
  b.ip6(I, n('src'), p + 8);
  b.ip6(I, n('dst'), p + 24);
  if (p + 40 >= b.end) return b.end;
  const end = Math.min(p + 40 + get16(b.buf, p + 4), b.end);
  const x = new Ipv6Headers();
  if (x.walkChain(b.buf, p, end) !== WIRE_OK) {
    b.bytes(I, n('payload'), p + 40, end - p - 40);
    return end;
  }
  if (x.extLength > 0) b.bytes(I, n('ext'), p + 40, x.extLength);
  const l4 = x.upperOffset;
  if (l4 >= end) return end;
  if (x.isLaterFragment) {
    b.bytes(I, n('payload'), l4, end - l4);
    return end;
  }
  const proto = x.upperProtocol;
  const quoted = pre !== '' && parentIsIcmp(b, parent);
  if (proto === 6) tcp(b, l4, end, I, pre, quoted);
  else if (proto === 17) udp(b, l4, end, I, pre, quoted);
  else if (proto === 132) sctp(b, l4, end, I, pre, quoted);
  else if (proto === 58) icmpv6(b, l4, end, I, pre);
  else if (proto === 41 && pre === '') ipv6(b, l4, I, 'inner.');
  else b.bytes(I, n('payload'), l4, end - l4);
  return end;
}

function icmpv6(b: Builder, p: number, end: number, parent: number, pre: string): void {
  const C = b.layer(`${pre ? 'inner ' : ''}icmpv6`, parent);
  const n = (name: string) => `${pre}icmpv6.${name}`;
  if (!b.add(C, n('type'), p, 1, dec) || !b.add(C, n('code'), p + 1, 1, dec)) return;
  b.add(C, n('checksum'), p + 2, 2, (v) => hex(v, 4), undefined, 'all');
  const type = b.buf[p]!;
  const body = p + 8;
  if (type === 128 || type === 129) {
    b.add(C, n('ident'), p + 4, 2, dec);
    b.add(C, n('seq'), p + 6, 2, dec);
  } else if (type === 2) {
    b.add(C, n('mtu'), p + 4, 4, dec);
  } else if (type === 4) {
    b.add(C, n('pointer'), p + 4, 4, dec);
  } else if (type < 128) {
    b.add(C, n('unused'), p + 4, 4, dec);
  } else if (type === 135 || type === 136) {
    b.add(C, n('nd.flags'), p + 4, 4, (v) => `${hex(v, 8)}${v & 0x80000000 ? ' R' : ''}${v & 0x40000000 ? ' S' : ''}${v & 0x20000000 ? ' O' : ''}`);
    b.ip6(C, n('nd.target'), p + 8);
    if (p + 24 < end) b.bytes(C, n('nd.options'), p + 24, end - p - 24);
    return;
  } else {
    b.add(C, n('rest'), p + 4, 4, (v) => hex(v, 8));
  }
  if (body >= end) return;
  // an error quotes as much of the packet it is about as fits
  if (type < 128 && pre === '' && end - body >= 40 && (b.buf[body]! >>> 4) === 6) ipv6(b, body, C, 'inner.');
  else b.bytes(C, n('data'), body, end - body);
}

/**
 * The fields `masks` leave out of a comparison of this frame, by index into
 * d.fields, checksums included: ignoring a field also ignores every checksum
 * that covers it (ignoring ip.id without ip.checksum would still fail).
 */
export function ignoredFields(d: Dissection, masks: readonly string[]): Set<number> {
  const out = new Set<number>();
  if (masks.length === 0) return out;
  d.fields.forEach((f, i) => {
    if (masks.some((m) => maskMatches(m, f.name))) out.add(i);
  });
  if (out.size === 0) return out;
  const ignoredLayers = new Set<number>();
  const pseudo = new Set<number>(); // IP layers whose src, dst, len or proto is ignored: their L4 pseudo-header changes
  for (const i of out) {
    const f = d.fields[i]!;
    ignoredLayers.add(f.layer);
    if (/ip\.(src|dst|len|proto)$|ipv6\.(src|dst|plen|nxt)$/.test(f.name)) pseudo.add(f.layer);
  }
  const within = (layer: number, ancestor: number): boolean => {
    for (let l = layer; l >= 0; l = d.layers[l]!.parent) if (l === ancestor) return true;
    return false;
  };
  d.fields.forEach((f, i) => {
    if (!f.checksum || out.has(i)) return;
    const L = f.layer;
    let covered = ignoredLayers.has(L);
    if (!covered && f.checksum === 'l4') covered = pseudo.has(d.layers[L]!.parent);
    if (!covered && f.checksum === 'all') covered = [...ignoredLayers].some((l) => within(l, L));
    // ICMPv6 sums the IPv6 pseudo-header too
    if (!covered && f.checksum === 'all' && d.layers[L]!.label.endsWith('icmpv6')) covered = pseudo.has(d.layers[L]!.parent);
    if (covered) out.add(i);
  });
  return out;
}

/** Clears the bytes (or bits) of the given fields in a copy of the frame, for a comparison that leaves them out. */
export function maskedCopy(buf: Uint8Array, off: number, len: number, d: Dissection, ignored: ReadonlySet<number>): Uint8Array {
  const out = buf.slice(off, off + len);
  for (const i of ignored) {
    const f = d.fields[i]!;
    const o = f.off - off;
    if (f.bits === undefined) {
      out.fill(0, o, o + f.size);
      continue;
    }
    for (let k = 0; k < f.size; k++) {
      const shift = 8 * (f.size - 1 - k);
      out[o + k] = out[o + k]! & ~((f.bits >>> shift) & 0xff);
    }
  }
  return out;
}

/**
 * A short one-line summary of a frame for logs: "TCP 203.0.113.7:45000 >
 * 10.0.0.100:80 [S] seq 100 ack 0 len 0", "ARP request who-has 10.0.0.1
 * tell 10.0.0.2", "IPIP 172.16.0.2 > 10.20.1.5: TCP ...". Stable wording:
 * decision logs are compared with it.
 */
export function frameSummary(buf: Uint8Array, off = 0, len = buf.length - off): string {
  const d = dissectFrame(buf, off, len);
  const v = new Map<string, Field>();
  for (const f of d.fields) if (!v.has(f.name)) v.set(f.name, f);
  // every chunk of an SCTP packet, for its summary: "sctp.chunk_types" = "INIT ACK, DATA"
  for (const f of d.fields) {
    if (!f.name.endsWith('sctp.chunk_type')) continue;
    const k = `${f.name}s`;
    const name = /\((.*)\)/.exec(f.text)?.[1] ?? f.text;
    const prev = v.get(k);
    v.set(k, { ...f, name: k, text: prev ? `${prev.text}, ${name}` : name });
  }
  const t = (name: string): string => v.get(name)?.text ?? '?';
  const num = (name: string): number => Number(v.get(name)?.text.split(' ')[0] ?? NaN);
  if (!v.has('eth.src')) return `${len} bytes, too short for Ethernet`;
  const vlan = v.has('vlan.id') ? `vlan ${t('vlan.id')} ` : '';
  if (v.has('arp.opcode')) {
    const op = num('arp.opcode');
    if (op === 1) return `${vlan}ARP request who-has ${t('arp.dst.proto_ipv4')} tell ${t('arp.src.proto_ipv4')}`;
    if (op === 2) return `${vlan}ARP reply ${t('arp.src.proto_ipv4')} is-at ${t('arp.src.hw_mac')}`;
    return `${vlan}ARP opcode ${op}`;
  }
  if (v.has('ipv6.version')) return vlan + ip6Summary(v, '', len);
  if (!v.has('ip.version')) return `${vlan}ethertype ${t('eth.type')}, ${len} bytes`;
  if (!v.has('ip.dst')) return `${vlan}IPv4 truncated, ${len} bytes`;
  return vlan + ipSummary(v, '');
}

/** " [INIT, DATA]": the chunk types of an SCTP packet (frameSummary gathers them as sctp.chunk_types). */
function sctpChunks(v: Map<string, Field>, pre: string): string {
  const first = v.get(`${pre}sctp.chunk_type`);
  if (first === undefined) return '';
  return ` [${v.get(`${pre}sctp.chunk_types`)?.text ?? first.text}]`;
}

function ipSummary(v: Map<string, Field>, pre: string): string {
  const t = (name: string): string => v.get(pre + name)?.text ?? '?';
  const has = (name: string): boolean => v.has(pre + name);
  const src = t('ip.src');
  const dst = t('ip.dst');
  const frag = Number(t('ip.frag_offset'));
  const mf = t('ip.flags').includes('MF');
  const fragText = frag > 0 || mf ? ` (fragment id ${t('ip.id').split(' ')[0]} offset ${frag}${mf ? ' MF' : ''})` : '';
  if (frag > 0) return `IPv4 ${src} > ${dst} proto ${t('ip.proto')}${fragText}`;
  const payload = (name: string): number => Number(v.get(pre + name)?.text.split(' ')[0] ?? 0);
  if (has('tcp.srcport')) {
    // a quoted header (ICMP error) may hold only the ports and the sequence number
    if (!has('tcp.flags')) return `TCP ${src}:${t('tcp.srcport')} > ${dst}:${t('tcp.dstport')}`;
    const flags = /\[(.*)\]/.exec(t('tcp.flags'))?.[1] ?? '?';
    return `TCP ${src}:${t('tcp.srcport')} > ${dst}:${t('tcp.dstport')} [${flags}] seq ${t('tcp.seq')} ack ${t('tcp.ack')} len ${payload('tcp.payload')}${fragText}`;
  }
  if (has('udp.srcport')) return `UDP ${src}:${t('udp.srcport')} > ${dst}:${t('udp.dstport')} len ${payload('udp.payload')}${fragText}`;
  if (has('sctp.srcport')) return `SCTP ${src}:${t('sctp.srcport')} > ${dst}:${t('sctp.dstport')}${sctpChunks(v, pre)}${fragText}`;
  if (has('icmp.type')) {
    const type = Number(t('icmp.type'));
    const code = t('icmp.code');
    if (type === 8 || type === 0) {
      return `ICMP ${src} > ${dst} echo ${type === 8 ? 'request' : 'reply'} id ${t('icmp.ident')} seq ${t('icmp.seq')}${fragText}`;
    }
    const mtu = has('icmp.mtu') ? ` mtu ${t('icmp.mtu')}` : '';
    const about = pre === '' && v.has('inner.ip.src') ? ` about ${ipSummary(v, 'inner.')}` : '';
    return `ICMP ${src} > ${dst} type ${type} code ${code}${mtu}${about}${fragText}`;
  }
  if (pre === '' && v.has('inner.ip.src')) return `IPIP ${src} > ${dst}: ${ipSummary(v, 'inner.')}`;
  return `IPv4 ${src} > ${dst} proto ${t('ip.proto')}${fragText}`;
}

/** [addr]:port for IPv6 addresses. */
const at6 = (a: string, port: string): string => `[${a}]:${port}`;

function ip6Summary(v: Map<string, Field>, pre: string, len: number): string {
  const t = (name: string): string => v.get(pre + name)?.text ?? '?';
  const has = (name: string): boolean => v.has(pre + name);
  if (!has('ipv6.dst')) return `IPv6 truncated, ${len} bytes`;
  const src = t('ipv6.src');
  const dst = t('ipv6.dst');
  const payload = (name: string): number => Number(v.get(pre + name)?.text.split(' ')[0] ?? 0);
  if (has('tcp.srcport')) {
    if (!has('tcp.flags')) return `TCP ${at6(src, t('tcp.srcport'))} > ${at6(dst, t('tcp.dstport'))}`;
    const flags = /\[(.*)\]/.exec(t('tcp.flags'))?.[1] ?? '?';
    return `TCP ${at6(src, t('tcp.srcport'))} > ${at6(dst, t('tcp.dstport'))} [${flags}] seq ${t('tcp.seq')} ack ${t('tcp.ack')} len ${payload('tcp.payload')}`;
  }
  if (has('udp.srcport')) return `UDP ${at6(src, t('udp.srcport'))} > ${at6(dst, t('udp.dstport'))} len ${payload('udp.payload')}`;
  if (has('sctp.srcport')) return `SCTP ${at6(src, t('sctp.srcport'))} > ${at6(dst, t('sctp.dstport'))}${sctpChunks(v, pre)}`;
  if (has('icmpv6.type')) {
    const type = Number(t('icmpv6.type'));
    if (type === 128 || type === 129) return `ICMPv6 ${src} > ${dst} echo ${type === 128 ? 'request' : 'reply'} id ${t('icmpv6.ident')} seq ${t('icmpv6.seq')}`;
    if (type === 135) return `ICMPv6 ${src} > ${dst} neighbour solicitation who-has ${t('icmpv6.nd.target')}`;
    if (type === 136) return `ICMPv6 ${src} > ${dst} neighbour advertisement ${t('icmpv6.nd.target')}${t('icmpv6.nd.flags').replace(/^0x[0-9a-f]+/, '')}`;
    const mtu = has('icmpv6.mtu') ? ` mtu ${t('icmpv6.mtu')}` : '';
    const about = pre === '' && v.has('inner.ipv6.src') ? ` about ${ip6Summary(v, 'inner.', len)}` : '';
    return `ICMPv6 ${src} > ${dst} type ${type} code ${t('icmpv6.code')}${mtu}${about}`;
  }
  if (pre === '' && v.has('inner.ipv6.src')) return `IPv6-in-IPv6 ${src} > ${dst}: ${ip6Summary(v, 'inner.', len)}`;
  return `IPv6 ${src} > ${dst} next header ${t('ipv6.nxt')}, ${len} bytes`;
}
