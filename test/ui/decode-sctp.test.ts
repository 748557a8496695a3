// The browser view's decoding of SCTP: its layer (ports, tag, CRC32c with
// whether it is right, the chunks by name), NAT's rewrite marked on the
// port and the CRC, and the endpoints that tie an SCTP frame to its conn.
import { describe, expect, it } from 'vitest';
import { eth, type SctpChunkOpts } from '../../src/wire/builder.js';
import { decodeFrame, diffFrames, endpointsOf } from '../../src/ui/decode.js';

const chunks: SctpChunkOpts[] = [{ type: 'SACK', cumTsnAck: 1 }, { type: 'DATA', tsn: 2, data: 'hi' }];
const received = eth({ src: '02:00:00:00:00:fe', dst: '02:00:00:00:00:01' }).ipv4({ src: '203.0.113.7', dst: '10.0.0.100', ttl: 58 })
  .sctp({ sport: 40000, dport: 5000, vtag: 0xabc, chunks }).build();
const sent = eth({ src: '02:00:00:00:00:02', dst: '02:00:00:00:10:11' }).ipv4({ src: '203.0.113.7', dst: '192.168.10.11', ttl: 57 })
  .sctp({ sport: 40000, dport: 5001, vtag: 0xabc, chunks }).build();

describe('decodeFrame: SCTP', () => {
  it('shows ports, tag, the CRC32c checked and the chunks', () => {
    const d = decodeFrame(received);
    const l = d.layers.find((x) => x.id === 'sctp')!;
    expect(l.fields.map((x) => [x.id, x.value.replace(/0x[0-9a-f]{8} \(/, 'CRC (')])).toEqual([
      ['sport', '40000'], ['dport', '5000'], ['vtag', '0x00000abc'], ['checksum', 'CRC (ok)'], ['chunks', 'SACK, DATA'],
    ]);
    const bad = received.slice();
    bad[bad.length - 1]! ^= 1;
    expect(decodeFrame(bad).layers.find((x) => x.id === 'sctp')!.fields.find((x) => x.id === 'checksum')!.value).toMatch(/\(bad\)$/);
  });

  it('NAT to the real server: destination address, port and CRC marked as the rewrite, TTL as the hop', () => {
    const d = diffFrames(decodeFrame(received), decodeFrame(sent), 'NAT', 'to-real-server');
    const marks = d.layers.flatMap((l) => l.fields.filter((x) => x.changed).map((x) => `${l.id}.${x.id}:${x.changed}`)).filter((m) => !m.startsWith('eth'));
    expect(marks.sort()).toEqual(['ip.checksum:rewrite', 'ip.dst:rewrite', 'ip.ttl:hop', 'sctp.checksum:rewrite', 'sctp.dport:rewrite']);
  });

  it('endpoints tie the frame to its SCTP conn', () => {
    expect(endpointsOf(sent)).toEqual({ proto: 'SCTP', src: '203.0.113.7', sport: 40000, dst: '192.168.10.11', dport: 5001 });
  });
});
