// Compares two captures frame by frame: what a replay sent against what a
// regression case expects. Frames are taken in file order and must match in
// port (interface name) and bytes; timestamps are never compared. Fields
// named by `ignore` (wire/dissect.ts names: "ip.id", "ttl") are left out,
// with the checksums that cover them. Both files are streamed, so a capture
// of millions of frames compares in flat memory; the first difference is
// kept with both frames, decoded field by field.
import { dissectFrame, ignoredFields, maskedCopy, type Dissection, type Field } from '../wire/dissect.js';
import type { CaptureReader } from './capture.js';
import { ADAPTABLE_LINK_TYPES, ADAPTABLE_TEXT } from './link-adapt.js';
import { openCapture } from './pcap-file.js';

export interface FrameRef {
  /** 1-based position in its capture. */
  index: number;
  timeNs: bigint;
  port: string;
  bytes: Uint8Array;
}

/** One field that differs: its value on each side (absent where the frame has no such field). */
export interface FieldDiff {
  name: string;
  expected?: string;
  got?: string;
}

export interface CaptureDifference {
  /** 1-based number of the frame (in both captures: they agree up to here). */
  index: number;
  /** port: sent on another port; bytes: other bytes; missing: the output ended first; extra: the output has more. */
  kind: 'port' | 'bytes' | 'missing' | 'extra';
  expected?: FrameRef;
  got?: FrameRef;
  /** The fields that differ (ignored ones left out), in frame order. */
  fields: FieldDiff[];
  /** Time of the first expected frame: the report gives times relative to it. */
  t0Ns: bigint;
}

export interface CompareResult {
  equal: boolean;
  /** Frames in each capture (up to the first difference when there is one). */
  gotFrames: number;
  expectedFrames: number;
  difference?: CaptureDifference;
}

export interface CompareOptions {
  /** Field masks, as --ignore takes them. */
  ignore?: readonly string[];
}

function portOf(r: CaptureReader): string {
  return r.interfaces[r.ifIndex]?.name ?? `if${r.ifIndex}`;
}

/** Same port: by interface name when both captures name their interfaces, else by interface index. */
function samePort(a: CaptureReader, b: CaptureReader): boolean {
  const na = a.interfaces[a.ifIndex]?.name;
  const nb = b.interfaces[b.ifIndex]?.name;
  return na !== undefined && nb !== undefined ? na === nb : a.ifIndex === b.ifIndex;
}

function refOf(r: CaptureReader, index: number): FrameRef {
  return { index, timeNs: r.timeNs, port: portOf(r), bytes: r.buf.slice(r.off, r.off + r.capLen) };
}

/** Are two frames the same once the ignored fields (and the checksums over them) are left out? */
export function framesEqual(a: Uint8Array, aOff: number, aLen: number, b: Uint8Array, bOff: number, bLen: number, ignore: readonly string[]): boolean {
  if (aLen !== bLen) return false;
  let same = true;
  for (let i = 0; i < aLen; i++) {
    if (a[aOff + i] !== b[bOff + i]) {
      same = false;
      break;
    }
  }
  if (same || ignore.length === 0) return same;
  const da = dissectFrame(a, aOff, aLen);
  const db = dissectFrame(b, bOff, bLen);
  const ma = maskedCopy(a, aOff, aLen, da, ignoredFields(da, ignore));
  const mb = maskedCopy(b, bOff, bLen, db, ignoredFields(db, ignore));
  return Buffer.compare(ma, mb) === 0;
}

function fieldBits(bytes: Uint8Array, f: Field): string {
  let s = '';
  for (let k = 0; k < f.size; k++) {
    let v = bytes[f.off + k]!;
    if (f.bits !== undefined) v &= (f.bits >>> (8 * (f.size - 1 - k))) & 0xff;
    s += v.toString(16).padStart(2, '0');
  }
  return s;
}

/** Fields keyed by name, a repeated name numbered ("ip.src", "ip.src#2"). */
function keyed(d: Dissection): Map<string, Field> {
  const m = new Map<string, Field>();
  for (const f of d.fields) {
    let k = f.name;
    for (let n = 2; m.has(k); n++) k = `${f.name}#${n}`;
    m.set(k, f);
  }
  return m;
}

/** The fields that differ between two frames, in the expected frame's order (fields only one side has, too). */
export function diffFields(expected: Uint8Array, got: Uint8Array, ignore: readonly string[] = []): FieldDiff[] {
  const de = dissectFrame(expected);
  const dg = dissectFrame(got);
  const ie = ignoredFields(de, ignore);
  const ig = ignoredFields(dg, ignore);
  const skipE = new Set([...ie].map((i) => de.fields[i]!));
  const skipG = new Set([...ig].map((i) => dg.fields[i]!));
  const ke = keyed(de);
  const kg = keyed(dg);
  const out: FieldDiff[] = [];
  for (const [k, fe] of ke) {
    const fg = kg.get(k);
    if (skipE.has(fe) || (fg && skipG.has(fg))) continue;
    if (!fg) out.push({ name: k, expected: fe.text });
    else if (fe.size !== fg.size || fieldBits(expected, fe) !== fieldBits(got, fg) || fe.text !== fg.text) {
      out.push({ name: k, expected: fe.text, got: fg.text });
    }
  }
  for (const [k, fg] of kg) if (!ke.has(k) && !skipG.has(fg)) out.push({ name: k, got: fg.text });
  return out;
}

/**
 * Compares the capture `gotPath` with `expectedPath`, frame by frame, up to
 * the first difference. Throws (a CaptureError) on a file that cannot be read.
 */
export function compareCaptures(gotPath: string, expectedPath: string, opts: CompareOptions = {}): CompareResult {
  const ignore = opts.ignore ?? [];
  const ro = { linkTypes: ADAPTABLE_LINK_TYPES, supported: ADAPTABLE_TEXT };
  const exp = openCapture(expectedPath, ro);
  let got: CaptureReader | undefined;
  try {
    got = openCapture(gotPath, ro);
    let n = 0;
    let t0Ns = -1n;
    for (;;) {
      const he = exp.next();
      const hg = got.next();
      if (he) {
        n++;
        if (t0Ns < 0n) t0Ns = exp.timeNs;
      } else if (hg) n++;
      if (!he && !hg) return { equal: true, gotFrames: n, expectedFrames: n };
      if (t0Ns < 0n) t0Ns = got.timeNs;
      if (!hg) {
        return { equal: false, gotFrames: n - 1, expectedFrames: n, difference: { index: n, kind: 'missing', expected: refOf(exp, n), fields: [], t0Ns } };
      }
      if (!he) {
        return { equal: false, gotFrames: n, expectedFrames: n - 1, difference: { index: n, kind: 'extra', got: refOf(got, n), fields: [], t0Ns } };
      }
      const portDiffers = !samePort(exp, got);
      if (!portDiffers && framesEqual(exp.buf, exp.off, exp.capLen, got.buf, got.off, got.capLen, ignore)) continue;
      const e = refOf(exp, n);
      const g = refOf(got, n);
      const fields = diffFields(e.bytes, g.bytes, ignore);
      if (portDiffers) fields.unshift({ name: 'port', expected: e.port, got: g.port });
      return { equal: false, gotFrames: n, expectedFrames: n, difference: { index: n, kind: portDiffers ? 'port' : 'bytes', expected: e, got: g, fields, t0Ns } };
    }
  } finally {
    exp.close();
    got?.close();
  }
}

/** "1700000000.021000000" */
export function formatTimeNs(ns: bigint): string {
  const s = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0');
  return `${s}.${frac}`;
}

/** "+0.021000" seconds after t0 (microseconds shown). */
export function relTime(ns: bigint, t0Ns: bigint): string {
  const d = ns - t0Ns;
  const sign = d < 0n ? '-' : '+';
  const a = d < 0n ? -d : d;
  return `${sign}${a / 1_000_000_000n}.${((a % 1_000_000_000n) / 1000n).toString().padStart(6, '0')}`;
}

function frameFields(bytes: Uint8Array): { layer: string; name: string; text: string }[] {
  const d = dissectFrame(bytes);
  const seen = new Map<string, number>();
  return d.fields.map((f) => {
    const c = (seen.get(f.name) ?? 0) + 1;
    seen.set(f.name, c);
    return { layer: d.layers[f.layer]!.label, name: c > 1 ? `${f.name}#${c}` : f.name, text: f.text };
  });
}

/**
 * The difference as text: where (frame number, time, port), what (the
 * fields), and both frames decoded layer by layer with the differing fields
 * marked "*". `oneLine` of the result is a short form for a test runner's line.
 */
export function formatDifference(d: CaptureDifference, describe: (bytes: Uint8Array) => string): { oneLine: string; text: string } {
  const ref = d.expected ?? d.got!;
  const where = `frame ${d.index} (time ${relTime(ref.timeNs, d.t0Ns)} s, port ${ref.port})`;
  const lines: string[] = [];
  let oneLine: string;
  if (d.kind === 'missing') {
    oneLine = `${where}: expected a frame, the director sent no more`;
    lines.push(oneLine, `  expected: ${describe(d.expected!.bytes)}`);
    return { oneLine, text: lines.join('\n') };
  }
  if (d.kind === 'extra') {
    oneLine = `${where}: the director sent a frame more than expected`;
    lines.push(oneLine, `  got:      ${describe(d.got!.bytes)}`);
    return { oneLine, text: lines.join('\n') };
  }
  const named = d.fields.slice(0, 3).map((f) => `${f.name} expected ${f.expected ?? '(none)'} got ${f.got ?? '(none)'}`).join('; ');
  oneLine = `${where}: ${named}${d.fields.length > 3 ? `; and ${d.fields.length - 3} more fields` : ''}`;
  lines.push(`${where}: ${d.fields.length} field${d.fields.length === 1 ? ' differs' : 's differ'}`);
  lines.push(`  expected (port ${d.expected!.port}): ${describe(d.expected!.bytes)}`);
  lines.push(`  got      (port ${d.got!.port}): ${describe(d.got!.bytes)}`);
  const differing = new Set(d.fields.map((f) => f.name));
  const fe = frameFields(d.expected!.bytes);
  const fg = new Map(frameFields(d.got!.bytes).map((f) => [f.name, f]));
  const rows: [string, string, string, string, string][] = [];
  for (const f of fe) {
    const g = fg.get(f.name);
    fg.delete(f.name);
    rows.push([differing.has(f.name) ? '*' : ' ', f.layer, f.name, f.text, g ? g.text : '(none)']);
  }
  for (const g of fg.values()) rows.push([differing.has(g.name) ? '*' : ' ', g.layer, g.name, '(none)', g.text]);
  const w = [1, 5, 5, 8].map((min, i) => Math.max(min, ...rows.map((r) => r[i]!.length)));
  lines.push(`  ${' '.padEnd(w[0]!)} ${'layer'.padEnd(w[1]!)} ${'field'.padEnd(w[2]!)} ${'expected'.padEnd(w[3]!)} got`);
  for (const r of rows) lines.push(`  ${r[0].padEnd(w[0]!)} ${r[1].padEnd(w[1]!)} ${r[2].padEnd(w[2]!)} ${r[3].padEnd(w[3]!)} ${r[4]}`.trimEnd());
  return { oneLine, text: lines.join('\n') };
}
