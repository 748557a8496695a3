// `tapvs replay` as a user runs it (a real subprocess): each fixture under
// fixtures/pcap must come out byte-for-byte as its .expected.pcapng (made by
// scripts/make-replay-fixtures.ts from the builder, not by the director),
// twice the same, and clean under tshark's checksum checks.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCapture } from '../../src/io/pcap-file.js';
import { formatFrame } from '../../src/wire/printer.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'fixtures', 'pcap');
const BIN = join(ROOT, 'bin', 'tapvs.js');
const tmp = mkdtempSync(join(tmpdir(), 'tapvs-replay-'));

const CASES = ['nat-http', 'dr-http', 'tun-http'];

function inputOf(c: string): string {
  for (const ext of ['in.pcapng', 'in.pcap']) if (existsSync(join(FIX, `${c}.${ext}`))) return join(FIX, `${c}.${ext}`);
  throw new Error(`no input capture for ${c}`);
}

function runReplay(conf: string, input: string, out: string, extra: string[] = []): { stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'replay', '--config', conf, '--in', input, '--out', out, ...extra], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tapvs replay exited ${r.status}: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** One line per frame and layer, so a mismatch reads as a diff of packets. */
function listing(bytes: Uint8Array, name: string): string {
  const cap = parseCapture(bytes, name);
  return cap.frames.map((f, i) => `#${i + 1} if=${cap.interfaces[f.ifIndex]} t=${f.timeNs}\n  ${formatFrame(f.data).join('\n  ')}`).join('\n');
}

describe.each(CASES)('replay fixture %s', (c) => {
  const conf = join(FIX, `${c}.conf`);
  const expectedPath = join(FIX, `${c}.expected.pcapng`);

  it('produces exactly the expected capture, and the same bytes on a second run', () => {
    const out1 = join(tmp, `${c}.1.pcapng`);
    const out2 = join(tmp, `${c}.2.pcapng`);
    const { stderr } = runReplay(conf, inputOf(c), out1);
    expect(stderr).toMatch(/drops: none/);
    const got = readFileSync(out1);
    const want = readFileSync(expectedPath);
    expect(listing(got, out1)).toBe(listing(want, expectedPath));
    expect(Buffer.compare(got, want)).toBe(0);
    runReplay(conf, inputOf(c), out2);
    expect(Buffer.compare(readFileSync(out2), got)).toBe(0);
  });

  it('tshark finds no bad checksum and no malformed packet in the output', () => {
    const out = join(tmp, `${c}.ts.pcapng`);
    runReplay(conf, inputOf(c), out);
    const text = execFileSync('tshark', [
      '-r', out, '-V', '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE',
    ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(text).not.toMatch(/\[Bad checksum|Malformed|Checksum Status: Bad|Header checksum status: Bad/);
    // the checks did run: every IPv4 header (outer and inner) and TCP checksum was verified good
    const ipGood = text.match(/Header checksum status: Good/g)?.length ?? 0;
    const tcpGood = text.match(/\[Checksum Status: Good\]/g)?.length ?? 0;
    const cap = parseCapture(readFileSync(out), out);
    const ipFrames = cap.frames.filter((f) => f.data[12] === 0x08 && f.data[13] === 0x00);
    const ipip = ipFrames.filter((f) => f.data[14 + 9] === 4).length;
    expect(ipFrames.length).toBeGreaterThan(0);
    expect([ipGood, tcpGood]).toEqual([ipFrames.length + ipip, ipFrames.length]);
  });
});

describe('replay fails on a director that does the wrong thing', () => {
  it('a config sending to another real server port no longer matches the expected capture', () => {
    const conf = join(tmp, 'nat-wrong.conf');
    writeFileSync(conf, readFileSync(join(FIX, 'nat-http.conf'), 'utf8').replace('192.168.10.11:8080', '192.168.10.11:8081'));
    const out = join(tmp, 'nat-wrong.pcapng');
    runReplay(conf, inputOf('nat-http'), out);
    expect(Buffer.compare(readFileSync(out), readFileSync(join(FIX, 'nat-http.expected.pcapng')))).not.toBe(0);
  });
});

describe('replay --trace', () => {
  it('shows each frame before and after, and why the scheduler chose the real server', () => {
    const out = join(tmp, 'trace.pcapng');
    const { stdout } = runReplay(join(FIX, 'nat-http.conf'), inputOf('nat-http'), out, ['--trace']);
    const lines = stdout.split('\n');
    // the SYN as it came in: to VIP:80 ...
    const synIn = lines.findIndex((l) => /in\s+outside: .*203\.0\.113\.7 > 10\.0\.0\.100.*45000 > 80/.test(l) && /\bS\b|SYN|\[S\]/.test(l));
    expect(synIn).toBeGreaterThanOrEqual(0);
    // ... the scheduler's decision with rr's reason ...
    expect(lines.slice(synIn)).toContainEqual(expect.stringMatching(/svc TCP 10\.0\.0\.100:80 rr: new conn -> 192\.168\.10\.11:8080 \(rr: .*\) mode NAT/));
    // ... the ARP for the real server, and after the reply the SYN as it went out: to the real server's port
    expect(lines.slice(synIn)).toContainEqual(expect.stringMatching(/arp: resolving 192\.168\.10\.11 on inside, frame held/));
    expect(lines).toContainEqual(expect.stringMatching(/out inside: .*203\.0\.113\.7 > 192\.168\.10\.11.*45000 > 8080/));
    // and a reply, rewritten back to the VIP
    expect(lines).toContainEqual(expect.stringMatching(/out outside: .*10\.0\.0\.100 > 203\.0\.113\.7.*80 > 45000/));
  });
});
