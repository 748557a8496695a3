// The virtio_net_hdr codec, the fast checksum sum, and finishing a NEEDS_CSUM
// checksum as the kernel would.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { completeChecksum, sumBytesFast, tcp4PartialCsum } from '../../src/io/vnet.js';
import {
  VNET_F_DATA_VALID, VNET_F_NEEDS_CSUM, VNET_GSO_ECN, VNET_GSO_NONE, VNET_GSO_TCPV4, VNET_HDR_LEN,
  newVnetHdr, readVnetHdr, writeVnetHdr, writeZeroVnetHdr,
} from '../../src/wire/virtio-net.js';
import { PacketBuilder } from '../../src/wire/builder.js';
import { csumFold, sumBytes } from '../../src/wire/checksum.js';

function hex(s: string): Uint8Array {
  const clean = s.replace(/#.*$/gm, '').replace(/\s+/g, '');
  return Uint8Array.from(clean.match(/../g)!.map((b) => parseInt(b, 16)));
}

// What the tun driver hands out before a 64 KB TCP super-frame of a sender with
// timestamps: Ethernet 14 + IPv4 20 + TCP 32 = 66 bytes of headers.
const GSO_HDR = hex(`
  01          # flags: NEEDS_CSUM
  01          # gso_type: TCPV4
  42 00       # hdr_len 66 (little-endian)
  a8 05       # gso_size 1448
  22 00       # csum_start 34: the TCP header
  10 00       # csum_offset 16: TCP's checksum field
`);

describe('virtio_net_hdr codec', () => {
  it('decodes the header of a TCP super-frame', () => {
    const buf = new Uint8Array(3 + VNET_HDR_LEN);
    buf.set(GSO_HDR, 3);
    const h = newVnetHdr();
    readVnetHdr(buf, 3, h);
    expect(h).toEqual({ flags: VNET_F_NEEDS_CSUM, gsoType: VNET_GSO_TCPV4, hdrLen: 66, gsoSize: 1448, csumStart: 34, csumOffset: 16 });
  });

  it('encodes byte for byte what it decodes, at any offset', () => {
    const h = { flags: VNET_F_NEEDS_CSUM, gsoType: VNET_GSO_TCPV4, hdrLen: 66, gsoSize: 1448, csumStart: 34, csumOffset: 16 };
    const buf = new Uint8Array(5 + VNET_HDR_LEN).fill(0xee);
    writeVnetHdr(buf, 5, h);
    expect(Array.from(buf.subarray(5))).toEqual(Array.from(GSO_HDR));
    // nothing before the header is touched
    expect(Array.from(buf.subarray(0, 5))).toEqual([0xee, 0xee, 0xee, 0xee, 0xee]);
  });

  it('keeps the ECN bit of gso_type and 16-bit fields above 255', () => {
    const bytes = hex(`
      02          # flags: DATA_VALID
      81          # gso_type: TCPV4 | ECN
      00 01       # hdr_len 256
      34 12       # gso_size 0x1234
      ff ff       # csum_start 65535
      01 02       # csum_offset 0x0201
    `);
    const h = newVnetHdr();
    readVnetHdr(bytes, 0, h);
    expect(h).toEqual({ flags: VNET_F_DATA_VALID, gsoType: VNET_GSO_TCPV4 | VNET_GSO_ECN, hdrLen: 256, gsoSize: 0x1234, csumStart: 0xffff, csumOffset: 0x0201 });
    const back = new Uint8Array(VNET_HDR_LEN);
    writeVnetHdr(back, 0, h);
    expect(Array.from(back)).toEqual(Array.from(bytes));
  });

  it('a zero header is ten zero bytes and decodes as "nothing to do"', () => {
    const buf = new Uint8Array(12).fill(0x5a);
    writeZeroVnetHdr(buf, 1);
    expect(Array.from(buf)).toEqual([0x5a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x5a]);
    const h = newVnetHdr();
    readVnetHdr(buf, 1, h);
    expect(h.flags).toBe(0);
    expect(h.gsoType).toBe(VNET_GSO_NONE);
  });
});

describe('sumBytesFast', () => {
  it('folds to the same sum as sumBytes for any range', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.nat(7), fc.nat(40),
      (data, lead, acc0) => {
        const buf = new Uint8Array(lead + data.length);
        buf.set(data, lead);
        expect(csumFold(sumBytesFast(buf, lead, data.length, acc0))).toBe(csumFold(sumBytes(buf, lead, data.length, acc0)));
      },
    ), { numRuns: 300 });
  });

  it('folds to the same sum on views that start anywhere in their ArrayBuffer', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 2000 }), fc.nat(3), fc.nat(9), fc.nat(40),
      (data, shift, lead, acc0) => {
        const buf = new Uint8Array(new ArrayBuffer(shift + lead + data.length + 3), shift, lead + data.length);
        buf.set(data, lead);
        expect(csumFold(sumBytesFast(buf, lead, data.length, acc0))).toBe(csumFold(sumBytes(buf, lead, data.length, acc0)));
      },
    ), { numRuns: 300 });
  });

  it('is exact on a 64 KB range of 0xff bytes (the largest sum)', () => {
    const buf = new Uint8Array(65534).fill(0xff);
    expect(csumFold(sumBytesFast(buf, 0, buf.length))).toBe(csumFold(sumBytes(buf, 0, buf.length)));
    expect(csumFold(sumBytesFast(buf, 0, buf.length))).toBe(0xffff);
  });
});

/** A frame as the kernel hands it out with NEEDS_CSUM: the L4 checksum field holds only the pseudo-header part. */
function asPartial(frame: Uint8Array, fieldAt: number, partial: number): Uint8Array {
  const b = frame.slice();
  b[fieldAt] = partial >>> 8;
  b[fieldAt + 1] = partial & 0xff;
  return b;
}

describe('completeChecksum (NEEDS_CSUM)', () => {
  const payload = Array.from({ length: 3001 }, (_, i) => (i * 13 + 7) & 0xff);

  it('turns a partial TCP checksum into the one the builder computes', () => {
    const full = new PacketBuilder().eth({ src: '02:00:00:00:00:0a', dst: '02:00:00:00:00:01' })
      .ipv4({ src: '10.0.0.2', dst: '10.0.0.100', id: 77, flags: 'DF' })
      .tcp({ sport: 40000, dport: 80, flags: 'PA', seq: 123456, ack: 99, payload, options: [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2] })
      .build();
    const tcpLen = full.length - 34;
    const partial = tcp4PartialCsum(0x0a000002, 0x0a000064, tcpLen);
    const b = asPartial(full, 34 + 16, partial);
    expect(Array.from(b.subarray(50, 52))).not.toEqual(Array.from(full.subarray(50, 52)));
    // at an offset inside a larger buffer, as a port receives it
    const buf = new Uint8Array(74 + b.length + 8);
    buf.set(b, 74);
    expect(completeChecksum(buf, 74, b.length, 34, 16)).toBe(true);
    expect(Array.from(buf.subarray(74, 74 + b.length))).toEqual(Array.from(full));
  });

  it('does the same for UDP, whose field sits at offset 6', () => {
    const full = new PacketBuilder().eth().ipv4({ src: '192.168.10.11', dst: '10.0.0.2' })
      .udp({ sport: 7, dport: 50000, payload: 'rs1:ping-a' }).build();
    const udpLen = full.length - 34;
    // the UDP pseudo-header part: protocol 17
    const partial = csumFold(((0xc0a8 + 0x0a0b + 0x0a00 + 0x0002) + 17 + udpLen));
    const b = asPartial(full, 34 + 6, partial);
    expect(completeChecksum(b, 0, b.length, 34, 6)).toBe(true);
    expect(Array.from(b)).toEqual(Array.from(full));
  });

  it('refuses offsets outside the frame and writes nothing', () => {
    const full = new PacketBuilder().eth().ipv4({ src: '10.0.0.2', dst: '10.0.0.100' }).tcp({ sport: 1, dport: 2 }).build();
    const b = full.slice();
    expect(completeChecksum(b, 0, b.length, 34, b.length - 34 - 1)).toBe(false);
    expect(completeChecksum(b, 0, b.length, b.length, 0)).toBe(false);
    expect(Array.from(b)).toEqual(Array.from(full));
  });

  it('completing the pseudo-header part of any TCP segment gives the checksum the builder computes', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.uint8Array({ minLength: 0, maxLength: 200 }), (src, dst, data) => {
      const full = new PacketBuilder().eth().ipv4({ src, dst }).tcp({ sport: 1000, dport: 2000, payload: data }).build();
      const b = asPartial(full, 50, tcp4PartialCsum(src, dst, full.length - 34));
      expect(completeChecksum(b, 0, b.length, 34, 16)).toBe(true);
      // ones' complement: 0 and 0xffff both verify; the kernel writes 0xffff for 0
      const want = ((full[50]! << 8) | full[51]!) || 0xffff;
      expect((b[50]! << 8) | b[51]!).toBe(want);
    }), { numRuns: 200 });
  });
});
