// Capture files, mutated: pcap and pcapng from the repository's fixtures and
// written here from fuzz frames, with bytes, 32-bit fields (lengths, link
// types, magic numbers) and sizes damaged. Each is read twice: whole in
// memory, and from a file through a small window (the streaming reader
// `tapvs replay` uses). Rules: a bad file is a CaptureError, never another
// exception; and both readings agree, frame for frame or error for error.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CaptureError, LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, PcapWriter, PcapngWriter, captureReaderOf, openCapture, type CaptureReader } from '../io/pcap-file.js';
import type { InputFinding } from './config.js';
import { FramePool } from './frames.js';
import type { Rng } from './rng.js';
import { target } from './topologies.js';

export interface CaptureFuzzReport {
  seed: number;
  captures: number;
  ms: number;
  /** Files read to their end, and files refused with a CaptureError. */
  read: number;
  refused: number;
  frames: number;
  exceptions: number;
  broken: Record<string, number>;
  findings: InputFinding[];
  slowest: { ms: number; index: number; bytes: number };
}

const MAX_FINDINGS = 8;
const LINK_TYPES = [LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2];
const WORDS32 = [0, 1, 4, 12, 28, 0x7fffffff, 0xffffffff, 0x80000000, 0x0a0d0d0a, 0x1a2b3c4d, 0x4d3c2b1a, 0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 65535, 262144, 1 << 26, 1 << 27];

function corpus(rng: Rng): Uint8Array[] {
  const files: Uint8Array[] = [];
  for (const d of ['../../fixtures/pcap-io/', '../../fixtures/pcap/']) {
    try {
      const dir = new URL(d, import.meta.url);
      for (const f of readdirSync(dir)) {
        if (!/\.(pcap|pcapng)$/.test(f)) continue;
        const b = readFileSync(new URL(f, dir));
        if (b.length <= 256 << 10) files.push(new Uint8Array(b));
      }
    } catch {
      // not in a checkout
    }
  }
  // and captures of fuzz frames in both formats, one or two interfaces
  const pool = new FramePool(rng, target('nat'), 256);
  for (let k = 0; k < 8; k++) {
    const n = rng.range(1, 40);
    const classic = new PcapWriter();
    const ng = new PcapngWriter(k % 2 ? ['eth0', 'eth1'] : ['dir-out']);
    for (let i = 0; i < n; i++) {
      const f = pool.next().frame;
      const at = 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n;
      classic.add(at, f);
      ng.add(i % (k % 2 ? 2 : 1), at, f);
    }
    files.push(classic.toBytes(), ng.toBytes());
  }
  return files;
}

function mutateFile(rng: Rng, f: Uint8Array): Uint8Array {
  let b = f.slice();
  for (let n = rng.range(1, 4); n > 0; n--) {
    const r = rng.int(8);
    if (b.length === 0) break;
    if (r < 3) { // a 32-bit field: header words, block and captured lengths sit at multiples of 4
      const i = (rng.int(b.length) & ~3) % Math.max(4, b.length - 3);
      if (i + 4 > b.length) continue;
      const v = rng.chance(0.6) ? rng.pick(WORDS32) : rng.u32();
      const le = rng.chance(0.5);
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      dv.setUint32(i, v >>> 0, le);
    } else if (r < 5) {
      b[rng.int(b.length)]! ^= 1 << rng.int(8);
    } else if (r === 5) {
      b = b.slice(0, rng.int(b.length + 1));
    } else if (r === 6) { // a stretch repeated
      const i = rng.int(b.length);
      const j = Math.min(b.length, i + rng.range(4, 256));
      const c = new Uint8Array(b.length + (j - i));
      c.set(b.subarray(0, j));
      c.set(b.subarray(i), j);
      b = c;
    } else {
      const i = rng.int(b.length);
      for (let j = i; j < Math.min(b.length, i + rng.range(1, 32)); j++) b[j] = rng.int(256);
    }
  }
  return b;
}

/** What reading gives: the frames' digest and count, or the error. */
function readAll(open: () => CaptureReader): { frames: number; digest: string } | { error: unknown } {
  let reader: CaptureReader | undefined;
  try {
    reader = open();
    const h = createHash('sha1');
    let frames = 0;
    while (reader.next()) {
      frames++;
      h.update(reader.buf.subarray(reader.off, reader.off + reader.capLen));
      h.update(`${reader.ifIndex} ${reader.timeNs} ${reader.origLen};`);
    }
    return { frames, digest: h.digest('hex') };
  } catch (e) {
    return { error: e };
  } finally {
    try {
      reader?.close();
    } catch {
      // a reader that failed to open is closed already
    }
  }
}

export function fuzzCaptures(rng: Rng, seed: number, count: number): CaptureFuzzReport {
  const files = corpus(rng);
  const dir = mkdtempSync(join(tmpdir(), 'tapvs-fuzzcap-'));
  const path = join(dir, 'f.cap');
  const broken: Record<string, number> = {};
  const findings: InputFinding[] = [];
  let exceptions = 0;
  let read = 0;
  let refused = 0;
  let frames = 0;
  let slowest = { ms: 0, index: -1, bytes: 0 };
  const note = (index: number, what: string, bytes: Uint8Array, key = what) => {
    broken[key] = (broken[key] ?? 0) + 1;
    if (findings.length < MAX_FINDINGS) findings.push({ index, what, input: Buffer.from(bytes.subarray(0, 512)).toString('hex') });
  };
  const t0 = performance.now();
  try {
    for (let i = 0; i < count; i++) {
      const bytes = rng.chance(0.9) ? mutateFile(rng, rng.pick(files)) : rng.bytes(rng.int(200));
      const opts = { linkTypes: rng.chance(0.5) ? LINK_TYPES : [LINKTYPE_ETHERNET] };
      const s = performance.now();
      const mem = readAll(() => captureReaderOf(bytes, 'fuzz.cap', opts));
      writeFileSync(path, bytes);
      const file = readAll(() => openCapture(path, { ...opts, bufferBytes: rng.pick([64, 100, 512, 4096, 1 << 20]) }));
      const ms = performance.now() - s;
      if (ms > slowest.ms) slowest = { ms: Math.round(ms * 10) / 10, index: i, bytes: bytes.length };
      for (const [how, r] of [['in memory', mem], ['from a file', file]] as const) {
        if ('error' in r && !(r.error instanceof CaptureError)) {
          exceptions++;
          if (findings.length < MAX_FINDINGS) findings.push({ index: i, what: `reading ${how} threw ${(r.error as Error).stack ?? r.error}`, input: Buffer.from(bytes.subarray(0, 512)).toString('hex') });
        }
      }
      if ('error' in mem && 'error' in file) {
        refused++;
        // both refuse: with the same words (the file name differs)
        const a = String((mem.error as Error).message).replaceAll('fuzz.cap', 'F');
        const b = String((file.error as Error).message).replaceAll(path, 'F');
        if (a !== b && mem.error instanceof CaptureError && file.error instanceof CaptureError) note(i, `the two readings refuse differently: "${a}" / "${b}"`, bytes, 'the two readings refuse differently');
      } else if ('error' in mem || 'error' in file) {
        note(i, `read ${'error' in mem ? 'from a file only' : 'in memory only'}: ${String((('error' in mem ? mem : file) as { error: Error }).error.message)}`, bytes, 'one reading refuses, the other reads');
      } else {
        read++;
        frames += mem.frames;
        if (mem.frames !== file.frames || mem.digest !== file.digest) note(i, 'the two readings give different frames', bytes);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { seed, captures: count, ms: Math.round(performance.now() - t0), read, refused, frames, exceptions, broken, findings, slowest };
}
