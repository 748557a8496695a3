// CRC32c against published vectors and against a bit-at-a-time reference
// that shares nothing with the table-driven code.

import { describe, expect, it } from 'vitest';
import { CRC32C_INIT, crc32c, crc32cFinish, crc32cUpdate, crc32cZeros } from '../../src/wire/crc32c.js';

/** The four CRC bytes as RFC 3720 B.4 lists them (the order they are sent in) to the CRC value. */
function fromWireBytes(b: readonly number[]): number {
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}

/** Polynomial division one bit at a time: the definition, with no tables. */
function crcBitwise(buf: Uint8Array, off: number, len: number): number {
  let c = 0xffffffff;
  for (let i = off; i < off + len; i++) {
    c ^= buf[i]!;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('CRC32c (Castagnoli)', () => {
  // RFC 3720 appendix B.4, "CRC Examples"; the CRC lines there are bytes in transmission order
  it('RFC 3720 B.4: 32 bytes of zeros', () => {
    expect(crc32c(new Uint8Array(32))).toBe(fromWireBytes([0xaa, 0x36, 0x91, 0x8a]));
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
  });

  it('RFC 3720 B.4: 32 bytes of 0xff', () => {
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(fromWireBytes([0x43, 0xab, 0xa8, 0x62]));
  });

  it('RFC 3720 B.4: 32 incrementing and 32 decrementing bytes', () => {
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(fromWireBytes([0x4e, 0x79, 0xdd, 0x46]));
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(fromWireBytes([0x5c, 0xdb, 0x3f, 0x11]));
  });

  it('RFC 3720 B.4: an iSCSI SCSI Read (10) command PDU', () => {
    const pdu = Uint8Array.from([
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
      0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]);
    expect(crc32c(pdu)).toBe(fromWireBytes([0x56, 0x3a, 0x96, 0xd9]));
  });

  it('the CRC-32C catalogue check value: "123456789" -> 0xe3069283', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });

  it('empty input: the complemented preset', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('matches the bit-at-a-time definition at every offset and length (both loops, all tails)', () => {
    const buf = new Uint8Array(160);
    let x = 0x12345678;
    for (let i = 0; i < buf.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      buf[i] = x >>> 24;
    }
    for (let off = 0; off < 9; off++) {
      for (let len = 0; len <= 150; len++) {
        expect(crc32c(buf, off, len), `off ${off} len ${len}`).toBe(crcBitwise(buf, off, len));
      }
    }
  });

  it('chains: update over parts, zeros for a field counted as zero', () => {
    const buf = Uint8Array.from({ length: 100 }, (_, i) => (i * 37 + 11) & 0xff);
    let reg = crc32cUpdate(CRC32C_INIT, buf, 0, 13);
    reg = crc32cUpdate(reg, buf, 13, 50);
    reg = crc32cUpdate(reg, buf, 63, 37);
    expect(crc32cFinish(reg)).toBe(crc32c(buf));
    const z = buf.slice();
    z.fill(0, 20, 24);
    let r2 = crc32cUpdate(CRC32C_INIT, buf, 0, 20);
    r2 = crc32cZeros(r2, 4);
    r2 = crc32cUpdate(r2, buf, 24, 76);
    expect(crc32cFinish(r2)).toBe(crc32c(z));
  });
});
