// The streaming reader (a fixed window over the file, refilled as it goes)
// must read every fixture exactly as the whole-file parser does, whatever the
// window's size, and refuse a cut or corrupt file with the same error.
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FileSource, MAX_RECORD_BYTES } from '../../src/io/capture-source.js';
import {
  CaptureError,
  type CaptureReader,
  PcapngWriter,
  PcapWriter,
  openCapture,
  parseCapture,
} from '../../src/io/pcap-file.js';

const FIX = join(import.meta.dirname, '../../fixtures/pcap-io');
const tmp = mkdtempSync(join(tmpdir(), 'tapvs-capture-reader-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Every frame of a reader as comparable text, read before the next call of next(). */
function drain(r: CaptureReader): string[] {
  const out: string[] = [];
  try {
    while (r.next()) out.push(`${r.ifIndex} ${r.timeNs} ${r.origLen} ${hex(r.buf.subarray(r.off, r.off + r.capLen))}`);
  } finally {
    r.close();
  }
  return out;
}

function fromParse(bytes: Uint8Array, name: string): string[] {
  return parseCapture(bytes, name).frames.map((f) => `${f.ifIndex} ${f.timeNs} ${f.origLen} ${hex(f.data)}`);
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CaptureError);
    return (e as Error).message;
  }
  return 'no error';
}

// Ethernet fixtures only: the default reader refuses the cooked ones, as parseCapture does
const ETHERNET_FIXTURES = readdirSync(FIX).filter((f) => /\.pcap(ng)?$/.test(f) && !/sll|802-11/.test(f));

describe('openCapture reads files as parseCapture reads bytes', () => {
  it('has fixtures to read', () => {
    expect(ETHERNET_FIXTURES.length).toBeGreaterThanOrEqual(10);
  });

  for (const file of ETHERNET_FIXTURES) {
    it(`${file}, with windows from 64 bytes to 1 MiB`, () => {
      const path = join(FIX, file);
      const want = fromParse(readFileSync(path), path);
      expect(want.length).toBeGreaterThan(0);
      for (const bufferBytes of [64, 100, 333, 4096, 1 << 20]) {
        expect(drain(openCapture(path, { bufferBytes }))).toEqual(want);
      }
      const r = openCapture(path);
      drain(r);
      expect(r.interfaces.map((i) => i.name ?? '')).toEqual(parseCapture(readFileSync(path), path).interfaces);
    });
  }

  it('reads a file far larger than its window, frames straddling every window edge', () => {
    const w = new PcapngWriter(['a', 'b']);
    const sent: string[] = [];
    for (let k = 0; k < 500; k++) {
      const f = new Uint8Array(14 + ((k * 37) % 1500));
      for (let i = 0; i < f.length; i++) f[i] = (k + i * 7) & 0xff;
      w.add(k % 2, BigInt(k) * 1_000_001n, f);
      sent.push(`${k % 2} ${BigInt(k) * 1_000_001n} ${f.length} ${hex(f)}`);
    }
    const path = join(tmp, 'many.pcapng');
    w.writeFile(path);
    for (const bufferBytes of [64, 1000, 4096]) expect(drain(openCapture(path, { bufferBytes }))).toEqual(sent);
  });

  it('grows its window for a record larger than the window, and only then', () => {
    const w = new PcapWriter();
    w.add(0n, new Uint8Array(60));
    w.add(1n, new Uint8Array(9000).fill(7));
    const path = join(tmp, 'jumbo.pcap');
    w.writeFile(path);
    const src = FileSource.open(path, 256);
    src.load(0, 24);
    expect(src.buf.length).toBe(256);
    src.load(24 + 16 + 60, 16 + 9000);
    expect(src.buf.length).toBeGreaterThanOrEqual(9016);
    expect(src.buf[16 + 8999 - 0]).toBe(7);
    src.close();
    expect(drain(openCapture(path, { bufferBytes: 256 }))).toHaveLength(2);
  });

  it('refuses a record over the largest it reads at once, naming its offset', () => {
    const b = Buffer.from(new PcapWriter({ snaplen: 0x7fffffff }).toBytes());
    const path = join(tmp, 'huge.pcap');
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(MAX_RECORD_BYTES + 1, 8);
    rec.writeUInt32LE(MAX_RECORD_BYTES + 1, 12);
    writeFileSync(path, Buffer.concat([b, rec]));
    // a sparse tail makes the record complete without writing 64 MiB
    truncateSync(path, 24 + 16 + MAX_RECORD_BYTES + 1);
    expect(errorOf(() => drain(openCapture(path)))).toBe(
      `${path}: record at byte offset 24 is ${16 + MAX_RECORD_BYTES + 1} bytes, more than the ${MAX_RECORD_BYTES} tapvs reads at once`,
    );
  });

  it('gives the same error as the parser for a file cut at every byte', () => {
    for (const file of ['classic-be-nsec.pcap', 'multi-section.pcapng']) {
      const whole = readFileSync(join(FIX, file));
      for (let cut = 0; cut < whole.length; cut++) {
        const part = whole.subarray(0, cut);
        const path = join(tmp, 'cut');
        writeFileSync(path, part);
        const parsed = errorOf(() => fromParse(part, path));
        const streamed = errorOf(() => drain(openCapture(path, { bufferBytes: 64 })));
        expect(streamed).toBe(parsed);
      }
    }
  });

  it('gives the same result or error as the parser on any corruption (property)', () => {
    const base = readFileSync(join(FIX, 'multi-section.pcapng'));
    const path = join(tmp, 'fuzz.pcapng');
    fc.assert(
      fc.property(fc.array(fc.record({ at: fc.nat({ max: base.length - 1 }), v: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }), (edits) => {
        const b = Buffer.from(base);
        for (const { at, v } of edits) b[at] = v;
        writeFileSync(path, b);
        let parsed: string[] | string;
        try {
          parsed = fromParse(b, path);
        } catch (e) {
          parsed = (e as Error).message;
        }
        let streamed: string[] | string;
        try {
          streamed = drain(openCapture(path, { bufferBytes: 128 }));
        } catch (e) {
          expect(e).toBeInstanceOf(CaptureError);
          streamed = (e as Error).message;
        }
        expect(streamed).toEqual(parsed);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses what is not a regular file', () => {
    expect(errorOf(() => openCapture('/dev/null'))).toMatch(/\/dev\/null: not a regular file/);
  });
});
