import pino from 'pino';
import type { DirectorConfig, PortConfig } from '../control/config-types.js';
import { Director } from '../director/director.js';
import { openPcap } from '../io/pcap-port.js';
import { portNow, type Port } from '../io/port.js';
import { openTap } from '../io/tap.js';
import { startControlPlane } from '../control/server.js';
import { parseFlags } from './main.js';
import { loadConfig } from './replay.js';

const TICK_MS = 100;
const STATS_MS = 2000;

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
    return openTap({ name: p.name, device, create: true, up: true, mtu: p.mtu, netns: p.netns, master: p.bridge });
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
  constructor(
    public cfg: DirectorConfig,
    readonly log: Logger,
    trace?: (line: string) => void,
    open: (p: PortConfig) => Port = openPort,
  ) {
    this.director = new Director(cfg, { send: (i, b, o, l) => this.ports[i]!.send(b, o, l) }, { trace });
    try {
      for (const p of cfg.ports) {
        const port = open(p);
        this.ports.push(port);
        log.info({ port: p.name, device: port.device, kind: p.kind, netns: p.netns, bridge: p.bridge }, 'port open');
      }
    } catch (e) {
      void this.closePorts();
      throw e;
    }
  }

  start(): void {
    const d = this.director;
    const sink = (i: number, b: Uint8Array, o: number, l: number, now: number) => d.process(i, b, o, l, now);
    this.ports.forEach((p, i) => p.start(sink, i));
    d.start(portNow());
    this.timers.push(setInterval(() => d.tick(portNow()), TICK_MS));
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
    this.log.info({ drops: this.director.drops.toObject(), counters: this.director.counters }, 'director stopped');
  }
}

export async function runCommand(args: string[]): Promise<number> {
  const { flags } = parseFlags(args, ['config']);
  if (typeof flags.config !== 'string') throw new Error('--config FILE is required');
  const log = makeLogger();
  if (process.getuid && process.getuid() !== 0) {
    log.warn('not running as root: opening TAP devices will probably fail (EPERM)');
  }
  const cfg = loadConfig(flags.config);
  const trace = flags.trace ? (l: string) => process.stdout.write(l + '\n') : undefined;
  const live = new LiveDirector(cfg, log, trace);
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
