// I/O loop throughput: frames/s received through a TapPort (a second process
// transmits 60-byte frames on the TAP netdev with libpcap, so the kernel hands
// them to our descriptor), frames/s sent with TapPort.send, and frames/s
// received through a PcapPort (tcpdump pipe) on a veth. Needs root. ~10 s.
//
// Design measurements that chose the TAP loop (src/io/loop-fd.ts), same sender:
//   libuv epoll on the fd, sink on the main thread ........ ~585 k frames/s
//   worker blocking readSync + SharedArrayBuffer ring ...... ~340 k frames/s
//   async fs.read through the libuv thread pool ............  ~44 k frames/s
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
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

export async function benchIo(): Promise<BenchResult[]> {
  if (process.getuid?.() !== 0) return [{ name: 'io: skipped', value: 0, unit: '', note: 'needs root for TAP devices' }];
  return [...(await tapRx()), ...(await tapTx()), ...(await pcapRx())];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await benchIo()) console.log(`${r.name.padEnd(46)} ${String(r.value).padStart(10)} ${r.unit} ${r.note ?? ''}`);
}
