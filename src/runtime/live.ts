// A running director on real devices: its ports, its timers, and the
// control plane wired to it. `tapvs run` is runDirector(); tests build a
// LiveDirector on memory ports.
import type { DirectorConfig, PortConfig } from '../model/config.js';
import type { FrameMeta } from '../model/frame.js';
import { Director } from '../director/director.js';
import { startControlPlane } from '../control/server.js';
import { HaRuntime } from '../control/ha/runtime.js';
import { emptyHaConfig } from '../model/ha.js';
import type { HealthState } from '../control/health/types.js';
import { drain, type Steps } from '../control/slices.js';
import type { RuleWatcher } from '../control/rule-log.js';
import type { ConfigLoader } from '../control/reload.js';
import { portNow, type Port } from '../io/port.js';
import { openTap } from '../io/tap.js';
import { TxThread } from '../io/tx-thread.js';
import type { TraceSink } from '../trace/events.js';
import type { Logger } from './log.js';

const TICK_MS = 100;
const STATS_MS = 2000;
/**
 * Frames a TAP queues for us before the kernel drops. With the kernel's 1000,
 * a 64-byte UDP flood through the NAT lab lost frames at the TAP whenever the
 * scheduler ran iperf3 instead of us for ~10 ms; 4096 absorbed those gaps at
 * 117 k packets/s offered (bench/e2e.ts).
 */
const TAP_TX_QUEUE_LEN = 4096;

/** Sees every frame received (before the director rewrites it) and sent: the recorder of `--record`. */
export interface FrameTap {
  /** The clock of the frame or timer being handled, ms. */
  now: number;
  /** `meta`: what travels with the frame (a partial checksum is only finished in the recorder's copy). */
  received(port: number, buf: Uint8Array, off: number, len: number, now: number, meta?: FrameMeta): void;
  sent(port: number, buf: Uint8Array, off: number, len: number, meta?: FrameMeta): void;
  close(): void;
}

// libpcap's binding (the `cap` addon) is loaded only for a config with a pcap port,
// so a TAP-only director runs where `cap` is not built
let pcapPorts: typeof import('../io/pcap-port.js') | undefined;

/** Loads what opening the config's ports needs beyond TAPs (the pcap module for kind=pcap). */
export async function loadPortModules(cfg: Pick<DirectorConfig, 'ports'>): Promise<void> {
  if (!pcapPorts && cfg.ports.some((p) => p.kind === 'pcap')) pcapPorts = await import('../io/pcap-port.js');
}

export function openPort(p: PortConfig, writer?: TxThread): Port {
  const device = p.device ?? p.name;
  if (p.kind === 'tap') {
    return openTap({
      name: p.name, device, create: true, up: true, mtu: p.mtu, txQueueLen: TAP_TX_QUEUE_LEN, netns: p.netns, master: p.bridge, offload: p.offload, writer,
    });
  }
  if (p.kind === 'pcap') {
    if (!pcapPorts) throw new Error(`port '${p.name}': the pcap module is not loaded (loadPortModules before opening ports)`);
    return pcapPorts.openPcap({ name: p.name, device });
  }
  throw new Error(`port '${p.name}' (line ${p.line ?? '?'}): kind=memory ports exist only in replay and tests; use kind=tap or kind=pcap`);
}

/** How a port runs offload ('tso' or 'off'), and why when it is off. */
export function portOffload(p: PortConfig, port: Port): { offload: 'tso' | 'off'; offloadOff?: string } {
  const q = port as { offload?: unknown; offloadOff?: unknown };
  if (q.offload === true) return { offload: 'tso' };
  if (typeof q.offloadOff === 'string') return { offload: 'off', offloadOff: q.offloadOff };
  if (p.kind === 'pcap') {
    return { offload: 'off', offloadOff: 'a pcap port has no virtio_net_hdr: super-frames and partial checksums leaving through it are cut and finished in software' };
  }
  return { offload: 'off', offloadOff: p.kind === 'tap' ? 'offload=none in the config' : `a ${p.kind} port sends finished frames only` };
}

export interface LiveOptions {
  trace?: TraceSink;
  /** Makes each port; tests pass one that builds memory ports. */
  open?: (p: PortConfig, writer?: TxThread) => Port;
  tap?: FrameTap;
  /**
   * 'auto' (the default): TAP writes go to a writer thread while they take a
   * large share of the forwarding thread's time (io/tx-thread.ts); 'off':
   * always written inline.
   */
  txThread?: 'auto' | 'off';
}

/** A running director on real devices; `stop()` closes every port (removing the TAPs it created). */
export class LiveDirector {
  readonly director: Director;
  /** The HA pair: VRRP instances and IPVS sync daemons (idle unless configured or started with ipvsadm). */
  readonly ha: HaRuntime;
  readonly ports: Port[] = [];
  /** What the health checks last found, once the control plane runs (the browser view shows it). */
  healthStates: () => HealthState[] = () => [];
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private estimating = false;
  private readonly tap: FrameTap | undefined;
  /** The writer thread the TAP ports share, when on. */
  readonly writer: TxThread | undefined;

  /** `cfg` is the config in force: a successful reload replaces it (never its ports, VIPs or routes). */
  constructor(public cfg: DirectorConfig, readonly log: Logger, opts: LiveOptions = {}) {
    const tap = opts.tap;
    this.tap = tap;
    const send = tap
      ? (i: number, b: Uint8Array, o: number, l: number, meta: FrameMeta) => {
        tap.sent(i, b, o, l, meta);
        this.ports[i]!.send(b, o, l, meta);
      }
      : (i: number, b: Uint8Array, o: number, l: number, meta: FrameMeta) => this.ports[i]!.send(b, o, l, meta);
    this.director = new Director(cfg, { send }, { trace: opts.trace });
    this.ha = new HaRuntime(this.director, cfg.ha ?? emptyHaConfig(), portNow, log, (i) => this.ports[i]?.counters.txErrors ?? 0);
    const open = opts.open ?? openPort;
    this.writer = (opts.txThread ?? 'auto') === 'auto' && !opts.open && cfg.ports.some((p) => p.kind === 'tap') ? new TxThread() : undefined;
    try {
      for (const p of cfg.ports) {
        const port = open(p, this.writer);
        this.ports.push(port);
        // offload as the port runs it: TAPs on unless offload=none (or the kernel refused it); other
        // kinds cut and finish in software what they send; when off, the log says why
        const { offload, offloadOff } = portOffload(p, port);
        const fields = { port: p.name, device: port.device, kind: p.kind, netns: p.netns, bridge: p.bridge, offload, offloadOff };
        // off although the config left it on: worth a warning
        if (p.kind === 'tap' && p.offload === undefined && offload === 'off') log.warn(fields, 'port open');
        else log.info(fields, 'port open');
      }
    } catch (e) {
      void this.closePorts();
      throw e;
    }
  }

  start(): void {
    const d = this.director;
    const tap = this.tap;
    const sink = tap
      ? (i: number, b: Uint8Array, o: number, l: number, now: number, meta: FrameMeta) => {
        tap.received(i, b, o, l, now, meta); // before processing: the director rewrites in place
        d.process(i, b, o, l, now, meta);
      }
      : (i: number, b: Uint8Array, o: number, l: number, now: number, meta: FrameMeta) => d.process(i, b, o, l, now, meta);
    this.ports.forEach((p, i) => p.start(sink, i));
    const t0 = portNow();
    if (tap) tap.now = t0;
    d.start(t0);
    // VRRP instances start as backup (their VIPs held back), the configured sync daemons start
    this.ha.start();
    this.timers.push(setInterval(() => {
      const now = portNow();
      if (tap) tap.now = now;
      d.tick(now);
    }, TICK_MS));
    // the rate estimator visits every service and real server; with hundreds of thousands of
    // them that is a second of work, so it runs in slices between frames (each Stats keeps its
    // own last sample time, so a pass spread over its 2 s still gives exact rates)
    this.timers.push(setInterval(() => {
      if (this.estimating) return;
      this.estimating = true;
      void drain(this.estimateSteps()).finally(() => { this.estimating = false; });
    }, STATS_MS));
    this.log.info({ services: d.services.all.length, conns: d.conns.max }, 'director running');
  }

  private *estimateSteps(): Steps<void> {
    const d = this.director;
    // run_estimation 0: the rates stay where they were (the kernel stops its estimator kthreads)
    const run = d.conns.settings.runEstimation;
    d.totals.estimate(Date.now(), run);
    for (const svc of d.services.all) {
      if (this.stopped) return;
      const now = Date.now();
      svc.stats.estimate(now, run);
      for (const dest of svc.dests) dest.stats.estimate(now, run);
      yield;
    }
  }

  private async closePorts(): Promise<void> {
    await Promise.all(this.ports.map((p) => p.close().catch(() => undefined)));
    await this.writer?.stop();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    // a VRRP master sends priority 0 while its ports are still open
    this.ha.stop();
    await this.closePorts();
    this.tap?.close();
    this.log.info({ drops: this.director.drops.toObject(), counters: this.director.counters }, 'director stopped');
  }
}

export interface RunOptions extends LiveOptions {
  cfg: DirectorConfig;
  configPath: string;
  /** How SIGHUP re-reads the config (default: configPath as a tapvs config). */
  load?: ConfigLoader;
  log: Logger;
  /** Made once the director exists and before the control plane starts; told of every rule change (`--record`). */
  watch?: (director: Director) => RuleWatcher;
  /** `--ui`: the browser view (src/ui), served beside the control plane while the director runs. */
  ui?: { start(live: LiveDirector, now: () => number): Promise<{ readonly url: string; close(): Promise<void> }> };
}

/**
 * `tapvs run`: the director on its ports with its control plane, until
 * SIGINT or SIGTERM; then everything is closed (the TAPs it made removed).
 */
export async function runDirector(o: RunOptions): Promise<number> {
  if (!o.open) await loadPortModules(o.cfg);
  const live = new LiveDirector(o.cfg, o.log, o);
  live.start();
  let plane: { stop(): Promise<void>; healthStates(): HealthState[] };
  try {
    const watch = o.watch?.(live.director);
    plane = await startControlPlane(live, o.configPath, o.log, { ...(o.load ? { load: o.load } : {}), ...(watch ? { watch } : {}) });
    const p = plane;
    live.healthStates = () => p.healthStates();
  } catch (e) {
    await live.stop(); // close the ports (and remove the TAPs) before reporting
    throw e;
  }
  let view: { readonly url: string; close(): Promise<void> } | undefined;
  if (o.ui) {
    try {
      view = await o.ui.start(live, portNow);
    } catch (e) {
      await plane.stop();
      await live.stop();
      throw e;
    }
    o.log.info({ url: view.url }, 'browser view listening');
  }
  await new Promise<void>((resolve) => {
    const done = (sig: string) => {
      o.log.info({ signal: sig }, 'shutting down');
      resolve();
    };
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
  await view?.close();
  await plane.stop();
  await live.stop();
  return 0;
}
