// The FTP helper of LVS-NAT (the kernel's ip_vs_ftp.c on ip_vs_app.c), run
// by the NAT transmitters for the packets of a conn that has it bound
// (CONN_F_APP, set by the conn table for a NAT TCP conn to a port of
// `option ftp_ports`, 21 by default). Other conns never get here.
//
// Client -> server (ftpIn, after DNAT): the sequence number moves by
// in_seq and the acknowledgement by out_seq; on an ESTABLISHED conn, a
// payload holding "PASV\r\n" (IPv4) or "EPSV" marks the conn as waiting for
// the server's answer, and "PORT h1,h2,h3,h4,p1,p2\r" or "EPRT |af|addr|port|"
// at its start makes the active data conn: from the real server's port 20
// (the control conn's port - 1) to the client's address and port, seen from
// VIP:20 — the conn the server's connect will find.
//
// Server -> client (ftpOut, after SNAT): the sequence number moves by
// out_seq and the acknowledgement by in_seq; on a conn waiting for it, a
// payload starting with "227 ...(h1,h2,h3,h4,p1,p2)" or "229 ...(|||port|)"
// makes the passive data conn (client, any port -> VIP:port, to the real
// server's port; IP_VS_CONN_F_NO_CPORT until the client's SYN fills the port
// in), and the 227's address becomes the VIP. When that changes the
// payload's length, later sequence numbers of the direction move by the
// difference (vs_seq_update), and the acks of the other direction back.
//
// The kernel mangles through conntrack (nf_nat_mangle_tcp_packet, which
// shifts the sequence numbers itself); tapvs has no conntrack, so it keeps
// ip_vs_app's own offsets (conn/app.ts), as IPVS did before conntrack.
// A reply split over segments, or anything that does not parse, is left as
// it is. Nothing here allocates: replies are written into a scratch buffer.
import { APP_FTP_EPSV, APP_FTP_PASV, APP_NONE, SEQ_IN, SEQ_OUT, fixAck, fixSeq, seqAfter } from '../conn/app.js';
import type { ConnTable } from '../conn/table.js';
import { CONN_F_NO_CPORT } from '../conn/flags.js';
import { TCP_S_ESTABLISHED } from '../conn/tcp-states.js';
import { AF_INET } from '../model/proto.js';
import { FRAG_NONE, type Packet } from '../net/packet.js';
import { csumUpdate16, csumUpdate32 } from '../wire/checksum.js';
import { IPPROTO_TCP } from '../wire/ipproto.js';
import { WIRE_OK } from '../wire/errors.js';
import { TcpView } from '../wire/tcp.js';
import { INITIAL_TIMEOUT } from '../conn/timeouts.js';

const tcp = new TcpView();

function bytes(s: string): Uint8Array {
  return new Uint8Array([...s].map((c) => c.charCodeAt(0)));
}
const PASV = bytes('PASV\r\n');
const EPSV = bytes('EPSV');
const PORT = bytes('PORT');
const EPRT = bytes('EPRT');
const R227 = bytes('227 ');
const R229 = bytes('229 ');
const CH_SPACE = 0x20;
const CH_CR = 0x0d;
const CH_LPAREN = 0x28;
const CH_RPAREN = 0x29;
const CH_COMMA = 0x2c;
const CH_DOT = 0x2e;
const CH_COLON = 0x3a;

/** What a parse found: the numbers, and where the replaced text starts and ends. */
const found = { addr: 0, port: 0, start: 0, end: 0, af: 0 };
/** An IPv6 address of EPRT |2|...|. */
const addr6 = new Uint32Array(4);
const hex6 = new Uint16Array(8);
const words6 = new Uint16Array(8);
/** The rewritten text of a reply. */
const scratch = new Uint8Array(48);

/** ASCII case-insensitive: does buf[off, end) start with `pat`? */
function startsWith(buf: Uint8Array, off: number, end: number, pat: Uint8Array): boolean {
  if (end - off < pat.length) return false;
  for (let k = 0; k < pat.length; k++) {
    let c = buf[off + k]!;
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    if (c !== pat[k]) return false;
  }
  return true;
}

/**
 * ip_vs_ftp_get_addrport's ordinary form: after `pat` at `off`, past the
 * first `skip` character and any more of it, "h1,h2,h3,h4,p1,p2" up to
 * `term`. Fills `found` (addr, port, start, end: the numbers' text); false
 * when the text is incomplete or holds anything else.
 */
function parseHostPort(buf: Uint8Array, off: number, end: number, pat: Uint8Array, skip: number, term: number): boolean {
  if (!startsWith(buf, off, end, pat)) return false;
  let s = off + pat.length;
  while (s < end && buf[s] !== skip) s++;
  while (s < end && buf[s] === skip) s++;
  if (s >= end) return false;
  let e = s;
  while (e < end && buf[e] !== term) e++;
  if (e >= end) return false;
  let i = 0;
  let n = 0;
  let digits = 0;
  let addr = 0;
  let port = 0;
  for (let p = s; p <= e; p++) {
    const c = p === e ? CH_COMMA : buf[p]!;
    if (c >= 0x30 && c <= 0x39) {
      n = n * 10 + c - 0x30;
      if (n > 255) return false;
      digits++;
    } else if (c === CH_COMMA && digits > 0 && i < 6) {
      if (i < 4) addr = (addr << 8) | n;
      else port = (port << 8) | n;
      i++;
      n = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  if (i !== 6) return false;
  found.addr = addr >>> 0;
  found.port = port;
  found.start = s;
  found.end = e;
  found.af = AF_INET;
  return true;
}

/** A decimal port of 1..65535 in buf[s, e); -1 when not one. */
function decimalPort(buf: Uint8Array, s: number, e: number): number {
  if (e <= s || e - s > 5) return -1;
  let n = 0;
  for (let p = s; p < e; p++) {
    const c = buf[p]!;
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + c - 0x30;
  }
  return n >= 1 && n <= 65535 ? n : -1;
}

/** A dotted IPv4 address in buf[s, e), or -1. */
function dottedAddr(buf: Uint8Array, s: number, e: number): number {
  let a = 0;
  let n = 0;
  let parts = 0;
  let digits = 0;
  for (let p = s; p <= e; p++) {
    const c = p === e ? CH_DOT : buf[p]!;
    if (c >= 0x30 && c <= 0x39) {
      n = n * 10 + c - 0x30;
      if (n > 255 || ++digits > 3) return -1;
    } else if (c === CH_DOT && digits > 0 && parts < 4) {
      a = (a << 8) | n;
      parts++;
      n = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  return parts === 4 ? a >>> 0 : -1;
}

/** An IPv6 address (with ::, without an embedded IPv4 part) in buf[s, e) into addr6; false when not one. */
function ipv6Addr(buf: Uint8Array, s: number, e: number): boolean {
  let groups = 0;
  let gap = -1;
  let p = s;
  if (e - s >= 2 && buf[p] === CH_COLON && buf[p + 1] === CH_COLON) {
    gap = 0;
    p += 2;
    if (p === e) {
      addr6.fill(0);
      return true;
    }
  }
  while (p < e) {
    let v = 0;
    let digits = 0;
    while (p < e && digits < 5) {
      const c = buf[p]!;
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (d < 0) break;
      v = (v << 4) | d;
      digits++;
      p++;
    }
    if (digits === 0 || digits > 4 || groups >= 8) return false;
    hex6[groups++] = v;
    if (p === e) break;
    if (buf[p] !== CH_COLON) return false;
    p++;
    if (p < e && buf[p] === CH_COLON) {
      if (gap >= 0) return false;
      gap = groups;
      p++;
      if (p === e) break;
    } else if (p === e) {
      return false;
    }
  }
  if (gap < 0 ? groups !== 8 : groups > 7) return false;
  const words = words6;
  words.fill(0);
  if (gap < 0) {
    for (let k = 0; k < 8; k++) words[k] = hex6[k]!;
  } else {
    for (let k = 0; k < gap; k++) words[k] = hex6[k]!;
    const tail = groups - gap;
    for (let k = 0; k < tail; k++) words[8 - tail + k] = hex6[gap + k]!;
  }
  for (let k = 0; k < 4; k++) addr6[k] = ((words[2 * k]! << 16) | words[2 * k + 1]!) >>> 0;
  return true;
}

/**
 * The extended forms (RFC 2428): EPRT's "|af|addr|port|" (ext) after `pat`
 * and a space, or EPSV's reply "(|||port|)" after the first '('. Fills
 * `found` (af 0 for the reply's form, which names no address).
 */
function parseExtended(buf: Uint8Array, off: number, end: number, pat: Uint8Array, reply: boolean): boolean {
  if (!startsWith(buf, off, end, pat)) return false;
  let s = off + pat.length;
  if (reply) {
    while (s < end && buf[s] !== CH_LPAREN) s++;
    s++;
  } else {
    while (s < end && buf[s] === CH_SPACE) s++;
  }
  if (s >= end) return false;
  const d = buf[s]!;
  if (d < 0x21 || d > 0x7e) return false;
  // |af|addr|port| with the delimiter d (any printable, | by convention)
  let p = s + 1;
  const f1 = p;
  while (p < end && buf[p] !== d) p++;
  if (p >= end) return false;
  const afEnd = p;
  const a1 = ++p;
  while (p < end && buf[p] !== d) p++;
  if (p >= end) return false;
  const a2 = p;
  const p1 = ++p;
  while (p < end && buf[p] !== d) p++;
  if (p >= end) return false;
  const port = decimalPort(buf, p1, p);
  if (port < 0) return false;
  found.port = port;
  found.start = s;
  found.end = p + 1;
  if (reply) {
    if (afEnd !== f1 || a2 !== a1 || p + 1 >= end || buf[p + 1] !== CH_RPAREN) return false;
    found.af = 0;
    return true;
  }
  if (afEnd - f1 !== 1) return false;
  if (buf[f1] === 0x31) {
    const a = dottedAddr(buf, a1, a2);
    if (a < 0) return false;
    found.addr = a;
    found.af = 1;
    return true;
  }
  if (buf[f1] === 0x32) {
    if (!ipv6Addr(buf, a1, a2)) return false;
    found.af = 2;
    return true;
  }
  return false;
}

/** Writes n in decimal at scratch[o]; returns the end. */
function writeDec(o: number, n: number): number {
  if (n >= 10000) scratch[o++] = 0x30 + Math.floor(n / 10000) % 10;
  if (n >= 1000) scratch[o++] = 0x30 + Math.floor(n / 1000) % 10;
  if (n >= 100) scratch[o++] = 0x30 + Math.floor(n / 100) % 10;
  if (n >= 10) scratch[o++] = 0x30 + Math.floor(n / 10) % 10;
  scratch[o++] = 0x30 + n % 10;
  return o;
}

/** "h1,h2,h3,h4,p1,p2" for addr:port into scratch; returns its length. */
function writeHostPort(addr: number, port: number): number {
  let o = 0;
  for (let k = 24; k >= 0; k -= 8) {
    o = writeDec(o, (addr >>> k) & 0xff);
    scratch[o++] = CH_COMMA;
  }
  o = writeDec(o, port >>> 8);
  scratch[o++] = CH_COMMA;
  return writeDec(o, port & 0xff);
}

/** Is "PASV\r\n" anywhere in the payload (ip_vs_ftp_in scans the whole of it)? */
function hasPasv(buf: Uint8Array, s: number, e: number): boolean {
  for (let p = s; p + PASV.length <= e; p++) if (startsWith(buf, p, e, PASV)) return true;
  return false;
}

/** "EPSV\r", or "EPSV 1\r" / "EPSV 2\r" naming the conn's family, anywhere in the payload. */
function hasEpsv(buf: Uint8Array, s: number, e: number, v4: boolean): boolean {
  for (let p = s; p + 5 <= e; p++) {
    if (!startsWith(buf, p, e, EPSV)) continue;
    const c = buf[p + 4]!;
    if (c === CH_CR) return true;
    if (c !== CH_SPACE) continue;
    if (p + 7 > e || buf[p + 6] !== CH_CR) return false;
    return buf[p + 5] === (v4 ? 0x31 : 0x32);
  }
  return false;
}

// ---- sequence offsets -------------------------------------------------------

/**
 * app_tcp_pkt_in/out's first step: the segment's sequence number moved by
 * its own direction's offset, its acknowledgement by the other's. The
 * checksum follows (a partial one holds only the pseudo-header: nothing to do).
 */
function fixSeqAck(conns: ConnTable, slot: number, pkt: Packet, out: boolean): void {
  const a = conns.apps;
  const sf = a.seqFlags[slot]!;
  if (sf === 0) return;
  const complete = pkt.csumStart === 0;
  const seqFlag = out ? SEQ_OUT : SEQ_IN;
  if ((sf & seqFlag) !== 0) {
    const init = out ? a.outInit[slot]! : a.inInit[slot]!;
    const delta = out ? a.outDelta[slot]! : a.inDelta[slot]!;
    const prev = out ? a.outPrev[slot]! : a.inPrev[slot]!;
    if (delta !== 0 || prev !== 0) {
      const old = tcp.seq;
      const v = fixSeq(old, init, delta, prev);
      tcp.seq = v;
      if (complete) tcp.checksum = csumUpdate32(tcp.checksum, old, v);
    }
  }
  if ((sf & (out ? SEQ_IN : SEQ_OUT)) !== 0) {
    const init = out ? a.inInit[slot]! : a.outInit[slot]!;
    const delta = out ? a.inDelta[slot]! : a.outDelta[slot]!;
    const prev = out ? a.inPrev[slot]! : a.outPrev[slot]!;
    if (delta !== 0 || prev !== 0) {
      const old = tcp.ack;
      const v = fixAck(old, init, delta, prev);
      tcp.ack = v;
      if (complete) tcp.checksum = csumUpdate32(tcp.checksum, old, v);
    }
  }
}

/** vs_seq_update for out_seq: the server's segment at `seq` grew by `diff`. */
function outSeqUpdate(conns: ConnTable, slot: number, seq: number, diff: number): void {
  const a = conns.apps;
  if ((a.seqFlags[slot]! & SEQ_OUT) === 0 || seqAfter(seq, a.outInit[slot]!)) {
    a.outPrev[slot] = a.outDelta[slot]!;
    a.outDelta[slot] = a.outDelta[slot]! + diff;
    a.outInit[slot] = seq;
    a.seqFlags[slot] = a.seqFlags[slot]! | SEQ_OUT;
  }
}

// ---- the helper ---------------------------------------------------------------

/** A client's packet of an FTP control conn, after DNAT (IPv4 or IPv6). */
export function ftpIn(conns: ConnTable, pkt: Packet, slot: number): void {
  if (pkt.ops === undefined || pkt.proto !== IPPROTO_TCP) return;
  const buf = pkt.buf;
  if (tcp.wrap(buf, pkt.l4Off, pkt.l4Len) !== WIRE_OK) return;
  fixSeqAck(conns, slot, pkt, false);
  if (conns.state[slot] !== TCP_S_ESTABLISHED || pkt.fragment !== FRAG_NONE) return;
  const s = tcp.payloadOffset;
  const e = pkt.l4Off + pkt.l4Len;
  if (e <= s) return;
  const v4 = pkt.af === AF_INET;
  const a = conns.apps;
  if (v4 && hasPasv(buf, s, e)) {
    a.data[slot] = APP_FTP_PASV;
    return;
  }
  if (hasEpsv(buf, s, e, v4)) {
    a.data[slot] = APP_FTP_EPSV;
    return;
  }
  if (v4 && parseHostPort(buf, s, e, PORT, CH_SPACE, CH_CR)) {
    // PORT: IPv4 only
  } else if (parseExtended(buf, s, e, EPRT, false) && found.af === (v4 ? 1 : 2)) {
    // EPRT of the conn's own family
  } else {
    return;
  }
  a.data[slot] = APP_NONE;
  activeDataConn(conns, pkt, slot);
}

/** PORT/EPRT: the real server's connection from its port 20 to the client's address and port, as VIP:20. */
function activeDataConn(conns: ConnTable, pkt: Packet, slot: number): void {
  const vport = (conns.vport[slot]! - 1) & 0xffff;
  const dport = (conns.dport[slot]! - 1) & 0xffff;
  const now = pkt.now;
  let n: number;
  if (pkt.af === AF_INET) {
    n = conns.lookupIn(IPPROTO_TCP, found.addr, found.port, conns.vaddr[slot]!, vport, now);
    if (n < 0) {
      n = conns.create(IPPROTO_TCP, found.addr, found.port, conns.vaddr[slot]!, vport, conns.dest(slot), dport, 0, slot, INITIAL_TIMEOUT, now);
    }
  } else {
    n = conns.lookupIn6(IPPROTO_TCP, addr6, 0, found.port, conns.vaddr6, slot * 4, vport, now);
    if (n < 0) {
      n = conns.create6(IPPROTO_TCP, addr6, 0, found.port, conns.vaddr6, slot * 4, vport, conns.dest(slot), dport, 0, slot, INITIAL_TIMEOUT, now);
    }
  }
  if (n >= 0) conns.listen(n, now);
}

/**
 * A server's packet of an FTP control conn, after SNAT. Returns true when
 * it changed the payload (its length too, perhaps): the TCP checksum has
 * then been computed afresh.
 */
export function ftpOut(conns: ConnTable, pkt: Packet, slot: number): boolean {
  if (pkt.ops === undefined || pkt.proto !== IPPROTO_TCP) return false;
  const buf = pkt.buf;
  if (tcp.wrap(buf, pkt.l4Off, pkt.l4Len) !== WIRE_OK) return false;
  const seq = tcp.seq;
  fixSeqAck(conns, slot, pkt, true);
  const a = conns.apps;
  const want = a.data[slot]!;
  if (want === APP_NONE || conns.state[slot] !== TCP_S_ESTABLISHED) return false;
  // a super-frame or fragment is not looked into (the kernel linearizes; a reply to PASV is one small segment)
  if (pkt.fragment !== FRAG_NONE || pkt.gsoSize !== 0) return false;
  const s = tcp.payloadOffset;
  const e = pkt.l4Off + pkt.l4Len;
  const v4 = pkt.af === AF_INET;
  let port: number;
  if (want === APP_FTP_PASV) {
    if (!v4 || !parseHostPort(buf, s, e, R227, CH_LPAREN, CH_RPAREN)) return false;
    port = found.port;
  } else {
    if (!parseExtended(buf, s, e, R229, true)) return false;
    port = found.port;
  }
  // ip_vs_conn_out_get, else ip_vs_conn_new (the client's port unknown) under the control conn
  const now = pkt.now;
  let n: number;
  if (v4) {
    // the data conn goes to the address the 227 names (normally the real server's own; the 229 names
    // none: the control conn's), bound to the control conn's real server
    const daddr = want === APP_FTP_PASV ? found.addr : conns.daddr[slot]!;
    n = conns.lookupOut(IPPROTO_TCP, daddr, port, conns.caddr[slot]!, 0, now);
    if (n < 0) {
      n = conns.create(IPPROTO_TCP, conns.caddr[slot]!, 0, conns.vaddr[slot]!, port, conns.dest(slot), port, CONN_F_NO_CPORT, slot, INITIAL_TIMEOUT, now);
      if (n >= 0 && conns.daddr[n] !== daddr) conns.setDaddr(n, daddr);
    }
  } else {
    n = conns.lookupOut6(IPPROTO_TCP, conns.daddr6, slot * 4, port, conns.caddr6, slot * 4, 0, now);
    if (n < 0) {
      n = conns.create6(IPPROTO_TCP, conns.caddr6, slot * 4, 0, conns.vaddr6, slot * 4, port, conns.dest(slot), port, CONN_F_NO_CPORT, slot, INITIAL_TIMEOUT, now);
    }
  }
  if (n < 0) return false;
  a.data[slot] = APP_NONE;
  conns.listen(n, now);
  if (want !== APP_FTP_PASV) return false;
  // "227 ... (VIP,p1,p2)": the address the client sees is the VIP's
  const len = writeHostPort(conns.vaddr[n]!, conns.vport[n]!);
  return mangle(pkt, found.start, found.end, len, seq, conns, slot);
}

/**
 * Puts scratch[0, len) in place of buf[start, end) of an IPv4 packet: the
 * rest of the frame moves, the IP total length and checksum follow, the
 * TCP checksum is computed afresh (a partial one becomes complete), and a
 * length change is remembered in out_seq. False when the buffer has no room.
 */
function mangle(pkt: Packet, start: number, end: number, len: number, seq: number, conns: ConnTable, slot: number): boolean {
  const buf = pkt.buf;
  const diff = len - (end - start);
  const frameEnd = pkt.ethOff + pkt.frameLen;
  if (frameEnd + diff > buf.length) return false;
  if (diff !== 0) {
    buf.copyWithin(end + diff, end, frameEnd);
    const ip = pkt.ip;
    const old = ip.totalLength;
    ip.totalLength = old + diff;
    ip.checksum = csumUpdate16(ip.checksum, old, old + diff);
    pkt.frameLen += diff;
    pkt.len = pkt.frameLen;
    pkt.l4Len += diff;
    outSeqUpdate(conns, slot, seq, diff);
  }
  for (let k = 0; k < len; k++) buf[start + k] = scratch[k]!;
  pkt.csumStart = 0;
  pkt.csumOffset = 0;
  tcp.wrap(buf, pkt.l4Off, pkt.l4Len);
  tcp.fillChecksum(pkt.ip.src, pkt.ip.dst);
  return true;
}
