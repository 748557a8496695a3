/**
 * An in-memory port for tests and replay: `inject` hands a frame to the sink
 * exactly as a device port would (same headroom, same tail room, one reused
 * receive buffer), and everything sent is copied into `sent`.
 */
import { HEADROOM, MAX_FRAME, PLAIN_FRAME, RX_BUFFER_SIZE, type FrameSink, type Port, type PortCounters, newCounters, portNow } from './port.js';

export interface MemoryPortOptions {
  name: string;
  device?: string;
  mac?: number;
  mtu?: number;
  /** Called after each send with the copy just stored (e.g. to wire two memory ports together). */
  onSend?: (frame: Uint8Array) => void;
}

export class MemoryPort implements Port {
  readonly name: string;
  readonly device: string;
  mac: number | undefined;
  mtu: number;
  readonly counters: PortCounters = newCounters();
  /** Copies of every frame sent, in order. */
  readonly sent: Uint8Array[] = [];
  private sink: FrameSink | undefined;
  private portIndex = 0;
  private closed = false;
  private readonly rx = new Uint8Array(RX_BUFFER_SIZE);
  private readonly onSend: ((frame: Uint8Array) => void) | undefined;

  constructor(opts: MemoryPortOptions) {
    this.name = opts.name;
    this.device = opts.device ?? opts.name;
    this.mac = opts.mac;
    this.mtu = opts.mtu ?? 1500;
    this.onSend = opts.onSend;
  }

  send(buf: Uint8Array, off: number, len: number): void {
    if (this.closed || off < 0 || len < 0 || off + len > buf.length) {
      this.counters.txErrors++;
      return;
    }
    const copy = buf.slice(off, off + len);
    this.sent.push(copy);
    this.counters.txFrames++;
    this.onSend?.(copy);
  }

  start(sink: FrameSink, portIndex: number): void {
    if (this.sink || this.closed) throw new Error(`port ${this.name}: already started or closed`);
    this.sink = sink;
    this.portIndex = portIndex;
  }

  /**
   * Deliver one frame to the sink now. Returns false when it was not
   * delivered (port not started or closed, too big, shorter than an Ethernet
   * header); the reason is counted like a device port would count it.
   * `now` defaults to the port clock; pass it for deterministic replays.
   */
  inject(frame: Uint8Array, now: number = portNow()): boolean {
    if (frame.length > MAX_FRAME) {
      this.counters.rxTooBig++;
      return false;
    }
    if (!this.sink || this.closed || frame.length < 14) {
      this.counters.rxDropped++;
      return false;
    }
    // Scrub the reused buffer so a sink can never read bytes of an earlier frame as if they were this one's.
    this.rx.fill(0);
    this.rx.set(frame, HEADROOM);
    this.counters.rxFrames++;
    this.sink(this.portIndex, this.rx, HEADROOM, frame.length, now, PLAIN_FRAME);
    return true;
  }

  /** Remove and return everything sent so far. */
  takeSent(): Uint8Array[] {
    return this.sent.splice(0, this.sent.length);
  }

  close(): Promise<void> {
    this.closed = true;
    this.sink = undefined;
    return Promise.resolve();
  }
}
