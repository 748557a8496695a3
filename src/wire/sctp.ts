// SCTP (RFC 9260): the 12-byte common header, a chunk walker, and the CRC32c
// checksum as SCTP stores it.
//
// The checksum field holds CRC32c over the whole packet (common header with
// the field counted as zero, then every chunk with its padding), stored least
// significant byte first: a CRC of 0x8a9136aa goes out as aa 36 91 8a. That is
// the opposite of every other field here. `checksum` reads the four bytes as
// a big-endian number, as scapy and tshark show the field; `storedCrc` reads
// them as the CRC value they encode.
//
// NAT must recompute the CRC over the whole packet after changing a port: a
// CRC is not a sum, so unlike the Internet checksum (RFC 1624) it cannot be
// patched from the old and new value of one field. The kernel's IPVS does the
// same (sctp_nat_csum recomputes the whole CRC whenever the port changes).

import { EMPTY, get16, get32, put16, put32 } from './bytes.js';
import { CRC32C_INIT, crc32cFinish, crc32cUpdate, crc32cZeros } from './crc32c.js';
import {
  SCTP_BAD_CHUNK_LENGTH, SCTP_CHUNK_TRUNCATED, SCTP_NO_CHUNK, SCTP_TRUNCATED, WIRE_OK, WireError,
} from './errors.js';

export const SCTP_HEADER_LEN = 12;
export const SCTP_CHUNK_HEADER_LEN = 4;

// common header
const SPORT = 0;
const DPORT = 2;
const VTAG = 4;
const CSUM = 8;
// chunk header, relative to the chunk
const CH_TYPE = 0;
const CH_FLAGS = 1;
const CH_LEN = 2;
// chunk values, relative to the chunk
const DATA_TSN = 4;
const DATA_SID = 8;
const DATA_SSN = 10;
const DATA_PPID = 12;
const DATA_USER = 16;
const INIT_TAG = 4;
const INIT_RWND = 8;
const INIT_OS = 12;
const INIT_MIS = 14;
const INIT_TSN = 16;
const INIT_PARAMS = 20;
const SACK_CUM_TSN = 4;
const SACK_RWND = 8;
const SACK_NGAPS = 12;
const SACK_NDUPS = 14;
const SACK_GAPS = 16;
const SHUTDOWN_CUM_TSN = 4;
const SHUTDOWN_LEN = 8;
// parameters and error causes: type, length, value
const PARAM_HEADER_LEN = 4;

// Chunk types (RFC 9260 section 3.2 and the extensions' registrations).
export const SCTP_DATA = 0;
export const SCTP_INIT = 1;
export const SCTP_INIT_ACK = 2;
export const SCTP_SACK = 3;
export const SCTP_HEARTBEAT = 4;
export const SCTP_HEARTBEAT_ACK = 5;
export const SCTP_ABORT = 6;
export const SCTP_SHUTDOWN = 7;
export const SCTP_SHUTDOWN_ACK = 8;
export const SCTP_ERROR = 9;
export const SCTP_COOKIE_ECHO = 10;
export const SCTP_COOKIE_ACK = 11;
export const SCTP_ECNE = 12;
export const SCTP_CWR = 13;
export const SCTP_SHUTDOWN_COMPLETE = 14;
export const SCTP_AUTH = 15;
export const SCTP_I_DATA = 64;
export const SCTP_ASCONF_ACK = 128;
export const SCTP_RECONFIG = 130;
export const SCTP_PAD = 132;
export const SCTP_FORWARD_TSN = 192;
export const SCTP_ASCONF = 193;
export const SCTP_I_FORWARD_TSN = 194;

/** DATA chunk flags. */
export const SCTP_DATA_E = 0x01;
export const SCTP_DATA_B = 0x02;
export const SCTP_DATA_U = 0x04;
export const SCTP_DATA_I = 0x08;
/** T flag of ABORT and SHUTDOWN COMPLETE: the sender had no TCB and reflected the tag. */
export const SCTP_FLAG_T = 0x01;

/** Parameter types used in INIT / INIT ACK / HEARTBEAT. */
export const SCTP_PARAM_HEARTBEAT_INFO = 1;
export const SCTP_PARAM_IPV4 = 5;
export const SCTP_PARAM_IPV6 = 6;
export const SCTP_PARAM_STATE_COOKIE = 7;
export const SCTP_PARAM_COOKIE_PRESERVATIVE = 9;
export const SCTP_PARAM_SUPPORTED_ADDRESS_TYPES = 12;
export const SCTP_PARAM_ECN_CAPABLE = 0x8000;
export const SCTP_PARAM_FORWARD_TSN_SUPPORTED = 0xc000;

const CHUNK_NAMES: Record<number, string> = {
  [SCTP_DATA]: 'DATA', [SCTP_INIT]: 'INIT', [SCTP_INIT_ACK]: 'INIT ACK', [SCTP_SACK]: 'SACK',
  [SCTP_HEARTBEAT]: 'HEARTBEAT', [SCTP_HEARTBEAT_ACK]: 'HEARTBEAT ACK', [SCTP_ABORT]: 'ABORT',
  [SCTP_SHUTDOWN]: 'SHUTDOWN', [SCTP_SHUTDOWN_ACK]: 'SHUTDOWN ACK', [SCTP_ERROR]: 'ERROR',
  [SCTP_COOKIE_ECHO]: 'COOKIE ECHO', [SCTP_COOKIE_ACK]: 'COOKIE ACK', [SCTP_ECNE]: 'ECNE', [SCTP_CWR]: 'CWR',
  [SCTP_SHUTDOWN_COMPLETE]: 'SHUTDOWN COMPLETE', [SCTP_AUTH]: 'AUTH', [SCTP_I_DATA]: 'I-DATA',
  [SCTP_ASCONF_ACK]: 'ASCONF ACK', [SCTP_RECONFIG]: 'RE-CONFIG', [SCTP_PAD]: 'PAD',
  [SCTP_FORWARD_TSN]: 'FORWARD TSN', [SCTP_ASCONF]: 'ASCONF', [SCTP_I_FORWARD_TSN]: 'I-FORWARD TSN',
};

/** "INIT", "COOKIE ECHO", ...; "chunk-<n>" for a type without a name here. */
export function sctpChunkName(type: number): string {
  return CHUNK_NAMES[type] ?? `chunk-${type}`;
}

/** Chunk name by RFC name with spaces, dashes or underscores ("COOKIE_ECHO", "init ack"); -1 if unknown. */
export function sctpChunkType(name: string): number {
  const want = name.toUpperCase().replace(/[\s_-]+/g, ' ');
  for (const [t, n] of Object.entries(CHUNK_NAMES)) if (n.replace(/-/g, ' ') === want) return Number(t);
  return -1;
}

/**
 * The least length a chunk of this type can have and still hold its fixed
 * fields: the walker refuses shorter ones, so its typed accessors are safe.
 */
function minChunkLength(type: number): number {
  switch (type) {
    case SCTP_DATA: return DATA_USER;
    case SCTP_INIT:
    case SCTP_INIT_ACK: return INIT_PARAMS;
    case SCTP_SACK: return SACK_GAPS;
    case SCTP_SHUTDOWN: return SHUTDOWN_LEN;
    default: return SCTP_CHUNK_HEADER_LEN;
  }
}

/** CRC32c of an SCTP packet with its checksum field counted as zero (the field is not written). */
export function sctpCrc(buf: Uint8Array, off: number, len: number): number {
  let reg = crc32cUpdate(CRC32C_INIT, buf, off, CSUM);
  reg = crc32cZeros(reg, 4);
  reg = crc32cUpdate(reg, buf, off + CSUM + 4, len - CSUM - 4);
  return crc32cFinish(reg);
}

function getLe32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

function putLe32(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}

export class SctpView {
  buf: Uint8Array = EMPTY;
  off = 0;
  /** The whole SCTP packet: header and chunks (the IP payload length). */
  len = 0;

  /**
   * Returns WIRE_OK or SCTP_TRUNCATED (under 12 bytes). Chunks are not
   * checked here: walk them with SctpChunkWalker.
   */
  wrap(buf: Uint8Array, off: number, len: number): number {
    if (len < SCTP_HEADER_LEN || off < 0 || off + len > buf.length) return SCTP_TRUNCATED;
    this.buf = buf;
    this.off = off;
    this.len = len;
    return WIRE_OK;
  }

  get sport(): number { return get16(this.buf, this.off + SPORT); }
  set sport(v: number) { put16(this.buf, this.off + SPORT, v); }
  get dport(): number { return get16(this.buf, this.off + DPORT); }
  set dport(v: number) { put16(this.buf, this.off + DPORT, v); }
  get vtag(): number { return get32(this.buf, this.off + VTAG); }
  set vtag(v: number) { put32(this.buf, this.off + VTAG, v); }
  /** The field's four bytes as a big-endian number (as scapy and tshark show it). */
  get checksum(): number { return get32(this.buf, this.off + CSUM); }
  set checksum(v: number) { put32(this.buf, this.off + CSUM, v); }
  /** The CRC32c value the field encodes (least significant byte first on the wire). */
  get storedCrc(): number { return getLe32(this.buf, this.off + CSUM); }

  get chunksOffset(): number { return this.off + SCTP_HEADER_LEN; }
  get chunksLength(): number { return this.len - SCTP_HEADER_LEN; }

  /** Type of the first chunk, or -1 when no whole chunk header follows the common header. */
  get firstChunkType(): number {
    return this.len >= SCTP_HEADER_LEN + SCTP_CHUNK_HEADER_LEN ? this.buf[this.off + SCTP_HEADER_LEN + CH_TYPE]! : -1;
  }

  /**
   * The chunk type the kernel's IPVS SCTP state machine acts on
   * (set_sctp_state): the first chunk's type, except that a COOKIE ECHO or
   * COOKIE ACK followed by an ABORT counts as the ABORT. Like the kernel it
   * reads only those two chunk headers and checks nothing else. -1 when
   * there is no first chunk header (the kernel then leaves the state alone).
   */
  ipvsChunkType(): number {
    const first = this.firstChunkType;
    if (first !== SCTP_COOKIE_ECHO && first !== SCTP_COOKIE_ACK) return first;
    const c = this.off + SCTP_HEADER_LEN;
    const clen = get16(this.buf, c + CH_LEN);
    if (clen < SCTP_CHUNK_HEADER_LEN) return first;
    const next = SCTP_HEADER_LEN + ((clen + 3) & ~3);
    if (next + SCTP_CHUNK_HEADER_LEN > this.len) return first;
    return this.buf[this.off + next + CH_TYPE] === SCTP_ABORT ? SCTP_ABORT : first;
  }

  /** The CRC32c the packet should carry. */
  expectedCrc(): number {
    return sctpCrc(this.buf, this.off, this.len);
  }

  crcOk(): boolean {
    return sctpCrc(this.buf, this.off, this.len) === this.storedCrc;
  }

  /** Recomputes the checksum over the whole packet and stores it, in place. */
  fillChecksum(): void {
    putLe32(this.buf, this.off + CSUM, sctpCrc(this.buf, this.off, this.len));
  }

  /**
   * NAT port rewrites. As the kernel's sctp_snat_handler / sctp_dnat_handler:
   * when the port already has that value nothing is written and the checksum
   * is left as it was; otherwise the port is written and the CRC recomputed
   * over the whole packet. That would make a damaged packet's CRC valid
   * (the kernel's handlers verify it only when an application helper is
   * bound), so the director checks it first (conn/proto/sctp.ts natVerify).
   */
  rewriteSport(v: number): void {
    if (this.sport === (v & 0xffff)) return;
    this.sport = v;
    this.fillChecksum();
  }

  rewriteDport(v: number): void {
    if (this.dport === (v & 0xffff)) return;
    this.dport = v;
    this.fillChecksum();
  }
}

/**
 * Walks the chunks of a wrapped SCTP packet without allocating:
 *
 *   walker.reset(view);
 *   while (walker.next()) use(walker.type, walker.valueOffset, walker.valueLength);
 *   if (walker.rc !== WIRE_OK) drop(walker.rc);
 *
 * A chunk is accepted when its length field is at least 4 (and at least the
 * fixed part of DATA, INIT, INIT ACK, SACK, SHUTDOWN) and the chunk with its
 * padding to 4 bytes lies inside the packet; the Linux SCTP stack also
 * discards a chunk whose padding runs past the packet's end.
 */
export class SctpChunkWalker {
  buf: Uint8Array = EMPTY;
  /** Absolute offset of the current chunk. */
  off = 0;
  /** Absolute end of the SCTP packet. */
  end = 0;
  /** Why the walk stopped: WIRE_OK after the last chunk, SCTP_NO_CHUNK if there was none, else the error. */
  rc = WIRE_OK;
  /** Chunks accepted so far. */
  count = 0;
  private nextOff = 0;
  private stopped = true;

  reset(v: SctpView): void {
    this.buf = v.buf;
    this.end = v.off + v.len;
    this.nextOff = v.off + SCTP_HEADER_LEN;
    this.off = this.nextOff;
    this.rc = WIRE_OK;
    this.count = 0;
    this.stopped = false;
  }

  /** Moves to the next chunk; false at the end or on an error (see rc). */
  next(): boolean {
    if (this.stopped) return false;
    const o = this.nextOff;
    const left = this.end - o;
    if (left === 0) {
      this.stopped = true;
      this.rc = this.count === 0 ? SCTP_NO_CHUNK : WIRE_OK;
      return false;
    }
    if (left < SCTP_CHUNK_HEADER_LEN) return this.fail(SCTP_CHUNK_TRUNCATED);
    const clen = get16(this.buf, o + CH_LEN);
    if (clen < minChunkLength(this.buf[o + CH_TYPE]!)) return this.fail(SCTP_BAD_CHUNK_LENGTH);
    const padded = (clen + 3) & ~3;
    if (padded > left) return this.fail(SCTP_CHUNK_TRUNCATED);
    this.off = o;
    this.nextOff = o + padded;
    this.count++;
    return true;
  }

  private fail(rc: number): boolean {
    this.rc = rc;
    this.stopped = true;
    return false;
  }

  get type(): number { return this.buf[this.off + CH_TYPE]!; }
  get flags(): number { return this.buf[this.off + CH_FLAGS]!; }
  /** The length field: header and value, padding excluded. */
  get length(): number { return get16(this.buf, this.off + CH_LEN); }
  get paddedLength(): number { return (this.length + 3) & ~3; }
  get valueOffset(): number { return this.off + SCTP_CHUNK_HEADER_LEN; }
  get valueLength(): number { return this.length - SCTP_CHUNK_HEADER_LEN; }

  // DATA (only meaningful when type is SCTP_DATA)
  get dataTsn(): number { return get32(this.buf, this.off + DATA_TSN); }
  get dataStreamId(): number { return get16(this.buf, this.off + DATA_SID); }
  get dataStreamSeq(): number { return get16(this.buf, this.off + DATA_SSN); }
  get dataPpid(): number { return get32(this.buf, this.off + DATA_PPID); }
  get dataOffset(): number { return this.off + DATA_USER; }
  get dataLength(): number { return this.length - DATA_USER; }

  // INIT and INIT ACK
  get initTag(): number { return get32(this.buf, this.off + INIT_TAG); }
  get initARwnd(): number { return get32(this.buf, this.off + INIT_RWND); }
  get initOutStreams(): number { return get16(this.buf, this.off + INIT_OS); }
  get initInStreams(): number { return get16(this.buf, this.off + INIT_MIS); }
  get initTsn(): number { return get32(this.buf, this.off + INIT_TSN); }
  get initParamsOffset(): number { return this.off + INIT_PARAMS; }
  get initParamsLength(): number { return this.length - INIT_PARAMS; }

  // SACK
  get sackCumTsn(): number { return get32(this.buf, this.off + SACK_CUM_TSN); }
  get sackARwnd(): number { return get32(this.buf, this.off + SACK_RWND); }
  get sackGapBlocks(): number { return get16(this.buf, this.off + SACK_NGAPS); }
  get sackDupTsns(): number { return get16(this.buf, this.off + SACK_NDUPS); }

  // SHUTDOWN
  get shutdownCumTsn(): number { return get32(this.buf, this.off + SHUTDOWN_CUM_TSN); }
}

// ---- plain-object form ----

export interface SctpChunk {
  type: number;
  flags: number;
  /** The value, padding excluded. */
  value: Uint8Array;
}

export interface SctpPacket {
  sport: number;
  dport: number;
  vtag: number;
  /** The field as a big-endian number (see SctpView.checksum). On emit: written as given, the CRC when omitted. */
  checksum?: number;
  chunks: SctpChunk[];
}

/** Parses the header and every chunk; throws WireError (control side and tests only). */
export function parseSctp(buf: Uint8Array, off = 0, len = buf.length - off): SctpPacket {
  const v = new SctpView();
  const rc = v.wrap(buf, off, len);
  if (rc !== WIRE_OK) throw new WireError(rc, 'sctp');
  const w = new SctpChunkWalker();
  w.reset(v);
  const chunks: SctpChunk[] = [];
  while (w.next()) chunks.push({ type: w.type, flags: w.flags, value: buf.slice(w.valueOffset, w.valueOffset + w.valueLength) });
  if (w.rc !== WIRE_OK) throw new WireError(w.rc, `sctp chunk ${chunks.length}`);
  return { sport: v.sport, dport: v.dport, vtag: v.vtag, checksum: v.checksum, chunks };
}

/** Bytes emitSctp writes: the header and every chunk padded to 4. */
export function sctpLength(p: SctpPacket): number {
  let n = SCTP_HEADER_LEN;
  for (const c of p.chunks) n += (SCTP_CHUNK_HEADER_LEN + c.value.length + 3) & ~3;
  return n;
}

/** Writes the whole packet (zero padding after each chunk), then the CRC unless given; returns its length. */
export function emitSctp(p: SctpPacket, buf: Uint8Array, off: number): number {
  put16(buf, off + SPORT, p.sport);
  put16(buf, off + DPORT, p.dport);
  put32(buf, off + VTAG, p.vtag);
  put32(buf, off + CSUM, 0);
  let o = off + SCTP_HEADER_LEN;
  for (const c of p.chunks) {
    const clen = SCTP_CHUNK_HEADER_LEN + c.value.length;
    if (clen > 0xffff) throw new Error(`SCTP chunk too long (${clen} bytes)`);
    buf[o + CH_TYPE] = c.type;
    buf[o + CH_FLAGS] = c.flags;
    put16(buf, o + CH_LEN, clen);
    buf.set(c.value, o + SCTP_CHUNK_HEADER_LEN);
    const padded = (clen + 3) & ~3;
    buf.fill(0, o + clen, o + padded);
    o += padded;
  }
  const n = o - off;
  if (p.checksum !== undefined) put32(buf, off + CSUM, p.checksum);
  else putLe32(buf, off + CSUM, sctpCrc(buf, off, n));
  return n;
}

// ---- typed chunk values, for the builder and tests ----

export interface SctpParam {
  type: number;
  value: Uint8Array;
}

/**
 * Parameters (or error causes) as type-length-value, each padded to 4. As
 * RFC 9260 3.2.1 says, the padding of the last one is not counted in the
 * chunk length: it is left off here and added back as the chunk's padding.
 */
export function encodeSctpParams(params: readonly SctpParam[]): Uint8Array {
  let n = 0;
  params.forEach((p, i) => {
    const l = PARAM_HEADER_LEN + p.value.length;
    n += i === params.length - 1 ? l : (l + 3) & ~3;
  });
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of params) {
    const l = PARAM_HEADER_LEN + p.value.length;
    put16(out, o, p.type);
    put16(out, o + 2, l);
    out.set(p.value, o + PARAM_HEADER_LEN);
    o += (l + 3) & ~3;
  }
  return out;
}

/** Walks parameters (or error causes) in buf[off, off+len); throws on a bad length. */
export function decodeSctpParams(buf: Uint8Array, off: number, len: number): SctpParam[] {
  const out: SctpParam[] = [];
  const end = off + len;
  let o = off;
  while (o < end) {
    if (end - o < PARAM_HEADER_LEN) throw new WireError(SCTP_CHUNK_TRUNCATED, 'sctp parameter');
    const l = get16(buf, o + 2);
    if (l < PARAM_HEADER_LEN || o + l > end) throw new WireError(SCTP_BAD_CHUNK_LENGTH, 'sctp parameter');
    out.push({ type: get16(buf, o), value: buf.slice(o + PARAM_HEADER_LEN, o + l) });
    o += (l + 3) & ~3;
  }
  return out;
}

export interface SctpInitFields {
  initTag: number;
  aRwnd: number;
  outStreams: number;
  inStreams: number;
  initialTsn: number;
  params?: readonly SctpParam[];
}

/** An INIT chunk, or INIT ACK with `ack` (which should carry a State Cookie parameter). */
export function sctpInitChunk(f: SctpInitFields, ack = false): SctpChunk {
  const params = encodeSctpParams(f.params ?? []);
  const v = new Uint8Array(INIT_PARAMS - SCTP_CHUNK_HEADER_LEN + params.length);
  const b = -SCTP_CHUNK_HEADER_LEN; // value offsets are chunk offsets minus the chunk header
  put32(v, b + INIT_TAG, f.initTag);
  put32(v, b + INIT_RWND, f.aRwnd);
  put16(v, b + INIT_OS, f.outStreams);
  put16(v, b + INIT_MIS, f.inStreams);
  put32(v, b + INIT_TSN, f.initialTsn);
  v.set(params, b + INIT_PARAMS);
  return { type: ack ? SCTP_INIT_ACK : SCTP_INIT, flags: 0, value: v };
}

export interface SctpDataFields {
  tsn: number;
  streamId: number;
  streamSeq: number;
  ppid: number;
  data: Uint8Array;
  /** SCTP_DATA_E | SCTP_DATA_B | SCTP_DATA_U | SCTP_DATA_I; default B|E (an unfragmented message). */
  flags?: number;
}

export function sctpDataChunk(f: SctpDataFields): SctpChunk {
  const b = -SCTP_CHUNK_HEADER_LEN;
  const v = new Uint8Array(DATA_USER - SCTP_CHUNK_HEADER_LEN + f.data.length);
  put32(v, b + DATA_TSN, f.tsn);
  put16(v, b + DATA_SID, f.streamId);
  put16(v, b + DATA_SSN, f.streamSeq);
  put32(v, b + DATA_PPID, f.ppid);
  v.set(f.data, b + DATA_USER);
  return { type: SCTP_DATA, flags: f.flags ?? (SCTP_DATA_B | SCTP_DATA_E), value: v };
}

export interface SctpSackFields {
  cumTsnAck: number;
  aRwnd: number;
  /** Gap ack blocks as [start, end] offsets from the cumulative TSN. */
  gaps?: readonly (readonly [number, number])[];
  dups?: readonly number[];
}

export function sctpSackChunk(f: SctpSackFields): SctpChunk {
  const gaps = f.gaps ?? [];
  const dups = f.dups ?? [];
  const b = -SCTP_CHUNK_HEADER_LEN;
  const v = new Uint8Array(SACK_GAPS - SCTP_CHUNK_HEADER_LEN + 4 * gaps.length + 4 * dups.length);
  put32(v, b + SACK_CUM_TSN, f.cumTsnAck);
  put32(v, b + SACK_RWND, f.aRwnd);
  put16(v, b + SACK_NGAPS, gaps.length);
  put16(v, b + SACK_NDUPS, dups.length);
  let o = b + SACK_GAPS;
  for (const [s, e] of gaps) { put16(v, o, s); put16(v, o + 2, e); o += 4; }
  for (const d of dups) { put32(v, o, d); o += 4; }
  return { type: SCTP_SACK, flags: 0, value: v };
}

/** HEARTBEAT (or HEARTBEAT ACK with `ack`) carrying one Heartbeat Info parameter. */
export function sctpHeartbeatChunk(info: Uint8Array, ack = false): SctpChunk {
  return {
    type: ack ? SCTP_HEARTBEAT_ACK : SCTP_HEARTBEAT, flags: 0,
    value: encodeSctpParams([{ type: SCTP_PARAM_HEARTBEAT_INFO, value: info }]),
  };
}

export function sctpShutdownChunk(cumTsnAck: number): SctpChunk {
  const v = new Uint8Array(SHUTDOWN_LEN - SCTP_CHUNK_HEADER_LEN);
  put32(v, SHUTDOWN_CUM_TSN - SCTP_CHUNK_HEADER_LEN, cumTsnAck);
  return { type: SCTP_SHUTDOWN, flags: 0, value: v };
}

/** A chunk that is only a header and an opaque value: COOKIE ECHO (the cookie), ABORT and ERROR (causes), the ACKs. */
export function sctpSimpleChunk(type: number, value: Uint8Array = EMPTY, flags = 0): SctpChunk {
  return { type, flags, value };
}
