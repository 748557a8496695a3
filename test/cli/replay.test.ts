// `tapvs replay` as a user runs it (a real subprocess): each fixture under
// fixtures/pcap must come out byte-for-byte as its .expected.pcapng (made by
// scripts/make-replay-fixtures.ts from the builder, not by the director),
// twice the same, and clean under tshark's checksum checks.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadConfig, replayCommand, replayTo, summary, TOO_BIG, UNMAPPED_IFINDEX } from '../../src/cli/replay.js';
import { LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, openCapture, parseCapture, PcapWriter } from '../../src/io/pcap-file.js';
import { formatFrame } from '../../src/wire/printer.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIX = join(ROOT, 'fixtures', 'pcap');
const BIN = join(ROOT, 'bin', 'tapvs.js');
const tmp = mkdtempSync(join(tmpdir(), 'tapvs-replay-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

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

// ---- real-world input: captures of the kernel as a NAT director (nftables
// DNAT, fixtures/pcap-io/make-live-fixtures.sh: same addresses and MACs as
// nat-http.conf), cooked and Ethernet, VLAN tags, nanosecond stamps, refusals.

const IO = join(ROOT, 'fixtures', 'pcap-io');
const NAT_CONF = join(FIX, 'nat-http.conf');
const natCfg = loadConfig(NAT_CONF);

/** Frames of a capture as "port hex" lines, in order, without times. */
function framesOf(path: string): string[] {
  const cap = parseCapture(readFileSync(path), path);
  return cap.frames.map((f) => `${cap.interfaces[f.ifIndex]} ${Buffer.from(f.data).toString('hex')}`);
}

/** The Linux interface index the SLL2 capture recorded for frames from `srcMac` (the client's or the real server's). */
function sll2IfIndexOf(srcMac: string): number {
  const r = openCapture(join(IO, 'tcpdump-any-sll2.pcap'), { linkTypes: [LINKTYPE_LINUX_SLL2], supported: 'test' });
  try {
    while (r.next()) {
      const b = r.buf.subarray(r.off, r.off + r.capLen);
      if (b[10] !== 4 && Buffer.from(b.subarray(12, 18)).toString('hex') === srcMac) return Buffer.from(b).readUInt32BE(4);
    }
  } finally {
    r.close();
  }
  throw new Error(`no frame from ${srcMac}`);
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return 'no error';
}

describe('replay of real captures of a NAT director', () => {
  const outIf = sll2IfIndexOf('0200000000fe');
  const inIf = sll2IfIndexOf('020000001011');

  it('SLL2 (tcpdump -i any) placed by Linux interface index gives the frames an Ethernet capture of the same traffic gives', () => {
    const a = join(tmp, 'real-sll2.pcapng');
    const b = join(tmp, 'real-eth.pcapng');
    const c = join(tmp, 'real-eth-index.pcapng');
    const ra = replayTo(natCfg, join(IO, 'tcpdump-any-sll2.pcap'), a, { map: `ifindex:${outIf}=outside,ifindex:${inIf}=inside` });
    const rb = replayTo(natCfg, join(IO, 'dumpcap-nat.pcapng'), b, { map: 'dir-out=outside,dir-in=inside' });
    replayTo(natCfg, join(IO, 'dumpcap-nat.pcapng'), c, { map: '0=outside,if1=inside' });
    expect(framesOf(a).length).toBeGreaterThan(10);
    expect(framesOf(a)).toEqual(framesOf(b));
    expect(framesOf(c)).toEqual(framesOf(b));
    // what the kernel sent is not input: counted, by name
    const outgoing = parseCaptureCooked('tcpdump-any-sll2.pcap').filter((f) => f[10] === 4).length;
    expect(ra.skipped).toEqual({ 'sll-outgoing': outgoing });
    expect(summary(ra)).toBe(`replayed ${ra.framesIn} frames, sent ${ra.framesOut}; drops: sll-outgoing=${outgoing}`);
    // in the Ethernet capture the kernel's own frames reach the director, which finds the unicast ones not for it
    const eth = parseCapture(readFileSync(join(IO, 'dumpcap-nat.pcapng')), 'eth').frames.map((f) => Buffer.from(f.data).toString('hex'));
    const ownUnicast = eth.filter((h) => /^.{12}02000000000[12]/.test(h) && !h.startsWith('ffffffffffff')).length;
    expect(ownUnicast).toBeGreaterThan(5);
    expect(rb.drops).toEqual({ 'not-for-us': ownUnicast });
  });

  it('sends the TCP frames the kernel sent, byte for byte, both ways (toward the real server one TTL less too)', () => {
    const out = join(tmp, 'real-vs-kernel.pcapng');
    replayTo(natCfg, join(IO, 'tcpdump-any-sll2.pcap'), out, { map: `ifindex:${outIf}=outside,ifindex:${inIf}=inside` });
    const ipv4 = (lines: string[], port: string): Buffer[] =>
      lines.filter((l) => l.startsWith(`${port} `)).map((l) => Buffer.from(l.slice(port.length + 1), 'hex')).filter((f) => f.readUInt16BE(12) === 0x0800);
    const kernel = parseCapture(readFileSync(join(IO, 'dumpcap-nat.pcapng')), 'k');
    // the kernel's frames: those its two interfaces sent (source MAC its own)
    const sentBy = (name: string, mac: string): Buffer[] => kernel.frames
      .filter((f) => kernel.interfaces[f.ifIndex] === name && Buffer.from(f.data.subarray(6, 12)).toString('hex') === mac)
      .map((f) => Buffer.from(f.data)).filter((f) => f.readUInt16BE(12) === 0x0800);
    const ours = framesOf(out);
    const kOut = sentBy('dir-out', '020000000001');
    const kIn = sentBy('dir-in', '020000000002');
    expect(kOut.length + kIn.length).toBeGreaterThan(8);
    expect(ipv4(ours, 'outside').map((f) => f.toString('hex'))).toEqual(kOut.map((f) => f.toString('hex')));
    // the kernel forwards toward the real server with one TTL less, and so does tapvs (decrement_ttl)
    expect(ipv4(ours, 'inside').map((f) => f.toString('hex'))).toEqual(kIn.map((f) => f.toString('hex')));
  });

  it('SLL (v1, no interface recorded) feeds one port with --port; outgoing frames counted', () => {
    const out = join(tmp, 'real-sll.pcapng');
    const trace: string[] = [];
    const r = replayTo(natCfg, join(IO, 'tcpdump-any-sll.pcap'), out, { port: 'outside', trace: (l) => trace.push(l) });
    // the trace says which frames were left out, and why
    expect(trace.filter((l) => /^\[frame \d+\] not replayed: sll-outgoing$/.test(l))).toHaveLength(r.skipped['sll-outgoing']!);
    const outgoing = parseCaptureCooked('tcpdump-any-sll.pcap').filter((f) => f[1] === 4).length;
    expect(r.skipped).toEqual({ 'sll-outgoing': outgoing });
    // the client's SYN was scheduled: the director asks for the real server on inside (its answer, fed
    // to outside like every frame of this capture, cannot resolve it: v1 cannot tell the ports apart)
    expect(framesOf(out).some((l) => l.startsWith('inside ffffffffffff0200000000020806') && l.endsWith('c0a80a0b'))).toBe(true);
  });

  it('refuses a cooked capture of several ports without a mapping, and says how to map it', () => {
    expect(errorOf(() => replayTo(natCfg, join(IO, 'tcpdump-any-sll2.pcap'), join(tmp, 'x.pcapng')))).toBe(
      `${join(IO, 'tcpdump-any-sll2.pcap')}: interface 0 has no name; name the ingress port with --port or --map if0=PORT (ports: outside, inside); an SLL2 capture can be placed by Linux interface index, --map ifindex:N=PORT`,
    );
  });

  it('counts SLL2 frames of a Linux interface the map leaves out', () => {
    const r = replayTo(natCfg, join(IO, 'tcpdump-any-sll2.pcap'), join(tmp, 'half.pcapng'), { map: `ifindex:${outIf}=outside` });
    const fromIn = parseCaptureCooked('tcpdump-any-sll2.pcap').filter((f) => Buffer.from(f).readUInt32BE(4) === inIf).length;
    expect(r.skipped[UNMAPPED_IFINDEX]).toBe(fromIn);
  });
});

/** The raw (cooked) frames of a capture. */
function parseCaptureCooked(file: string): Uint8Array[] {
  const r = openCapture(join(IO, file), { linkTypes: [LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2], supported: 'test' });
  const out: Uint8Array[] = [];
  while (r.next()) out.push(r.buf.slice(r.off, r.off + r.capLen));
  r.close();
  return out;
}

describe('replay --strip-vlan', () => {
  it('without it, tagged frames are counted as vlan-tagged; with it they are replayed as the same frames untagged', () => {
    const tagged = join(IO, 'tcpdump-vlan.pcap');
    const plain = replayTo(natCfg, tagged, join(tmp, 'vlan-kept.pcapng'), { port: 'outside' });
    expect(plain.drops).toEqual({ 'vlan-tagged': 2 });
    const stripped = replayTo(natCfg, tagged, join(tmp, 'vlan-stripped.pcapng'), { port: 'outside', stripVlan: true });
    expect([stripped.drops, stripped.vlanStripped]).toEqual([{}, 2]);
    expect(summary(stripped)).toMatch(/drops: none; vlan tags stripped from 2 frames$/);
    // the same frames without their tags, written by hand, replay to the same output
    const untagged = new PcapWriter();
    for (const f of parseCapture(readFileSync(tagged), tagged).frames) {
      untagged.add(f.timeNs, Buffer.concat([f.data.subarray(0, 12), f.data.subarray(16)]));
    }
    const untaggedPath = join(tmp, 'vlan-untagged.pcap');
    untagged.writeFile(untaggedPath);
    replayTo(natCfg, untaggedPath, join(tmp, 'vlan-ref.pcapng'), { port: 'outside' });
    expect(readFileSync(join(tmp, 'vlan-stripped.pcapng')).equals(readFileSync(join(tmp, 'vlan-ref.pcapng')))).toBe(true);
    // and the director did answer: the ARP reply for the VIP, the SYN's real server resolved on inside
    const lines = framesOf(join(tmp, 'vlan-stripped.pcapng'));
    expect(lines.some((l) => l.startsWith('outside 0200000000fe020000000001' + '0806'))).toBe(true);
    expect(lines.some((l) => l.startsWith('inside ffffffffffff0200000000020806') && l.endsWith('c0a80a0b'))).toBe(true);
  });
});

describe('replay of a nanosecond pcap (tcpdump --time-stamp-precision=nano)', () => {
  it('stamps each frame sent with the nanosecond instant of the frame that caused it', () => {
    const input = join(IO, 'tcpdump-out-nsec.pcap');
    expect(readFileSync(input).readUInt32LE(0)).toBe(0xa1b23c4d);
    const inTimes = new Set(parseCapture(readFileSync(input), input).frames.map((f) => f.timeNs));
    expect([...inTimes].some((t) => t % 1000n !== 0n)).toBe(true);
    const out = join(tmp, 'nsec.pcapng');
    replayTo(natCfg, input, out, { port: 'outside' });
    const sent = parseCapture(readFileSync(out), out).frames;
    expect(sent.length).toBeGreaterThan(3);
    for (const f of sent) expect(inTimes.has(f.timeNs)).toBe(true);
  });
});

describe('replay refusals and counts', () => {
  it('names a link type it does not replay', () => {
    const input = join(IO, 'text2pcap-ieee802-11.pcap');
    expect(errorOf(() => replayTo(natCfg, input, join(tmp, 'wifi.pcapng'), { port: 'outside' }))).toBe(
      `${input}: link type 105 (IEEE802_11) is not supported: tapvs replays Ethernet, Linux cooked (SLL, SLL2) captures`,
    );
    const r = spawnSync(process.execPath, [BIN, 'replay', '--config', NAT_CONF, '--in', input, '--out', join(tmp, 'wifi.pcapng'), '--port', 'outside'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('link type 105 (IEEE802_11) is not supported');
    expect(existsSync(join(tmp, 'wifi.pcapng'))).toBe(false);
  });

  it('counts frames over 64 KiB in the summary instead of skipping them silently', () => {
    const cap = parseCapture(readFileSync(inputOf('dr-http')), 'dr');
    const w = new PcapWriter();
    cap.frames.forEach((f, i) => {
      w.add(f.timeNs, f.data);
      if (i === 1) w.add(f.timeNs, new Uint8Array(70000).fill(0xab));
    });
    const input = join(tmp, 'big-frame.pcap');
    w.writeFile(input);
    const out = join(tmp, 'big-frame.pcapng');
    const { stderr } = runReplay(join(FIX, 'dr-http.conf'), input, out);
    expect(stderr).toBe(`replayed ${cap.frames.length + 1} frames, sent 8; drops: ${TOO_BIG}=1\n`);
    // the other frames replay as without it
    expect(readFileSync(out).equals(readFileSync(join(FIX, 'dr-http.expected.pcapng')))).toBe(true);
  });

  it('refuses a malformed --map, a port the config lacks, a key given twice, and a key that matches nothing', () => {
    const run = (map: string): string => errorOf(() => replayTo(natCfg, join(IO, 'dumpcap-nat.pcapng'), join(tmp, 'm.pcapng'), { map }));
    expect(run('dir-out')).toMatch(/^--map 'dir-out': expected INTERFACE=PORT/);
    expect(run('dir-out=nowhere')).toBe("--map dir-out=nowhere: 'nowhere' is not a port of this config (ports: outside, inside)");
    expect(run('dir-out=outside,dir-out=inside')).toBe("--map: 'dir-out' is mapped twice");
    expect(run('dir-out=outside,dir-in=inside,eth7=inside')).toMatch(/^--map eth7: no interface of .* has that name or index \(interfaces: 0 'dir-out', 1 'dir-in'\)$/);
    expect(run('dir-ot=outside,dir-in=inside')).toMatch(/interface 'dir-out' is not a port of this config .*; map it with --map dir-out=PORT \(--map entries matched by no interface so far: dir-ot, dir-in\)$/);
    // nothing is left behind by a failed replay
    expect(existsSync(join(tmp, 'm.pcapng'))).toBe(false);
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('says when a capture is not in time order', () => {
    const cap = parseCapture(readFileSync(inputOf('dr-http')), 'dr');
    const w = new PcapWriter();
    const times = cap.frames.map((f) => f.timeNs);
    [0, 2, 1, 3, 4, 5].forEach((i) => w.add(times[i]!, cap.frames[i]!.data));
    const input = join(tmp, 'unordered.pcap');
    w.writeFile(input);
    const r = replayTo(loadConfig(join(FIX, 'dr-http.conf')), input, join(tmp, 'unordered.pcapng'));
    expect(r.outOfOrder).toBe(1);
    expect(summary(r)).toMatch(/; 1 frames stamped earlier than the frame before \(the capture is not in time order; reordercap sorts it\)$/);
  });

  it('tapvs replay takes --map and --strip-vlan (replayCommand, as main runs it)', () => {
    const out = join(tmp, 'cmd.pcapng');
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s) => { lines.push(String(s)); return true; });
    try {
      expect(replayCommand(['--config', NAT_CONF, '--in', join(IO, 'tcpdump-vlan.pcap'), '--out', out, '--map', 'if0=outside', '--strip-vlan'])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(lines).toEqual(['replayed 2 frames, sent 5; drops: none; vlan tags stripped from 2 frames\n']);
    expect(framesOf(out)).toHaveLength(5);
  });
});

describe('replay holds at size', () => {
  /** Peak RSS (MB) of a fresh process replaying `input` with nat-http.conf. */
  function peakRss(input: string, out: string): number {
    const src = `
      import { loadConfig, replayTo } from ${JSON.stringify(join(ROOT, 'src/cli/replay.ts'))};
      replayTo(loadConfig(${JSON.stringify(NAT_CONF)}), ${JSON.stringify(input)}, ${JSON.stringify(out)});
      process.stdout.write(String(process.resourceUsage().maxRSS / 1024));`;
    return Number(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', src], { cwd: ROOT, encoding: 'utf8' }));
  }

  it('a 60 MB capture replays in about the memory of a 10-frame one (input and output streamed)', () => {
    const big = join(tmp, 'big.pcapng');
    execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/make-big-capture.ts'), big, '60'], { cwd: ROOT, stdio: 'ignore' });
    const small = peakRss(inputOf('nat-http'), join(tmp, 'small-rss.pcapng'));
    const large = peakRss(big, join(tmp, 'big-rss.pcapng'));
    // holding input or output whole would add well over 60 MB
    expect(large - small).toBeLessThan(30);
    // and it did replay it all: the output is about as big as the input
    expect(statSync(join(tmp, 'big-rss.pcapng')).size).toBeGreaterThan(50e6);
    rmSync(big);
    rmSync(join(tmp, 'big-rss.pcapng'));
  });
});
