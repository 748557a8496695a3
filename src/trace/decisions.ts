// The decision log (`--decisions FILE.jsonl`): one JSON object per input
// frame saying what the director decided and why — verdict, service, new or
// existing connection, the real server and the scheduler's reason, the
// state after the frame, the frames it sent — plus one object per timer
// step that sent something and per control event applied. A consumer of
// trace events like the text trace: built only when asked for, so it costs
// the forwarding path nothing otherwise.
//
// Stable on purpose: every object has the same keys in the same order
// (null where a key does not apply), times are decimal strings, and the
// wording comes from fixed vocabularies, so two logs can be compared with
// diff(1) or jq. docs/decision-log.md documents every field.
import { frameSummary } from '../wire/dissect.js';
import type { ConnRef, TraceEvent, TraceSink } from './events.js';

export type DecisionVerdict = 'forwarded' | 'answered' | 'held' | 'consumed' | 'dropped' | 'skipped';

export interface SentFrame {
  port: string;
  summary: string;
}

/** One line of the log. Keys in this order, always all present. */
export interface DecisionRecord {
  type: 'frame' | 'timer' | 'control';
  /** 1-based number of the input frame in the capture (or as received live); null for timer and control records. */
  frame: number | null;
  /** Seconds since the Unix epoch, 6 decimals, as a string ("1700000000.010000"). */
  time: string;
  port: string | null;
  summary: string;
  verdict: DecisionVerdict | null;
  reason: string | null;
  service: string | null;
  conn: 'new' | 'existing' | 'reply' | 'icmp-error' | null;
  client: string | null;
  real_server: string | null;
  scheduler: string | null;
  sched_reason: string | null;
  mode: string | null;
  state: string | null;
  notes: string[];
  sent: SentFrame[];
}

/** ms (float, the director's clock) to "seconds.micros". */
export function msToTime(ms: number): string {
  const us = BigInt(Math.round(ms * 1000));
  const neg = us < 0n;
  const a = neg ? -us : us;
  return `${neg ? '-' : ''}${a / 1_000_000n}.${(a % 1_000_000n).toString().padStart(6, '0')}`;
}

function blank(type: DecisionRecord['type'], frame: number | null, time: string, port: string | null, summary: string): DecisionRecord {
  return {
    type, frame, time, port, summary, verdict: null, reason: null, service: null, conn: null, client: null,
    real_server: null, scheduler: null, sched_reason: null, mode: null, state: null, notes: [], sent: [],
  };
}

/** ADDR:PORT, [ADDR]:PORT for IPv6 (as ipvsadm and the trace's service and real server labels write them). */
const hostPort = (addr: string, port: number): string => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

const connService = (c: ConnRef): string => `${c.proto} ${hostPort(c.vip, c.vport)}`;

/** A control event as the log shows it (see control/rule-log.ts for the events themselves). */
export interface ControlNote {
  timeMs: number;
  /** "ipvsadm", "reload", "health", "sorry", or a recorded file's own word. */
  source: string;
  /** What happened, in words. */
  summary: string;
  /** The ipvsadm lines applied. */
  applied: readonly string[];
}

export class DecisionLog {
  /** The trace sink to give the director. */
  readonly sink: TraceSink;
  private open: DecisionRecord | null = null;
  /** What decided the verdict, gathered while a frame record is open. */
  private seen = { drop: false, heldFrag: false, heldArp: false, answered: false, conn: false, arp: false };
  private counted = 0;
  private pendingFrame: number | null = null;

  constructor(private readonly write: (line: string) => void) {
    this.sink = (ev) => this.event(ev);
  }

  /** The next frame-in event is input frame `n` (a replay numbers frames by their place in the capture). */
  frame(n: number): void {
    this.flush();
    this.pendingFrame = n;
  }

  /** A captured frame the replay did not hand to the director. */
  skipped(n: number, timeMs: number, reason: string): void {
    this.flush();
    const r = blank('frame', n, msToTime(timeMs), null, `not replayed: ${reason}`);
    r.verdict = 'skipped';
    r.reason = reason;
    this.emit(r);
    this.counted = Math.max(this.counted, n);
  }

  /** What follows, up to the next frame, is the director's own doing (start, timers): kept only if it sends or notes something. */
  timer(nowMs: number, what: 'start' | 'timer' = 'timer'): void {
    this.flush();
    this.open = blank('timer', null, msToTime(nowMs), null, what);
  }

  /** A control event was applied (between frames). */
  control(c: ControlNote): void {
    this.flush();
    const r = blank('control', null, msToTime(c.timeMs), null, `${c.source}: ${c.summary}`);
    r.notes = [...c.applied];
    this.emit(r);
  }

  /** Writes the open record, if any. Call at the end. */
  flush(): void {
    const r = this.open;
    if (!r) return;
    this.open = null;
    if (r.type === 'timer') {
      if (r.sent.length > 0 || r.notes.length > 0) this.emit(r);
      return;
    }
    const s = this.seen;
    if (r.verdict === null) {
      r.verdict = s.drop ? 'dropped'
        : s.heldFrag || s.heldArp ? 'held'
          : s.answered ? 'answered'
            : s.conn ? 'forwarded'
              : s.arp ? 'consumed'
                : r.sent.length > 0 ? 'forwarded' : 'consumed';
    }
    this.emit(r);
  }

  private emit(r: DecisionRecord): void {
    this.write(JSON.stringify(r));
  }

  private event(ev: TraceEvent): void {
    if (ev.kind === 'frame-in') {
      this.flush();
      const n = this.pendingFrame ?? this.counted + 1;
      this.pendingFrame = null;
      this.counted = n;
      this.open = blank('frame', n, msToTime(ev.time), ev.port, frameSummary(ev.bytes));
      this.seen = { drop: false, heldFrag: false, heldArp: false, answered: false, conn: false, arp: false };
      return;
    }
    // an event outside any frame or timer step (a control change, a test driving the director): a timer record
    const r = this.open ?? (this.open = blank('timer', null, '', null, 'timer'));
    const s = this.seen;
    switch (ev.kind) {
      case 'conn':
        if (r.conn === null) {
          r.service = ev.service;
          r.conn = ev.isNew ? 'new' : 'existing';
          r.client = hostPort(ev.conn.client, ev.conn.cport);
          r.real_server = ev.dest;
          r.scheduler = ev.scheduler;
          r.sched_reason = ev.reason ?? null;
          r.mode = ev.mode;
        } else r.notes.push(`also conn ${ev.conn.client}:${ev.conn.cport} -> ${ev.dest}`);
        r.state = ev.state ?? null;
        s.conn = true;
        break;
      case 'reply':
        if (r.conn === null) {
          r.service = connService(ev.conn);
          r.conn = 'reply';
          r.client = hostPort(ev.conn.client, ev.conn.cport);
          r.real_server = hostPort(ev.conn.dest, ev.conn.dport);
          r.mode = 'NAT';
        }
        r.state = ev.state ?? null;
        s.conn = true;
        break;
      case 'icmp-for-conn':
        if (r.conn === null) {
          r.service = connService(ev.conn);
          r.conn = 'icmp-error';
          r.client = hostPort(ev.conn.client, ev.conn.cport);
          r.real_server = hostPort(ev.conn.dest, ev.conn.dport);
        }
        r.notes.push(`icmp error from the ${ev.side} side`);
        s.conn = true;
        break;
      case 'routed':
        r.notes.push('routed: no service, no connection');
        s.conn = true;
        break;
      case 'arp-learned':
        r.notes.push(`arp learned ${ev.addr} is-at ${ev.mac}`);
        s.arp = true;
        break;
      case 'arp-answered':
        r.notes.push(`arp answered for ${ev.addr} (${ev.owner})`);
        s.answered = true;
        break;
      case 'arp-ignored':
        r.notes.push('arp not for us');
        s.arp = true;
        break;
      case 'nd-learned':
        r.notes.push(`nd learned ${ev.addr} is-at ${ev.mac}`);
        s.arp = true;
        break;
      case 'nd-answered':
        r.notes.push(`nd answered for ${ev.addr} (${ev.owner})`);
        s.answered = true;
        break;
      case 'nd-ignored':
        r.notes.push('nd not for us');
        s.arp = true;
        break;
      case 'neighbour-wait':
        r.notes.push(`held: resolving ${ev.addr} on ${ev.port}`);
        s.heldArp = true;
        break;
      case 'echo-reply':
        r.notes.push(`echo reply from ${ev.vip ? 'VIP' : 'director'} ${ev.from}`);
        s.answered = true;
        break;
      case 'icmp-sent':
        r.notes.push(`${ev.v6 ? 'icmpv6' : 'icmp'} type ${ev.type} code ${ev.code} sent to ${ev.to}`);
        break;
      case 'fragment-held':
        r.notes.push('fragment held until its first fragment arrives');
        s.heldFrag = true;
        break;
      case 'fragment-released':
        r.notes.push('held fragment released');
        break;
      case 'frame-out':
        r.sent.push({ port: ev.port, summary: frameSummary(ev.bytes) });
        break;
      case 'drop':
        if (!s.drop) r.reason = ev.reason;
        else r.notes.push(`also dropped: ${ev.reason}`);
        s.drop = true;
        break;
    }
  }
}

/** Several trace sinks as one (text trace and decision log together). */
export function teeSinks(...sinks: (TraceSink | undefined)[]): TraceSink | undefined {
  const list = sinks.filter((s): s is TraceSink => s !== undefined);
  if (list.length <= 1) return list[0];
  return (ev) => {
    for (const s of list) s(ev);
  };
}
