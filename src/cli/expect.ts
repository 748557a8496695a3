// A replay checked against what a regression case expects: the frames the
// director sent against `<case>.expected.pcapng` (capture-diff.ts), and its
// decision log against `<case>.expected.jsonl` when there is one. On a
// difference the report says which frame (number, time, port), which fields
// differ (both frames decoded, the fields marked), and what the director
// decided for the input frame that caused it — found by running the replay
// again with the decision log up to that frame, so a passing replay pays
// nothing for the explanation. `tapvs replay --expect` and `tapvs test`
// both run this.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { compareCaptures, formatDifference, relTime, type CaptureDifference, type CompareResult } from '../io/capture-diff.js';
import type { DirectorConfig } from '../model/config.js';
import { eventTimeNs, type LoadedEvent } from '../control/rule-log.js';
import { DecisionLog, type DecisionRecord } from '../trace/decisions.js';
import { frameSummary, isKnownFieldMask } from '../wire/dissect.js';
import { LineFile } from './line-file.js';
import { replayTo, type ReplayOptions, type ReplayResult } from './replay.js';

/** The events file that goes with a capture: "case.in.pcapng" and "case.pcap" → "case.events". */
export function eventsPathFor(capturePath: string): string {
  const dir = dirname(capturePath);
  const name = basename(capturePath).replace(/\.(pcapng|pcap)$/, '').replace(/\.in$/, '');
  return join(dir, `${name}.events`);
}

/** Parses `--ignore ip.id,ttl`; throws naming a field the dissector does not know. */
export function parseIgnore(spec: string | undefined): string[] {
  if (spec === undefined) return [];
  const masks = spec.split(',').map((m) => m.trim()).filter((m) => m !== '');
  for (const m of masks) {
    if (!isKnownFieldMask(m)) throw new Error(`--ignore ${m}: no such field (fields are named as Wireshark's: eth.src, ip.id, ip.ttl, tcp.seq, udp.checksum, ...; a last part such as "ttl" covers every field so named)`);
  }
  return masks;
}

export interface CheckOptions {
  cfg: DirectorConfig;
  inPath: string;
  expectedPath: string;
  /** Where the output goes (kept); default a temporary file, removed. */
  outPath?: string;
  replay?: Omit<ReplayOptions, 'decisions' | 'events' | 'eventsPath' | 'stop'>;
  events?: readonly LoadedEvent[];
  eventsPath?: string;
  ignore?: readonly string[];
  /** Write the decision log here. */
  decisionsPath?: string;
  /** Compare the decision log with this file (JSON lines). */
  expectedDecisionsPath?: string;
}

export interface DecisionDiff {
  /** 1-based line of the logs. */
  line: number;
  expected?: string;
  got?: string;
  /** Keys whose values differ. */
  keys: { key: string; expected: string; got: string }[];
}

export interface CheckResult {
  /** Frames and (when compared) decisions as expected. */
  ok: boolean;
  replay: ReplayResult;
  compare: CompareResult;
  decisions?: DecisionDiff;
  /** One line for a test runner, and the whole report. */
  oneLine?: string;
  report?: string;
  /** The decision log's lines, when one was made (for --update). */
  decisionLines?: string[];
}

/** Runs the replay and the comparisons. Throws on a usage or file error (the caller's exit status 2). */
export function checkReplay(o: CheckOptions): CheckResult {
  const tmpOut = o.outPath ?? join(tmpdir(), `tapvs-expect-${process.pid}-${Date.now()}.pcapng`);
  const wantLog = o.decisionsPath !== undefined || o.expectedDecisionsPath !== undefined;
  const lines: string[] = [];
  const file = o.decisionsPath !== undefined ? new LineFile(o.decisionsPath) : undefined;
  const log = wantLog ? new DecisionLog((l) => { lines.push(l); file?.line(l); }) : undefined;
  try {
    const replay = replayTo(o.cfg, o.inPath, tmpOut, { ...o.replay, decisions: log, events: o.events, eventsPath: o.eventsPath });
    file?.close();
    const compare = compareCaptures(tmpOut, o.expectedPath, { ignore: o.ignore });
    const result: CheckResult = { ok: compare.equal, replay, compare };
    if (wantLog) result.decisionLines = lines;
    const parts: string[] = [];
    if (compare.difference) {
      const d = formatDifference(compare.difference, (b) => frameSummary(b));
      result.oneLine = d.oneLine;
      parts.push(d.text, explainCause(o, compare.difference));
    }
    if (o.expectedDecisionsPath !== undefined) {
      const dd = diffDecisions(readFileSync(o.expectedDecisionsPath, 'utf8'), lines);
      if (dd) {
        result.ok = false;
        result.decisions = dd;
        const one = formatDecisionDiff(dd);
        result.oneLine ??= one.split('\n')[0];
        parts.push(one);
      }
    }
    if (parts.length > 0) result.report = parts.join('\n');
    return result;
  } finally {
    file?.close();
    if (o.outPath === undefined) rmSync(tmpOut, { force: true });
  }
}

/**
 * The director's decision for the input that made output frame `d.index`
 * (for a frame that is missing: the last input frame stamped at or before
 * the expected frame), from a second run of the replay with the decision log.
 */
function explainCause(o: CheckOptions, d: CaptureDifference): string {
  const records: DecisionRecord[] = [];
  let sent = 0;
  let cause: DecisionRecord | undefined;
  const missingAt = d.kind === 'missing' ? d.expected!.timeNs : null;
  let pastMissing = false;
  const log = new DecisionLog((line) => {
    const r = JSON.parse(line) as DecisionRecord;
    records.push(r);
    if (missingAt !== null) {
      if (r.type === 'frame' && eventTimeNs(r.time) > missingAt) pastMissing = true;
      return;
    }
    if (cause) return;
    sent += r.sent.length;
    if (sent >= d.index) cause = r;
  });
  const spool = join(tmpdir(), `tapvs-cause-${process.pid}-${Date.now()}.pcapng`);
  try {
    replayTo(o.cfg, o.inPath, spool, {
      ...o.replay, decisions: log, events: o.events, eventsPath: o.eventsPath,
      stop: () => {
        log.flush();
        return cause !== undefined || pastMissing;
      },
    });
  } catch (e) {
    return `(the director's decision could not be found: ${(e as Error).message})`;
  } finally {
    rmSync(spool, { force: true });
  }
  if (missingAt !== null) {
    cause = [...records].reverse().find((r) => r.type === 'frame' && eventTimeNs(r.time) <= missingAt);
  }
  if (!cause) return 'no input frame caused it (the director sent it on its own)';
  const text = [formatDecision(cause, d.t0Ns, d.kind === 'missing' ? 'the last input frame before it' : 'caused by')];
  // a frame released by an ARP answer was decided on when it arrived: show that decision too
  const learned = cause.notes.map((n) => /^arp learned (\S+) is-at/.exec(n)?.[1]).filter((a): a is string => a !== undefined);
  if (learned.length > 0 && cause.conn === null) {
    const at = records.indexOf(cause);
    const held: DecisionRecord[] = [];
    for (let i = at - 1; i >= 0; i--) {
      const r = records[i]!;
      if (learned.some((a) => r.notes.some((n) => n.startsWith(`arp learned ${a} `)))) break;
      if (r.verdict === 'held' && learned.some((a) => r.notes.some((n) => n.startsWith(`held: resolving ${a} `)))) held.unshift(r);
    }
    for (const r of held.slice(-3)) text.push(formatDecision(r, d.t0Ns, 'held until then:'));
    if (held.length > 3) text.push(`(and ${held.length - 3} more frames held for the same neighbour)`);
  }
  return text.join('\n');
}

/** A decision record as the report shows it: a line for the frame, one for the decision, its notes and the frames sent. */
export function formatDecision(r: DecisionRecord, t0Ns: bigint, label: string): string {
  const when = `time ${relTime(eventTimeNs(r.time), t0Ns)} s`;
  const head = r.type === 'frame'
    ? `${label} input frame ${r.frame} (${when}, port ${r.port}): ${r.summary}`
    : `${label} ${r.type === 'control' ? 'a control event' : `the director's own ${r.summary === 'start' ? 'start' : 'timer'}`} (${when})${r.type === 'control' ? `: ${r.summary}` : ''}`;
  const lines = [head];
  const d: string[] = [];
  if (r.verdict) d.push(`verdict ${r.verdict}${r.reason ? ` (${r.reason})` : ''}`);
  if (r.service) d.push(`service ${r.service}`);
  if (r.conn) d.push(`${r.conn} conn ${r.client ?? '?'} -> ${r.real_server ?? '?'}`);
  if (r.sched_reason) d.push(`why: ${r.sched_reason}`);
  if (r.mode) d.push(`mode ${r.mode}`);
  if (r.state) d.push(`state ${r.state}`);
  if (d.length > 0) lines.push(`  decision: ${d.join('; ')}`);
  for (const n of r.notes) lines.push(`  ${n}`);
  for (const s of r.sent) lines.push(`  sent on ${s.port}: ${s.summary}`);
  return lines.join('\n');
}

/** The first line where two decision logs differ, and which keys; null when they are the same. */
export function diffDecisions(expectedText: string, got: readonly string[]): DecisionDiff | null {
  const exp = expectedText.split('\n').filter((l) => l.trim() !== '');
  const n = Math.max(exp.length, got.length);
  for (let i = 0; i < n; i++) {
    const e = exp[i];
    const g = got[i];
    if (e !== undefined && g !== undefined && sameJson(e, g)) continue;
    const diff: DecisionDiff = { line: i + 1, keys: [] };
    if (e !== undefined) diff.expected = e;
    if (g !== undefined) diff.got = g;
    if (e !== undefined && g !== undefined) {
      let eo: Record<string, unknown> = {};
      let go: Record<string, unknown> = {};
      try {
        eo = JSON.parse(e) as Record<string, unknown>;
        go = JSON.parse(g) as Record<string, unknown>;
      } catch { /* an expected line that is not JSON differs as a whole */ }
      for (const k of new Set([...Object.keys(eo), ...Object.keys(go)])) {
        const a = JSON.stringify(eo[k]);
        const b = JSON.stringify(go[k]);
        if (a !== b) diff.keys.push({ key: k, expected: a ?? '(none)', got: b ?? '(none)' });
      }
    }
    return diff;
  }
  return null;
}

function sameJson(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return false;
  }
}

export function formatDecisionDiff(d: DecisionDiff): string {
  let frame = '';
  try {
    const r = JSON.parse(d.got ?? d.expected ?? '{}') as DecisionRecord;
    frame = r.type === 'frame' ? ` (input frame ${r.frame})` : ` (${r.type} record)`;
  } catch { /* no frame number to give */ }
  if (d.expected === undefined) return `decision log line ${d.line}${frame}: not expected: ${d.got}`;
  if (d.got === undefined) return `decision log line ${d.line}${frame}: missing, expected ${d.expected}`;
  if (d.keys.length === 0) return `decision log line ${d.line}${frame}: expected ${d.expected}, got ${d.got}`;
  const keys = d.keys.map((k) => `${k.key} expected ${k.expected} got ${k.got}`).join('; ');
  return `decision log line ${d.line}${frame}: ${keys}`;
}

/** The events beside a capture, if any: `--events FILE` wins; `--no-events` none; else `<case>.events` when it exists. */
export function sidecarEvents(inPath: string, explicit: string | undefined, none: boolean): string | undefined {
  if (none) return undefined;
  if (explicit !== undefined) return explicit;
  const p = eventsPathFor(inPath);
  return existsSync(p) ? p : undefined;
}
