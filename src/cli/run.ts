import os from 'node:os';
import pino from 'pino';
import type { DirectorConfig, PortConfig } from '../model/config.js';
import { Director } from '../director/director.js';
import { openPcap } from '../io/pcap-port.js';
import { portNow, type Port } from '../io/port.js';
import { openTap } from '../io/tap.js';
import { rxGso } from '../io/vnet.js';
import { startControlPlane } from '../control/server.js';
import { parseFlags } from './main.js';
import { loadConfig } from './replay.js';
import { Recorder } from './recorder.js';

const TICK_MS = 100;
const STATS_MS = 2000;
/**
 * Frames a TAP queues for us before the kernel drops. With the kernel's 1000,
 * a 64-byte UDP flood through the NAT lab lost frames at the TAP whenever the
 * scheduler ran iperf3 instead of us for ~10 ms; 4096 absorbed those gaps at
 * 117 k packets/s offered (bench/e2e.ts).
 */
const TAP_TX_QUEUE_LEN = 4096;

export type Logger = pino.Logger;

export function makeLogger(): Logger {
  // JSON on a pipe, readable lines on a terminal
  if (process.stderr.isTTY) {
    return pino({ base: undefined }, pino.transport({ target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:HH:MM:ss.l' } }));
  }
  return pino({ base: undefined }, pino.destination(2));
}

function openPort(p: PortConfig): Port {
  const device = p.device ?? p.name;
  if (p.kind === 'tap') {
    return openTap({
      name: p.name, device, create: true, up: true, mtu: p.mtu, txQueueLen: TAP_TX_QUEUE_LEN, netns: p.netns, master: p.bridge, offload: p.offload,
    });
  }
  if (p.kind === 'pcap') return openPcap({ name: p.name, device });
  throw new Error(`port '${p.name}' (line ${p.line ?? '?'}): kind=memory ports exist only in replay and tests; use kind=tap or kind=pcap`);
}

/** A running director on real devices; `stop()` closes every port (removing the TAPs it created). */
export class LiveDirector {
  readonly director: Director;
  readonly ports: Port[] = [];
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;

  /**
   * `cfg` is the config in force: a successful reload replaces it (never its
   * ports, VIPs or routes). `open` makes each port; tests pass one that
   * builds memory ports.
   */
  private readonly recorder: Recorder | undefined;

  constructor(
    public cfg: DirectorConfig,
    readonly log: Logger,
    trace?: (line: string) => void,
    open: (p: PortConfig) => Port = openPort,
    record: { received?: string; sent?: string } = {},
  ) {
    const rec = record.received || record.sent ? new Recorder(cfg.ports.map((p) => p.name), record) : undefined;
    this.recorder = rec;
    const send = rec
      ? (i: number, b: Uint8Array, o: number, l: number) => {
        rec.sent(i, b, o, l);
        this.ports[i]!.send(b, o, l);
      }
      : (i: number, b: Uint8Array, o: number, l: number) => this.ports[i]!.send(b, o, l);
    this.director = new Director(cfg, { send }, { trace });
    try {
      for (const p of cfg.ports) {
        const port = open(p);
        this.ports.push(port);
        log.info({ port: p.name, device: port.device, kind: p.kind, netns: p.netns, bridge: p.bridge, offload: p.offload }, 'port open');
      }
    } catch (e) {
      void this.closePorts();
      throw e;
    }
  }

  start(): void {
    const d = this.director;
    // a TAP with offload marks the super-frame it is handing over (io/vnet.ts): the director must know
    const rec = this.recorder;
    const sink = (i: number, b: Uint8Array, o: number, l: number, now: number) => {
      d.rxGso = rxGso.buf === b;
      rec?.received(i, b, o, l, now); // before processing: the director rewrites in place
      d.process(i, b, o, l, now);
    };
    this.ports.forEach((p, i) => p.start(sink, i));
    const t0 = portNow();
    if (rec) rec.now = t0;
    d.start(t0);
    this.timers.push(setInterval(() => {
      const now = portNow();
      if (rec) rec.now = now;
      d.tick(now);
    }, TICK_MS));
    this.timers.push(setInterval(() => {
      const now = Date.now();
      for (const svc of d.services.all) {
        svc.stats.estimate(now);
        for (const dest of svc.dests) dest.stats.estimate(now);
      }
    }, STATS_MS));
    this.log.info({ services: d.services.all.length, conns: d.conns.max }, 'director running');
  }

  private async closePorts(): Promise<void> {
    await Promise.all(this.ports.map((p) => p.close().catch(() => undefined)));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    await this.closePorts();
    this.recorder?.close();
    this.log.info({ drops: this.director.drops.toObject(), counters: this.director.counters }, 'director stopped');
  }
}

/**
 * `--nice N`: the kernel forwards in softirq context, ahead of every user
 * task; a user-space director competing with its own clients and servers for
 * the CPUs gets the same precedence only if asked (this sets the event-loop
 * thread's nice value: it does all the frame I/O). On 2 cores, -10 raised the
 * NAT lab's delivered 64-byte UDP packets/s by about 15% (bench/e2e.ts).
 */
function setNice(value: string, log: Logger): void {
  const n = Number(value);
  if (!Number.isInteger(n) || n < -20 || n > 19) throw new Error(`--nice ${value}: an integer from -20 to 19`);
  try {
    os.setPriority(0, n);
    log.info({ nice: n }, 'scheduling priority set');
  } catch (e) {
    log.warn({ nice: n, err: (e as Error).message }, 'could not set the scheduling priority (needs root or CAP_SYS_NICE for values below 0)');
  }
}

export async function runCommand(args: string[]): Promise<number> {
  const { flags } = parseFlags(args, ['config', 'nice', 'record', 'record-sent']);
  if (typeof flags.config !== 'string') throw new Error('--config FILE is required');
  const log = makeLogger();
  if (typeof flags.nice === 'string') setNice(flags.nice, log);
  if (process.getuid && process.getuid() !== 0) {
    log.warn('not running as root: opening TAP devices will probably fail (EPERM)');
  }
  const cfg = loadConfig(flags.config);
  const trace = flags.trace ? (l: string) => process.stdout.write(l + '\n') : undefined;
  const record = { received: flags.record as string | undefined, sent: flags['record-sent'] as string | undefined };
  const live = new LiveDirector(cfg, log, trace, undefined, record);
  live.start();
  let extras: { stop(): Promise<void> };
  try {
    extras = await startControlPlane(live, flags.config, log);
  } catch (e) {
    await live.stop(); // close the ports (and remove the TAPs) before reporting
    throw e;
  }
  await new Promise<void>((resolve) => {
    const done = (sig: string) => {
      log.info({ signal: sig }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
  await extras.stop();
  await live.stop();
  return 0;
}
