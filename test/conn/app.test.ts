// ip_vs_app's sequence arithmetic (conn/app.ts): after() across the 2^32
// wrap, vs_fix_seq and vs_fix_ack_seq with a change made just before the wrap.
import { describe, expect, it } from 'vitest';
import { fixAck, fixSeq, seqAfter } from '../../src/conn/app.js';

describe('sequence offsets', () => {
  it('after() is modular', () => {
    expect(seqAfter(5, 4)).toBe(true);
    expect(seqAfter(4, 5)).toBe(false);
    expect(seqAfter(4, 4)).toBe(false);
    expect(seqAfter(0x00000010, 0xfffffff0)).toBe(true);
    expect(seqAfter(0xfffffff0, 0x00000010)).toBe(false);
  });

  it('a segment after the resized one moves by delta, one at or before it by the previous delta, across the wrap', () => {
    const init = 0xfffffff0; // the resized segment started here; it lost 3 bytes, an earlier change had added 2
    const delta = -1;
    const prev = 2;
    expect(fixSeq(0xfffffff0, init, delta, prev)).toBe(0xfffffff2); // the resized one (a retransmission): previous delta
    expect(fixSeq(0x00000020, init, delta, prev)).toBe(0x0000001f); // after it, past the wrap: delta
    expect(fixSeq(0xffffffe0, init, delta, prev)).toBe(0xffffffe2);
    // acks of the other direction are taken back: after init + delta by delta, else by the previous delta
    expect(fixAck(0x00000020, init, delta, prev)).toBe(0x00000021);
    expect(fixAck(0xffffffe0, init, delta, prev)).toBe(0xffffffde);
  });
});
