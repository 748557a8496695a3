/**
 * The contract between the director and a device: a Port delivers received
 * Ethernet frames to a sink and writes frames out.
 *
 * Clock: every `now` handed to a sink is milliseconds on the monotonic clock,
 * expressed as an epoch value (`performance.timeOrigin + performance.now()`,
 * see `portNow`). It never jumps when the wall clock is adjusted, so
 * connection timeouts stay honest, and it still reads like a Unix time in
 * logs. Control-plane code that compares against frame times should call
 * `portNow` too rather than `Date.now()`.
 */

import { PLAIN_FRAME, type FrameMeta } from '../model/frame.js';

export { PLAIN_FRAME, type FrameMeta };

/** Bytes kept free before each received frame (room for an IPIP outer header). */
export const HEADROOM = 64;

/**
 * Largest frame a port delivers (jumbo Ethernet); longer ones are counted in
 * rxTooBig and dropped. Exception: a TAP port with offload (io/vnet.ts) also
 * delivers TCP super-frames of up to 14 + 65535 bytes, marked in their FrameMeta.
 */
export const MAX_FRAME = 9216;

/** Size of the receive buffer a port hands out: headroom + the largest frame + the same again at the tail. */
export const RX_BUFFER_SIZE = HEADROOM + MAX_FRAME + HEADROOM;

/** Receives each frame; `meta` is the port's reused record of what travels with it (read it during the call). */
export type FrameSink = (portIndex: number, buf: Uint8Array, off: number, len: number, now: number, meta: FrameMeta) => void;

export interface PortCounters {
  rxFrames: number;
  txFrames: number;
  /** Frames that arrived but could not be handed to the sink (not started, sink threw, short). */
  rxDropped: number;
  txErrors: number;
  /** Frames longer than MAX_FRAME (or truncated by the capture layer). */
  rxTooBig: number;
}

export interface Port {
  /** tapvs port name */
  readonly name: string;
  /** kernel interface name */
  readonly device: string;
  /** 48-bit MAC of the kernel netdev when known */
  mac: number | undefined;
  mtu: number;
  /**
   * Write one frame now (synchronously copies or writes it; must not keep
   * `buf`). `meta` says whether it is a TCP super-frame to be cut to this
   * port's MTU (by the kernel or here); absent: an ordinary frame.
   */
  send(buf: Uint8Array, off: number, len: number, meta?: FrameMeta): void;
  /** Begin delivering received frames to sink: each frame sits at buf[off..off+len) with
   *  off >= HEADROOM and free tail room up to buf.length >= off + 9216 so the
   *  director can rewrite in place and grow the frame by up to HEADROOM at the front. */
  start(sink: FrameSink, portIndex: number): void;
  close(): Promise<void>;
  readonly counters: PortCounters;
}

export function newCounters(): PortCounters {
  return { rxFrames: 0, txFrames: 0, rxDropped: 0, txErrors: 0, rxTooBig: 0 };
}

const timeOrigin = performance.timeOrigin;

/** The port clock in milliseconds (monotonic, epoch-based). */
export function portNow(): number {
  return timeOrigin + performance.now();
}

// MACs are 48-bit numbers, read and written by the wire layer's helpers.
export { readMac as macFromBytes, macToString, parseMac as macFromString } from '../wire/addr.js';
