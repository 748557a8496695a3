// The IPv6 replay fixtures (nat6-*, dr6-*, tun6-*, made by
// scripts/replay-fixtures6.ts from the packet builder, not by the director)
// through `tapvs replay` as a user runs it: byte for byte as expected, twice
// the same; and Wireshark's dissectors as a second opinion on every expected
// capture: no malformed packet, every TCP, UDP and ICMPv6 checksum good
// (tshark has no preference for ICMPv6: it always checks that one; IPv6 has
// no header checksum). The one allowance: a packet-too-big quotes only the
// start of the packet (1232 bytes), so tshark sums a cut TCP segment there and
// calls the quoted checksum bad; for that frame the ICMPv6 checksum must be
// good and the quote must be cut indeed. tshark is required (scripts/setup.sh).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCapture } from '../../src/io/pcap-file.js';
import { formatFrame } from '../../src/wire/printer.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'fixtures', 'pcap');
const BIN = join(ROOT, 'bin', 'tapvs.js');
const tmp = mkdtempSync(join(tmpdir(), 'tapvs-replay6-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CASES = readdirSync(FIX).filter((f) => /^(nat|dr|tun)6-.*\.conf$/.test(f)).map((f) => f.replace(/\.conf$/, '')).sort();

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

function listing(bytes: Uint8Array, name: string): string {
  const cap = parseCapture(bytes, name);
  return cap.frames.map((f, i) => `#${i + 1} if=${cap.interfaces[f.ifIndex]} t=${f.timeNs}\n  ${formatFrame(f.data).join('\n  ')}`).join('\n');
}

const FIELDS = [
  'frame.protocols', '_ws.malformed', '_ws.expert.message', 'tcp.checksum.status', 'udp.checksum.status', 'icmpv6.checksum.status',
  'icmpv6.type', 'ipv6.plen', 'frame.len',
] as const;
type Row = Record<(typeof FIELDS)[number], string>;

function tshark(path: string): Row[] {
  const out = execFileSync('tshark', [
    '-r', path, '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE',
    '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=,', '-E', 'occurrence=a', ...FIELDS.flatMap((f) => ['-e', f]),
  ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.trimEnd().split('\n').map((line) => {
    const cols = line.split('\t');
    return Object.fromEntries(FIELDS.map((f, i) => [f, cols[i] ?? ''])) as Row;
  });
}
const list = (s: string): string[] => (s === '' ? [] : s.split(','));

describe('the IPv6 replay fixtures', () => {
  it('one or more per mode, an ICMPv6 error among them', () => {
    expect(new Set(CASES.map((c) => c.split('-')[0]))).toEqual(new Set(['nat6', 'dr6', 'tun6']));
    expect(CASES).toEqual(expect.arrayContaining(['nat6-http', 'dr6-http', 'tun6-http', 'nat6-icmp-from-rs', 'tun6-too-big']));
  });

  describe.each(CASES)('%s', (c) => {
    const expectedPath = join(FIX, `${c}.expected.pcapng`);

    it('tapvs replay produces exactly the expected capture, and the same bytes on a second run', () => {
      const out1 = join(tmp, `${c}.1.pcapng`);
      const out2 = join(tmp, `${c}.2.pcapng`);
      // the too-big packet is the one frame not sent on (the director answers it)
      expect(runReplay(c, out1)).toMatch(c === 'tun6-too-big' ? /drops: frag-needed=1\n/ : /drops: none/);
      const got = readFileSync(out1);
      const want = readFileSync(expectedPath);
      expect(listing(got, out1)).toBe(listing(want, expectedPath));
      expect(Buffer.compare(got, want)).toBe(0);
      runReplay(c, out2);
      expect(Buffer.compare(readFileSync(out2), got)).toBe(0);
    });

    it('tshark with checksum validation on: no malformed packet, every checksum good', () => {
      const rows = tshark(expectedPath);
      const frames = parseCapture(readFileSync(expectedPath), expectedPath).frames;
      expect(rows).toHaveLength(frames.length);
      let checked = 0;
      for (const [i, row] of rows.entries()) {
        const what = `${c} frame ${i + 1}: ${row['frame.protocols']} icmpv6 ${row['icmpv6.type']}`;
        expect(row['frame.protocols'], what).toMatch(/^eth:ethertype:ipv6/);
        expect(row['_ws.malformed'], what).toBe('');
        const icmp = list(row['icmpv6.type']);
        // packet too big with a cut quote: the quoted segment's checksum cannot be summed
        const plens = list(row['ipv6.plen']).map(Number);
        const cutQuote = icmp[0] === '2' && plens.length === 2 && 40 + plens[1]! > plens[0]! - 8;
        if (!cutQuote) expect(row['_ws.expert.message'], what).not.toMatch(/malformed|incorrect|bad checksum/i);
        const fields = cutQuote ? ['icmpv6.checksum.status'] as const : ['tcp.checksum.status', 'udp.checksum.status', 'icmpv6.checksum.status'] as const;
        for (const f of fields) {
          const s = list(row[f]);
          // '1' good, '0' bad, '2' not verified: each one present must be good
          expect([what, f, s]).toEqual([what, f, s.map(() => '1')]);
          checked += s.length;
        }
        // every frame carries at least one checksum tshark checked
        expect(fields.some((f) => list(row[f]).length > 0), what).toBe(true);
      }
      expect(checked).toBeGreaterThanOrEqual(frames.length);
    });
  });

  it('control: tshark does report a bad checksum in these captures (a flipped TCP payload byte)', () => {
    const path = join(FIX, 'dr6-http.expected.pcapng');
    const bytes = new Uint8Array(readFileSync(path));
    const cap = parseCapture(bytes, path);
    const last = cap.frames.at(-1)!;
    // the last frame is the client's final ACK: flip a bit of its TCP checksum field in the file
    const off = Buffer.from(bytes).lastIndexOf(Buffer.from(last.data));
    expect(off).toBeGreaterThan(0);
    bytes[off + 14 + 40 + 16] ^= 0x01;
    const bad = join(tmp, 'bad.pcapng');
    writeFileSync(bad, bytes);
    expect(list(tshark(bad).at(-1)!['tcp.checksum.status'])).toEqual(['0']);
  });
});
