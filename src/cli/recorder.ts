import type { Director } from '../director/director.js';
import { PcapngStreamWriter } from '../io/pcap-file.js';
import { portNow, type FrameMeta } from '../io/port.js';
import { completeChecksum } from '../wire/csum-partial.js';
import { GsoComments } from '../io/gso-comment.js';
import { RuleRecorder, type RuleEvent, type RuleWatcher } from '../control/rule-log.js';
import type { FrameTap } from '../runtime/live.js';
import { DecisionLog } from '../trace/decisions.js';
import type { TraceSink } from '../trace/events.js';
import { eventsPathFor } from './expect.js';
import { LineFile } from './line-file.js';

/** Permission bits of the files a Recorder writes: owner read/write only. */
export const RECORD_MODE = 0o600;

/**
 * Records a live director's frames into pcapng files whose interfaces are
 * the director's ports: `received` is exactly what `tapvs replay` takes as
 * input, `sent` is what it writes. So a live session can be kept and
 * replayed offline as a regression test, and the two compared.
 * With `events`, every change of the rules (ipvsadm, reloads, health checks)
 * goes to that file too, with its place among the received frames
 * (control/rule-log.ts), and replay applies it there.
 * Only built when asked for (`tapvs run --record/--record-sent`): it copies
 * every frame. The files are readable by their owner only (mode 0600, also
 * when they existed before): they hold other people's traffic.
 */
export class Recorder implements FrameTap {
  private rx: PcapngStreamWriter | undefined;
  private tx: PcapngStreamWriter | undefined;
  private events: LineFile | undefined;
  private rules: RuleRecorder | undefined;
  private clock = 0;
  /** Frames received so far. */
  frames = 0;

  constructor(ports: string[], paths: { received?: string; sent?: string; events?: string }) {
    // microsecond stamps: the replay clock reads them back exactly as the live one ran
    if (paths.received) this.rx = PcapngStreamWriter.open(paths.received, ports, { nanos: false, mode: RECORD_MODE });
    if (paths.sent) this.tx = PcapngStreamWriter.open(paths.sent, ports, { nanos: false, mode: RECORD_MODE });
    // each event is written at once: there are few, and a crash must not lose the ones before it
    if (paths.events) this.events = new LineFile(paths.events, RECORD_MODE, true);
  }

  /** The clock of the frame or timer being handled, in ms: stamps what is sent. Set on every timer tick. */
  get now(): number {
    return this.clock;
  }

  set now(ms: number) {
    this.clock = ms;
    this.rules?.onTick();
  }

  /**
   * The watcher the control plane reports to (RunOptions.watch): rule changes
   * go to the events file (if any) and to `onEvent`.
   */
  watch(director: Director, onEvent?: (ev: RuleEvent, timeMs: number) => void): RuleWatcher {
    const file = this.events;
    this.rules = new RuleRecorder(director, (ev) => file?.line(JSON.stringify(ev)), portNow, onEvent);
    this.rules.frames = this.frames;
    return this.rules;
  }

  /** A frame whose partial checksum (offload) is finished in a copy, as it would look on a wire. */
  private finished(buf: Uint8Array, off: number, len: number, meta: FrameMeta | undefined): Uint8Array | undefined {
    if (meta === undefined || meta.csumStart === 0) return undefined;
    const copy = buf.slice(off, off + len);
    completeChecksum(copy, 0, len, meta.csumStart, meta.csumOffset);
    return copy;
  }

  received(port: number, buf: Uint8Array, off: number, len: number, now: number, meta?: FrameMeta): void {
    this.clock = now;
    // a reload still being applied in slices may have changed rules since the last frame
    this.rules?.beforeFrame();
    if (this.rx) {
      const f = this.finished(buf, off, len, meta);
      const c = this.comment(meta);
      if (f) this.rx.addFrom(port, toNs(now), f, 0, len, c);
      else this.rx.addFrom(port, toNs(now), buf, off, len, c);
    }
    this.frames++;
    if (this.rules) this.rules.frames = this.frames;
  }

  sent(port: number, buf: Uint8Array, off: number, len: number, meta?: FrameMeta): void {
    if (!this.tx) return;
    const f = this.finished(buf, off, len, meta);
    const c = this.comment(meta);
    if (f) this.tx.addFrom(port, toNs(this.clock), f, 0, len, c);
    else this.tx.addFrom(port, toNs(this.clock), buf, off, len, c);
  }

  /** Super-frames' packet comments (io/gso-comment.ts), so that a replay hands each on as the live director got it. */
  private readonly comments = new GsoComments();

  private comment(meta: FrameMeta | undefined): Uint8Array | undefined {
    return this.comments.of(meta);
  }

  close(): void {
    this.rx?.close();
    this.tx?.close();
    this.events?.close();
  }
}

/** ms (float) to ns, rounded to the microsecond the file keeps. */
function toNs(ms: number): bigint {
  return BigInt(Math.round(ms * 1000)) * 1000n;
}

/**
 * `tapvs run --decisions FILE`: the decision log of a live director. It
 * learns where frames and timer steps begin from the frame tap (the port
 * loop calls `received` before each frame and sets `now` before each tick),
 * and what was decided from the trace.
 */
export class LiveDecisions implements FrameTap {
  readonly log: DecisionLog;
  private readonly file: LineFile;
  private clock = 0;
  private frames = 0;

  constructor(path: string) {
    this.file = new LineFile(path, RECORD_MODE);
    this.log = new DecisionLog((l) => this.file.line(l));
  }

  get sink(): TraceSink {
    return this.log.sink;
  }

  get now(): number {
    return this.clock;
  }

  set now(ms: number) {
    this.clock = ms;
    this.log.timer(ms);
  }

  received(): void {
    this.log.frame(++this.frames);
  }

  sent(): void {}

  close(): void {
    this.log.flush();
    this.file.close();
  }
}

/** Several frame taps as one, in order. */
export function teeTaps(...taps: (FrameTap | undefined)[]): FrameTap | undefined {
  const list = taps.filter((t): t is FrameTap => t !== undefined);
  if (list.length <= 1) return list[0];
  let clock = 0;
  return {
    get now() {
      return clock;
    },
    set now(ms: number) {
      clock = ms;
      for (const t of list) t.now = ms;
    },
    received(port, buf, off, len, now, meta) {
      clock = now;
      for (const t of list) t.received(port, buf, off, len, now, meta);
    },
    sent(port, buf, off, len, meta) {
      for (const t of list) t.sent(port, buf, off, len, meta);
    },
    close() {
      for (const t of list) t.close();
    },
  };
}

/** What `tapvs run`'s recording flags build: the frame tap, the decision log's trace sink, and the rule watcher. */
export interface LiveRecording {
  tap?: FrameTap;
  trace?: TraceSink;
  watch?: (director: Director) => RuleWatcher;
}

/**
 * --record IN.pcapng (with its events in IN.events, or --record-events),
 * --record-sent OUT.pcapng, --decisions FILE.jsonl.
 */
export function liveRecording(ports: string[], o: { received?: string; sent?: string; events?: string; decisions?: string }): LiveRecording {
  const events = o.events ?? (o.received ? eventsPathFor(o.received) : undefined);
  const rec = o.received || o.sent || o.events ? new Recorder(ports, { received: o.received, sent: o.sent, events }) : undefined;
  const dec = o.decisions ? new LiveDecisions(o.decisions) : undefined;
  const out: LiveRecording = {};
  const tap = teeTaps(rec, dec);
  if (tap) out.tap = tap;
  if (dec) out.trace = dec.sink;
  if (rec || dec) {
    const note = dec
      ? (ev: RuleEvent, ms: number) => dec.log.control({ timeMs: ms, source: ev.source, summary: ev.summary ?? '', applied: ev.ipvsadm })
      : undefined;
    // without a recorder, a watcher of its own puts the control events in the decision log
    out.watch = (director) => (rec ? rec.watch(director, note) : new RuleRecorder(director, () => {}, portNow, note));
  }
  return out;
}
