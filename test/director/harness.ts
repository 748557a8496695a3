// A director wired to an in-memory output, and a byte-exact frame comparison
// whose failure message shows both sides layer by layer (formatFrame) and in hex.
import { expect } from 'vitest';
import type { DirectorConfig } from '../../src/model/config.js';
import { Director } from '../../src/director/director.js';
import type { DropReason } from '../../src/model/verdict.js';
import { formatFrame } from '../../src/wire/printer.js';
import { textTrace } from '../../src/trace/text.js';
import type { FrameMeta } from '../../src/model/frame.js';

export const HEADROOM = 64;

export interface Frame {
  port: number;
  bytes: Uint8Array;
}

export class Rig {
  readonly d: Director;
  readonly sent: Frame[] = [];
  readonly trace: string[] = [];

  constructor(cfg: DirectorConfig, opts: { trace?: boolean } = {}) {
    this.d = new Director(
      cfg,
      // the director may reuse its buffer after send returns: keep a copy
      { send: (port, buf, off, len) => { this.sent.push({ port, bytes: buf.slice(off, off + len) }); } },
      opts.trace ? { trace: textTrace((l) => { this.trace.push(l); }) } : {},
    );
  }

  /** Runs `frame` in on `port` at `now` (in a fresh buffer with headroom, with `meta` if given) and returns what came out. */
  in(port: number, frame: Uint8Array, now: number, meta?: FrameMeta): Frame[] {
    const buf = new Uint8Array(HEADROOM + frame.length + HEADROOM);
    buf.set(frame, HEADROOM);
    const mark = this.sent.length;
    this.d.process(port, buf, HEADROOM, frame.length, now, meta);
    return this.sent.slice(mark);
  }

  start(now: number): Frame[] {
    const mark = this.sent.length;
    this.d.start(now);
    return this.sent.slice(mark);
  }

  tick(now: number): Frame[] {
    const mark = this.sent.length;
    this.d.tick(now);
    return this.sent.slice(mark);
  }

  drops(): Record<string, number> {
    return this.d.drops.toObject();
  }
}

function hex(b: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < b.length; i += 16) {
    lines.push('    ' + Array.from(b.subarray(i, i + 16), (x) => x.toString(16).padStart(2, '0')).join(' '));
  }
  return lines.join('\n');
}

export function describe1(f: Frame): string {
  return [`port ${f.port}:`, ...formatFrame(f.bytes).map((l) => '  ' + l), hex(f.bytes)].join('\n');
}

/** Asserts the exact frames, in order, on the exact ports. */
export function expectFrames(actual: Frame[], expected: Frame[]): void {
  const a = actual.map(describe1).join('\n\n');
  const e = expected.map(describe1).join('\n\n');
  expect(a).toBe(e);
  // the text holds every byte in hex, but be explicit about the raw bytes too
  expect(actual.map((f) => [f.port, Array.from(f.bytes)])).toEqual(expected.map((f) => [f.port, Array.from(f.bytes)]));
}

/** Asserts that nothing was sent and exactly one drop was counted, under `reason`. */
export function expectDropped(rig: Rig, out: Frame[], reason: DropReason, before: Record<string, number> = {}): void {
  expect(out.map(describe1)).toEqual([]);
  const now = rig.drops();
  const delta: Record<string, number> = {};
  for (const [k, v] of Object.entries(now)) if (v !== (before[k] ?? 0)) delta[k] = v - (before[k] ?? 0);
  expect(delta).toEqual({ [reason]: 1 });
}
