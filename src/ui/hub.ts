// The browser view's trace consumer: it turns the director's trace events
// into "passes" (one received frame and everything the director did about
// it: the decision, the frames it sent, the notes, the drops) and files each
// pass under the connection it belongs to, so that a page can walk one
// connection frame by frame. Memory is bounded however long it runs: a
// connection keeps its first passes and its latest few, and old connections
// are forgotten first. Nothing here touches the director's state: it only
// reads the events it is given.
import type { ConnRef, TraceEvent, TraceSink } from '../trace/events.js';
import { endpointsOf, type Endpoints } from './decode.js';

export interface Decision {
  isNew: boolean;
  service: string;
  scheduler: string;
  dest: string;
  mode: string;
  /** The scheduler's reasoning (new connections only). */
  reason?: string;
  state?: string;
}

export interface SentFrame {
  port: string;
  bytes: Uint8Array;
  /** The pass (an ARP reply) that released this frame after it waited for its next hop. */
  releasedBy?: number;
}

/** `nd`: IPv6 neighbour discovery (solicitations and advertisements), as `arp` is for IPv4. */
export type PassKind = 'request' | 'reply' | 'icmp' | 'arp' | 'nd' | 'timer' | 'other';

export interface Pass {
  id: number;
  /** The director's clock when the frame arrived (ms); for timer passes, the last clock seen. */
  time: number;
  kind: PassKind;
  /** Receiving port (absent for timer passes: gratuitous ARP at start, ARP retries). */
  port?: string;
  received?: Uint8Array;
  sent: SentFrame[];
  decision?: Decision;
  /** State after a NAT reply. */
  replyState?: string;
  connKey?: string;
  /** Shared empty arrays until something is added (most passes have neither). */
  notes: string[];
  drops: string[];
  /** The frame waits for its next hop's MAC: sent later by pass `releasedBy` of its SentFrame. */
  held?: boolean;
}

export interface Walk {
  key: string;
  ref: ConnRef;
  mode: string;
  service: string;
  scheduler: string;
  reason?: string;
  state?: string;
  first: number;
  last: number;
  /** Every pass seen for this connection (kept or not). */
  count: number;
  /** The first passes, kept for good. */
  head: number[];
  /** The latest passes after the head filled (a ring, oldest first once read through tailIds()). */
  tail: number[];
  /** Held passes waiting for their frame to be sent, with the way the frame goes. */
  waiting: { pass: number; toClient: boolean }[];
  /** The hub's event count when this walk was last moved to the recent end (see track). */
  seq: number;
}

export interface HubOptions {
  /** Passes kept at the start of each connection. */
  headPasses?: number;
  /** Latest passes kept per connection once the head is full. */
  tailPasses?: number;
  /** Connections remembered (least recently active forgotten first). */
  maxConns?: number;
  /** Passes of no connection (ARP, gratuitous ARP, drops) kept, latest first. */
  otherPasses?: number;
  /**
   * Replay: keep every pass, in order, up to this many, and call `snapshot`
   * after each (the tables as they are once the pass is done).
   */
  timeline?: number;
  snapshot?: (pass: Pass) => unknown;
}

export function connKey(c: ConnRef): string {
  return `${c.proto} ${c.client}:${c.cport} ${c.vip}:${c.vport} ${c.dest}:${c.dport}`;
}

const NONE: string[] = [];

function note(p: Pass, text: string): void {
  if (p.notes === NONE) p.notes = [];
  p.notes.push(text);
}

function endpointKey(proto: string, a: string, ap: number, b: string, bp: number): string {
  return `${proto}|${a}:${ap}|${b}:${bp}`;
}

export class UiHub {
  /** Give this to the director (DirectorOptions.trace): every event goes through it. */
  readonly sink: TraceSink = (ev) => this.onEvent(ev);
  readonly passes = new Map<number, Pass>();
  readonly walks = new Map<string, Walk>();
  /** Client-side endpoints (both ways a frame of the conn can look) to connection keys. */
  private readonly byEndpoints = new Map<string, string>();
  private readonly other: number[] = [];
  /** Replay: every pass id in order, and what `snapshot` returned after each. */
  readonly timeline: number[] = [];
  readonly snapshots: unknown[] = [];
  /** Passes not put on the timeline because it was full. */
  timelineDropped = 0;
  /** Grows whenever a pass is filed: the server pushes an update when it moved. */
  version = 0;
  private cur: Pass | null = null;
  private nextId = 1;
  private seq = 0;
  /** Passes of connections the hub does not follow (forgotten, or opened before it): not kept. */
  untracked = 0;
  private clock = 0;
  private flushQueued = false;
  private readonly head: number;
  private readonly tailMax: number;
  private readonly maxConns: number;
  private readonly otherMax: number;

  constructor(private readonly opts: HubOptions = {}) {
    this.head = opts.headPasses ?? 32;
    this.tailMax = opts.tailPasses ?? 8;
    this.maxConns = opts.maxConns ?? 200;
    this.otherMax = opts.otherPasses ?? 300;
  }

  /**
   * The clock moved without a frame (a replay's timer step): what follows
   * belongs to no received frame. Live, passes are closed on the microtask
   * after their frame, which does the same.
   */
  timer(now: number): void {
    // frames sent before the first clock reading (the start's gratuitous ARP) belong to that moment
    if (this.cur !== null && this.cur.kind === 'timer' && this.cur.received === undefined && this.clock === 0) this.cur.time = now;
    this.finish();
    this.clock = now;
  }

  /** Closes the open pass (the end of a replay, or before a page reads). */
  finish(): void {
    const p = this.cur;
    if (p === null) return;
    this.cur = null;
    this.file(p);
  }

  private open(kind: PassKind): Pass {
    const p: Pass = { id: this.nextId++, time: this.clock, kind, sent: [], notes: NONE, drops: NONE };
    this.cur = p;
    if (!this.flushQueued && this.opts.timeline === undefined) {
      // a live director handles each frame synchronously: once the microtask
      // queue runs, the frame is done and later events (timers) are not its own
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        this.finish();
      });
    }
    return p;
  }

  private onEvent(ev: TraceEvent): void {
    if (ev.kind === 'frame-in') {
      this.finish();
      this.clock = ev.time;
      const p = this.open('other');
      p.port = ev.port;
      p.received = ev.bytes;
      return;
    }
    const p = this.cur ?? this.open('timer');
    switch (ev.kind) {
      case 'conn':
        p.kind = 'request';
        p.decision = {
          isNew: ev.isNew, service: ev.service, scheduler: ev.scheduler, dest: ev.dest, mode: ev.mode, reason: ev.reason, state: ev.state,
        };
        p.connKey = this.track(ev.conn, p.decision);
        break;
      case 'reply':
        p.kind = 'reply';
        p.replyState = ev.state;
        p.connKey = this.track(ev.conn);
        break;
      case 'icmp-for-conn':
        p.kind = 'icmp';
        p.connKey = this.track(ev.conn);
        note(p, `an ICMP error from the ${ev.side === 'client' ? 'client' : 'real server'} side about this connection: its quoted header is translated too`);
        break;
      case 'frame-out':
        p.sent.push({ port: ev.port, bytes: ev.bytes });
        break;
      case 'drop':
        if (p.drops === NONE) p.drops = [];
        p.drops.push(ev.reason);
        break;
      case 'neighbour-wait':
        p.held = true;
        note(p, ev.nd
          ? `next hop ${ev.addr} on ${ev.port} has no known MAC yet: the frame waits while the director asks for it (neighbour solicitation)`
          : `next hop ${ev.addr} on ${ev.port} has no known MAC yet: the frame waits while the director asks for it (ARP)`);
        break;
      case 'arp-learned':
        if (p.kind === 'other') p.kind = 'arp';
        note(p, `ARP: learned ${ev.addr} is at ${ev.mac}`);
        break;
      case 'arp-answered':
        if (p.kind === 'other') p.kind = 'arp';
        note(p, `ARP: answered for ${ev.addr} (${ev.owner}) with the director's MAC`);
        break;
      case 'arp-ignored':
        if (p.kind === 'other') p.kind = 'arp';
        note(p, 'ARP: not for an address of the director');
        break;
      case 'nd-learned':
        if (p.kind === 'other') p.kind = 'nd';
        note(p, `neighbour discovery: learned ${ev.addr} is at ${ev.mac}`);
        break;
      case 'nd-answered':
        if (p.kind === 'other') p.kind = 'nd';
        note(p, `neighbour discovery: solicitation for ${ev.addr} (${ev.owner}) answered with an advertisement of the director's MAC`);
        break;
      case 'nd-ignored':
        if (p.kind === 'other') p.kind = 'nd';
        note(p, 'neighbour discovery: not for an address of the director on this port');
        break;
      case 'routed':
        note(p, 'no service and no connection: routed like any router would');
        break;
      case 'echo-reply':
        note(p, `ICMP echo answered from ${ev.vip ? 'the VIP' : 'the director'} ${ev.from}`);
        break;
      case 'icmp-sent':
        note(p, `${ev.v6 ? 'ICMPv6' : 'ICMP'} type ${ev.type} code ${ev.code} sent to ${ev.to}`);
        break;
      case 'fragment-held':
        note(p, 'a later fragment came before its first: held until the first fragment decides where it goes');
        break;
      case 'fragment-released':
        note(p, 'a held fragment follows its first fragment now');
        break;
    }
  }

  /**
   * The walk of a connection: made by its first packet (a new connection),
   * refreshed by every later one. A connection the hub has no walk for and
   * that is not new (forgotten among many, or older than the hub) is not
   * followed: undefined. That keeps a flood of many connections from making
   * and forgetting a walk per packet.
   */
  private track(ref: ConnRef, d?: Decision): string | undefined {
    const key = connKey(ref);
    let w = this.walks.get(key);
    const seq = ++this.seq;
    if (w === undefined) {
      if (!d?.isNew) return undefined;
      w = {
        key, ref, mode: d.mode, service: d.service, scheduler: d.scheduler, first: this.clock, last: this.clock,
        count: 0, head: [], tail: [], waiting: [], seq,
      };
      this.walks.set(key, w);
      this.byEndpoints.set(endpointKey(ref.proto, ref.client, ref.cport, ref.vip, ref.vport), key);
      this.byEndpoints.set(endpointKey(ref.proto, ref.client, ref.cport, ref.dest, ref.dport), key);
      if (this.walks.size > this.maxConns) this.forgetOldest();
    } else if (seq - w.seq > this.maxConns >> 2) {
      // most recently active last (Map order is the forgetting order); a walk
      // already among the recent ones stays put, which saves the re-insertion
      w.seq = seq;
      this.walks.delete(key);
      this.walks.set(key, w);
    }
    if (d) {
      if (d.isNew) {
        w.mode = d.mode;
        w.service = d.service;
        w.scheduler = d.scheduler;
      }
      if (d.reason !== undefined) w.reason = d.reason;
      if (d.state !== undefined) w.state = d.state;
    }
    w.last = this.clock;
    return key;
  }

  private forgetOldest(): void {
    const [key, w] = this.walks.entries().next().value as [string, Walk];
    this.walks.delete(key);
    for (const id of [...w.head, ...w.tail]) if (!this.onTimeline(id)) this.passes.delete(id);
    const r = w.ref;
    for (const k of [endpointKey(r.proto, r.client, r.cport, r.vip, r.vport), endpointKey(r.proto, r.client, r.cport, r.dest, r.dport)]) {
      if (this.byEndpoints.get(k) === key) this.byEndpoints.delete(k);
    }
  }

  /** The connection a frame belongs to, from its endpoints (either way round). */
  private walkOfFrame(e: Endpoints): Walk | undefined {
    const k = this.byEndpoints.get(endpointKey(e.proto, e.src, e.sport, e.dst, e.dport))
      ?? this.byEndpoints.get(endpointKey(e.proto, e.dst, e.dport, e.src, e.sport));
    return k === undefined ? undefined : this.walks.get(k);
  }

  private file(p: Pass): void {
    this.version++;
    // a frame held for its next hop goes out in a later pass (the ARP reply's):
    // give it back to the pass that received it, so the walk shows it there
    if (p.connKey === undefined && p.sent.length > 0) {
      const stay: SentFrame[] = [];
      for (const s of p.sent) {
        const e = endpointsOf(s.bytes);
        const w = e ? this.walkOfFrame(e) : undefined;
        const toClient = e !== null && w !== undefined && e.dst === w.ref.client && e.dport === w.ref.cport;
        const i = w ? w.waiting.findIndex((x) => x.toClient === toClient) : -1;
        const held = i >= 0 ? this.passes.get(w!.waiting[i]!.pass) : undefined;
        if (held) {
          w!.waiting.splice(i, 1);
          held.sent.push({ ...s, releasedBy: p.id });
          note(p, `sent the frame of connection ${w!.key} that waited for this answer (pass ${held.id})`);
        } else {
          stay.push(s);
        }
      }
      p.sent = stay;
    }
    const timeline = this.opts.timeline;
    const onTimeline = timeline !== undefined && this.timeline.length < timeline;
    if (timeline !== undefined && !onTimeline) this.timelineDropped++;
    const w = p.connKey !== undefined ? this.walks.get(p.connKey) : undefined;
    let kept = onTimeline;
    if (!w && (p.kind === 'request' || p.kind === 'reply' || p.kind === 'icmp')) {
      // a packet of a connection the hub does not follow
      this.untracked++;
    } else if (w) {
      w.count++;
      if (p.held) w.waiting.push({ pass: p.id, toClient: p.kind === 'reply' });
      if (w.head.length < this.head) {
        w.head.push(p.id);
        kept = true;
      } else {
        w.tail.push(p.id);
        kept = true;
        if (w.tail.length > this.tailMax) {
          const gone = w.tail.shift()!;
          if (!this.onTimeline(gone)) this.passes.delete(gone);
          if (w.waiting.length > 0) w.waiting = w.waiting.filter((x) => x.pass !== gone);
        }
      }
    } else {
      this.other.push(p.id);
      kept = true;
      if (this.other.length > this.otherMax) {
        const gone = this.other.shift()!;
        if (!this.onTimeline(gone)) this.passes.delete(gone);
      }
    }
    if (kept) this.passes.set(p.id, p);
    if (onTimeline) {
      this.timeline.push(p.id);
      this.snapshots.push(this.opts.snapshot?.(p));
    }
  }

  private onTimeline(id: number): boolean {
    // timeline ids ascend: a binary search is enough
    const t = this.timeline;
    let lo = 0;
    let hi = t.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (t[mid] === id) return true;
      if (t[mid]! < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  /** The passes of a connection still kept, in order, and how many were not kept between head and tail. */
  walkPasses(key: string): { passes: Pass[]; skipped: number } | undefined {
    this.finish();
    const w = this.walks.get(key);
    if (!w) return undefined;
    const ids = [...w.head, ...w.tail];
    const passes = ids.map((id) => this.passes.get(id)).filter((p): p is Pass => p !== undefined);
    return { passes, skipped: w.count - w.head.length - w.tail.length };
  }

  /** Recent passes that belong to no connection (ARP, announcements, drops), oldest first. */
  otherPassList(): Pass[] {
    this.finish();
    return this.other.map((id) => this.passes.get(id)).filter((p): p is Pass => p !== undefined);
  }
}
