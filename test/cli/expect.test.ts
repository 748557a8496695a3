// `tapvs replay --expect`: exit 0 when the output is the expected capture,
// 1 with a report when it is not (which frame, which field, what the
// director decided), 2 on a usage or file error; --ignore leaves fields
// out. The expected captures here are fixtures/pcap/nat-http's, changed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareCaptures, diffFields } from '../../src/io/capture-diff.js';
import { parseCapture, PcapngWriter } from '../../src/io/pcap-file.js';
import { checksum } from '../../src/wire/checksum.js';
import { put16 } from '../../src/wire/bytes.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'tapvs.js');
const FIX = join(ROOT, 'fixtures', 'pcap');
const CONF = join(FIX, 'nat-http.conf');
const IN = join(FIX, 'nat-http.in.pcapng');
const EXPECTED = join(FIX, 'nat-http.expected.pcapng');
const tmp = mkdtempSync(join(tmpdir(), 'tapvs-expect-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function replay(...args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, 'replay', '--config', CONF, '--in', IN, ...args], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

const exp = parseCapture(readFileSync(EXPECTED), EXPECTED);

/** The expected capture with `edit` applied to its frames (a list: frames may be added or taken out). */
function expectedWith(name: string, edit: (frames: { port: number; t: bigint; data: Uint8Array }[]) => void): string {
  const frames = exp.frames.map((f) => ({ port: f.ifIndex, t: f.timeNs, data: Uint8Array.from(f.data) }));
  edit(frames);
  const w = new PcapngWriter(exp.interfaces);
  for (const f of frames) w.add(f.port, f.t, f.data);
  const path = join(tmp, name);
  w.writeFile(path);
  return path;
}

/** IPv4 frames get TTL + 1 and a right header checksum, as another director would send them. */
function ttlPlusOne(frames: { data: Uint8Array }[]): void {
  for (const f of frames) {
    if (f.data[12] !== 0x08 || f.data[13] !== 0x00) continue;
    f.data[22]! += 1;
    put16(f.data, 24, 0);
    put16(f.data, 24, checksum(f.data, 14, 20));
  }
}

describe('tapvs replay --expect', () => {
  it('exit 0 when the output is the expected capture; --out and --decisions are kept', () => {
    const out = join(tmp, 'kept.pcapng');
    const dec = join(tmp, 'kept.jsonl');
    const r = replay('--expect', EXPECTED, '--out', out, '--decisions', dec);
    expect(r.status).toBe(0);
    expect(r.err).toBe(`replayed 10 frames, sent 13; drops: none\noutput matches ${EXPECTED}: 13 frames\n`);
    expect(readFileSync(out).equals(readFileSync(EXPECTED))).toBe(true);
    expect(readFileSync(dec, 'utf8').trimEnd().split('\n')).toHaveLength(11); // the start, then the 10 frames
  });

  it('exit 1 naming the first frame and field that differ; --ignore ttl makes the same comparison pass', () => {
    const other = expectedWith('ttl.pcapng', ttlPlusOne);
    const r = replay('--expect', other);
    expect(r.status).toBe(1);
    // the first IPv4 frame sent is the SYN to the real server (frame 5: after three gratuitous ARPs and an ARP request)
    expect(r.out).toMatch(/^output differs from .*ttl\.pcapng\nframe 5 \(time \+0\.001000 s, port inside\): 2 fields differ$/m);
    expect(r.out).toMatch(/^ {2}\* ip +ip\.ttl +58 +57$/m);
    // each side's header checksum is right for its TTL: they differ too, and --ignore ttl takes them along
    expect(r.out).toMatch(/^ {2}\* ip +ip\.checksum +0x[0-9a-f]{4} +0x[0-9a-f]{4}$/m);
    expect(r.out).toMatch(/^ {4}tcp +tcp\.checksum /m);
    const ok = replay('--expect', other, '--ignore', 'ttl');
    expect(ok.status, ok.out).toBe(0);
    expect(ok.err).toContain('(ignoring ttl)');
    // ignoring another field does not hide it
    expect(replay('--expect', other, '--ignore', 'ip.id').status).toBe(1);
  });

  it('a frame sent on another port, a frame missing and a frame too many are each named', () => {
    const port = replay('--expect', expectedWith('port.pcapng', (f) => { f[6]!.port = 1 - f[6]!.port; }));
    expect(port.status).toBe(1);
    expect(port.out).toMatch(/^frame 7 \(time \+0\.\d{6} s, port (inside|outside)\): 1 field differs$/m);
    expect(port.out).toMatch(/^ {2}expected \(port inside\): .*\n {2}got {6}\(port outside\): /m);
    const more = replay('--expect', expectedWith('more.pcapng', (f) => { f.push({ ...f[12]! }); }));
    expect(more.out).toMatch(/^frame 14 \(time \+0\.072000 s, port inside\): expected a frame, the director sent no more$/m);
    expect(more.out).toMatch(/^the last input frame before it input frame 10 \(time \+0\.072000 s, port outside\): TCP 203\.0\.113\.7:45000 > 10\.0\.0\.100:80 \[\.\]/m);
    const fewer = replay('--expect', expectedWith('fewer.pcapng', (f) => { f.pop(); }));
    expect(fewer.status).toBe(1);
    expect(fewer.out).toMatch(/^frame 13 \(time \+0\.072000 s, port inside\): the director sent a frame more than expected$/m);
    expect(fewer.out).toMatch(/^caused by input frame 10 /m);
  });

  it('exit 2 on a file or usage error, and no output left behind', () => {
    const out = join(tmp, 'never.pcapng');
    const missing = replay('--expect', join(tmp, 'nope.pcapng'), '--out', out);
    expect(missing.status).toBe(2);
    expect(missing.err).toMatch(/nope\.pcapng/);
    const field = replay('--expect', EXPECTED, '--ignore', 'ip.tll');
    expect(field.status).toBe(2);
    expect(field.err).toMatch(/--ignore ip\.tll: no such field/);
    expect(replay('--expect', EXPECTED, '--events', join(tmp, 'no-events')).status).toBe(2);
    expect(existsSync(out)).toBe(true); // the replay itself succeeded: its output is kept as asked
    expect(replay('--out', join(tmp, 'x.pcapng'), '--ignore', 'ttl').status).not.toBe(0);
  });
});

describe('compareCaptures and diffFields', () => {
  it('say equal for the same capture and which fields differ otherwise', () => {
    expect(compareCaptures(EXPECTED, EXPECTED)).toEqual({ equal: true, gotFrames: 13, expectedFrames: 13 });
    const a = exp.frames[4]!.data;
    const b = Uint8Array.from(a);
    b[22]! -= 1; // ttl
    b[26] = 1; // ip.src first byte
    expect(diffFields(a, b).map((f) => f.name)).toEqual(['ip.ttl', 'ip.src']);
    expect(diffFields(a, b, ['ttl']).map((f) => [f.name, f.expected, f.got])).toEqual([['ip.src', '203.0.113.7', '1.0.113.7']]);
    expect(diffFields(a, a.subarray(0, 40)).map((f) => f.name)).toContain('tcp.checksum');
  });
});
