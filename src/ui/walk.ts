// A pass as the page shows it: both frames decoded layer by layer, each sent
// frame compared with the received one, and in words where the frame came
// from, where it went and why.
import { decodeFrame, diffFrames, type DecodedFrame, type Direction } from './decode.js';
import type { Decision, Pass, PassKind, Walk } from './hub.js';

export interface PassView {
  id: number;
  time: number;
  kind: PassKind;
  port?: string;
  direction: Direction;
  mode?: string;
  received?: DecodedFrame;
  sent: { port: string; frame: DecodedFrame; releasedBy?: number }[];
  decision?: Decision;
  replyState?: string;
  connKey?: string;
  notes: string[];
  drops: string[];
  held?: boolean;
}

/** One line for lists and the timeline: what arrived, and what became of it. */
export interface PassSummary {
  id: number;
  time: number;
  kind: PassKind;
  port?: string;
  connKey?: string;
  text: string;
  sent: number;
  drops: string[];
}

export function directionOf(p: Pass): Direction {
  if (p.kind === 'request') return 'to-real-server';
  if (p.kind === 'reply') return 'to-client';
  return 'other';
}

/** ARP, or IPv6 neighbour discovery (a solicitation or an advertisement). */
const isArp = (f: DecodedFrame): boolean => {
  const l = f.layers.at(-1);
  if (f.layers[1]?.id === 'arp') return true;
  const type = l?.id === 'icmpv6' ? l.fields.find((x) => x.id === 'type')?.value ?? '' : '';
  return type.endsWith('(135)') || type.endsWith('(136)');
};

/** addr:port, or [addr]:port for an IPv6 address (as ipvsadm writes them). */
export function hostPort(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

export function passView(p: Pass, walk?: Walk): PassView {
  const mode = p.decision?.mode ?? walk?.mode;
  const dir = directionOf(p);
  const received = p.received ? decodeFrame(p.received) : undefined;
  const v: PassView = {
    id: p.id, time: p.time, kind: p.kind, port: p.port, direction: dir, mode, received,
    sent: p.sent.map((s) => {
      const frame = decodeFrame(s.bytes);
      if (received) diffFrames(received, frame, mode ?? '', dir);
      return { port: s.port, frame, releasedBy: s.releasedBy };
    // the forwarded frame first: an ARP request or neighbour solicitation it caused is a side note
    }).sort((a, b) => Number(isArp(a.frame)) - Number(isArp(b.frame))),
    decision: p.decision, replyState: p.replyState, connKey: p.connKey, notes: p.notes, drops: p.drops, held: p.held,
  };
  return v;
}

export function passSummary(p: Pass): PassSummary {
  let text = p.received ? decodeFrame(p.received).summary : 'timer: frames the director sent on its own';
  if (p.kind === 'timer' && p.sent.length > 0) text = `timer: ${decodeFrame(p.sent[0]!.bytes).summary}`;
  return { id: p.id, time: p.time, kind: p.kind, port: p.port, connKey: p.connKey, text, sent: p.sent.length, drops: p.drops };
}

export interface WalkSummary {
  key: string;
  proto: string;
  client: string;
  virtual: string;
  dest: string;
  mode: string;
  service: string;
  scheduler: string;
  reason?: string;
  state?: string;
  first: number;
  last: number;
  frames: number;
}

export function walkSummary(w: Walk): WalkSummary {
  const r = w.ref;
  return {
    key: w.key, proto: r.proto, client: hostPort(r.client, r.cport), virtual: hostPort(r.vip, r.vport), dest: hostPort(r.dest, r.dport),
    mode: w.mode, service: w.service, scheduler: w.scheduler, reason: w.reason, state: w.state, first: w.first, last: w.last, frames: w.count,
  };
}
