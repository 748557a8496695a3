// The dissector on SCTP (what `tapvs test` reports and the decision log name):
// the common header's fields under Wireshark's names, each chunk's type,
// flags, length and value, the summary line with every chunk's name, a quoted
// header cut after the checksum, and the CRC counted as changed by --ignore
// of any field inside the SCTP layer (not of the IP addresses: no pseudo-header).
import { describe, expect, it } from 'vitest';
import { eth } from '../../src/wire/builder.js';
import { dissectFrame, frameSummary, ignoredFields, isKnownFieldMask } from '../../src/wire/dissect.js';

const frame = eth({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' })
  .ipv4({ src: '10.0.0.1', dst: '10.0.0.2', ttl: 64 })
  .sctp({ sport: 40000, dport: 5000, vtag: 0x01020304, chunks: [{ type: 'SACK', cumTsnAck: 9 }, { type: 'DATA', tsn: 10, data: 'abc' }] })
  .build();

describe('dissect: SCTP', () => {
  it('names the header fields and every chunk', () => {
    const d = dissectFrame(frame);
    const f = d.fields.filter((x) => x.name.startsWith('sctp.')).map((x) => `${x.name}@${x.off - 34}+${x.size}=${x.text}`);
    expect(f.slice(0, 4)).toEqual(['sctp.srcport@0+2=40000', 'sctp.dstport@2+2=5000', 'sctp.verification_tag@4+4=0x01020304', expect.stringMatching(/^sctp\.checksum@8\+4=0x[0-9a-f]{8}$/)]);
    expect(f.slice(4)).toEqual([
      'sctp.chunk_type@12+1=3 (SACK)', 'sctp.chunk_flags@13+1=0x00', 'sctp.chunk_length@14+2=16', 'sctp.chunk_value@16+12=12 bytes 000000090000ffff00000000',
      'sctp.chunk_type@28+1=0 (DATA)', 'sctp.chunk_flags@29+1=0x03', 'sctp.chunk_length@30+2=19', expect.stringMatching(/^sctp\.chunk_value@32\+15=15 bytes /),
      'sctp.chunk_padding@47+1=1 bytes 00',
    ]);
    expect(frameSummary(frame)).toBe('SCTP 10.0.0.1:40000 > 10.0.0.2:5000 [SACK, DATA]');
    expect(isKnownFieldMask('sctp.verification_tag')).toBe(true);
  });

  it('the CRC goes with a change inside the SCTP layer, not with one of the IP addresses', () => {
    const d = dissectFrame(frame);
    const names = (masks: string[]) => [...ignoredFields(d, masks)].map((i) => d.fields[i]!.name).filter((n) => n.startsWith('sctp.') || n.startsWith('ip.'));
    expect(names(['sctp.dstport'])).toEqual(['sctp.dstport', 'sctp.checksum']);
    expect(names(['ip.dst']).sort()).toEqual(['ip.checksum', 'ip.dst']);
  });

  it('a quoted SCTP header in an ICMP error: the 8 bytes quoted, no chunks', () => {
    const err = eth({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02' }).ipv4({ src: '10.0.0.9', dst: '10.0.0.1' })
      .icmp({ type: 3, code: 4, mtu: 1400, quote: 28 }).payload(frame.subarray(14)).build();
    const names = dissectFrame(err).fields.map((x) => x.name).filter((n) => n.includes('sctp'));
    expect(names).toEqual(['inner.sctp.srcport', 'inner.sctp.dstport', 'inner.sctp.verification_tag']);
    expect(frameSummary(err)).toBe('ICMP 10.0.0.9 > 10.0.0.1 type 3 code 4 mtu 1400 about SCTP 10.0.0.1:40000 > 10.0.0.2:5000');
  });
});
