// Wireshark's dissectors as a second opinion on the SCTP, GRE and GUE frames
// tapvs builds: none may be malformed, and every checksum tshark can check
// (SCTP CRC32c, GRE, UDP, inner IPv4 and TCP) must be good. tshark has no GUE
// dissector, so for GUE it checks the outer UDP only. tshark is required
// (scripts/setup.sh installs it); these tests fail, never skip, without it.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIp } from '../../src/wire/addr.js';
import { eth, packet } from '../../src/wire/builder.js';
import { WIRE_OK } from '../../src/wire/errors.js';
import { parseIp6 } from '../../src/wire/addr6.js';
import { encapGre, encapGre6, greEncapLength, greEncapLength6 } from '../../src/wire/gre.js';
import { encapGue, encapGue6, gueEncapLength, gueEncapLength6, type GueTunnel, type GueTunnel6 } from '../../src/wire/gue.js';
import { SCTP_PARAM_STATE_COOKIE } from '../../src/wire/sctp.js';

const tmp = mkdtempSync(join(tmpdir(), 'tapvs-tunnel-tshark-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

beforeAll(() => {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('tshark is not installed or does not run: install it with scripts/setup.sh (Debian package tshark); these tests need it');
  }
});

const MACS = { src: '02:00:00:00:00:0a', dst: '02:00:00:00:00:0b' };
const C = { src: '10.0.0.1', dst: '10.0.0.100' };
const DIP = parseIp('192.168.1.1');
const RIP = parseIp('192.168.1.11');

/** A classic pcap (microseconds, Ethernet) of the frames, one second apart. */
function pcap(frames: Uint8Array[]): Uint8Array {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(262144, 16);
  h.writeUInt32LE(1, 20);
  parts.push(h);
  frames.forEach((f, i) => {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(1700000000 + i, 0);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    parts.push(r, Buffer.from(f));
  });
  return Buffer.concat(parts);
}

const FIELDS = [
  'frame.protocols', '_ws.malformed', '_ws.expert.message', 'sctp.chunk_type', 'sctp.checksum.status',
  'gre.checksum.status', 'udp.checksum.status', 'ip.checksum.status', 'tcp.checksum.status', 'gre.proto',
] as const;
type Row = Record<(typeof FIELDS)[number], string>;

function tshark(frames: Uint8Array[], name: string): Row[] {
  const path = join(tmp, `${name}.pcap`);
  writeFileSync(path, pcap(frames));
  const out = execFileSync('tshark', [
    '-r', path, '-o', 'sctp.checksum:crc-32c', '-o', 'udp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE',
    '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=,', '-E', 'occurrence=a',
    ...FIELDS.flatMap((f) => ['-e', f]),
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.trimEnd().split('\n').map((line) => {
    const cols = line.split('\t');
    return Object.fromEntries(FIELDS.map((f, i) => [f, cols[i] ?? ''])) as Row;
  });
}

/** Statuses of one field over the frame: '0' bad, '1' good, '2' not checked, '3' not present. */
const statuses = (s: string): string[] => (s === '' ? [] : s.split(','));

function expectClean(r: Row): void {
  expect(r['_ws.malformed'], r['frame.protocols']).toBe('');
  expect(r['_ws.expert.message']).not.toMatch(/malformed|incorrect|bad/i);
}

describe('tshark dissects built SCTP frames with a good CRC32c', () => {
  const sctp = (chunks: NonNullable<Parameters<ReturnType<typeof packet>['sctp']>[0]['chunks']>, vtag = 0x01020304) =>
    eth(MACS).ipv4(C).sctp({ sport: 40000, dport: 80, vtag, chunks }).build();
  const cases: [string, Uint8Array, string][] = [
    ['INIT', sctp([{ type: 'INIT', initTag: 0x11223344, aRwnd: 106496, outStreams: 10, inStreams: 65535, initialTsn: 1,
      params: [{ type: 5, value: [10, 0, 0, 1] }, { type: 0xc000, value: [] }] }], 0), '1'],
    ['INIT ACK', sctp([{ type: 'INIT ACK', initTag: 0x55667788, initialTsn: 9,
      params: [{ type: SCTP_PARAM_STATE_COOKIE, value: [1, 2, 3, 4, 5, 6, 7] }] }]), '2'],
    ['COOKIE ECHO + DATA', sctp([{ type: 'COOKIE ECHO', cookie: [1, 2, 3, 4, 5, 6, 7] },
      { type: 'DATA', tsn: 1, streamId: 0, streamSeq: 0, ppid: 0, data: 'hello' }]), '10,0'],
    ['COOKIE ACK', sctp([{ type: 'COOKIE ACK' }]), '11'],
    ['SACK', sctp([{ type: 'SACK', cumTsnAck: 1, aRwnd: 4096, gaps: [[2, 3]], dups: [5] }]), '3'],
    ['HEARTBEAT', sctp([{ type: 'HEARTBEAT', info: [9, 8, 7, 6, 5] }]), '4'],
    ['HEARTBEAT ACK', sctp([{ type: 'HEARTBEAT ACK', info: [9, 8, 7, 6, 5] }]), '5'],
    ['SHUTDOWN', sctp([{ type: 'SHUTDOWN', cumTsnAck: 7 }]), '7'],
    ['SHUTDOWN ACK', sctp([{ type: 'SHUTDOWN ACK' }]), '8'],
    ['SHUTDOWN COMPLETE (T)', sctp([{ type: 'SHUTDOWN COMPLETE', flags: 1 }]), '14'],
    ['ABORT (T)', sctp([{ type: 'ABORT', flags: 1 }]), '6'],
    ['ERROR', sctp([{ type: 'ERROR', value: [0, 1, 0, 8, 0, 5, 0, 0] }]), '9'],
  ];

  it('every chunk kind: no malformed, chunk types as built, CRC32c good', () => {
    const rows = tshark(cases.map((c) => c[1]), 'sctp');
    expect(rows).toHaveLength(cases.length);
    rows.forEach((r, i) => {
      const [what, , types] = cases[i]!;
      expect(r['frame.protocols'], what).toBe('eth:ethertype:ip:sctp');
      expectClean(r);
      expect(r['sctp.chunk_type'], what).toBe(types);
      expect(r['sctp.checksum.status'], what).toBe('1');
    });
  });

  it('control: tshark does check the CRC (a wrong one is reported bad)', () => {
    const bad = eth(MACS).ipv4(C).sctp({ sport: 1, dport: 2, checksum: 0x12345678, chunks: [{ type: 'COOKIE ACK' }] }).build();
    expect(tshark([bad], 'sctp-bad')[0]!['sctp.checksum.status']).toBe('0');
  });
});

describe('tshark dissects frames from encapGre and encapGue', () => {
  const innerTcp = (): Uint8Array => packet()
    .ipv4({ src: '10.0.0.1', dst: '10.0.0.100', id: 3, ttl: 63, flags: 'DF' })
    .tcp({ sport: 40000, dport: 80, flags: 'PA', seq: 100, ack: 200, payload: 'GET / HTTP/1.0\r\n\r\n' })
    .build();

  /** Ethernet header + headroom + the inner packet, then the encapsulation run in place. */
  function frame(head: number, inner: Uint8Array, encap: (buf: Uint8Array, off: number) => number, ethertype = 0x0800): Uint8Array {
    const f = new Uint8Array(14 + head + inner.length);
    f.set(eth(MACS).build().subarray(0, 12), 0);
    f[12] = ethertype >>> 8;
    f[13] = ethertype & 0xff;
    f.set(inner, 14 + head);
    expect(encap(f, 14 + head)).toBe(WIRE_OK);
    return f;
  }

  it('GRE --tun-nocsum and --tun-csum: inner IPv4 and TCP reached, GRE checksum good', () => {
    const frames = [false, true].map((csum) => {
      const i = innerTcp();
      return frame(greEncapLength(csum), i, (buf, off) => encapGre(buf, off, i.length, { src: DIP, dst: RIP, csum }, 7));
    });
    const rows = tshark(frames, 'gre');
    for (const [k, r] of rows.entries()) {
      expect(r['frame.protocols']).toMatch(/^eth:ethertype:ip:gre:ip:tcp(:http)?$/);
      expectClean(r);
      expect(r['gre.proto']).toBe('0x0800');
      expect(r['gre.checksum.status']).toBe(k === 0 ? '' : '1');
      expect(statuses(r['ip.checksum.status'])).toEqual(['1', '1']);
      expect(r['tcp.checksum.status']).toBe('1');
    }
  });

  it('GUE --tun-nocsum, --tun-csum, --tun-remcsum: UDP to the tun-port, checksum absent or good', () => {
    const tun = (o: Partial<GueTunnel>): GueTunnel => ({ src: DIP, dst: RIP, dport: 6080, csum: false, remcsum: false, ...o });
    const specs: [GueTunnel, number][] = [[tun({}), -1], [tun({ csum: true }), -1], [tun({ remcsum: true }), 20]];
    const frames = specs.map(([t, start]) => {
      const i = innerTcp();
      return frame(gueEncapLength(t, start), i, (buf, off) => encapGue(buf, off, i.length, t, 8, start, 16));
    });
    const rows = tshark(frames, 'gue');
    rows.forEach((r, k) => {
      expect(r['frame.protocols']).toBe('eth:ethertype:ip:udp:data');
      expectClean(r);
      expect(r['ip.checksum.status']).toBe('1');
      // a 0 field over IPv4 is "not present" (3)
      expect(r['udp.checksum.status']).toBe(k === 0 ? '3' : '1');
    });
  });

  // towards IPv6 real servers: the outer header is IPv6 (next header 47 / 17), the inner an IPv6 client packet
  const DIP6 = parseIp6('2001:db8:11::1');
  const RIP6 = parseIp6('2001:db8:11::11');
  const innerTcp6 = (): Uint8Array => packet()
    .ipv6({ src: '2001:db8::1', dst: '2001:db8:10::100', hopLimit: 63 })
    .tcp({ sport: 40000, dport: 80, flags: 'PA', seq: 100, ack: 200, payload: 'GET / HTTP/1.0\r\n\r\n' })
    .build();

  it('GRE over IPv6, --tun-nocsum and --tun-csum: inner IPv6 and TCP reached, GRE checksum good', () => {
    const frames = [false, true].map((csum) => {
      const i = innerTcp6();
      return frame(greEncapLength6(csum), i, (buf, off) => encapGre6(buf, off, i.length, csum, DIP6, 0, RIP6, 0), 0x86dd);
    });
    const rows = tshark(frames, 'gre6');
    for (const [k, r] of rows.entries()) {
      expect(r['frame.protocols']).toMatch(/^eth:ethertype:ipv6:gre:ipv6:tcp(:http)?$/);
      expectClean(r);
      expect(r['gre.proto']).toBe('0x86dd');
      expect(r['gre.checksum.status']).toBe(k === 0 ? '' : '1');
      expect(r['tcp.checksum.status']).toBe('1');
    }
  });

  it('GUE over IPv6, --tun-csum and --tun-nocsum: UDP to the tun-port, checksum good or the 0 the kernel sends', () => {
    const specs: GueTunnel6[] = [{ dport: 6080, csum: true, remcsum: false }, { dport: 6080, csum: false, remcsum: false }];
    const frames = specs.map((t) => {
      const i = innerTcp6();
      return frame(gueEncapLength6(t), i, (buf, off) => encapGue6(buf, off, i.length, t, DIP6, 0, RIP6, 0), 0x86dd);
    });
    const rows = tshark(frames, 'gue6');
    expect(rows[0]!['frame.protocols']).toBe('eth:ethertype:ipv6:udp:data');
    expectClean(rows[0]!);
    expect(rows[0]!['udp.checksum.status']).toBe('1');
    // RFC 6936 zero checksum over IPv6: Wireshark flags it (its expert says so), the kernel sends it for --tun-nocsum
    expect(rows[1]!['udp.checksum.status']).not.toBe('1');
  });
});
