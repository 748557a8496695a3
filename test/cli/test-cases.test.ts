// `tapvs test` as CI runs it on the project's own cases (fixtures/pcap), and
// what it does when a case goes wrong: a one-byte change to any expected
// capture fails that case with a report naming the frame and the field;
// --update writes the expected files back from the director's output; the
// JUnit XML is read back by a JUnit consumer (junit2json), as a CI system
// would read it.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'junit2json';
import { afterAll, describe, expect, it } from 'vitest';
import { findCases, junitXml, matchesPattern, xmlEscape } from '../../src/cli/test-cases.js';
import { readCapture } from '../../src/io/pcap-file.js';
import { dissectFrame } from '../../src/wire/dissect.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'tapvs.js');
const FIX = join(ROOT, 'fixtures', 'pcap');
const tmp = mkdtempSync(join(tmpdir(), 'tapvs-test-cmd-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tapvsTest(...args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, 'test', ...args], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** Offsets in a pcapng file (as tapvs writes it: little endian) of each enhanced packet block's frame data. */
function frameOffsets(file: Buffer): number[] {
  const out: number[] = [];
  for (let off = 0; off < file.length;) {
    const type = file.readUInt32LE(off);
    const len = file.readUInt32LE(off + 4);
    if (type === 6) out.push(off + 28);
    off += len;
  }
  return out;
}

function copyFixtures(name: string): string {
  const d = join(tmp, name);
  cpSync(FIX, d, { recursive: true });
  return d;
}

const cases = findCases(FIX);

describe('tapvs test fixtures/pcap', () => {
  it('passes every case of the project, one line each and the summary line', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
    const modes = new Set(cases.map((c) => c.name.split('-')[0]));
    expect([...modes].sort()).toEqual(['dr', 'dr6', 'nat', 'nat6', 'tun', 'tun6']);
    const r = tapvsTest(FIX);
    expect(r.status, r.out + r.err).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines).toHaveLength(cases.length + 1);
    for (const [i, c] of cases.entries()) expect(lines[i]).toMatch(new RegExp(`^ok   ${c.name} \\(\\d+ frames? in, \\d+ out`));
    expect(lines.at(-1)).toBe(`${cases.length} passed, 0 failed`);
  });

  it('the expected captures are sound: tshark finds no bad checksum and no malformed packet in any', () => {
    // tun6-too-big's packet too big and tun-frag-needed's fragmentation needed quote a cut TCP segment (as much as
    // fits 1280 / 576 bytes), whose checksum tshark sums and calls bad: test/cli/replay6.test.ts checks the first
    // field by field, test/director/dr-tun.test.ts the second byte for byte
    for (const c of cases.filter((x) => x.name !== 'tun6-too-big' && x.name !== 'tun-frag-needed')) {
      const text = execFileSync('tshark', [
        // the UDP cases carry made-up payloads on DNS ports: checksums and headers are what is checked here
        '-r', c.expected, '-V', '--disable-protocol', 'dns', '--disable-protocol', 'mdns', '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE',
      ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      expect(text, c.name).not.toMatch(/\[Bad checksum|Malformed|Checksum Status: Bad|Header checksum status: Bad|\[Checksum: .*incorrect/);
    }
  });

  it('a one-byte change to any expected file fails that case naming the frame and the field; --update restores it', () => {
    const dir = copyFixtures('one-byte');
    const changed = new Map<string, { frame: number; field: string }>();
    for (const c of cases) {
      const path = join(dir, `${c.name}.expected.pcapng`);
      const file = readFileSync(path);
      const offs = frameOffsets(file);
      const k = offs.length - 1; // the last frame: what comes before it still matches
      const frame = readCapture(path).frames[k]!.data;
      const at = 15; // in every frame here a header byte: the IPv4 TOS, or the ARP hardware type
      const bit = 0x04;
      const field = dissectFrame(frame).fields.find((f) => f.off <= at && at < f.off + f.size &&
        (f.bits === undefined || ((f.bits >>> (8 * (f.size - 1 - (at - f.off)))) & bit) !== 0))!;
      file[offs[k]! + at] ^= bit;
      writeFileSync(path, file);
      changed.set(c.name, { frame: k + 1, field: field.name });
    }
    const r = tapvsTest(dir);
    expect(r.status).toBe(1);
    expect(r.out.trimEnd().split('\n').at(-1)).toBe(`0 passed, ${cases.length} failed`);
    for (const [name, { frame, field }] of changed) {
      const line = r.out.split('\n').find((l) => l.startsWith(`FAIL ${name}:`));
      expect(line, name).toBeDefined();
      expect(line).toMatch(new RegExp(`^FAIL ${name}: frame ${frame} \\(time [+]\\d+\\.\\d{6} s, port \\S+\\): ${field.replace('.', '\\.')} expected `));
    }
    // the report under each line: both frames field by field, the changed field marked, and the director's decision
    const block = r.out.split('\n');
    const at = block.findIndex((l) => l.startsWith('FAIL nat-http:'));
    const report = block.slice(at + 1, block.findIndex((l, i) => i > at && /^(ok|FAIL|ERROR|upd) /.test(l))).join('\n');
    expect(report).toMatch(/^ {4}frame 13 \(time \+0\.072000 s, port inside\): 1 field differs$/m);
    expect(report).toMatch(/^ {4}  expected \(port inside\): TCP 203\.0\.113\.7:45000 > 192\.168\.10\.11:8080 \[\.\] seq 120 ack 925/m);
    expect(report).toMatch(new RegExp(`^ {6}\\* ip +${changed.get('nat-http')!.field.replace('.', '\\.')} +0x04 +0x00$`, 'm'));
    expect(report).toMatch(/^ {6}  ip +ip\.checksum +0x3a15 +0x3a15$/m);
    expect(report).toMatch(/^ {6}  tcp +tcp\.dstport +8080 +8080$/m);
    expect(report).toMatch(/^ {4}caused by input frame 10 \(time \+0\.072000 s, port outside\): TCP 203\.0\.113\.7:45000 > 10\.0\.0\.100:80 \[\.\] seq 120 ack 925/m);
    expect(report).toMatch(/decision: verdict forwarded; service TCP 10\.0\.0\.100:80; existing conn 203\.0\.113\.7:45000 -> 192\.168\.10\.11:8080; mode NAT; state TIME_WAIT/);

    const u = tapvsTest(dir, '--update');
    expect(u.status).toBe(0);
    for (const c of cases) expect(u.out).toContain(`upd  ${c.name}: rewrote`);
    expect(u.out).toMatch(new RegExp(`^${cases.length} updated\\n${cases.length} passed, 0 failed\\n$`, 'm'));
    for (const c of cases) {
      expect(readFileSync(join(dir, `${c.name}.expected.pcapng`)).equals(readFileSync(c.expected)), c.name).toBe(true);
    }
    expect(tapvsTest(dir).status).toBe(0);
  });

  it('compares the decision log with <case>.expected.jsonl: a changed verdict fails naming the line, frame and key', () => {
    const dir = copyFixtures('decisions');
    const path = join(dir, 'nat-table-full.expected.jsonl');
    const orig = readFileSync(path, 'utf8');
    const lines = orig.trimEnd().split('\n');
    expect(JSON.parse(lines[3]!)).toMatchObject({ type: 'frame', frame: 3, verdict: 'dropped', reason: 'table-full', sent: [] });
    lines[3] = lines[3]!.replace('"verdict":"dropped","reason":"table-full"', '"verdict":"forwarded","reason":null');
    writeFileSync(path, lines.join('\n') + '\n');
    const r = tapvsTest(dir, '-k', 'table-full');
    expect(r.status).toBe(1);
    expect(r.out).toContain('FAIL nat-table-full: decision log line 4 (input frame 3): verdict expected "forwarded" got "dropped"; reason expected null got "table-full"');
    const u = tapvsTest(dir, '-k', 'table-full', '--update');
    expect(u.out).toContain('upd  nat-table-full: rewrote');
    expect(u.out).toContain('nat-table-full.expected.jsonl (differed at line 4)');
    expect(readFileSync(path, 'utf8')).toBe(orig);
  });

  it('-k picks cases; a case without its expected capture is an error until --update writes it; no case at all is exit 2', () => {
    const dir = copyFixtures('pick');
    const k = tapvsTest(dir, '-k', 'nat-frag');
    expect(k.out).toBe('ok   nat-frag-in-order (2 frames in, 5 out)\nok   nat-frag-reversed (2 frames in, 5 out)\n2 passed, 0 failed\n');
    expect(tapvsTest(dir, '-k', 'dr-*-flood').out).toMatch(/^ok   dr-syn-flood .*\n1 passed, 0 failed\n$/);
    unlinkSync(join(dir, 'dr-http.expected.pcapng'));
    const miss = tapvsTest(dir, '-k', 'dr-http');
    expect(miss.status).toBe(1);
    expect(miss.out).toMatch(/^ERROR dr-http: no .*dr-http\.expected\.pcapng; tapvs test --update writes it/);
    expect(tapvsTest(dir, '-k', 'dr-http', '--update').out).toMatch(/upd  dr-http: rewrote .*dr-http\.expected\.pcapng \(new\)/);
    expect(readFileSync(join(dir, 'dr-http.expected.pcapng')).equals(readFileSync(join(FIX, 'dr-http.expected.pcapng')))).toBe(true);
    const none = tapvsTest(dir, '-k', 'no-such-case');
    expect(none.status).toBe(2);
    expect(none.err).toMatch(/no cases in .* matching 'no-such-case'/);
    expect(tapvsTest(join(tmp, 'no-such-dir')).status).toBe(2);
    expect(tapvsTest(dir, '--ignore', 'ip.nonsense').err).toMatch(/--ignore ip\.nonsense: no such field/);
  });

  it('--junit writes JUnit XML that a JUnit reader takes: counts, the failure with its frame, passing cases without one', async () => {
    const dir = copyFixtures('junit');
    // break one case: its config sends to another real-server port
    const conf = join(dir, 'nat-http.conf');
    writeFileSync(conf, readFileSync(conf, 'utf8').replace('192.168.10.11:8080', '192.168.10.11:8081'));
    // and make one case an error: a config that does not parse
    writeFileSync(join(dir, 'dr-http.conf'), 'port lan kind=nonsense\n');
    const xml = join(tmp, 'junit.xml');
    const r = tapvsTest(dir, '--junit', xml);
    expect(r.status).toBe(1);
    const doc = await parse(readFileSync(xml, 'utf8'));
    const n = readdirSync(dir).filter((f) => f.endsWith('.conf')).length;
    expect(doc).toMatchObject({ name: 'tapvs test', tests: n, failures: 1, errors: 1 });
    const suites = (doc as { testsuite?: { name?: string; tests?: number; testcase?: { name?: string; failure?: { message?: string; inner?: string }[]; error?: { message?: string }[] }[] }[] }).testsuite!;
    expect(suites).toHaveLength(1);
    expect(suites[0]).toMatchObject({ name: dir, tests: n });
    const byName = new Map(suites[0]!.testcase!.map((t) => [t.name, t]));
    expect(byName.size).toBe(n);
    const failed = byName.get('nat-http')!;
    expect(failed.failure![0]!.message).toMatch(/^frame 5 \(time \+0\.001000 s, port inside\): tcp\.dstport expected 8080 got 8081/);
    expect(failed.failure![0]!.inner).toContain('caused by input frame 2');
    expect(byName.get('dr-http')!.error![0]!.message).toMatch(/kind/);
    expect(byName.get('tun-http')!.failure).toBeUndefined();
    expect(byName.get('tun-http')!.error).toBeUndefined();
  });
});

describe('test-cases helpers', () => {
  it('-k patterns: substring, or a glob', () => {
    expect(matchesPattern('nat-remove-rs-nodest0', 'remove')).toBe(true);
    expect(matchesPattern('nat-remove-rs-nodest0', 'nat-*-nodest?')).toBe(true);
    expect(matchesPattern('nat-remove-rs-nodest0', 'dr-*')).toBe(false);
    expect(matchesPattern('a.b', 'a?b')).toBe(true);
    expect(matchesPattern('axb', 'a.b')).toBe(false);
  });

  it('XML escaping keeps markup, quotes and control characters out of the report', async () => {
    expect(xmlEscape(`<a href="x">&'\u0001`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
    const c = { name: 'we<ird>"&', dir: 'd&d', conf: '', input: '', expected: '' };
    const xml = junitXml([{ case: c, status: 'failed', ms: 5, line: 'FAIL we<ird>"&: frame 1 <x> & "y"', detail: 'a\u0007b </failure> c' }]);
    const doc = await parse(xml);
    const tc = (doc as { testsuite: { testcase: { name: string; failure: { message: string; inner: string }[] }[] }[] }).testsuite[0]!.testcase[0]!;
    expect(tc.name).toBe('we<ird>"&');
    expect(tc.failure[0]!.message).toBe('frame 1 <x> & "y"');
    expect(tc.failure[0]!.inner).toBe('ab </failure> c');
  });
});
