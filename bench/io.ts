// I/O loop throughput: frames/s received through a TapPort (a second process
// transmits 60-byte frames on the TAP netdev with libpcap, so the kernel hands
// them to our descriptor), frames/s sent with TapPort.send, and frames/s
// received through a PcapPort (tcpdump pipe) on a veth. Needs root. ~10 s.
// And, without root: the peak RSS of `tapvs replay` on a 200 MB capture
// (scripts/make-big-capture.ts, NAT traffic for fixtures/pcap/nat-http.conf)
// against a 10-frame replay in the same kind of process: input and output
// are streamed, so the two stay close. ~4 s, 400 MB of /tmp while it runs.
//
// Design measurements that chose the TAP loop (src/io/loop-fd.ts), same sender:
//   libuv epoll on the fd, sink on the main thread ........ ~585 k frames/s
//   worker blocking readSync + SharedArrayBuffer ring ...... ~340 k frames/s
//   async fs.read through the libuv thread pool ............  ~44 k frames/s
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPcap } from '../src/io/pcap-port.js';
import { openTap } from '../src/io/tap.js';
import type { BenchResult } from './types.js';

const require = createRequire(import.meta.url);
const capPath = require.resolve('cap');

/** A child process that transmits 60-byte frames on `device` for `seconds`; resolves with how many it sent. */
function blast(device: string, seconds: number): Promise<number> {
  const src = `
    const { Cap } = require(${JSON.stringify(capPath)});
    const c = new Cap();
    c.open(${JSON.stringify(device)}, 'less 1', 1 << 20, Buffer.alloc(64));
    const f = Buffer.alloc(60); f.fill(0xff, 0, 6); f.writeUInt32BE(0x02000000, 6); f.writeUInt16BE(0x0001, 10); f.writeUInt16BE(0x88b5, 12);
    const end = Date.now() + ${seconds * 1000}; let n = 0;
    while (Date.now() < end) { for (let i = 0; i < 256; i++) c.send(f, 60); n += 256; }
    process.stdout.write(String(n));
    process.exit(0);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', src], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('exit', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`sender exited ${code}`))));
  });
}

function quietIpv6(device: string): void {
  try { execFileSync('sysctl', ['-qw', `net.ipv6.conf.${device}.disable_ipv6=1`]); } catch { /* no IPv6 */ }
}

async function tapRx(): Promise<BenchResult[]> {
  const device = `tvb${process.pid % 100000}r`;
  const port = openTap({ name: 'bench', device });
  quietIpv6(device);
  let n = 0;
  let sum = 0;
  port.start((_i, buf, off) => { n++; sum += buf[off + 12]!; }, 0);
  await new Promise((r) => setTimeout(r, 100));
  const t0 = performance.now();
  const n0 = n;
  const sent = await blast(device, 3);
  const secs = (performance.now() - t0) / 1000;
  await port.close();
  void sum;
  return [
    { name: 'io: TAP receive through the port loop', value: Math.round((n - n0) / secs), unit: 'frames/s', note: `60 B, ${(((n - n0) / sent) * 100).toFixed(0)}% of ${Math.round(sent / secs / 1000)} k/s offered by a pcap sender (shares the 2 cores)` },
  ];
}

async function tapTx(): Promise<BenchResult[]> {
  const device = `tvb${process.pid % 100000}t`;
  const port = openTap({ name: 'bench', device });
  quietIpv6(device);
  const frame = new Uint8Array(60);
  frame.fill(0xff, 0, 6);
  frame.set([0x02, 0, 0, 0, 0, 2, 0x88, 0xb5], 6);
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < 2000) {
    for (let i = 0; i < 1000; i++) port.send(frame, 0, 60);
    n += 1000;
  }
  const secs = (performance.now() - t0) / 1000;
  const errors = port.counters.txErrors;
  await port.close();
  return [{ name: 'io: TAP send (TapPort.send)', value: Math.round(n / secs), unit: 'frames/s', note: `60 B, ${errors} errors` }];
}

async function pcapRx(): Promise<BenchResult[]> {
  const a = `tvb${process.pid % 100000}a`;
  const b = `tvb${process.pid % 100000}b`;
  execFileSync('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
  try {
    for (const d of [a, b]) {
      quietIpv6(d);
      execFileSync('ip', ['link', 'set', d, 'up']);
    }
    const port = openPcap({ name: 'bench', device: a });
    let n = 0;
    port.start(() => { n++; }, 0);
    await port.ready;
    await new Promise((r) => setTimeout(r, 300)); // veth carrier
    const t0 = performance.now();
    const sent = await blast(b, 2);
    await new Promise((r) => setTimeout(r, 200)); // let the pipe drain
    const secs = (performance.now() - t0) / 1000;
    await port.close();
    return [{ name: 'io: pcap-port receive (tcpdump pipe, veth)', value: Math.round(n / secs), unit: 'frames/s', note: `60 B, ${((n / sent) * 100).toFixed(0)}% of offered` }];
  } finally {
    execFileSync('ip', ['link', 'del', a]);
  }
}

const ROOT = new URL('..', import.meta.url).pathname;

/** Replays `input` in a fresh process; its peak RSS (MB), frames and seconds. */
function replayRun(input: string, out: string): { rssMb: number; frames: number; secs: number } {
  const src = `
    import { loadConfig, replayTo } from ${JSON.stringify(join(ROOT, 'src/cli/replay.ts'))};
    const t0 = performance.now();
    const r = replayTo(loadConfig(${JSON.stringify(join(ROOT, 'fixtures/pcap/nat-http.conf'))}), ${JSON.stringify(input)}, ${JSON.stringify(out)});
    const secs = (performance.now() - t0) / 1000;
    process.stdout.write(JSON.stringify({ rssMb: process.resourceUsage().maxRSS / 1024, frames: r.framesIn, secs }));`;
  const text = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', src], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(text) as { rssMb: number; frames: number; secs: number };
}

export function replayRss(): BenchResult[] {
  const dir = mkdtempSync(join(tmpdir(), 'tapvs-bench-replay-'));
  try {
    const big = join(dir, 'big.pcapng');
    execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/make-big-capture.ts'), big, '200'], { cwd: ROOT, stdio: 'ignore' });
    const base = replayRun(join(ROOT, 'fixtures/pcap/nat-http.in.pcapng'), join(dir, 'small.out.pcapng'));
    const run = replayRun(big, join(dir, 'big.out.pcapng'));
    return [
      { name: 'io: replay peak RSS, 200 MB capture', value: Math.round(run.rssMb), unit: 'MB', note: `10-frame replay ${Math.round(base.rssMb)} MB; ${run.frames} frames` },
      { name: 'io: replay rate, 200 MB capture (NAT)', value: Math.round(run.frames / run.secs), unit: 'frames/s', note: 'read, director, write' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchIo(): Promise<BenchResult[]> {
  const replay = replayRss();
  if (process.getuid?.() !== 0) return [...replay, { name: 'io: TAP/pcap skipped', value: 0, unit: '', note: 'needs root for TAP devices' }];
  return [...replay, ...(await tapRx()), ...(await tapTx()), ...(await pcapRx())];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await benchIo()) console.log(`${r.name.padEnd(46)} ${String(r.value).padStart(10)} ${r.unit} ${r.note ?? ''}`);
}
