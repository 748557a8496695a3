import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eth, packet } from '../../src/wire/builder.js';
import {
  SCTP_BAD_CHUNK_LENGTH, SCTP_CHUNK_TRUNCATED, SCTP_NO_CHUNK, SCTP_TRUNCATED, WIRE_OK, WireError,
} from '../../src/wire/errors.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { formatFrame } from '../../src/wire/printer.js';
import {
  decodeSctpParams, emitSctp, encodeSctpParams, parseSctp, SCTP_ABORT, SCTP_COOKIE_ACK, SCTP_COOKIE_ECHO, SCTP_DATA,
  SCTP_ERROR, SCTP_HEARTBEAT, SCTP_INIT, SCTP_INIT_ACK, SCTP_SACK, SCTP_SHUTDOWN, SCTP_SHUTDOWN_ACK,
  SCTP_SHUTDOWN_COMPLETE, sctpChunkName, sctpChunkType, SctpChunkWalker, sctpCrc, sctpDataChunk, sctpHeartbeatChunk,
  sctpInitChunk, sctpLength, type SctpPacket, sctpSackChunk, sctpShutdownChunk, sctpSimpleChunk, SctpView,
} from '../../src/wire/sctp.js';

const fromHex = (h: string): Uint8Array => Uint8Array.from(h.replace(/\s+/g, '').match(/../g) ?? [], (x) => parseInt(x, 16));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * COOKIE ECHO (3-byte cookie, 1 byte of padding) followed by ABORT (T flag);
 * offsets from the start of the SCTP packet.
 */
const COOKIE_ABORT: [string, string][] = [
  ['9c40 0050', '0..3    ports 40000 > 80'],
  ['11223344', '4..7    verification tag'],
  ['00000000', '8..11   checksum (filled in below)'],
  ['0a 00 0007', '12..15  COOKIE ECHO, flags 0, length 7'],
  ['aabbcc 00', '16..19  cookie, then one padding byte'],
  ['06 01 0004', '20..23  ABORT, flags T, length 4'],
];

function cookieAbort(): Uint8Array {
  const b = fromHex(COOKIE_ABORT.map(([h]) => h).join(''));
  const v = new SctpView();
  v.wrap(b, 0, b.length);
  v.fillChecksum();
  return b;
}

function wrap(b: Uint8Array, off = 0, len = b.length - off): SctpView {
  const v = new SctpView();
  expect(v.wrap(b, off, len)).toBe(WIRE_OK);
  return v;
}

function chunkTypes(v: SctpView): { types: number[]; rc: number } {
  const w = new SctpChunkWalker();
  w.reset(v);
  const types: number[] = [];
  while (w.next()) types.push(w.type);
  return { types, rc: w.rc };
}

describe('SCTP common header and chunks, byte by byte', () => {
  const b = cookieAbort();

  it('reads the header fields at offsets 0, 2, 4 and 8', () => {
    const v = wrap(b);
    expect([v.sport, v.dport, v.vtag]).toEqual([40000, 80, 0x11223344]);
    // the checksum bytes: the CRC least significant byte first
    const crc = sctpCrc(b, 0, b.length);
    expect(Array.from(b.subarray(8, 12))).toEqual([crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24]);
    expect(v.storedCrc).toBe(crc);
    expect(v.checksum).toBe(((b[8]! << 24) | (b[9]! << 16) | (b[10]! << 8) | b[11]!) >>> 0);
    expect([v.chunksOffset, v.chunksLength, v.firstChunkType]).toEqual([12, 12, SCTP_COOKIE_ECHO]);
  });

  it('walks the chunks: type, flags, length, value and padding', () => {
    const w = new SctpChunkWalker();
    w.reset(wrap(b));
    expect(w.next()).toBe(true);
    expect([w.off, w.type, w.flags, w.length, w.paddedLength, w.valueOffset, w.valueLength])
      .toEqual([12, SCTP_COOKIE_ECHO, 0, 7, 8, 16, 3]);
    expect(hex(b.subarray(w.valueOffset, w.valueOffset + w.valueLength))).toBe('aabbcc');
    expect(w.next()).toBe(true);
    expect([w.off, w.type, w.flags, w.length, w.paddedLength, w.valueLength]).toEqual([20, SCTP_ABORT, 1, 4, 4, 0]);
    expect([w.next(), w.rc, w.count]).toEqual([false, WIRE_OK, 2]);
    expect(w.next()).toBe(false); // stays stopped
  });

  it('a COOKIE ECHO bundled before an ABORT counts as the ABORT for IPVS (set_sctp_state)', () => {
    expect(wrap(b).ipvsChunkType()).toBe(SCTP_ABORT);
  });

  it('changing one port recomputes the CRC over the whole packet; the same port changes nothing', () => {
    const f = cookieAbort();
    const v = wrap(f);
    v.rewriteDport(8080);
    expect([v.dport, v.crcOk()]).toEqual([8080, true]);
    v.rewriteSport(1234);
    expect([v.sport, v.crcOk()]).toEqual([1234, true]);
    // a damaged packet whose port already has the value keeps its bad CRC, as in the kernel
    f[17] ^= 0xff;
    expect(v.crcOk()).toBe(false);
    v.rewriteDport(8080);
    expect(v.crcOk()).toBe(false);
    v.rewriteDport(80);
    expect(v.crcOk()).toBe(true);
  });

  it('verifies without writing, and a change anywhere (padding included) breaks it', () => {
    const f = cookieAbort();
    const before = hex(f);
    expect(wrap(f).crcOk()).toBe(true);
    expect(hex(f)).toBe(before);
    for (const at of [0, 4, 12, 19, 23]) {
      const g = f.slice();
      g[at] ^= 0x01;
      expect(wrap(g).crcOk(), `byte ${at}`).toBe(false);
    }
  });
});

describe('the chunk type IPVS acts on', () => {
  const build = (...chunks: Parameters<typeof sctpSimpleChunk>[]): SctpView => {
    const p: SctpPacket = { sport: 1, dport: 2, vtag: 3, chunks: chunks.map((c) => sctpSimpleChunk(...c)) };
    const b = new Uint8Array(sctpLength(p));
    emitSctp(p, b, 0);
    return wrap(b);
  };
  it('is the first chunk, except COOKIE ECHO / COOKIE ACK directly followed by ABORT', () => {
    const u = new Uint8Array(0);
    expect(build([SCTP_COOKIE_ACK, u], [SCTP_ABORT, u]).ipvsChunkType()).toBe(SCTP_ABORT);
    expect(build([SCTP_COOKIE_ECHO, Uint8Array.of(1, 2, 3, 4, 5)], [SCTP_ABORT, u]).ipvsChunkType()).toBe(SCTP_ABORT);
    expect(build([SCTP_COOKIE_ECHO, Uint8Array.of(1)], [SCTP_ERROR, u], [SCTP_ABORT, u]).ipvsChunkType()).toBe(SCTP_COOKIE_ECHO);
    expect(build([SCTP_SHUTDOWN_ACK, u], [SCTP_ABORT, u]).ipvsChunkType()).toBe(SCTP_SHUTDOWN_ACK);
    expect(build([SCTP_SHUTDOWN_COMPLETE, u, 1]).ipvsChunkType()).toBe(SCTP_SHUTDOWN_COMPLETE);
    expect(build([SCTP_COOKIE_ACK, u]).ipvsChunkType()).toBe(SCTP_COOKIE_ACK);
  });

  it('reads only what is there: no chunk header -> -1; a cut second header or a COOKIE ECHO length < 4 -> the first', () => {
    expect(wrap(new Uint8Array(12)).ipvsChunkType()).toBe(-1);
    expect(wrap(new Uint8Array(15)).firstChunkType).toBe(-1);
    const cut = fromHex('00010002 00000003 00000000 0a000004 0600');
    expect(wrap(cut).ipvsChunkType()).toBe(SCTP_COOKIE_ECHO);
    const short = fromHex('00010002 00000003 00000000 0a000002 06000004');
    expect(wrap(short).ipvsChunkType()).toBe(SCTP_COOKIE_ECHO);
  });
});

describe('truncation and bad lengths: named codes, never a throw', () => {
  const frame = packet().ipv4({ src: '10.0.0.1', dst: '10.0.0.2' }).sctp({
    sport: 5000, dport: 80, vtag: 7, chunks: [
      { type: 'COOKIE ECHO', cookie: [1, 2, 3, 4, 5, 6, 7] },
      { type: 'DATA', tsn: 1, data: 'abc' },
    ],
  }).build();
  const s = frame.subarray(20);

  it('header: SCTP_TRUNCATED under 12 bytes', () => {
    const v = new SctpView();
    for (let n = 0; n < 12; n++) expect(v.wrap(s, 0, n), `len ${n}`).toBe(SCTP_TRUNCATED);
    expect(v.wrap(s, 0, 12)).toBe(WIRE_OK);
    expect(v.wrap(s, 1, s.length)).toBe(SCTP_TRUNCATED); // past the buffer
  });

  it('chunks: every cut point is SCTP_NO_CHUNK, SCTP_CHUNK_TRUNCATED or a clean end on a chunk boundary', () => {
    // COOKIE ECHO 11 bytes -> 12 padded, at 12..23; DATA 19 bytes -> 20 padded, at 24..43
    expect(s.length).toBe(44);
    for (let n = 12; n <= s.length; n++) {
      const { types, rc } = chunkTypes(wrap(s, 0, n));
      if (n === 12) expect([types, rc]).toEqual([[], SCTP_NO_CHUNK]);
      else if (n < 24) expect([types, rc], `len ${n}`).toEqual([[], SCTP_CHUNK_TRUNCATED]);
      else if (n === 24) expect([types, rc]).toEqual([[SCTP_COOKIE_ECHO], WIRE_OK]);
      else if (n < 44) expect([types, rc], `len ${n}`).toEqual([[SCTP_COOKIE_ECHO], SCTP_CHUNK_TRUNCATED]);
      else expect([types, rc]).toEqual([[SCTP_COOKIE_ECHO, SCTP_DATA], WIRE_OK]);
      expect(() => wrap(s, 0, n).ipvsChunkType()).not.toThrow();
    }
  });

  it('a length under 4, or under the fixed part of DATA (16), INIT (20), SACK (16), SHUTDOWN (8)', () => {
    const cases: [number, number][] = [[9, 3], [SCTP_DATA, 15], [SCTP_INIT, 19], [SCTP_INIT_ACK, 19], [SCTP_SACK, 15], [SCTP_SHUTDOWN, 7]];
    for (const [type, len] of cases) {
      const b = new Uint8Array(12 + 24);
      b[12] = type;
      b[14] = len >>> 8;
      b[15] = len & 0xff;
      expect(chunkTypes(wrap(b)).rc, `type ${type} len ${len}`).toBe(SCTP_BAD_CHUNK_LENGTH);
      b[15] = len + 1;
      expect(chunkTypes(wrap(b, 0, 12 + ((len + 1 + 3) & ~3))).rc, `type ${type} len ${len + 1}`).toBe(WIRE_OK);
    }
  });

  it('parseSctp throws WireError with the code; random bytes never make the views throw', () => {
    expect(() => parseSctp(s, 0, 30)).toThrow(WireError);
    try { parseSctp(s, 0, 5); } catch (e) { expect((e as WireError).code).toBe(SCTP_TRUNCATED); }
    let x = 99;
    const w = new SctpChunkWalker();
    for (let k = 0; k < 2000; k++) {
      const n = 12 + (k % 60);
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; b[i] = x >>> 24; }
      const v = wrap(b);
      let inside = true;
      expect(() => {
        v.ipvsChunkType();
        v.crcOk();
        w.reset(v);
        // every accepted chunk, padding included, lies inside the packet
        while (w.next()) inside &&= w.off + w.paddedLength <= n && w.valueLength >= 0;
      }).not.toThrow();
      expect(inside).toBe(true);
      expect(w.rc === WIRE_OK || w.rc === SCTP_CHUNK_TRUNCATED || w.rc === SCTP_BAD_CHUNK_LENGTH || w.rc === SCTP_NO_CHUNK).toBe(true);
    }
  });
});

describe('plain form: emit and parse', () => {
  it('round-trips every chunk kind, parameters padded between but not after the last', () => {
    const p: SctpPacket = {
      sport: 36412, dport: 36412, vtag: 0xdeadbeef, chunks: [
        sctpInitChunk({ initTag: 1, aRwnd: 2, outStreams: 3, inStreams: 4, initialTsn: 5,
          params: [{ type: 12, value: Uint8Array.of(0, 5) }, { type: 7, value: Uint8Array.of(9, 9, 9) }] }, true),
        sctpDataChunk({ tsn: 10, streamId: 11, streamSeq: 12, ppid: 60, data: Uint8Array.of(1, 2, 3, 4, 5, 6) }),
        sctpSackChunk({ cumTsnAck: 9, aRwnd: 1000, gaps: [[2, 3]], dups: [7] }),
        sctpHeartbeatChunk(Uint8Array.of(0xaa, 0xbb)),
        sctpShutdownChunk(77),
        sctpSimpleChunk(SCTP_SHUTDOWN_COMPLETE, undefined, 1),
      ],
    };
    const n = sctpLength(p);
    const b = new Uint8Array(n + 4).fill(0xee);
    expect(emitSctp(p, b, 2)).toBe(n);
    const q = parseSctp(b, 2, n);
    expect({ ...q, checksum: undefined }).toEqual({ ...p, checksum: undefined });
    expect(wrap(b, 2, n).crcOk()).toBe(true);
    // INIT ACK value: 16 fixed bytes + param 6 (padded to 8) + param 7 unpadded
    expect(p.chunks[0]!.value.length).toBe(16 + 8 + 7);
    expect(decodeSctpParams(p.chunks[0]!.value, 16, p.chunks[0]!.value.length - 16).map((x) => x.type)).toEqual([12, 7]);
    expect(hex(encodeSctpParams([{ type: 1, value: Uint8Array.of(5) }]))).toBe('0001000505');
  });

  it('a given checksum is written as given (big-endian read), else the CRC', () => {
    const p: SctpPacket = { sport: 1, dport: 2, vtag: 3, checksum: 0x01020304, chunks: [sctpSimpleChunk(SCTP_COOKIE_ACK)] };
    const b = new Uint8Array(sctpLength(p));
    emitSctp(p, b, 0);
    expect(hex(b.subarray(8, 12))).toBe('01020304');
    expect(wrap(b).crcOk()).toBe(false);
  });

  it('names chunk types both ways', () => {
    expect([sctpChunkName(SCTP_INIT_ACK), sctpChunkName(SCTP_HEARTBEAT), sctpChunkName(200)])
      .toEqual(['INIT ACK', 'HEARTBEAT', 'chunk-200']);
    expect([sctpChunkType('init_ack'), sctpChunkType('COOKIE ECHO'), sctpChunkType('shutdown-complete'), sctpChunkType('x')])
      .toEqual([SCTP_INIT_ACK, SCTP_COOKIE_ECHO, SCTP_SHUTDOWN_COMPLETE, -1]);
  });
});

describe('against scapy', () => {
  const fx = (n: string): { hex: string; fields: { layer: string; field: string; value: number }[] } =>
    JSON.parse(readFileSync(join(import.meta.dirname, '../../fixtures/wire', `${n}.json`), 'utf8'));
  for (const name of ['sctp-init', 'sctp-data']) {
    it(`${name}: scapy's checksum field is our CRC32c, stored least significant byte first`, () => {
      const f = fx(name);
      const frame = fromHex(f.hex);
      const ip = new Ipv4View();
      expect(ip.wrap(frame, 14, frame.length - 14)).toBe(WIRE_OK);
      const v = wrap(frame, ip.payloadOffset, ip.payloadLength);
      const scapySum = f.fields.find((x) => x.layer === 'SCTP' && x.field === 'chksum')!.value;
      const crc = v.expectedCrc();
      const swapped = (((crc & 0xff) << 24) | (((crc >>> 8) & 0xff) << 16) | (((crc >>> 16) & 0xff) << 8) | (crc >>> 24)) >>> 0;
      expect(scapySum).toBe(swapped);
      expect(v.crcOk()).toBe(true);
    });
  }
});

describe('printer', () => {
  const A = { src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' };
  it('names each chunk, shows DATA / SACK / SHUTDOWN fields and the CRC verdict', () => {
    const f = eth(A).ipv4({ src: '10.0.0.1', dst: '10.0.0.2' }).sctp({
      sport: 5000, dport: 80, vtag: 0x42, chunks: [
        { type: 'SACK', cumTsnAck: 5, aRwnd: 4096, gaps: [[1, 2]] },
        { type: 'DATA', tsn: 6, streamId: 1, streamSeq: 2, ppid: 3, data: 'hi' },
        { type: 'SHUTDOWN', cumTsnAck: 9 },
        { type: 'ABORT', flags: 1 },
      ],
    }).build();
    expect(formatFrame(f)[2]).toBe('sctp 5000 > 80 vtag 0x00000042 [SACK cum-tsn 5 rwnd 4096 gaps 1 dups 0] ' +
      '[DATA flags 0x3 tsn 6 sid 1 ssn 2 ppid 3 len 2] [SHUTDOWN cum-tsn 9] [ABORT flags 0x1] crc32c ok');
    const bad = eth(A).ipv4({ src: '10.0.0.1', dst: '10.0.0.2' })
      .sctp({ sport: 1, dport: 2, checksum: 0, chunks: [{ type: 'COOKIE ACK' }] }).build();
    expect(formatFrame(bad)[2]).toMatch(/^sctp 1 > 2 vtag 0x00000000 \[COOKIE ACK\] crc32c BAD \(expected 0x[0-9a-f]{8}\)$/);
    const cut = eth(A).ipv4({ src: '10.0.0.1', dst: '10.0.0.2' })
      .sctp({ sport: 1, dport: 2, chunks: [{ type: 'DATA', tsn: 1, data: 'abc', length: 40 }] }).build();
    expect(formatFrame(cut)[2]).toMatch(/\[SCTP_CHUNK_TRUNCATED\] crc32c ok$/);
  });
});
