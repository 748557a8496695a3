// The SCTP replay fixtures (nat-sctp, dr-sctp, tun-sctp, made by
// scripts/replay-fixtures-sctp.ts from the packet builder, not by the
// director) through `tapvs replay` as a user runs it: byte for byte as
// expected, twice the same; and Wireshark's SCTP dissector with its CRC32c
// check on (-o sctp.checksum:CRC-32C) as a second opinion: no malformed
// packet, every SCTP checksum good, the association's chunks in order. This
// kernel has no SCTP, so these captures stand in for a lab with a real SCTP
// client and server (README: SCTP). tshark is required (scripts/setup.sh).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCapture } from '../../src/io/pcap-file.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'fixtures', 'pcap');
const BIN = join(ROOT, 'bin', 'tapvs.js');
const tmp = mkdtempSync(join(tmpdir(), 'tapvs-replay-sctp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

beforeAll(() => {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('tshark is not installed or does not run: install it with scripts/setup.sh (Debian package tshark); these tests need it');
  }
});

function inputOf(c: string): string {
  for (const ext of ['in.pcapng', 'in.pcap']) if (existsSync(join(FIX, `${c}.${ext}`))) return join(FIX, `${c}.${ext}`);
  throw new Error(`no input capture for ${c}`);
}

function runReplay(c: string, out: string): string {
  const r = spawnSync(process.execPath, [BIN, 'replay', '--config', join(FIX, `${c}.conf`), '--in', inputOf(c), '--out', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tapvs replay exited ${r.status}: ${r.stderr}`);
  return r.stderr;
}

const FIELDS = ['frame.protocols', '_ws.malformed', '_ws.expert.message', 'sctp.chunk_type', 'sctp.checksum.status', 'sctp.srcport', 'sctp.dstport'] as const;
type Row = Record<(typeof FIELDS)[number], string>;

function tshark(path: string): Row[] {
  const out = execFileSync('tshark', [
    '-r', path, '-o', 'sctp.checksum:CRC-32C', '-o', 'ip.check_checksum:TRUE',
    '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=,', '-E', 'occurrence=a', ...FIELDS.flatMap((f) => ['-e', f]),
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.trimEnd().split('\n').map((line) => {
    const cols = line.split('\t');
    return Object.fromEntries(FIELDS.map((f, i) => [f, cols[i] ?? ''])) as Row;
  });
}

// chunk types of the association as each capture must show them (the client's only for DR and TUN)
const FULL = ['1', '2', '10', '11', '0', '3,0', '3', '4', '5', '7', '8', '14'];
const CLIENT_ONLY = ['1', '10', '0', '3', '4', '7', '14'];
const CASES: [string, string, string[], string][] = [
  ['nat-sctp', 'drops: sctp-bad-crc=1\n', FULL, '5000>40000'],
  ['dr-sctp', 'drops: none', CLIENT_ONLY, '40001>5000'],
  ['tun-sctp', 'drops: none', CLIENT_ONLY, '40002>5000'],
];

describe.each(CASES)('%s', (c, drops, chunks) => {
  const expectedPath = join(FIX, `${c}.expected.pcapng`);

  it('tapvs replay produces exactly the expected capture, and the same bytes on a second run', () => {
    const out1 = join(tmp, `${c}.1.pcapng`);
    const out2 = join(tmp, `${c}.2.pcapng`);
    expect(runReplay(c, out1)).toContain(drops);
    expect(Buffer.compare(readFileSync(out1), readFileSync(expectedPath))).toBe(0);
    runReplay(c, out2);
    expect(Buffer.compare(readFileSync(out2), readFileSync(out1))).toBe(0);
  });

  it('tshark with the CRC32c check on: no malformed packet, every SCTP checksum good, the chunks in order', () => {
    const rows = tshark(expectedPath);
    expect(rows).toHaveLength(parseCapture(readFileSync(expectedPath), expectedPath).frames.length);
    const sctp = rows.filter((r) => r['frame.protocols'].includes(':sctp'));
    for (const [i, r] of rows.entries()) {
      expect([i, r['_ws.malformed']]).toEqual([i, '']);
      expect(r['_ws.expert.message'], `frame ${i + 1}`).not.toMatch(/malformed|bad/i);
    }
    // '1' good, '0' bad, '2' unverified: all good
    expect(sctp.map((r) => r['sctp.checksum.status'])).toEqual(sctp.map(() => '1'));
    expect(sctp.map((r) => r['sctp.chunk_type'])).toEqual(chunks);
  });
});

it('nat-sctp: the client and server ports as NAT must leave them', () => {
  const rows = tshark(join(FIX, 'nat-sctp.expected.pcapng')).filter((r) => r['frame.protocols'].includes(':sctp'));
  const ports = rows.map((r) => `${r['sctp.srcport']}>${r['sctp.dstport']}`);
  // toward the real server 40000 > 5001 (port rewritten), toward the client 5000 > 40000 (vport back)
  expect(new Set(ports)).toEqual(new Set(['40000>5001', '5000>40000']));
});

it('control: tshark calls the damaged DATA of nat-sctp\'s input bad (the check is on; the replay above shows it was not sent)', () => {
  const rows = tshark(inputOf('nat-sctp'));
  const bad = rows.map((r, i) => [i, r['sctp.checksum.status'], r['sctp.chunk_type']]).filter(([, s]) => s === '0');
  expect(bad).toEqual([[4, '0', '0']]);
  const good = rows.filter((r) => r['sctp.checksum.status'] === '1');
  expect(good).toHaveLength(FULL.length);
});
