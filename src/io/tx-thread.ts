/**
 * The writer thread: TAP writes handed to a worker through a byte ring in
 * shared memory, while the forwarding thread is saturated.
 *
 * Why: a write(2) to a TAP carries the delivery of the frame (bridge, veth,
 * the receiving namespace's stack, often that stack's own answer) on the
 * writing thread. During a NAT run of short HTTP connections tapvs's one
 * thread was at 100% of a core, 65% of it inside TAP writes, with the
 * machine's other core a quarter idle (perf record -a -g). Handed to a
 * worker, those writes run beside the forwarding thread.
 *
 * When: tx-policy.ts decides, window by window, from how much of the
 * forwarding thread's time the writes take and whether handing off has been
 * measured to pay.
 *
 * The worker is plain JavaScript evaluated from a string, so it runs the same
 * from the TypeScript sources (tsx) and from the compiled package.
 */
import { Worker } from 'node:worker_threads';
import { MachineIdle } from './machine-idle.js';
import { HandOffPolicy, WINDOW_MS, type HandOffCounters, type IdleSource, type WindowFacts } from './tx-policy.js';

/** Ring bytes: 64 super-frames, or tens of thousands of small frames. */
const RING_SIZE = 1 << 22;
/** Records start on 8 bytes; a record is [fd, slot, len, 0] then the frame. */
const REC_HDR = 16;
/** Ports with their own sent/failed figures; a port beyond these writes inline. */
export const TX_THREAD_SLOTS = 64;

// ctrl: Int32 words at the start of the shared buffer
const HEAD = 0; // bytes produced (wrapping), main thread stores
const TAIL = 1; // bytes consumed (wrapping), worker stores
const SLEEPING = 2; // 1 while the worker waits on HEAD
const STOP = 3;
const CTRL_BYTES = 64;
// stats: Float64 words after ctrl, worker stores: [busy ms, (sent, failed) per slot]
const STATS_BYTES = 8 * (1 + 2 * TX_THREAD_SLOTS);
const DATA_OFF = CTRL_BYTES + STATS_BYTES;

/**
 * Larger frames (TCP super-frames) are written inline whenever the ring is
 * empty: copying 64 KB into the ring costs the forwarding thread about what
 * the write's own copy does, and DR's TCP, whose writes are nearly all
 * super-frames, lost 10-25% handed off.
 */
export const SMALL_FRAME = 2048;
/**
 * While writing inline, one write in this many is timed (and counts for
 * this many): two clock reads on every write cost 64-byte UDP through NAT
 * about 5% (75 k against 79 k datagrams/s, twelve runs each in one lab,
 * the same with the clock reads left out). A power of two.
 */
const SAMPLE_EVERY = 8;
/** How long the worker polls the ring before it sleeps: under load the next frame is microseconds away. */
const SPIN_MS = 0.05;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { sab, size } = workerData;
const ctrl = new Int32Array(sab, 0, ${CTRL_BYTES / 4});
const stats = new Float64Array(sab, ${CTRL_BYTES}, ${STATS_BYTES / 8});
const data = new Uint8Array(sab, ${DATA_OFF}, size);
const words = new Int32Array(sab, ${DATA_OFF}, size >> 2);
const mask = size - 1;
let tail = 0;
for (;;) {
  let head = Atomics.load(ctrl, ${HEAD});
  if (head === tail) {
    const until = performance.now() + ${SPIN_MS};
    while (head === tail && performance.now() < until) head = Atomics.load(ctrl, ${HEAD});
    if (head === tail) {
      if (Atomics.load(ctrl, ${STOP}) !== 0) break;
      Atomics.store(ctrl, ${SLEEPING}, 1);
      Atomics.wait(ctrl, ${HEAD}, tail, 1000);
      Atomics.store(ctrl, ${SLEEPING}, 0);
      continue;
    }
  }
  const t0 = performance.now();
  while (tail !== head) {
    const at = tail & mask;
    const fd = words[at >> 2];
    if (fd === -1) { tail = (tail + size - at) | 0; continue; }
    const slot = words[(at >> 2) + 1];
    const len = words[(at >> 2) + 2];
    try { writeSync(fd, data, at + ${REC_HDR}, len); stats[1 + 2 * slot]++; } catch { stats[2 + 2 * slot]++; }
    tail = (tail + ((${REC_HDR} + len + 7) & ~7)) | 0;
    Atomics.store(ctrl, ${TAIL}, tail);
  }
  stats[0] += performance.now() - t0;
}
`;

/** take()'s answers. */
export const TX_INLINE = 0;
export const TX_QUEUED = 1;
export const TX_FULL = 2;

export interface TxThreadCounters extends HandOffCounters {
  /** Frames handed to the worker. */
  handed: number;
  /** Frames refused because the ring was full (the port counts them as transmit errors). */
  ringFull: number;
}

export class TxThread {
  readonly counters: TxThreadCounters = { handed: 0, ringFull: 0, handOffs: 0, probes: 0, backoffs: 0 };
  private readonly sab = new SharedArrayBuffer(DATA_OFF + RING_SIZE);
  private readonly ctrl = new Int32Array(this.sab, 0, CTRL_BYTES / 4);
  private readonly stats = new Float64Array(this.sab, CTRL_BYTES, STATS_BYTES / 8);
  private readonly data = new Uint8Array(this.sab, DATA_OFF, RING_SIZE);
  private readonly words = new Int32Array(this.sab, DATA_OFF, RING_SIZE >> 2);
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private head = 0;
  private slots = 0;
  private windowStart = 0;
  /** Time in this window's inline writes of frames up to SMALL_FRAME (those a hand-off takes), ms. */
  private inlineBusy = 0;
  /** The worker's busy ms at the window's start. */
  private workerBusyAt = 0;
  /** When the inline write take() asked for began; -1: a large frame's, not counted. */
  private writeStart = 0;
  /** Inline writes since the last timed one (only its low bits are read). */
  private unsampled = 0;
  /** How many writes the timed one stands for: SAMPLE_EVERY while inline, 1 while handing off (each is timed). */
  private weight = 1;
  private dead = false;
  /** Frames written so far, handed off or inline (refused ones not). */
  private writes = 0;
  private readonly policy: HandOffPolicy;
  private readonly facts: WindowFacts = { span: 0, inlineBusy: 0, workerBusy: 0, writes: 0, drained: true };

  /** `idle`: where the machine's idle share comes from (tests give a fixed one). */
  constructor(opts: { idle?: IdleSource } = {}) {
    this.policy = new HandOffPolicy(opts.idle ?? new MachineIdle(), this.counters);
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sab: this.sab, size: RING_SIZE } });
    this.worker.unref();
    this.exited = new Promise((resolve) => this.worker.once('exit', () => {
      // stopped, or crashed: whatever is left in the ring is lost, and every port writes inline from now on
      this.dead = true;
      this.policy.stop();
      resolve();
    }));
    this.worker.on('error', () => { /* seen as the exit above */ });
    this.windowStart = performance.now();
  }

  /** A slot for a port's sent/failed figures; -1 when all are taken (the port then writes inline). */
  attach(): number {
    return this.slots < TX_THREAD_SLOTS ? this.slots++ : -1;
  }

  /** Frames the worker wrote for `slot`. */
  sent(slot: number): number {
    return this.stats[1 + 2 * slot]!;
  }

  /** Frames the worker failed to write for `slot` (EIO while the link is down, ...). */
  failed(slot: number): number {
    return this.stats[2 + 2 * slot]!;
  }

  /** Whether frames are being handed off now. */
  get active(): boolean {
    return this.policy.handing;
  }

  /**
   * TX_QUEUED or TX_FULL: the frame was handed off (or refused); TX_INLINE:
   * the caller writes it now and then calls wrote().
   */
  take(fd: number, slot: number, buf: Uint8Array, off: number, len: number): number {
    if (!this.policy.handing) {
      if ((++this.unsampled & (SAMPLE_EVERY - 1)) !== 0) {
        this.writes++;
        this.writeStart = -1;
        return TX_INLINE;
      }
      this.weight = SAMPLE_EVERY;
    } else {
      this.weight = 1;
    }
    const now = performance.now();
    if (now - this.windowStart >= WINDOW_MS && !this.dead) this.endWindow(now);
    if (!this.policy.handing || (len > SMALL_FRAME && this.drained())) {
      this.writes++;
      // only the writes a hand-off would take count toward one: TCP's super-frame writes, which
      // stay inline anyway, made the policy try handing off the ACKs between them (NAT TCP
      // lost about a tenth in the bench's 3 s runs, and the probe then backed off)
      this.writeStart = len > SMALL_FRAME ? -1 : now;
      return TX_INLINE;
    }
    return this.enqueue(fd, slot, buf, off, len);
  }

  /** After an inline write that take() asked for. */
  wrote(): void {
    if (this.writeStart >= 0) this.inlineBusy += (performance.now() - this.writeStart) * this.weight;
  }

  private endWindow(now: number): void {
    const workerBusy = this.stats[0]!;
    const f = this.facts;
    f.span = now - this.windowStart;
    f.inlineBusy = this.inlineBusy;
    f.workerBusy = workerBusy - this.workerBusyAt;
    f.writes = this.writes;
    f.drained = this.drained();
    this.policy.decide(now, f);
    this.windowStart = now;
    this.inlineBusy = 0;
    this.workerBusyAt = workerBusy;
  }

  private enqueue(fd: number, slot: number, buf: Uint8Array, off: number, len: number): number {
    const need = (REC_HDR + len + 7) & ~7;
    const tail = Atomics.load(this.ctrl, TAIL);
    let head = this.head;
    let at = head & (RING_SIZE - 1);
    if (at + need > RING_SIZE) {
      // no room before the end: a wrap marker, and the record at the start
      const waste = RING_SIZE - at;
      if (((head - tail) | 0) + waste + need > RING_SIZE) return this.full();
      this.words[at >> 2] = -1;
      head = (head + waste) | 0;
      at = 0;
    }
    if (((head - tail) | 0) + need > RING_SIZE) return this.full();
    const w = at >> 2;
    this.words[w] = fd;
    this.words[w + 1] = slot;
    this.words[w + 2] = len;
    this.data.set(buf.subarray(off, off + len), at + REC_HDR);
    this.head = (head + need) | 0;
    Atomics.store(this.ctrl, HEAD, this.head);
    if (Atomics.load(this.ctrl, SLEEPING) !== 0) Atomics.notify(this.ctrl, HEAD);
    this.counters.handed++;
    this.writes++;
    return TX_QUEUED;
  }

  private full(): number {
    this.counters.ringFull++;
    return TX_FULL;
  }

  /** Everything handed off has been written (or failed). */
  drained(): boolean {
    return this.dead || Atomics.load(this.ctrl, TAIL) === this.head;
  }

  /**
   * Resolves once the worker has written everything handed off so far (a port
   * waits for this before closing its descriptor, whose number could be reused),
   * or after `timeoutMs`, false then.
   */
  async drain(timeoutMs = 1000): Promise<boolean> {
    const until = performance.now() + timeoutMs;
    while (!this.drained()) {
      if (performance.now() > until) return false;
      await new Promise((r) => setTimeout(r, 1));
    }
    return true;
  }

  /** Drains, then stops the worker. */
  async stop(): Promise<void> {
    await this.drain();
    this.policy.close();
    Atomics.store(this.ctrl, STOP, 1);
    Atomics.notify(this.ctrl, HEAD);
    const exited = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 1000))]);
    if (!exited) await this.worker.terminate();
  }
}
