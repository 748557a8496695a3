// The control plane against forwarding: frames are forwarded through a
// LiveDirector on memory ports (an established NAT flow, 64 frames per turn
// of the event loop) while the control plane reloads a large config or
// takes a 15 MiB `ipvsadm -R` through its socket. The figure is the longest
// forwarding pause: the longest time between two turns of the frame pump
// (and, beside it, the event loop's own longest delay, perf_hooks). The aim
// is <= 10 ms. No root needed; ~1 minute; run on an idle machine, the pauses
// include whatever else the two cores run.
//
//   node --import tsx bench/stress.ts          (or: make stress; make bench runs it too)
import { mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { parseConfig } from '../src/control/config.js';
import { startControlPlane } from '../src/control/server.js';
import { MemoryPort } from '../src/io/memory-port.js';
import { LiveDirector } from '../src/runtime/live.js';
import { eth } from '../src/wire/builder.js';
import type { BenchResult } from './types.js';

const OUT_MAC = '02:00:00:00:00:01';
const IN_MAC = '02:00:00:00:00:02';
const VIPS = 200;
const PORTS_PER_VIP = 10;
const DESTS_PER_SERVICE = 4;
const MARK_RANGES_PER_VIP = 10;

/** A port that forwards into nothing (its `sent` list would grow for ever). */
class SinkPort extends MemoryPort {
  frames = 0;
  override send(): void {
    this.frames++;
  }
}

const vip = (v: number) => `10.0.${1 + (v >> 8)}.${v & 255}`;
const rs = (v: number, d: number) => `192.168.${1 + d}.${(v % 250) + 1}`;

/**
 * A large config: 200 VIPs with 10 TCP services each (4 real servers each,
 * from 1000 addresses), 2000 mark rules of 100-port ranges, each with its
 * fwmark service and one real server. `variant` changes weights of every
 * tenth service, drops 100 services and adds 100.
 */
function bigConfig(socket: string, variant = 0, markShift = 0): string {
  const l: string[] = [
    `port outside kind=memory mac=${OUT_MAC} addr=10.0.0.1/16`,
    `port inside kind=memory mac=${IN_MAC} addr=192.168.0.1/16`,
    'route default via 10.0.0.254',
    'neigh 10.0.0.254 02:00:00:00:00:fe',
    `option control_socket ${socket}`,
    'option max_conns 65536',
    'vip 10.0.0.100 on outside',
    '-A -t 10.0.0.100:80 -s rr',
    '-a -t 10.0.0.100:80 -r 192.168.10.11:80 -m',
    'neigh 192.168.10.11 02:00:00:00:10:11',
  ];
  for (let v = 0; v < VIPS; v++) l.push(`vip ${vip(v)} on outside`);
  for (let v = 0; v < VIPS; v++) {
    for (let p = 0; p < PORTS_PER_VIP; p++) {
      const i = v * PORTS_PER_VIP + p;
      if (variant && i < 100) continue; // removed
      l.push(`-A -t ${vip(v)}:${80 + p} -s wlc`);
      const w = variant && i % 10 === 0 ? 3 : 1;
      for (let d = 0; d < DESTS_PER_SERVICE; d++) l.push(`-a -t ${vip(v)}:${80 + p} -r ${rs(v, d)}:8080 -m -w ${w}`);
    }
  }
  if (variant) for (let i = 0; i < 100; i++) l.push(`-A -t ${vip(i)}:${1000 + i} -s rr`, `-a -t ${vip(i)}:${1000 + i} -r ${rs(i, 0)}:8080 -m`);
  for (let v = 0; v < VIPS; v++) {
    for (let r = 0; r < MARK_RANGES_PER_VIP; r++) {
      const mark = v * MARK_RANGES_PER_VIP + r + 1;
      const lo = mark === 1 && markShift ? 5000 : 2000 + r * 100;
      l.push(`mark ${mark} tcp ${vip(v)} ports ${lo}-${lo + 99}`, `-A -f ${mark} -s rr`, `-a -f ${mark} -r ${rs(v, 3)} -m`);
    }
  }
  return l.join('\n') + '\n';
}

/** About `bytes` of `ipvsadm -R` text: services (VIPs in 10.net8/11) with `perService` real servers each (`perService` < 1: one every 1/perService services). */
function restoreText(bytes: number, perService: number, net8: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let k = 0; size < bytes; k++) {
    const svc = `10.${net8 + ((k >> 16) & 31)}.${(k >> 8) & 255}.${k & 255}:80`;
    let s = `-A -t ${svc} -s wlc\n`;
    const n = perService >= 1 ? perService : k % Math.round(1 / perService) === 0 ? 1 : 0;
    for (let d = 0; d < n; d++) s += `-a -t ${svc} -r 192.168.${20 + d}.${(k % 250) + 1}:8080 -m -w 1\n`;
    parts.push(s);
    size += s.length;
  }
  return parts.join('');
}

interface Window {
  /** Longest time between two turns of the frame pump, ms. */
  maxGap: number;
  /** The most CPU time this thread spent between two turns of the pump, ms: the pause without the time other processes took the core. */
  maxCpuGap: number | undefined;
  /** The event loop's longest delay (monitorEventLoopDelay, 1 ms resolution), ms. */
  loopMax: number;
  frames: number;
  ms: number;
}

/** Forwards frames through `live` (64 per turn) while `op` runs; returns the pauses seen. */
async function underLoad(live: LiveDirector, op: () => Promise<unknown>): Promise<Window> {
  const outside = live.ports[0] as SinkPort;
  const inside = live.ports[1] as SinkPort;
  const frame = eth({ src: '02:00:00:00:00:fe', dst: OUT_MAC })
    .ipv4({ src: '203.0.113.7', dst: '10.0.0.100' })
    .tcp({ sport: 40000, dport: 80, flags: 'A', seq: 1, ack: 1, payload: new Uint8Array(64) })
    .build();
  const h = monitorEventLoopDelay({ resolution: 1 });
  let running = true;
  let maxGap = 0;
  let last = performance.now();
  const cpu = threadCpu();
  let maxCpuGap = 0;
  let lastCpu = cpu ? cpu() : 0;
  const sent0 = inside.frames;
  const pump = () => {
    if (!running) return;
    const t = performance.now();
    if (t - last > maxGap) maxGap = t - last;
    if (cpu) {
      const c = cpu();
      if (c - lastCpu > maxCpuGap) maxCpuGap = c - lastCpu;
    }
    for (let i = 0; i < 64; i++) outside.inject(frame);
    last = performance.now();
    if (cpu) lastCpu = cpu();
    setImmediate(pump);
  };
  // the control plane's own timers too, as in `tapvs run`
  const t0 = performance.now();
  h.enable();
  setImmediate(pump);
  await new Promise((r) => setTimeout(r, 200));
  await op();
  await new Promise((r) => setTimeout(r, 200));
  running = false;
  h.disable();
  return { maxGap, maxCpuGap: cpu ? maxCpuGap : undefined, loopMax: h.max / 1e6, frames: inside.frames - sent0, ms: performance.now() - t0 };
}

/** This thread's CPU time in ms: Node 23.9+ tells; before, Linux does (the first field of the main thread's schedstat, ns on a CPU). */
function threadCpu(): (() => number) | undefined {
  const f = (process as { threadCpuUsage?: () => { user: number; system: number } }).threadCpuUsage;
  if (typeof f === 'function') {
    return () => {
      const u = f.call(process);
      return (u.user + u.system) / 1000;
    };
  }
  try {
    const fd = openSync(`/proc/self/task/${process.pid}/schedstat`, 'r');
    const buf = Buffer.alloc(128);
    return () => {
      const n = readSync(fd, buf, 0, buf.length, 0);
      return Number(buf.toString('latin1', 0, n).split(' ')[0]) / 1e6;
    };
  } catch {
    return undefined;
  }
}

// Control clients run in a child process, as they do for real: building and
// sending a 15 MiB request on the director's own thread would be counted as
// the director's pause.

/** Sends one request (`argv`, stdin from `stdinFile`) from a child process; resolves with its exit code. */
function remoteRequest(path: string, argv: string[], stdinFile: string): Promise<number> {
  const src = `
    const net = require('node:net');
    const stdin = require('node:fs').readFileSync(${JSON.stringify(stdinFile)}, 'utf8');
    const s = net.createConnection(${JSON.stringify(path)});
    const chunks = [];
    s.on('connect', () => s.end(JSON.stringify({ argv: ${JSON.stringify(argv)}, stdin })));
    s.on('data', (d) => chunks.push(d));
    s.on('end', () => {
      const r = JSON.parse(Buffer.concat(chunks).toString());
      if (r.code !== 0) process.stderr.write(r.stderr.slice(0, 2000));
      process.exit(r.code);
    });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', src], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? -1));
  });
}

/**
 * A child process holding `n` control connections, each having sent `bytes`
 * of a request it never finishes; it prints how many were refused once it
 * has sent everything, and closes them all when told (a line on stdin).
 */
function unfinishedClients(path: string, n: number, bytes: number): Promise<{ refused: number; close: () => Promise<void> }> {
  const src = `
    const net = require('node:net');
    const chunk = Buffer.alloc(1 << 16, 0x20);
    const socks = [];
    let refused = 0;
    Promise.all(Array.from({ length: ${n} }, () => new Promise((resolve) => {
      const s = net.createConnection(${JSON.stringify(path)});
      socks.push(s);
      s.on('data', (d) => { if (d.toString().includes('"code":1')) refused++; });
      s.on('error', () => resolve());
      s.on('close', () => resolve());
      s.once('connect', () => {
        s.write('{"argv":["-R"],"stdin":"');
        let left = ${bytes};
        const more = () => {
          while (left > 0) {
            left -= chunk.length;
            if (!s.write(chunk)) return void s.once('drain', more);
          }
          resolve();
        };
        more();
      });
    }))).then(() => setTimeout(() => process.stdout.write(refused + '\\n'), 300));
    process.stdin.once('data', () => { for (const s of socks) s.destroy(); process.exit(0); });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', src], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.once('error', reject);
    child.stdout.once('data', (d: Buffer) => resolve({
      refused: Number(d.toString().trim()),
      close: () => new Promise((done) => { child.once('exit', () => done()); child.stdin.write('x\n'); }),
    }));
  });
}

const mb = (b: number) => Math.round(b / (1 << 20));
const fmt = (w: Window) =>
  `${w.maxCpuGap !== undefined ? `CPU in the longest pause ${w.maxCpuGap.toFixed(1)} ms; ` : ''}event loop max ${w.loopMax.toFixed(1)} ms; ` +
  `${Math.round(w.frames / (w.ms / 1000)).toLocaleString('en-US')} frames/s forwarded meanwhile`;

export async function benchStress(): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'tapvs-stress-'));
  const socket = join(dir, 'tapvs.sock');
  const file = join(dir, 'tapvs.conf');
  try {
    // the file of the issue: 13 mark lines of 5000-port ranges on one address, 29 lines
    let marks = `port outside kind=memory mac=${OUT_MAC} addr=10.0.0.1/16\nvip 10.0.0.100 on outside\n`;
    for (let i = 0; i < 13; i++) marks += `mark ${i + 1} tcp 10.0.0.100 ports ${i * 5000 + 1}-${i * 5000 + 5000}\n-A -f ${i + 1} -s rr\n`;
    let t = performance.now();
    parseConfig(marks, 'marks.conf');
    out.push({ name: 'parse 29 lines of same-address mark ranges', value: performance.now() - t, unit: 'ms', note: '13 ranges of 5000 ports on one VIP' });

    const text = bigConfig(socket);
    writeFileSync(file, text);
    t = performance.now();
    const parsed = parseConfig(text, file);
    const parseMs = performance.now() - t;
    if ('errors' in parsed) throw new Error(parsed.errors.slice(0, 3).map((e) => e.message).join('\n'));
    const cfg = parsed.config;
    const dests = cfg.services.reduce((n, s) => n + s.dests.length, 0);
    const what = `${cfg.services.length} services, ${dests} real servers, ${cfg.marks.length} mark ranges (${text.split('\n').length} lines)`;
    out.push({ name: 'parse the large config', value: parseMs, unit: 'ms', note: `${what}, on this thread, cold` });

    const log = pino({ level: 'silent' });
    t = performance.now();
    const live = new LiveDirector(cfg, log, { open: (p) => new SinkPort({ name: p.name, mac: p.mac, mtu: p.mtu }) });
    out.push({ name: 'start a director on the large config', value: performance.now() - t, unit: 'ms', note: 'Director constructor (before forwarding starts)' });
    live.start();
    const plane = await startControlPlane(live, file, log, { signals: false, health: false });
    try {
      // the flow the pump sends: opened once
      const syn = eth({ src: '02:00:00:00:00:fe', dst: OUT_MAC }).ipv4({ src: '203.0.113.7', dst: '10.0.0.100' })
        .tcp({ sport: 40000, dport: 80, flags: 'S', seq: 0 }).build();
      (live.ports[0] as SinkPort).inject(syn);

      const idle = await underLoad(live, () => new Promise((r) => setTimeout(r, 1000)));
      out.push({ name: 'longest forwarding pause, no control work', value: idle.maxGap, unit: 'ms', note: `the noise floor; ${fmt(idle)}` });

      // clients that send most of a large request and never finish it
      global.gc?.();
      const rss0 = process.memoryUsage().rss;
      const held = await unfinishedClients(socket, 32, 14 << 20);
      const rss1 = process.memoryUsage().rss;
      await held.close();
      await new Promise((r) => setTimeout(r, 500));
      global.gc?.();
      await new Promise((r) => setTimeout(r, 500));
      const rss2 = process.memoryUsage().rss;
      const refused = held.refused;
      out.push({
        name: 'RSS growth, 32 clients each 14 MiB unfinished', value: mb(rss1 - rss0), unit: 'MB',
        note: `${refused} of 32 refused at once (connection and byte limits); ${mb(rss2 - rss0)} MB above the start after they left${global.gc ? ' and a GC' : ''}`,
      });

      // each reload three times (the file switched between two versions where it changes): the median of the three longest pauses, and the worst
      const reload = async (label: string, note: string, versions: string[]) => {
        const runs: { w: Window; summary: string; took: number }[] = [];
        for (let k = 0; k < 3; k++) {
          writeFileSync(file, versions[k % versions.length]!);
          let summary = '';
          let took = 0;
          const w = await underLoad(live, async () => {
            const t0 = performance.now();
            const r = await plane.reload();
            took = performance.now() - t0;
            if (!r.ok) throw new Error(`${label}: ${r.errors.slice(0, 3).join('\n')}`);
            summary = r.summary;
          });
          runs.push({ w, summary, took });
        }
        runs.sort((a, b) => a.w.maxGap - b.w.maxGap);
        const mid = runs[1]!;
        const cpu = runs.map((r) => r.w.maxCpuGap).filter((c): c is number => c !== undefined).sort((a, b) => a - b);
        out.push({
          name: `longest pause, ${label}`, value: mid.w.maxGap, unit: 'ms',
          note: `median of 3 (worst ${runs[2]!.w.maxGap.toFixed(1)} ms${cpu.length ? `; CPU in the longest pauses ${cpu.map((c) => c.toFixed(1)).join(' / ')} ms` : ''}); ` +
            `${note}: ${mid.summary}; took ${mid.took.toFixed(0)} ms; ${fmt(mid.w)}`,
        });
      };
      await reload('reload of the unchanged config', what, [text]);
      await reload('reload changing 300 services', '100 removed, 100 added, 200 with new weights', [bigConfig(socket, 1), text]);
      await reload('reload changing one mark rule', `the ${cfg.marks.length} rules are replaced together`, [bigConfig(socket, 0, 50), text]);

      const restore = async (label: string, body: string) => {
        let took = 0;
        let code = -1;
        const stdinFile = join(dir, 'rules.txt');
        writeFileSync(stdinFile, body);
        const w = await underLoad(live, async () => {
          const t0 = performance.now();
          code = await remoteRequest(socket, ['-R'], stdinFile);
          took = performance.now() - t0;
          if (code !== 0) throw new Error(`${label}: exit ${code}`);
        });
        const lines = body.split('\n').length - 1;
        out.push({ name: `longest pause, ${label}`, value: w.maxGap, unit: 'ms', note: `${lines} lines, exit ${code}; took ${took.toFixed(0)} ms; ${fmt(w)}` });
      };
      await restore('15 MiB -R, 5 real servers per service', restoreText(15 << 20, 5, 150));
      await restore('15 MiB -R, services (+1 real server per 50)', restoreText(15 << 20, 1 / 50, 100));

    } finally {
      await plane.stop();
      await live.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await benchStress()) {
    const v = Number.isInteger(r.value) ? r.value.toLocaleString('en-US') : r.value.toFixed(2);
    console.log(`${r.name.padEnd(52)} ${v.padStart(10)} ${r.unit.padEnd(4)} ${r.note ?? ''}`);
  }
}
