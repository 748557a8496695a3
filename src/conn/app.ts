// Application helpers' per-connection state (the kernel's ip_vs_app.c): an
// app is bound to a NAT conn when the conn is made, by its protocol and
// virtual port (ip_vs_bind_app; tapvs has one app, FTP, on the ports of
// `option ftp_ports`). A bound conn carries what the helper remembers
// between packets (app_data: a PASV/EPSV command seen) and the sequence
// offsets of each direction (struct ip_vs_seq in_seq/out_seq: init_seq,
// delta, previous_delta), needed once the helper has changed a payload's
// length. The arrays are allocated when the first conn is bound: a director
// that never sees a conn to an app port does not pay for them.

/** app_data: nothing pending. */
export const APP_NONE = 0;
/** app_data: the client sent PASV; the server's 227 reply is looked for. */
export const APP_FTP_PASV = 1;
/** app_data: the client sent EPSV; the server's 229 reply is looked for. */
export const APP_FTP_EPSV = 2;

/** seq flags: in_seq holds an offset (IP_VS_CONN_F_IN_SEQ). */
export const SEQ_IN = 1;
/** seq flags: out_seq holds an offset (IP_VS_CONN_F_OUT_SEQ). */
export const SEQ_OUT = 2;

const EMPTY_U8 = new Uint8Array(0);
const EMPTY_U32 = new Uint32Array(0);
const EMPTY_I32 = new Int32Array(0);

export class ConnApps {
  /** What the helper waits for on this conn (APP_*). */
  data: Uint8Array = EMPTY_U8;
  /** SEQ_IN | SEQ_OUT: which directions' offsets are in force. */
  seqFlags: Uint8Array = EMPTY_U8;
  /** in_seq (client -> server) and out_seq (server -> client): init_seq, delta, previous_delta. */
  inInit: Uint32Array = EMPTY_U32;
  inDelta: Int32Array = EMPTY_I32;
  inPrev: Int32Array = EMPTY_I32;
  outInit: Uint32Array = EMPTY_U32;
  outDelta: Int32Array = EMPTY_I32;
  outPrev: Int32Array = EMPTY_I32;

  /** Starts a freshly bound conn's state (allocating the arrays for `max` slots the first time). */
  bind(slot: number, max: number): void {
    if (this.data === EMPTY_U8) {
      this.data = new Uint8Array(max);
      this.seqFlags = new Uint8Array(max);
      this.inInit = new Uint32Array(max);
      this.inDelta = new Int32Array(max);
      this.inPrev = new Int32Array(max);
      this.outInit = new Uint32Array(max);
      this.outDelta = new Int32Array(max);
      this.outPrev = new Int32Array(max);
    }
    this.data[slot] = APP_NONE;
    this.seqFlags[slot] = 0;
    this.inInit[slot] = 0;
    this.inDelta[slot] = 0;
    this.inPrev[slot] = 0;
    this.outInit[slot] = 0;
    this.outDelta[slot] = 0;
    this.outPrev[slot] = 0;
  }

  bytesAllocated(): number {
    return this.data.byteLength + this.seqFlags.byteLength + this.inInit.byteLength * 2 + this.inDelta.byteLength * 4;
  }
}

/** TCP's after(a, b): a is later than b in sequence space. */
export function seqAfter(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}

/**
 * vs_fix_seq: the sequence number a packet of one direction carries once
 * earlier payloads of that direction changed length: packets after the
 * last resized one move by `delta`, older ones (retransmissions) by the
 * delta before it. Returns the new value (unsigned).
 */
export function fixSeq(seq: number, init: number, delta: number, prev: number): number {
  return (seq + (seqAfter(seq, init) ? delta : prev)) >>> 0;
}

/**
 * vs_fix_ack_seq: the acknowledgement a packet of the other direction
 * carries, taken back into the sender's numbering (the acknowledged bytes
 * were counted as the receiver saw them, after the change).
 */
export function fixAck(ack: number, init: number, delta: number, prev: number): number {
  return (ack - (seqAfter(ack, (init + delta) >>> 0) ? delta : prev)) >>> 0;
}
