// The IPVS connection synchronisation protocol, byte for byte as Linux's
// net/netfilter/ipvs/ip_vs_sync.c sends and reads it: UDP datagrams from the
// master director's sync daemon to the backups, one message per datagram,
// each a header and a run of connection records.
//
// Version 0 (sysctl sync_version=0; IPv4 only):
//   header   0 count  1 syncid  2-3 size (whole message, header included)
//   record   0 reserved  1 protocol  2 cport  4 vport  6 dport  8 caddr
//            12 vaddr  16 daddr  20 flags (16 bits)  22 state   = 24 bytes
//            + 24 bytes of sequence data when flags & IP_VS_CONN_F_SEQ_MASK:
//            in_seq {init_seq, delta, previous_delta}, out_seq {same}. The
//            kernel copies these from its own struct, so they are in the
//            sender's byte order (little-endian from x86), not network order.
// Version 1 (the default since Linux 2.6.39):
//   header   0 zero (a v0 receiver reads count 0 and ignores the message)
//            1 syncid  2-3 size  4 count  5 version (1)  6-7 spare (0)
//   record   0 type (bit 0: IPv6)  1 protocol  2-3 version (4 bits, 0) |
//            size (12 bits, this record with its options, without padding)
//            4 flags (32 bits)  8 state  10 cport  12 vport  14 dport
//            16 fwmark  20 timeout (seconds)  24 caddr, vaddr, daddr
//            (4 bytes each: 36 in all; 16 each for IPv6: 72 in all)
//            then options, each type (1) length (1) data: 1 sequence data
//            (24 bytes, network order), 2 persistence-engine data (<= 255),
//            3 persistence-engine name (<= 16). Type | 0x40 marks an option
//            a receiver may ignore; an unknown one without it makes the
//            kernel skip the record.
//   Records start on 4-byte boundaries from the message start: the sender
//   zero-pads *before* a record (the last one is not padded) and counts the
//   padding in the header size but not in the record size.
//
// A receiver (ip_vs_process_message) drops a datagram whose length is not
// the header's size; takes it as v1 only when byte 0 is 0, version is 1 and
// spare is 0, and as v0 otherwise; stops at the first malformed record
// (records before it are kept); skips a record with an unknown mandatory
// option, an unknown protocol or an out-of-range state, and goes on.
//
// Multicast: 224.0.0.81, UDP port 8848 (+ thread id with sync_ports > 1),
// TTL 1, loopback off, fragmentation allowed. The kernel has no IPv6 default
// group: IPv6 sync needs a group given with ipvsadm --mcast-group.

import { EMPTY, get16, get32, put16, put32 } from './bytes.js';
import {
  IPVS_SYNC_BAD_FAMILY, IPVS_SYNC_BAD_OPTION, IPVS_SYNC_BAD_PE, IPVS_SYNC_BAD_RECORD_SIZE, IPVS_SYNC_BAD_SIZE,
  IPVS_SYNC_BAD_VERSION, IPVS_SYNC_COUNT_MISMATCH, IPVS_SYNC_FULL, IPVS_SYNC_OPT_TRUNCATED, IPVS_SYNC_TRUNCATED,
  WIRE_OK,
} from './errors.js';
import { IPPROTO_AH, IPPROTO_ESP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from './ipproto.js';

// ---- transport defaults ----------------------------------------------------

/** 224.0.0.81 */
export const IPVS_SYNC_GROUP = 0xe0000051;
export const IPVS_SYNC_PORT = 8848;
export const IPVS_SYNC_TTL = 1;
/** sync_ports may run up to 64 threads, thread i on port IPVS_SYNC_PORT + i. */
export const IPVS_SYNC_PORTS_MAX = 64;
/** A master sends a partly filled message after at most this long (IPVS_SYNC_FLUSH_TIME). */
export const IPVS_SYNC_FLUSH_MS = 2000;
/** Protocol version in the v1 header. */
export const IPVS_SYNC_PROTO_VER = 1;

// sysctl defaults (net.ipv4.vs.*), for the daemon
export const IPVS_SYNC_DEFAULT_THRESHOLD = 3;
export const IPVS_SYNC_DEFAULT_PERIOD = 50;
export const IPVS_SYNC_DEFAULT_VERSION = 1;

export const AF_INET_SYNC = 2;
export const AF_INET6_SYNC = 10;

/**
 * The kernel's sync_maxlen (start_sync_thread): the largest message, UDP
 * payload bytes. Unset (0), a master uses 1500 - IP - UDP whatever the
 * interface MTU is (1472 over IPv4, 1452 over IPv6), and a backup sizes its
 * receive buffer from the interface MTU clamped to 1500..65535. A value
 * given with ipvsadm --sync-maxlen is clamped to 1 (master) or 1024 (backup)
 * at least and 65535 - IP - UDP at most.
 */
export function ipvsSyncMaxlen(opts: { family?: 4 | 6; backup?: boolean; mtu?: number; syncMaxlen?: number }): number {
  const hlen = (opts.family === 6 ? 40 : 20) + 8;
  const backup = opts.backup ?? false;
  const mtu = backup ? Math.min(Math.max(opts.mtu ?? 1500, 1500), 65535) : 1500;
  const min = backup ? 1024 : 1;
  const want = opts.syncMaxlen ?? 0;
  if (want > 0) return Math.min(Math.max(want, min), 65535 - hlen);
  return mtu - hlen;
}

// ---- connection flags and states as the kernel numbers them on the wire ----

export const IP_VS_CONN_F_FWD_MASK = 0x0007;
export const IP_VS_CONN_F_MASQ = 0x0000;
export const IP_VS_CONN_F_LOCALNODE = 0x0001;
export const IP_VS_CONN_F_TUNNEL = 0x0002;
export const IP_VS_CONN_F_DROUTE = 0x0003;
export const IP_VS_CONN_F_BYPASS = 0x0004;
/** Set by the receiver on conns it creates; senders do not send it. */
export const IP_VS_CONN_F_SYNC = 0x0020;
/** Cleared by the sender, cleared again by the receiver. */
export const IP_VS_CONN_F_HASHED = 0x0040;
export const IP_VS_CONN_F_NOOUTPUT = 0x0080;
export const IP_VS_CONN_F_INACTIVE = 0x0100;
export const IP_VS_CONN_F_OUT_SEQ = 0x0200;
export const IP_VS_CONN_F_IN_SEQ = 0x0400;
export const IP_VS_CONN_F_SEQ_MASK = 0x0600;
export const IP_VS_CONN_F_NO_CPORT = 0x0800;
export const IP_VS_CONN_F_TEMPLATE = 0x1000;
/** Never synced: the kernel skips one-packet conns. */
export const IP_VS_CONN_F_ONE_PACKET = 0x2000;
/** What a v1 receiver keeps of the received flags. */
export const IP_VS_CONN_F_BACKUP_MASK = IP_VS_CONN_F_FWD_MASK | IP_VS_CONN_F_NOOUTPUT | IP_VS_CONN_F_INACTIVE |
  IP_VS_CONN_F_SEQ_MASK | IP_VS_CONN_F_NO_CPORT | IP_VS_CONN_F_TEMPLATE;
/** What a receiver updates on a conn it already has. */
export const IP_VS_CONN_F_BACKUP_UPD_MASK = IP_VS_CONN_F_INACTIVE | IP_VS_CONN_F_SEQ_MASK;

export const IP_VS_TCP_S_NONE = 0;
export const IP_VS_TCP_S_ESTABLISHED = 1;
export const IP_VS_TCP_S_SYN_SENT = 2;
export const IP_VS_TCP_S_SYN_RECV = 3;
export const IP_VS_TCP_S_FIN_WAIT = 4;
export const IP_VS_TCP_S_TIME_WAIT = 5;
export const IP_VS_TCP_S_CLOSE = 6;
export const IP_VS_TCP_S_CLOSE_WAIT = 7;
export const IP_VS_TCP_S_LAST_ACK = 8;
export const IP_VS_TCP_S_LISTEN = 9;
export const IP_VS_TCP_S_SYNACK = 10;
export const IP_VS_TCP_S_LAST = 11;

export const IP_VS_UDP_S_NORMAL = 0;
export const IP_VS_UDP_S_LAST = 1;
export const IP_VS_ICMP_S_NORMAL = 0;
export const IP_VS_ICMP_S_LAST = 1;

export const IP_VS_SCTP_S_NONE = 0;
export const IP_VS_SCTP_S_INIT1 = 1;
export const IP_VS_SCTP_S_INIT = 2;
export const IP_VS_SCTP_S_COOKIE_SENT = 3;
export const IP_VS_SCTP_S_COOKIE_REPLIED = 4;
export const IP_VS_SCTP_S_COOKIE_WAIT = 5;
export const IP_VS_SCTP_S_COOKIE = 6;
export const IP_VS_SCTP_S_COOKIE_ECHOED = 7;
export const IP_VS_SCTP_S_ESTABLISHED = 8;
export const IP_VS_SCTP_S_SHUTDOWN_SENT = 9;
export const IP_VS_SCTP_S_SHUTDOWN_RECEIVED = 10;
export const IP_VS_SCTP_S_SHUTDOWN_ACK_SENT = 11;
export const IP_VS_SCTP_S_REJECTED = 12;
export const IP_VS_SCTP_S_CLOSED = 13;
export const IP_VS_SCTP_S_LAST = 14;

/** Persistence templates use their state as bits. */
export const IP_VS_CTPL_S_NONE = 0;
export const IP_VS_CTPL_S_ASSURED = 1;
export const IP_VS_CTPL_S_LAST = 2;

/** Names as ipvsadm -lnc shows them. */
export const IP_VS_TCP_STATE_NAMES: readonly string[] = [
  'NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK',
  'LISTEN', 'SYNACK',
];
export const IP_VS_SCTP_STATE_NAMES: readonly string[] = [
  'NONE', 'INIT1', 'INIT', 'COOKIE_SENT', 'COOKIE_REPLIED', 'COOKIE_WAIT', 'COOKIE', 'COOKIE_ECHOED',
  'ESTABLISHED', 'SHUTDOWN_SENT', 'SHUTDOWN_RECEIVED', 'SHUTDOWN_ACK_SENT', 'REJECTED', 'CLOSED',
];


/**
 * States the kernel has for a protocol: a received state at or past it
 * makes the receiver skip the record. 0 for a protocol IPVS does not
 * balance (the kernel skips those records too): IPVS has TCP, UDP, SCTP,
 * AH and ESP (ICMP only rides along with a conn, it has no conns of its own).
 */
export function ipvsSyncStateCount(protocol: number): number {
  switch (protocol) {
    case IPPROTO_TCP: return IP_VS_TCP_S_LAST;
    case IPPROTO_UDP: return IP_VS_UDP_S_LAST;
    case IPPROTO_SCTP: return IP_VS_SCTP_S_LAST;
    case IPPROTO_AH: case IPPROTO_ESP: return 1;
    default: return 0;
  }
}

export function ipvsSyncStateName(protocol: number, state: number, template = false): string {
  if (template) return state === IP_VS_CTPL_S_ASSURED ? 'ASSURED' : state === IP_VS_CTPL_S_NONE ? 'NONE' : `state-${state}`;
  if (protocol === IPPROTO_TCP) return IP_VS_TCP_STATE_NAMES[state] ?? `state-${state}`;
  if (protocol === IPPROTO_SCTP) return IP_VS_SCTP_STATE_NAMES[state] ?? `state-${state}`;
  return state === 0 ? 'NORMAL' : `state-${state}`;
}

// ---- sizes, option types, field offsets --------------------------------------

export const IPVS_SYNC_MESG_V0_LEN = 4;
export const IPVS_SYNC_MESG_V1_LEN = 8;
export const IPVS_SYNC_CONN_V0_LEN = 24;
/** in_seq + out_seq, 3 words each. */
export const IPVS_SYNC_SEQ_LEN = 24;
export const IPVS_SYNC_CONN_V0_FULL_LEN = IPVS_SYNC_CONN_V0_LEN + IPVS_SYNC_SEQ_LEN;
export const IPVS_SYNC_V1_V4_LEN = 36;
export const IPVS_SYNC_V1_V6_LEN = 72;
/** Type-field bit of an IPv6 v1 record. */
export const IPVS_SYNC_TYPE_INET6 = 1;

export const IPVS_OPT_SEQ_DATA = 1;
export const IPVS_OPT_PE_DATA = 2;
export const IPVS_OPT_PE_NAME = 3;
/** Set in an option type: the receiver may ignore the option if it does not know it. */
export const IPVS_OPT_F_PARAM = 0x40;
export const IP_VS_PEDATA_MAXLEN = 255;
export const IP_VS_PENAME_MAXLEN = 16;

/** The largest v1 record: IPv6 + sequence option + PE data + PE name. */
export const IPVS_SYNC_V1_MAX_RECORD = IPVS_SYNC_V1_V6_LEN + 2 + IPVS_SYNC_SEQ_LEN + 2 + IP_VS_PEDATA_MAXLEN + 2 + IP_VS_PENAME_MAXLEN;

// message header
const H_SYNCID = 1;
const H_SIZE = 2;
const H0_COUNT = 0;
const H1_RESERVED = 0;
const H1_COUNT = 4;
const H1_VERSION = 5;
const H1_SPARE = 6;
// v0 record
const C0_RESERVED = 0;
const C0_PROTOCOL = 1;
const C0_CPORT = 2;
const C0_VPORT = 4;
const C0_DPORT = 6;
const C0_CADDR = 8;
const C0_VADDR = 12;
const C0_DADDR = 16;
const C0_FLAGS = 20;
const C0_STATE = 22;
// v1 record
const C1_TYPE = 0;
const C1_PROTOCOL = 1;
const C1_VER_SIZE = 2;
const C1_FLAGS = 4;
const C1_STATE = 8;
const C1_CPORT = 10;
const C1_VPORT = 12;
const C1_DPORT = 14;
const C1_FWMARK = 16;
const C1_TIMEOUT = 20;
const C1_CADDR = 24;
const C1_VADDR4 = 28;
const C1_DADDR4 = 32;
const C1_VADDR6 = 40;
const C1_DADDR6 = 56;
const SVER_SHIFT = 12;
const SVER_MASK = 0x0fff;
// sequence data: in_seq then out_seq, each init_seq, delta, previous_delta
const SEQ_IN_INIT = 0;
const SEQ_IN_DELTA = 4;
const SEQ_IN_PDELTA = 8;
const SEQ_OUT_INIT = 12;
const SEQ_OUT_DELTA = 16;
const SEQ_OUT_PDELTA = 20;

// ---- one connection, as the encoder takes it and the decoder fills it ------

/**
 * One synced connection in the kernel's numbering. The decoder fills one
 * such object per record and reuses it; copy what you keep.
 */
export interface IpvsSyncConn {
  /** 2 (AF_INET) or 10 (AF_INET6), as model/proto.ts. */
  af: number;
  protocol: number;
  /** IP_VS_CONN_F_* bits (16 on the wire in v0, 32 in v1). */
  flags: number;
  /** Kernel state numbering of the protocol (IP_VS_TCP_S_*, ...), or IP_VS_CTPL_S_* for a template. */
  state: number;
  cport: number;
  vport: number;
  dport: number;
  /** v1 only; 0 from v0. */
  fwmark: number;
  /** v1 only, seconds; 0 from v0 (the receiver then uses its own timeout for the state). */
  timeout: number;
  caddr: number;
  vaddr: number;
  daddr: number;
  /** af 10: addresses as 4 words (addr6.ts form). */
  caddr6: Uint32Array;
  vaddr6: Uint32Array;
  daddr6: Uint32Array;
  /** Decoded: sequence data present. Encoded: written when flags & IP_VS_CONN_F_SEQ_MASK, as the kernel does. */
  hasSeq: boolean;
  inSeqInit: number;
  inSeqDelta: number;
  inSeqPrevDelta: number;
  outSeqInit: number;
  outSeqDelta: number;
  outSeqPrevDelta: number;
  /** v1 persistence-engine data and name: byte ranges of peBuf (the message, when decoded). Length 0 = absent. */
  peBuf: Uint8Array;
  peDataOff: number;
  peDataLen: number;
  peNameOff: number;
  peNameLen: number;
}

export function newIpvsSyncConn(): IpvsSyncConn {
  return {
    af: AF_INET_SYNC, protocol: 0, flags: 0, state: 0, cport: 0, vport: 0, dport: 0, fwmark: 0, timeout: 0,
    caddr: 0, vaddr: 0, daddr: 0,
    caddr6: new Uint32Array(4), vaddr6: new Uint32Array(4), daddr6: new Uint32Array(4),
    hasSeq: false, inSeqInit: 0, inSeqDelta: 0, inSeqPrevDelta: 0, outSeqInit: 0, outSeqDelta: 0, outSeqPrevDelta: 0,
    peBuf: EMPTY, peDataOff: 0, peDataLen: 0, peNameOff: 0, peNameLen: 0,
  };
}

function get32le(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

function put32le(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}

function put6(b: Uint8Array, o: number, a: Uint32Array): void {
  put32(b, o, a[0]!);
  put32(b, o + 4, a[1]!);
  put32(b, o + 8, a[2]!);
  put32(b, o + 12, a[3]!);
}

function get6(b: Uint8Array, o: number, a: Uint32Array): void {
  a[0] = get32(b, o);
  a[1] = get32(b, o + 4);
  a[2] = get32(b, o + 8);
  a[3] = get32(b, o + 12);
}

function putSeq(b: Uint8Array, o: number, c: IpvsSyncConn, le: boolean): void {
  const put = le ? put32le : put32;
  put(b, o + SEQ_IN_INIT, c.inSeqInit);
  put(b, o + SEQ_IN_DELTA, c.inSeqDelta);
  put(b, o + SEQ_IN_PDELTA, c.inSeqPrevDelta);
  put(b, o + SEQ_OUT_INIT, c.outSeqInit);
  put(b, o + SEQ_OUT_DELTA, c.outSeqDelta);
  put(b, o + SEQ_OUT_PDELTA, c.outSeqPrevDelta);
}

function getSeq(b: Uint8Array, o: number, c: IpvsSyncConn, le: boolean): void {
  const get = le ? get32le : get32;
  c.hasSeq = true;
  c.inSeqInit = get(b, o + SEQ_IN_INIT);
  c.inSeqDelta = get(b, o + SEQ_IN_DELTA);
  c.inSeqPrevDelta = get(b, o + SEQ_IN_PDELTA);
  c.outSeqInit = get(b, o + SEQ_OUT_INIT);
  c.outSeqDelta = get(b, o + SEQ_OUT_DELTA);
  c.outSeqPrevDelta = get(b, o + SEQ_OUT_PDELTA);
}

/**
 * Bytes the record of `c` takes (padding not included), or a negative
 * error: -IPVS_SYNC_BAD_FAMILY (IPv6 in v0, or af neither 2 nor 10),
 * -IPVS_SYNC_BAD_PE (PE data over 255 bytes, a name over 16, a name without data).
 */
export function ipvsSyncRecordLength(version: 0 | 1, c: IpvsSyncConn): number {
  const seq = (c.flags & IP_VS_CONN_F_SEQ_MASK) !== 0;
  if (c.af !== AF_INET_SYNC && c.af !== AF_INET6_SYNC) return -IPVS_SYNC_BAD_FAMILY;
  if (version === 0) {
    if (c.af !== AF_INET_SYNC) return -IPVS_SYNC_BAD_FAMILY;
    return seq ? IPVS_SYNC_CONN_V0_FULL_LEN : IPVS_SYNC_CONN_V0_LEN;
  }
  if (c.peDataLen > IP_VS_PEDATA_MAXLEN || c.peNameLen > IP_VS_PENAME_MAXLEN) return -IPVS_SYNC_BAD_PE;
  if (c.peNameLen > 0 && c.peDataLen === 0) return -IPVS_SYNC_BAD_PE;
  let len = c.af === AF_INET6_SYNC ? IPVS_SYNC_V1_V6_LEN : IPVS_SYNC_V1_V4_LEN;
  if (seq) len += 2 + IPVS_SYNC_SEQ_LEN;
  if (c.peDataLen > 0) len += 2 + c.peDataLen;
  if (c.peNameLen > 0) len += 2 + c.peNameLen;
  return len;
}

// ---- encoder -----------------------------------------------------------------

export interface IpvsSyncWriterOptions {
  /** 1 (default) or 0. */
  version?: 0 | 1;
  syncid?: number;
  /** Largest message in bytes (sync_maxlen): see ipvsSyncMaxlen(). */
  maxlen: number;
  /** v0 sequence data byte order: little-endian (default, an x86 sender) or network order. */
  v0SeqBigEndian?: boolean;
}

/**
 * Builds messages in one reusable buffer. add() appends a record while it
 * fits in maxlen and returns IPVS_SYNC_FULL when it does not (or when the
 * 8-bit count is at 255): send message(), reset(), add again. As in the
 * kernel, an empty message takes any one record even past maxlen, so a
 * record never waits forever.
 */
export class IpvsSyncWriter {
  readonly version: 0 | 1;
  readonly syncid: number;
  readonly maxlen: number;
  readonly buf: Uint8Array;
  private readonly seqLe: boolean;
  /** Bytes in the message so far, header included (the header's size field). */
  size = 0;
  count = 0;

  constructor(opts: IpvsSyncWriterOptions) {
    this.version = opts.version ?? 1;
    this.syncid = (opts.syncid ?? 0) & 0xff;
    this.maxlen = opts.maxlen;
    this.seqLe = !(opts.v0SeqBigEndian ?? false);
    const hdr = this.version === 0 ? IPVS_SYNC_MESG_V0_LEN : IPVS_SYNC_MESG_V1_LEN;
    const biggest = this.version === 0 ? IPVS_SYNC_CONN_V0_FULL_LEN : IPVS_SYNC_V1_MAX_RECORD;
    this.buf = new Uint8Array(Math.max(opts.maxlen, hdr + biggest));
    this.reset();
  }

  /** Starts an empty message. */
  reset(): void {
    const b = this.buf;
    this.count = 0;
    if (this.version === 0) {
      b[H0_COUNT] = 0;
      b[H_SYNCID] = this.syncid;
      this.size = IPVS_SYNC_MESG_V0_LEN;
    } else {
      b[H1_RESERVED] = 0;
      b[H_SYNCID] = this.syncid;
      b[H1_COUNT] = 0;
      b[H1_VERSION] = IPVS_SYNC_PROTO_VER;
      put16(b, H1_SPARE, 0);
      this.size = IPVS_SYNC_MESG_V1_LEN;
    }
    put16(b, H_SIZE, this.size);
  }

  get empty(): boolean {
    return this.count === 0;
  }

  /** The message as built so far: a view of buf, valid until the next add/reset. */
  message(): Uint8Array {
    return this.buf.subarray(0, this.size);
  }

  /**
   * Appends c. Returns WIRE_OK, IPVS_SYNC_FULL (nothing written: flush and
   * retry), IPVS_SYNC_BAD_FAMILY or IPVS_SYNC_BAD_PE (the record cannot be
   * sent in this version). The HASHED flag is cleared as the kernel does;
   * every other bit is sent as given, so the caller decides what to sync
   * (the kernel never syncs IP_VS_CONN_F_ONE_PACKET conns).
   */
  add(c: IpvsSyncConn): number {
    const len = ipvsSyncRecordLength(this.version, c);
    if (len < 0) return -len;
    const pad = this.version === 1 ? (4 - this.size) & 3 : 0;
    if (this.count >= 255) return IPVS_SYNC_FULL;
    if (this.count > 0 && this.size + pad + len > this.maxlen) return IPVS_SYNC_FULL;
    const b = this.buf;
    let p = this.size;
    b.fill(0, p, p + pad);
    p += pad;
    const flags = c.flags & ~IP_VS_CONN_F_HASHED;
    if (this.version === 0) {
      b[p + C0_RESERVED] = 0;
      b[p + C0_PROTOCOL] = c.protocol;
      put16(b, p + C0_CPORT, c.cport);
      put16(b, p + C0_VPORT, c.vport);
      put16(b, p + C0_DPORT, c.dport);
      put32(b, p + C0_CADDR, c.caddr);
      put32(b, p + C0_VADDR, c.vaddr);
      put32(b, p + C0_DADDR, c.daddr);
      put16(b, p + C0_FLAGS, flags & 0xffff);
      put16(b, p + C0_STATE, c.state);
      if (flags & IP_VS_CONN_F_SEQ_MASK) putSeq(b, p + IPVS_SYNC_CONN_V0_LEN, c, this.seqLe);
      b[H0_COUNT] = ++this.count;
    } else {
      const v6 = c.af === AF_INET6_SYNC;
      b[p + C1_TYPE] = v6 ? IPVS_SYNC_TYPE_INET6 : 0;
      b[p + C1_PROTOCOL] = c.protocol;
      put16(b, p + C1_VER_SIZE, len & SVER_MASK);
      put32(b, p + C1_FLAGS, flags);
      put16(b, p + C1_STATE, c.state);
      put16(b, p + C1_CPORT, c.cport);
      put16(b, p + C1_VPORT, c.vport);
      put16(b, p + C1_DPORT, c.dport);
      put32(b, p + C1_FWMARK, c.fwmark);
      put32(b, p + C1_TIMEOUT, c.timeout);
      let q: number;
      if (v6) {
        put6(b, p + C1_CADDR, c.caddr6);
        put6(b, p + C1_VADDR6, c.vaddr6);
        put6(b, p + C1_DADDR6, c.daddr6);
        q = p + IPVS_SYNC_V1_V6_LEN;
      } else {
        put32(b, p + C1_CADDR, c.caddr);
        put32(b, p + C1_VADDR4, c.vaddr);
        put32(b, p + C1_DADDR4, c.daddr);
        q = p + IPVS_SYNC_V1_V4_LEN;
      }
      if (flags & IP_VS_CONN_F_SEQ_MASK) {
        b[q] = IPVS_OPT_SEQ_DATA;
        b[q + 1] = IPVS_SYNC_SEQ_LEN;
        putSeq(b, q + 2, c, false);
        q += 2 + IPVS_SYNC_SEQ_LEN;
      }
      if (c.peDataLen > 0) {
        b[q] = IPVS_OPT_PE_DATA;
        b[q + 1] = c.peDataLen;
        for (let k = 0; k < c.peDataLen; k++) b[q + 2 + k] = c.peBuf[c.peDataOff + k]!;
        q += 2 + c.peDataLen;
        if (c.peNameLen > 0) {
          b[q] = IPVS_OPT_PE_NAME;
          b[q + 1] = c.peNameLen;
          for (let k = 0; k < c.peNameLen; k++) b[q + 2 + k] = c.peBuf[c.peNameOff + k]!;
          q += 2 + c.peNameLen;
        }
      }
      b[H1_COUNT] = ++this.count;
    }
    this.size = p + len;
    put16(b, H_SIZE, this.size);
    return WIRE_OK;
  }
}

// ---- decoder -----------------------------------------------------------------

export type IpvsSyncCallback = (c: IpvsSyncConn) => void;

/**
 * Walks received messages. read() checks the header, then fills `conn` for
 * each record in turn and calls back with it (the same object every time).
 * Like the kernel, it stops at the first malformed record and returns its
 * error; records before it have been delivered. Errors:
 *   IPVS_SYNC_TRUNCATED       under 4 bytes; byte 0 is 0 (v1) and under 8 bytes; a record
 *                             cut by the end of the message
 *   IPVS_SYNC_BAD_SIZE        the header's size is not the datagram length
 *   IPVS_SYNC_BAD_VERSION     byte 0 is 0 but version/spare are not 1/0; a
 *                             v1 record whose version nibble is not 0
 *   IPVS_SYNC_COUNT_MISMATCH  the message ends before `count` records, or
 *                             bytes are left after them (the kernel ignores
 *                             those; the records were delivered)
 *   IPVS_SYNC_BAD_RECORD_SIZE a v1 record size below its fixed part
 *   IPVS_SYNC_BAD_FAMILY      a v1 type that is neither IPv4 (0) nor IPv6 (bit 0)
 *   IPVS_SYNC_OPT_TRUNCATED   an option header or data past the record end,
 *                             a zero option length, v0 sequence data cut
 *   IPVS_SYNC_BAD_OPTION      sequence data not 24 bytes, an option twice,
 *                             a PE name over 16 bytes
 * A record with an unknown mandatory option is skipped (counted in
 * `skipped`), as the kernel does. Protocol and state ranges, the syncid
 * filter and the PE lookup are the daemon's (ipvsSyncStateCount).
 */
export class IpvsSyncReader {
  /** 0 or 1, from the last read(). */
  version = 0;
  syncid = 0;
  /** The header's record count. */
  count = 0;
  size = 0;
  /** Records delivered / skipped by the last read(). */
  delivered = 0;
  skipped = 0;
  /** v0 sequence data byte order (default little-endian, an x86 sender). */
  v0SeqBigEndian = false;
  readonly conn: IpvsSyncConn = newIpvsSyncConn();

  /** Header only: sets version, syncid, count, size. */
  readHeader(buf: Uint8Array, off: number, len: number): number {
    if (len < IPVS_SYNC_MESG_V0_LEN || off < 0 || off + len > buf.length) return IPVS_SYNC_TRUNCATED;
    const size = get16(buf, off + H_SIZE);
    this.size = size;
    this.syncid = buf[off + H_SYNCID]!;
    if (size !== len) return IPVS_SYNC_BAD_SIZE;
    const b0 = buf[off]!;
    if (b0 !== 0) {
      this.version = 0;
      this.count = b0;
      return WIRE_OK;
    }
    // byte 0 is 0: a v1 header, or a v0 message without records (never sent: nothing to sync)
    this.count = 0;
    if (len < IPVS_SYNC_MESG_V1_LEN) return IPVS_SYNC_TRUNCATED;
    if (buf[off + H1_VERSION] !== IPVS_SYNC_PROTO_VER || get16(buf, off + H1_SPARE) !== 0) return IPVS_SYNC_BAD_VERSION;
    this.version = 1;
    this.count = buf[off + H1_COUNT]!;
    return WIRE_OK;
  }

  read(buf: Uint8Array, off: number, len: number, onConn: IpvsSyncCallback): number {
    this.delivered = 0;
    this.skipped = 0;
    const rc = this.readHeader(buf, off, len);
    if (rc !== WIRE_OK) return rc;
    return this.version === 0 ? this.readV0(buf, off, off + len, onConn) : this.readV1(buf, off, off + len, onConn);
  }

  private readV0(buf: Uint8Array, off: number, end: number, onConn: IpvsSyncCallback): number {
    const c = this.conn;
    const le = !this.v0SeqBigEndian;
    let p = off + IPVS_SYNC_MESG_V0_LEN;
    for (let i = 0; i < this.count; i++) {
      if (p + IPVS_SYNC_CONN_V0_LEN > end) return p >= end ? IPVS_SYNC_COUNT_MISMATCH : IPVS_SYNC_TRUNCATED;
      c.af = AF_INET_SYNC;
      c.protocol = buf[p + C0_PROTOCOL]!;
      c.cport = get16(buf, p + C0_CPORT);
      c.vport = get16(buf, p + C0_VPORT);
      c.dport = get16(buf, p + C0_DPORT);
      c.caddr = get32(buf, p + C0_CADDR);
      c.vaddr = get32(buf, p + C0_VADDR);
      c.daddr = get32(buf, p + C0_DADDR);
      c.flags = get16(buf, p + C0_FLAGS);
      c.state = get16(buf, p + C0_STATE);
      c.fwmark = 0;
      c.timeout = 0;
      c.peBuf = buf;
      c.peDataOff = c.peDataLen = c.peNameOff = c.peNameLen = 0;
      c.hasSeq = false;
      if (c.flags & IP_VS_CONN_F_SEQ_MASK) {
        if (p + IPVS_SYNC_CONN_V0_FULL_LEN > end) return IPVS_SYNC_OPT_TRUNCATED;
        getSeq(buf, p + IPVS_SYNC_CONN_V0_LEN, c, le);
        p += IPVS_SYNC_CONN_V0_FULL_LEN;
      } else {
        p += IPVS_SYNC_CONN_V0_LEN;
      }
      this.delivered++;
      onConn(c);
    }
    return p < end ? IPVS_SYNC_COUNT_MISMATCH : WIRE_OK;
  }

  private readV1(buf: Uint8Array, off: number, end: number, onConn: IpvsSyncCallback): number {
    const c = this.conn;
    let p = off + IPVS_SYNC_MESG_V1_LEN;
    for (let i = 0; i < this.count; i++) {
      if (p + IPVS_SYNC_V1_V4_LEN > end) return p >= end ? IPVS_SYNC_COUNT_MISMATCH : IPVS_SYNC_TRUNCATED;
      const verSize = get16(buf, p + C1_VER_SIZE);
      const size = verSize & SVER_MASK;
      if (p + size > end) return IPVS_SYNC_TRUNCATED;
      if (verSize >>> SVER_SHIFT !== 0) return IPVS_SYNC_BAD_VERSION;
      const type = buf[p + C1_TYPE]!;
      let fixed: number;
      if (type & IPVS_SYNC_TYPE_INET6) fixed = IPVS_SYNC_V1_V6_LEN;
      else if (type === 0) fixed = IPVS_SYNC_V1_V4_LEN;
      else return IPVS_SYNC_BAD_FAMILY;
      if (size < fixed) return IPVS_SYNC_BAD_RECORD_SIZE;
      const recEnd = p + size;
      c.protocol = buf[p + C1_PROTOCOL]!;
      c.flags = get32(buf, p + C1_FLAGS);
      c.state = get16(buf, p + C1_STATE);
      c.cport = get16(buf, p + C1_CPORT);
      c.vport = get16(buf, p + C1_VPORT);
      c.dport = get16(buf, p + C1_DPORT);
      c.fwmark = get32(buf, p + C1_FWMARK);
      c.timeout = get32(buf, p + C1_TIMEOUT);
      if (fixed === IPVS_SYNC_V1_V6_LEN) {
        c.af = AF_INET6_SYNC;
        get6(buf, p + C1_CADDR, c.caddr6);
        get6(buf, p + C1_VADDR6, c.vaddr6);
        get6(buf, p + C1_DADDR6, c.daddr6);
        c.caddr = c.vaddr = c.daddr = 0;
      } else {
        c.af = AF_INET_SYNC;
        c.caddr = get32(buf, p + C1_CADDR);
        c.vaddr = get32(buf, p + C1_VADDR4);
        c.daddr = get32(buf, p + C1_DADDR4);
      }
      c.hasSeq = false;
      c.inSeqInit = c.inSeqDelta = c.inSeqPrevDelta = c.outSeqInit = c.outSeqDelta = c.outSeqPrevDelta = 0;
      c.peBuf = buf;
      c.peDataOff = c.peDataLen = c.peNameOff = c.peNameLen = 0;
      let seenPeData = false;
      let seenPeName = false;
      let skip = false;
      let q = p + fixed;
      while (q < recEnd) {
        if (q + 2 > recEnd) return IPVS_SYNC_OPT_TRUNCATED;
        const t = buf[q]!;
        const l = buf[q + 1]!;
        q += 2;
        if (l === 0 || q + l > recEnd) return IPVS_SYNC_OPT_TRUNCATED;
        const kind = t & ~IPVS_OPT_F_PARAM;
        if (kind === IPVS_OPT_SEQ_DATA) {
          if (l !== IPVS_SYNC_SEQ_LEN || c.hasSeq) return IPVS_SYNC_BAD_OPTION;
          getSeq(buf, q, c, false);
        } else if (kind === IPVS_OPT_PE_DATA) {
          if (seenPeData) return IPVS_SYNC_BAD_OPTION;
          seenPeData = true;
          c.peDataOff = q;
          c.peDataLen = l;
        } else if (kind === IPVS_OPT_PE_NAME) {
          if (seenPeName || l > IP_VS_PENAME_MAXLEN) return IPVS_SYNC_BAD_OPTION;
          seenPeName = true;
          c.peNameOff = q;
          c.peNameLen = l;
        } else if ((t & IPVS_OPT_F_PARAM) === 0) {
          // an unknown option the receiver must understand: the kernel drops this record only
          skip = true;
          break;
        }
        q += l;
      }
      if (skip) {
        this.skipped++;
      } else {
        this.delivered++;
        onConn(c);
      }
      p += (size + 3) & ~3;
    }
    return p < end ? IPVS_SYNC_COUNT_MISMATCH : WIRE_OK;
  }
}

/** One-shot decode for tests and the control side: copies of every record. Throws nothing; returns the error too. */
export function decodeIpvsSync(buf: Uint8Array, off = 0, len = buf.length - off): {
  rc: number; version: number; syncid: number; count: number; conns: IpvsSyncConn[]; skipped: number;
} {
  const r = new IpvsSyncReader();
  const conns: IpvsSyncConn[] = [];
  const rc = r.read(buf, off, len, (c) => {
    conns.push({
      ...c, caddr6: c.caddr6.slice(), vaddr6: c.vaddr6.slice(), daddr6: c.daddr6.slice(),
    });
  });
  return { rc, version: r.version, syncid: r.syncid, count: r.count, conns, skipped: r.skipped };
}
