import { describe, expect, it } from 'vitest';
import { MemoryPort } from '../../src/io/memory-port.js';
import { HEADROOM, MAX_FRAME, macFromBytes, macFromString, macToString } from '../../src/io/port.js';

describe('MemoryPort', () => {
  it('delivers injected frames with headroom and tail room, to the right port index, at the given time', () => {
    const port = new MemoryPort({ name: 'm' });
    const got: Array<{ idx: number; off: number; len: number; room: number; bytes: number[]; now: number }> = [];
    port.start((idx, buf, off, len, now) => {
      got.push({ idx, off, len, room: buf.length - off, bytes: Array.from(buf.subarray(off, off + len)), now });
    }, 3);
    const frame = Uint8Array.from({ length: 60 }, (_, i) => i + 1);
    expect(port.inject(frame, 1234)).toBe(true);
    expect(got).toHaveLength(1);
    expect(got[0]!.idx).toBe(3);
    expect(got[0]!.off).toBeGreaterThanOrEqual(HEADROOM);
    expect(got[0]!.room).toBeGreaterThanOrEqual(MAX_FRAME);
    expect(got[0]!.bytes).toEqual(Array.from(frame));
    expect(got[0]!.now).toBe(1234);
    expect(port.counters.rxFrames).toBe(1);
  });

  it('lets the sink grow a frame in front and rewrite it in place, and send the result', () => {
    const port = new MemoryPort({ name: 'm' });
    port.start((_idx, buf, off, len) => {
      // prepend a 20-byte "outer header" the way the TUN transmitter will
      const start = off - 20;
      buf.fill(0xee, start, off);
      buf[off] = 0x99;
      port.send(buf, start, len + 20);
    }, 0);
    port.inject(new Uint8Array(40).fill(7), 0);
    expect(port.sent).toHaveLength(1);
    const out = port.sent[0]!;
    expect(out.length).toBe(60);
    expect(Array.from(out.subarray(0, 20))).toEqual(new Array(20).fill(0xee));
    expect(out[20]).toBe(0x99);
    expect(out[21]).toBe(7);
  });

  it('keeps copies of sent frames, not the caller buffer', () => {
    const port = new MemoryPort({ name: 'm' });
    const buf = new Uint8Array(100).fill(1);
    port.send(buf, 10, 50);
    buf.fill(2);
    expect(port.sent[0]!.length).toBe(50);
    expect(port.sent[0]!.every((b) => b === 1)).toBe(true);
    expect(port.takeSent()).toHaveLength(1);
    expect(port.sent).toHaveLength(0);
  });

  it('does not leak bytes of an earlier, longer frame into a later one', () => {
    const port = new MemoryPort({ name: 'm' });
    let tail = -1;
    port.start((_i, buf, off, len) => { tail = buf[off + len]!; }, 0);
    port.inject(new Uint8Array(100).fill(5), 0);
    port.inject(new Uint8Array(60).fill(6), 0);
    expect(tail).toBe(0);
  });

  it('counts what it cannot deliver instead of throwing', () => {
    const port = new MemoryPort({ name: 'm' });
    expect(port.inject(new Uint8Array(60))).toBe(false); // not started
    port.start(() => undefined, 0);
    expect(port.inject(new Uint8Array(MAX_FRAME + 1))).toBe(false);
    expect(port.inject(new Uint8Array(10))).toBe(false);
    port.send(new Uint8Array(10), 5, 10); // out of bounds
    expect(port.counters).toEqual({ rxFrames: 0, txFrames: 0, rxDropped: 2, txErrors: 1, rxTooBig: 1 });
  });
});

describe('MAC helpers', () => {
  it('round-trip 48-bit MACs through numbers, including the top bit', () => {
    const s = 'fe:dc:ba:98:76:54';
    const n = macFromString(s);
    expect(n).toBe(0xfedcba987654);
    expect(macToString(n)).toBe(s);
    expect(macFromBytes(Uint8Array.from([0, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54]), 1)).toBe(n);
    expect(macToString(0x020000000001)).toBe('02:00:00:00:00:01');
    expect(() => macFromString('02:00:00:00:01')).toThrow(/invalid MAC address/);
  });
});
