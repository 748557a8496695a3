import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CaptureError,
  PcapngStreamWriter,
  PcapngWriter,
  PcapWriter,
  parseCapture,
  readCapture,
} from '../../src/io/pcap-file.js';

const FIX = join(import.meta.dirname, '../../fixtures/pcap-io');
const tmp = mkdtempSync(join(tmpdir(), 'tapvs-pcapng-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function frameOf(len: number, seed: number): Uint8Array {
  const f = new Uint8Array(len);
  for (let i = 0; i < len; i++) f[i] = (seed * 13 + i * 5) & 0xff;
  return f;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function captureError(fn: () => unknown): CaptureError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CaptureError);
    return err as CaptureError;
  }
  throw new Error('expected a CaptureError, got a result');
}

/** Block start offsets and the file length, walking type/length pairs section by section. */
function blockEnds(bytes: Buffer): number[] {
  const ends: number[] = [];
  let le = true;
  let off = 0;
  while (off < bytes.length) {
    if (bytes.readUInt32LE(off) === 0x0a0d0d0a) le = bytes.readUInt32LE(off + 8) === 0x1a2b3c4d;
    off += le ? bytes.readUInt32LE(off + 4) : bytes.readUInt32BE(off + 4);
    ends.push(off);
  }
  return ends;
}

describe('PcapngWriter', () => {
  it('lays out a little-endian section header, one interface block per name, and packet blocks', () => {
    const w = new PcapngWriter(['outside', 'inside']);
    w.add(1, 1700000000_000000001n, frameOf(61, 1));
    const b = Buffer.from(w.toBytes());
    expect(b.readUInt32LE(0)).toBe(0x0a0d0d0a);
    expect(b.readUInt32LE(8)).toBe(0x1a2b3c4d);
    expect([b.readUInt16LE(12), b.readUInt16LE(14)]).toEqual([1, 0]);
    expect(b.readBigInt64LE(16)).toBe(-1n);
    const ends = blockEnds(b);
    expect(ends).toHaveLength(4);
    expect(ends[3]).toBe(b.length);
    // every block is 4-byte aligned and ends with its own length
    let start = 0;
    for (const end of ends) {
      expect((end - start) % 4).toBe(0);
      expect(b.readUInt32LE(end - 4)).toBe(end - start);
      start = end;
    }
    // the interface blocks carry if_name and if_tsresol=9
    const idb1 = b.subarray(ends[0], ends[1]);
    expect(idb1.readUInt32LE(0)).toBe(1);
    expect(idb1.readUInt16LE(8)).toBe(1); // Ethernet
    expect(idb1.includes(Buffer.from('outside'))).toBe(true);
    expect(idb1.includes(Buffer.from([9, 0, 1, 0, 9]))).toBe(true);
    // the packet block: interface 1, 61 bytes captured, padded to 64
    const epb = b.subarray(ends[2], ends[3]);
    expect(epb.readUInt32LE(0)).toBe(6);
    expect(epb.length).toBe(32 + 64);
    expect(epb.readUInt32LE(8)).toBe(1);
    const ticks = (BigInt(epb.readUInt32LE(12)) << 32n) | BigInt(epb.readUInt32LE(16));
    expect(ticks).toBe(1700000000_000000001n);
    expect([epb.readUInt32LE(20), epb.readUInt32LE(24)]).toEqual([61, 61]);
    expect(hex(epb.subarray(28 + 61, 28 + 64))).toBe('000000');
  });

  it('writes no if_tsresol and microsecond ticks when asked for microseconds', () => {
    const w = new PcapngWriter(['eth0'], { nanos: false });
    w.add(0, 1700000000_123456789n, frameOf(60, 1));
    const b = Buffer.from(w.toBytes());
    const ends = blockEnds(b);
    expect(b.subarray(ends[0], ends[1]).includes(Buffer.from([9, 0, 1, 0]))).toBe(false);
    const cap = parseCapture(b, 'us.pcapng');
    expect(cap.frames[0]!.timeNs).toBe(1700000000_123456000n);
  });

  it('round-trips frames, interfaces and nanosecond times', () => {
    const names = ['outside', 'inside', 'tap-rs1', 'ünïcode'];
    const w = new PcapngWriter(names);
    const sent = [
      { i: 0, t: 1n, f: frameOf(60, 1) },
      { i: 3, t: 1700000000_999999999n, f: frameOf(1514, 2) },
      { i: 1, t: 1700000001_000000000n, f: frameOf(0, 3) },
      { i: 2, t: 18446744073709551615n, f: frameOf(63, 4) },
    ];
    for (const s of sent) w.add(s.i, s.t, s.f);
    const cap = parseCapture(w.toBytes(), 'rt.pcapng');
    expect(cap.format).toBe('pcapng');
    expect(cap.interfaces).toEqual(names);
    expect(cap.frames.map((f) => [f.ifIndex, f.ifName, f.timeNs, hex(f.data), f.origLen])).toEqual(
      sent.map((s) => [s.i, names[s.i], s.t, hex(s.f), s.f.length]),
    );
  });

  it('leaves out if_name for an unnamed interface and reads it back unnamed', () => {
    const w = new PcapngWriter(['', 'named']);
    w.add(0, 0n, frameOf(60, 1));
    const cap = parseCapture(w.toBytes(), 'anon.pcapng');
    expect(cap.interfaces).toEqual(['', 'named']);
    expect(cap.frames[0]!.ifName).toBeUndefined();
  });

  it('cuts at the snaplen and keeps the original length', () => {
    const w = new PcapngWriter(['a'], { snaplen: 100 });
    w.add(0, 0n, frameOf(1514, 5));
    const f = parseCapture(w.toBytes(), 'snap.pcapng').frames[0]!;
    expect([f.data.length, f.origLen]).toEqual([100, 1514]);
    expect(hex(f.data)).toBe(hex(frameOf(1514, 5).subarray(0, 100)));
  });

  it('refuses an undeclared interface or a time before the epoch', () => {
    const w = new PcapngWriter(['a']);
    expect(() => w.add(1, 0n, frameOf(60, 1))).toThrow(/interface 1 was not declared/);
    expect(() => w.add(-1, 0n, frameOf(60, 1))).toThrow(RangeError);
    expect(() => w.add(0, -1n, frameOf(60, 1))).toThrow(RangeError);
    expect(() => w.add(0, 18446744073709551616n, frameOf(60, 1))).toThrow(/64 bits/);
    expect(parseCapture(w.toBytes(), 'x.pcapng').frames).toHaveLength(0);
  });

  it('round-trips arbitrary frames, interfaces and times (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.record({ i: fc.nat(), t: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), f: fc.uint8Array({ maxLength: 1600 }) }), {
          maxLength: 10,
        }),
        (names, items) => {
          // option values must not end in NUL for a lossless name; tools treat it as padding
          const clean = names.map((n) => n.replace(/\0/g, '_'));
          const w = new PcapngWriter(clean);
          for (const { i, t, f } of items) w.add(i % clean.length, t, f);
          const cap = parseCapture(w.toBytes(), 'prop.pcapng');
          expect(cap.interfaces).toEqual(clean);
          expect(cap.frames.length).toBe(items.length);
          cap.frames.forEach((fr, k) => {
            const { i, t, f } = items[k]!;
            expect(fr.ifIndex).toBe(i % clean.length);
            expect(fr.timeNs).toBe(t);
            expect(hex(fr.data)).toBe(hex(f));
          });
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('PcapngStreamWriter', () => {
  for (const bufferBytes of [0, 200, 65536]) {
    it(`writes the same bytes as PcapngWriter (bufferBytes ${bufferBytes})`, () => {
      const path = join(tmp, `stream-${bufferBytes}.pcapng`);
      const names = ['outside', 'inside'];
      const s = PcapngStreamWriter.open(path, names, { bufferBytes });
      const m = new PcapngWriter(names);
      for (let k = 0; k < 7; k++) {
        const f = frameOf(60 + k * 101, k);
        expect(s.add(k % 2, BigInt(k) * 999_999_999n, f)).toBe(true);
        m.add(k % 2, BigInt(k) * 999_999_999n, f);
      }
      expect(s.add(2, 0n, frameOf(60, 0))).toBe(false);
      expect(s.rejected).toBe(1);
      expect(s.close()).toBe(true);
      expect(s.writeErrors).toBe(0);
      expect(hex(readFileSync(path))).toBe(hex(m.toBytes()));
    });
  }
});

describe('pcapng fixtures', () => {
  it('reads a big-endian section then a little-endian one, with every clock and packet block kind', () => {
    const cap = readCapture(join(FIX, 'multi-section.pcapng'));
    expect(cap.format).toBe('pcapng');
    // interfaces are numbered across sections
    expect(cap.interfaces).toEqual(['outside', 'inside', 'tun0']);
    expect(cap.frames.map((f) => [f.ifIndex, f.ifName])).toEqual([
      [0, 'outside'],
      [1, 'inside'],
      [1, 'inside'], // obsolete Packet Block
      [2, 'tun0'],
      [2, 'tun0'], // Simple Packet Block: interface 0 of its section
    ]);
    expect(cap.frames.map((f) => [f.data.length, f.origLen])).toEqual([
      [42, 42],
      [51, 51],
      [54, 54],
      [96, 362],
      [51, 51],
    ]);
    // ns clock; µs by default; µs; 2^-20 s ticks plus a 1 s if_tsoffset (the figure tshark prints too);
    // the Simple Packet Block has no clock and repeats the previous instant
    expect(cap.frames.map((f) => f.timeNs)).toEqual([
      1700000000_123456789n,
      1700000000_500000000n,
      1700000001_000000000n,
      1700000002_999999046n,
      1700000002_999999046n,
    ]);
  });

  it('reads Simple Packet Blocks of a big-endian, unnamed interface', () => {
    const cap = readCapture(join(FIX, 'be-simple.pcapng'));
    expect(cap.interfaces).toEqual(['']);
    expect(cap.frames.map((f) => f.data.length)).toEqual([42, 51, 54, 362]);
    expect(cap.frames.map((f) => f.timeNs)).toEqual([0n, 0n, 0n, 0n]);
    expect(cap.frames.every((f) => f.ifName === undefined && f.ifIndex === 0)).toBe(true);
    // same frames as the scapy classic file
    const classic = readCapture(join(FIX, 'classic-le-nsec.pcap')).frames;
    expect(hex(cap.frames[1]!.data)).toBe(hex(classic[1]!.data));
  });

  it('takes a Simple Packet Block to its interface snaplen, not into its padding', () => {
    const head = Buffer.from(new PcapngWriter(['a'], { snaplen: 97 }).toBytes());
    const spb = Buffer.alloc(12 + 4 + 100);
    spb.writeUInt32LE(3, 0);
    spb.writeUInt32LE(spb.length, 4);
    spb.writeUInt32LE(200, 8); // original length
    Buffer.from(frameOf(97, 7)).copy(spb, 12);
    spb.fill(0xee, 12 + 97, 12 + 100); // padding
    spb.writeUInt32LE(spb.length, spb.length - 4);
    const [f] = parseCapture(Buffer.concat([head, spb]), 'spb.pcapng').frames;
    expect([f!.data.length, f!.origLen]).toEqual([97, 200]);
    expect(hex(f!.data)).toBe(hex(frameOf(97, 7)));
  });

  it('reads a two-interface capture written by dumpcap', () => {
    const cap = readCapture(join(FIX, 'dumpcap-two-ifaces.pcapng'));
    expect(cap.interfaces).toEqual(['pcapio-a', 'pcapio-b']);
    expect(cap.frames).toHaveLength(12);
    expect(cap.frames.filter((f) => f.ifName === 'pcapio-a')).toHaveLength(6);
    // UDP to port 9 with 10, 110 and 210 payload bytes: 52, 152, 252-byte frames
    expect(new Set(cap.frames.map((f) => f.data.length))).toEqual(new Set([52, 152, 252]));
    for (const f of cap.frames) expect(f.timeNs > 1_600_000_000_000_000_000n).toBe(true);
  });

  it('reads text2pcap output to the same frames as its classic twin', () => {
    const ng = readCapture(join(FIX, 'text2pcap.pcapng'));
    const classic = readCapture(join(FIX, 'text2pcap.pcap'));
    expect(ng.interfaces).toEqual(['Fake IF, text2pcap']);
    expect(ng.frames.map((f) => [hex(f.data), f.timeNs])).toEqual(classic.frames.map((f) => [hex(f.data), f.timeNs]));
  });

  it('refuses a non-Ethernet interface naming the file and the link type', () => {
    const path = join(FIX, 'linux-sll.pcapng');
    const e = captureError(() => readCapture(path));
    expect(e.message).toBe(`${path}: link type 113 (LINUX_SLL) is not Ethernet; tapvs reads Ethernet captures only`);
    expect(e.file).toBe(path);
  });
});

describe('pcapng refusals', () => {
  const good = (): Buffer => {
    const w = new PcapngWriter(['a']);
    w.add(0, 0n, frameOf(60, 1));
    return Buffer.from(w.toBytes());
  };

  it('refuses a file cut anywhere but a block boundary, naming the offset', () => {
    for (const file of ['multi-section.pcapng', 'dumpcap-two-ifaces.pcapng', 'be-simple.pcapng']) {
      const whole = readFileSync(join(FIX, file));
      const full = parseCapture(whole, file).frames;
      const ends = blockEnds(whole);
      expect(ends[ends.length - 1]).toBe(whole.length);
      for (let cut = 4; cut < whole.length; cut++) {
        const part = whole.subarray(0, cut);
        if (ends.includes(cut)) {
          const got = parseCapture(part, 'cut.pcapng').frames;
          expect(got.map((f) => hex(f.data))).toEqual(full.slice(0, got.length).map((f) => hex(f.data)));
          continue;
        }
        const e = captureError(() => parseCapture(part, 'cut.pcapng'));
        const blockStart = Math.max(0, ...ends.filter((x) => x <= cut));
        expect(e.message).toMatch(/^cut\.pcapng: truncated at byte offset \d+: /);
        expect(e.offset).toBe(blockStart);
      }
    }
  });

  it('refuses block lengths that are not multiples of 4 or disagree with the trailer', () => {
    const b = good();
    const ends = blockEnds(b);
    const odd = Buffer.from(b);
    odd.writeUInt32LE(30, ends[1]! + 4);
    expect(captureError(() => parseCapture(odd, 'odd.pcapng')).message).toBe(
      `odd.pcapng: corrupt at byte offset ${ends[1]! + 4}: block length 30 is not a multiple of 4 of at least 12`,
    );
    const tiny = Buffer.from(b);
    tiny.writeUInt32LE(8, ends[1]! + 4);
    expect(captureError(() => parseCapture(tiny, 'tiny.pcapng')).offset).toBe(ends[1]! + 4);
    const trailer = Buffer.from(b);
    trailer.writeUInt32LE(999, ends[2]! - 4);
    expect(captureError(() => parseCapture(trailer, 'tr.pcapng')).message).toMatch(/trailer length 999 differs from header length/);
  });

  it('refuses packets on undescribed interfaces and captured lengths past their block', () => {
    const b = good();
    const ends = blockEnds(b);
    const badIf = Buffer.from(b);
    badIf.writeUInt32LE(5, ends[1]! + 8);
    expect(captureError(() => parseCapture(badIf, 'if.pcapng')).message).toMatch(/packet names interface 5, but the section describes 1/);
    const badCap = Buffer.from(b);
    badCap.writeUInt32LE(61, ends[1]! + 20);
    expect(captureError(() => parseCapture(badCap, 'cap.pcapng')).message).toMatch(/captured length 61 overruns its block/);
  });

  it('refuses a bad byte-order magic, an unknown major version and an overlong option', () => {
    const bom = good();
    bom.writeUInt32LE(0x12345678, 8);
    expect(captureError(() => parseCapture(bom, 'bom.pcapng')).offset).toBe(8);
    const ver = good();
    ver.writeUInt16LE(2, 12);
    expect(captureError(() => parseCapture(ver, 'ver.pcapng')).message).toMatch(/section version 2\.0 is not 1\.x/);
    const opt = good();
    const ends = blockEnds(opt);
    opt.writeUInt16LE(200, ends[0]! + 16 + 2); // if_name length
    expect(captureError(() => parseCapture(opt, 'opt.pcapng')).message).toMatch(/option 2 of 200 bytes overruns its block/);
  });

  it('ends with a CaptureError or a result on any corruption, never another error (property)', () => {
    const base = readFileSync(join(FIX, 'multi-section.pcapng'));
    fc.assert(
      fc.property(fc.array(fc.record({ at: fc.nat({ max: base.length - 1 }), v: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }), (edits) => {
        const b = Buffer.from(base);
        for (const { at, v } of edits) b[at] = v;
        try {
          parseCapture(b, 'fuzz.pcapng');
        } catch (err) {
          expect(err).toBeInstanceOf(CaptureError);
          expect((err as Error).message.startsWith('fuzz.pcapng: ')).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('is told apart from classic pcap by its first bytes', () => {
    expect(parseCapture(new PcapWriter().toBytes(), 'a').format).toBe('pcap');
    expect(parseCapture(new PcapngWriter(['x']).toBytes(), 'b').format).toBe('pcapng');
  });
});
