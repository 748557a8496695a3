import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CaptureError,
  PcapStreamWriter,
  PcapWriter,
  parseCapture,
  readCapture,
} from '../../src/io/pcap-file.js';

const FIX = join(import.meta.dirname, '../../fixtures/pcap-io');
const tmp = mkdtempSync(join(tmpdir(), 'tapvs-pcap-classic-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// The instants make_fixtures.py gave its four frames, and the lengths of those frames.
const FIXTURE_NS = [1700000000_123456789n, 1700000000_500000001n, 1700000001_000000999n, 1700000002_999999999n];
const FIXTURE_ORIG = [42, 51, 54, 362];
const FIXTURE_CAP = [42, 51, 54, 128];

function frameOf(len: number, seed: number): Uint8Array {
  const f = new Uint8Array(len);
  for (let i = 0; i < len; i++) f[i] = (seed * 31 + i * 7) & 0xff;
  return f;
}

function expectCaptureError(fn: () => unknown, file: string, pattern: RegExp): CaptureError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CaptureError);
  const e = caught as CaptureError;
  expect(e.message.startsWith(`${file}: `)).toBe(true);
  expect(e.message).toMatch(pattern);
  return e;
}

describe('classic pcap fixtures written by scapy', () => {
  const cases = [
    ['classic-le-usec.pcap', false],
    ['classic-be-usec.pcap', false],
    ['classic-le-nsec.pcap', true],
    ['classic-be-nsec.pcap', true],
  ] as const;

  for (const [file, nanos] of cases) {
    it(`reads ${file}`, () => {
      const cap = readCapture(join(FIX, file));
      expect(cap.format).toBe('pcap');
      expect(cap.interfaces).toEqual(['']);
      expect(cap.frames.map((f) => f.data.length)).toEqual(FIXTURE_CAP);
      expect(cap.frames.map((f) => f.origLen)).toEqual(FIXTURE_ORIG);
      expect(cap.frames.map((f) => f.ifIndex)).toEqual([0, 0, 0, 0]);
      expect(cap.frames.every((f) => f.ifName === undefined)).toBe(true);
      const expected = nanos ? FIXTURE_NS : FIXTURE_NS.map((t) => (t / 1000n) * 1000n);
      expect(cap.frames.map((f) => f.timeNs)).toEqual(expected);
      // first frame is the broadcast ARP request
      expect(Array.from(cap.frames[0]!.data.subarray(0, 6))).toEqual([255, 255, 255, 255, 255, 255]);
      expect(Array.from(cap.frames[0]!.data.subarray(12, 14))).toEqual([0x08, 0x06]);
    });
  }

  it('gives the same frame bytes whatever the byte order or resolution', () => {
    const [a, ...rest] = cases.map(([file]) => readCapture(join(FIX, file)).frames.map((f) => Buffer.from(f.data).toString('hex')));
    for (const r of rest) expect(r).toEqual(a);
  });
});

describe('classic pcap fixtures written by text2pcap and editcap', () => {
  it('reads microsecond and nanosecond files to the same instants', () => {
    const usec = readCapture(join(FIX, 'text2pcap.pcap'));
    const nsec = readCapture(join(FIX, 'editcap-nsec.pcap'));
    expect(readFileSync(join(FIX, 'editcap-nsec.pcap')).readUInt32LE(0)).toBe(0xa1b23c4d);
    expect(usec.frames.map((f) => f.timeNs)).toEqual([1704164645_678901000n, 1704164646_000002000n]);
    expect(nsec.frames.map((f) => f.timeNs)).toEqual(usec.frames.map((f) => f.timeNs));
    expect(nsec.frames.map((f) => Buffer.from(f.data).toString('hex'))).toEqual(
      usec.frames.map((f) => Buffer.from(f.data).toString('hex')),
    );
    expect(usec.frames.map((f) => f.data.length)).toEqual([42, 43]);
  });
});

describe('PcapWriter', () => {
  const frames = [frameOf(60, 1), frameOf(1514, 2), frameOf(61, 3), frameOf(0, 4)];
  const times = [1n, 1700000000_123456789n, 1700000000_123456789n, 4294967295_999999999n];

  it('writes a little-endian microsecond header by default', () => {
    const w = new PcapWriter();
    const bytes = Buffer.from(w.toBytes());
    expect(bytes.length).toBe(24);
    expect(bytes.subarray(0, 4).toString('hex')).toBe('d4c3b2a1');
    expect(bytes.readUInt16LE(4)).toBe(2);
    expect(bytes.readUInt16LE(6)).toBe(4);
    expect(bytes.readUInt32LE(16)).toBe(262144);
    expect(bytes.readUInt32LE(20)).toBe(1);
  });

  it('round-trips nanosecond timestamps exactly', () => {
    const w = new PcapWriter({ nanos: true });
    frames.forEach((f, i) => w.add(times[i]!, f));
    const bytes = w.toBytes();
    expect(Buffer.from(bytes.subarray(0, 4)).toString('hex')).toBe('4d3cb2a1');
    const cap = parseCapture(bytes, 'mem.pcap');
    expect(cap.frames.map((f) => f.timeNs)).toEqual(times);
    expect(cap.frames.map((f) => Buffer.from(f.data).toString('hex'))).toEqual(frames.map((f) => Buffer.from(f).toString('hex')));
    expect(cap.frames.map((f) => f.origLen)).toEqual(frames.map((f) => f.length));
  });

  it('keeps whole microseconds in a microsecond file', () => {
    const w = new PcapWriter({ nanos: false });
    frames.forEach((f, i) => w.add(times[i]!, f));
    const cap = parseCapture(w.toBytes(), 'mem.pcap');
    expect(cap.frames.map((f) => f.timeNs)).toEqual([0n, 1700000000_123456000n, 1700000000_123456000n, 4294967295_999999000n]);
  });

  it('cuts frames at the snaplen and keeps the original length', () => {
    const w = new PcapWriter({ snaplen: 64 });
    w.add(5_000_000_000n, frameOf(1514, 9));
    w.add(6_000_000_000n, frameOf(64, 9));
    const bytes = Buffer.from(w.toBytes());
    expect(bytes.readUInt32LE(16)).toBe(64);
    const cap = parseCapture(bytes, 'cut.pcap');
    expect(cap.frames.map((f) => [f.data.length, f.origLen])).toEqual([[64, 1514], [64, 64]]);
    expect(Buffer.from(cap.frames[0]!.data).equals(Buffer.from(frameOf(1514, 9).subarray(0, 64)))).toBe(true);
  });

  it('refuses times a classic file cannot hold', () => {
    const w = new PcapWriter();
    expect(() => w.add(-1n, frameOf(60, 0))).toThrow(RangeError);
    expect(() => w.add(4294967296n * 1_000_000_000n, frameOf(60, 0))).toThrow(/2106/);
    expect(w.toBytes().length).toBe(24);
  });

  it('hands each reader its own copy of the frame bytes', () => {
    const w = new PcapWriter();
    w.add(0n, frameOf(60, 1));
    const bytes = w.toBytes();
    const a = parseCapture(bytes, 'x.pcap').frames[0]!;
    a.data[0] = a.data[0]! ^ 0xff;
    expect(parseCapture(bytes, 'x.pcap').frames[0]!.data[0]).toBe(frameOf(60, 1)[0]);
  });

  it('round-trips arbitrary frames and times (property)', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.record({ t: fc.bigInt({ min: 0n, max: 4294967295_999999999n }), f: fc.uint8Array({ maxLength: 1600 }) }), {
          maxLength: 12,
        }),
        (nanos, items) => {
          const w = new PcapWriter({ nanos });
          for (const { t, f } of items) w.add(t, f);
          const cap = parseCapture(w.toBytes(), 'prop.pcap');
          expect(cap.frames.length).toBe(items.length);
          cap.frames.forEach((fr, i) => {
            const { t, f } = items[i]!;
            expect(fr.timeNs).toBe(nanos ? t : (t / 1000n) * 1000n);
            expect(Buffer.from(fr.data).equals(Buffer.from(f))).toBe(true);
            expect(fr.origLen).toBe(f.length);
          });
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('PcapStreamWriter', () => {
  const frames = [frameOf(60, 1), frameOf(1514, 2), frameOf(99, 3)];

  for (const bufferBytes of [0, 100, 65536]) {
    it(`writes the same bytes as PcapWriter (bufferBytes ${bufferBytes})`, () => {
      const path = join(tmp, `stream-${bufferBytes}.pcap`);
      const s = PcapStreamWriter.open(path, { nanos: true, bufferBytes });
      const m = new PcapWriter({ nanos: true });
      frames.forEach((f, i) => {
        expect(s.add(BigInt(i) * 1_000_000_001n, f)).toBe(true);
        m.add(BigInt(i) * 1_000_000_001n, f);
      });
      expect(s.close()).toBe(true);
      expect(Buffer.from(readFileSync(path)).equals(Buffer.from(m.toBytes()))).toBe(true);
    });
  }

  it('writes through at once when unbuffered', () => {
    const path = join(tmp, 'through.pcap');
    const s = PcapStreamWriter.open(path, { bufferBytes: 0 });
    s.add(0n, frameOf(60, 1));
    expect(readFileSync(path).length).toBe(24 + 16 + 60);
    s.close();
  });

  it('counts bad input and failed writes instead of throwing', () => {
    const path = join(tmp, 'ro.pcap');
    closeSync(openSync(path, 'w'));
    const fd = openSync(path, 'r');
    try {
      const s = new PcapStreamWriter(fd, { bufferBytes: 0 });
      expect(s.writeErrors).toBe(1); // the file header
      expect(s.add(-5n, frameOf(60, 1))).toBe(false);
      expect(s.rejected).toBe(1);
      expect(s.add(5n, frameOf(60, 1))).toBe(false);
      expect(s.writeErrors).toBe(2);
      expect(s.lastError?.message).toMatch(/EBADF/);
      expect(s.close()).toBe(true); // nothing left to write
    } finally {
      closeSync(fd);
    }
  });
});

describe('classic pcap refusals', () => {
  it('refuses a non-Ethernet link type naming the file and the type', () => {
    const path = join(FIX, 'linux-sll.pcap');
    const e = expectCaptureError(() => readCapture(path), path, /link type 113/);
    expect(e.message).toBe(`${path}: link type 113 (LINUX_SLL) is not Ethernet; tapvs reads Ethernet captures only`);
  });

  it('names unlisted link types by number', () => {
    const b = Buffer.from(new PcapWriter().toBytes());
    b.writeUInt32LE(147, 20);
    expect(() => parseCapture(b, 'user.pcap')).toThrow('user.pcap: link type 147 is not Ethernet; tapvs reads Ethernet captures only');
  });

  it('refuses frames that carry an FCS', () => {
    const b = Buffer.from(new PcapWriter().toBytes());
    b.writeUInt32LE(0x14000001, 20);
    expectCaptureError(() => parseCapture(b, 'fcs.pcap'), 'fcs.pcap', /FCS/);
  });

  it('refuses other versions, other magics, gzip and empty input', () => {
    const b = Buffer.from(new PcapWriter().toBytes());
    b.writeUInt16LE(3, 4);
    expectCaptureError(() => parseCapture(b, 'v3.pcap'), 'v3.pcap', /byte offset 4: pcap version 3\.4/);
    expectCaptureError(() => parseCapture(Buffer.from('34cdb2a1' + '00'.repeat(20), 'hex'), 'k.pcap'), 'k.pcap', /Kuznetzov/);
    expectCaptureError(() => parseCapture(Buffer.from('1f8b0800', 'hex'), 'z.pcap'), 'z.pcap', /gzip/);
    expectCaptureError(() => parseCapture(Buffer.from('hello world'), 't.txt'), 't.txt', /not a pcap or pcapng file \(starts with 68 65 6c 6c\)/);
    expectCaptureError(() => parseCapture(new Uint8Array(0), 'e.pcap'), 'e.pcap', /truncated at byte offset 0/);
  });

  it('refuses a file cut anywhere but a record boundary, naming the offset', () => {
    const path = join(FIX, 'classic-be-nsec.pcap');
    const whole = readFileSync(path);
    const full = parseCapture(whole, 'whole').frames;
    // record boundaries: header end, then each record end
    const ends = [24];
    for (const f of full) ends.push(ends[ends.length - 1]! + 16 + f.data.length);
    expect(ends[ends.length - 1]).toBe(whole.length);
    for (let cut = 0; cut < whole.length; cut++) {
      const part = whole.subarray(0, cut);
      const k = ends.indexOf(cut);
      if (k >= 0) {
        expect(parseCapture(part, 'cut.pcap').frames.length).toBe(k);
        continue;
      }
      const e = expectCaptureError(() => parseCapture(part, 'cut.pcap'), 'cut.pcap', /truncated at byte offset \d+/);
      // the offset is the start of the structure that was cut
      const expectedAt = cut < 24 ? 0 : Math.max(...ends.filter((x) => x < cut));
      expect(e.offset).toBe(expectedAt);
      expect(e.message).toContain(`byte offset ${expectedAt}`);
    }
  });

  it('refuses a record whose captured length runs past the file', () => {
    const w = new PcapWriter();
    w.add(0n, frameOf(60, 1));
    const b = Buffer.from(w.toBytes());
    b.writeUInt32LE(0xfffffff0, 24 + 8);
    expectCaptureError(() => parseCapture(b, 'big.pcap'), 'big.pcap', /truncated at byte offset 24: packet record of 4294967280 captured bytes/);
  });
});
