// The control plane of `tapvs run`: the ipvsadm control socket, SIGHUP
// reload of the config file, health checks and the metrics endpoint. It
// changes the tables the data path reads only through the director's
// mutation API, between frames. Requests and reloads run one at a time, in
// order; large ones are parsed in a worker thread (prepare.ts) and applied
// in slices (slices.ts), so that no control operation holds up forwarding.
import type pino from 'pino';
import type { Director } from '../director/director.js';
import type { DirectorConfig } from '../model/config.js';
import { portNow, type Port } from '../io/port.js';
import { startHealthChecks, type HealthChecks } from './health/index.js';
import type { HealthState } from './health/types.js';
import { DEFAULT_CONTROL_SOCKET, listenControlSocket, type ControlReply, type ControlRequest, type ControlSocket } from './control-socket.js';
import { execIpvsadm } from './ipvsadm-exec.js';
import { parseIpvsadmArgs } from './ipvsadm-args.js';
import { answerLookup } from './ipvsadm-names.js';
import { changesRules } from './live-rules.js';
import { renderMetrics, startMetricsServer, type MetricsServer, type MetricsSource } from './metrics.js';
import { reloadConfigAsync, type ConfigLoader, type ReloadResult } from './reload.js';
import { Preparer } from './prepare.js';
import type { PreparedRestore } from './prepare-core.js';
import { restoreLive } from './restore-live.js';
import { SerialQueue } from './slices.js';
import { execSysctl, sysctlWrites } from './sysctl.js';
import type { HaRuntime } from './ha/runtime.js';
import { execVrrp } from './ha/command.js';
import type { RuleWatcher } from './rule-log.js';

type Logger = pino.Logger;

/** What the control plane works on: the running director, its ports and the config in force (a reload replaces it). */
export interface ControlTarget {
  readonly director: Director;
  readonly ports: readonly Port[];
  readonly log: Logger;
  cfg: DirectorConfig;
  /** The HA pair (VRRP, sync daemons), when the director runs one. */
  readonly ha?: HaRuntime;
  /** The writer thread, when on: its figures go to /metrics. */
  readonly writer?: MetricsSource['writer'];
}

export interface ControlPlane {
  readonly socketPath: string;
  readonly metrics: MetricsServer | undefined;
  /** Re-reads the config file (what SIGHUP does); queued behind the requests and reloads before it. */
  reload(): Promise<ReloadResult>;
  /** Runs one request as if it came through the socket. */
  handle(req: ControlRequest): Promise<ControlReply>;
  /** What each health check last found (empty without checks). */
  healthStates(): HealthState[];
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Install the SIGHUP handler (default true; tests call reload() instead). */
  signals?: boolean;
  /** Start the health checker (default true). */
  health?: boolean;
  /** Start the control plane's worker thread at once (default true; else with the first reload or large request). */
  warm?: boolean;
  /** How SIGHUP reads the config (default: parse configPath); --keepalived reads its keepalived.conf too. */
  load?: ConfigLoader;
  /** Told when each operation that may change the rules starts and ends (`tapvs run --record` records the changes). */
  watch?: RuleWatcher;
}

/**
 * Starts the control socket (cfg.options.controlSocket, default
 * /run/tapvs/tapvs.sock), health checks, the metrics endpoint when
 * cfg.options.metricsListen is set, and the SIGHUP reload of `configPath`.
 */
export async function startControlPlane(
  live: ControlTarget, configPath: string, log: Logger, opts: ControlPlaneOptions = {},
): Promise<ControlPlane> {
  const cfg = live.cfg; // as started; reloads replace live.cfg
  let health: HealthChecks | undefined;
  let socket: ControlSocket | undefined;
  let metrics: MetricsServer | undefined;

  const queue = new SerialQueue();
  const prep = new Preparer((why) => log.warn({}, why));

  // a request whose -R text the worker parsed carries it as `restore` (and no stdin);
  // `tapvs sysctl` sends verb 'sysctl' (control/sysctl.ts), every other request is ipvsadm's
  type Request = ControlRequest & { restore?: PreparedRestore; verb?: unknown };
  const run = async (req: Request): Promise<ControlReply> => {
    if (req.verb === 'vrrp') return execVrrp(live.ha, req.argv);
    if (req.verb === 'sysctl') {
      const reply = execSysctl(live.director, req.argv);
      if (reply.code === 0 && sysctlWrites(req.argv)) log.info({ sysctl: req.argv }, 'sysctl: settings changed');
      else if (reply.code !== 0) log.warn({ sysctl: req.argv, code: reply.code, error: reply.stderr.trim() }, 'sysctl: refused');
      return reply;
    }
    const parsed = parseIpvsadmArgs(req.argv, req.names ? answerLookup(req.names) : undefined);
    let reply: ControlReply;
    let lines: number | undefined;
    if (req.restore) {
      reply = await restoreLive(live, req.restore);
      lines = req.restore.ok ? req.restore.count : undefined;
    } else {
      reply = execIpvsadm(live, req.argv, req.stdin, portNow(), req.names);
      if (req.stdin !== undefined) lines = req.stdin.split('\n').filter((l) => l.trim() !== '').length;
    }
    if (reply.code === 0 && parsed.ok && changesRules(parsed.command)) {
      log.info({ argv: req.argv, lines }, 'ipvsadm: rules changed');
    } else if (reply.code !== 0) {
      log.warn({ argv: req.argv, code: reply.code, error: reply.stderr.slice(0, 4096).trim() }, 'ipvsadm: refused');
    }
    return reply;
  };
  // with a watcher, each operation is bracketed: a reload applied in slices changes rules between frames
  const watched = async <T>(source: string, what: (r: T | undefined) => string, f: () => Promise<T>): Promise<T> => {
    const w = opts.watch;
    if (!w) return f();
    w.changing(source);
    let r: T | undefined;
    try {
      r = await f();
      return r;
    } finally {
      w.changed(source, what(r));
    }
  };
  const handle = (req: Request): Promise<ControlReply> => {
    const source = req.verb === 'sysctl' ? 'sysctl' : req.verb === 'vrrp' ? 'vrrp' : 'ipvsadm';
    return queue.run(() => watched(source, () => [source, ...req.argv].join(' '), () => run(req)));
  };

  // a successful reload makes the new file live.cfg, the config in force. A reload asked for
  // while another waits to start would read the same file: they are one
  let waiting: Promise<ReloadResult> | undefined;
  const reload = (): Promise<ReloadResult> => {
    if (waiting) return waiting;
    const p = queue.run(() => {
      if (waiting === p) waiting = undefined;
      return watched('reload', (r) => (r?.ok ? `reload: ${r.summary}` : 'reload refused'),
        () => reloadConfigAsync(live, configPath, prep, log, health, opts.load));
    });
    waiting = p;
    return p;
  };
  const onHup = () => {
    log.info({ file: configPath }, 'SIGHUP: reloading config');
    void reload();
  };

  try {
    // started even without checks, so that a reload can add some
    if (opts.health !== false) {
      const w = opts.watch;
      health = startHealthChecks(live, cfg.healthChecks, w
        ? { onVerdict: (s) => w.changed('health', `${s.kind} check of ${s.dest} (${s.service}) ${s.up ? 'up' : 'down'}${s.lastError && !s.up ? `: ${s.lastError}` : ''}`) }
        : {});
      w?.changed('health', 'checks started');
    }
    // the worker thread's start (a few ms here, its modules compiled beside us) is not part of the first reload
    if (opts.warm !== false) prep.start();
    socket = await listenControlSocket<Request>(cfg.options.controlSocket ?? DEFAULT_CONTROL_SOCKET, handle, {
      decodeLarge: async (bytes) => {
        const r = await prep.request(bytes);
        return r.ok ? { ok: true, req: r.restore ? { ...r.req, restore: r.restore } : r.req } : r;
      },
    });
    log.info({ socket: socket.path }, 'control socket listening');
    if (cfg.options.metricsListen) {
      metrics = await startMetricsServer(cfg.options.metricsListen, () =>
        renderMetrics({ director: live.director, ports: live.ports, health: health ? () => health!.states() : undefined, ha: live.ha, writer: live.writer }));
      log.info({ listen: `${metrics.address.host}:${metrics.address.port}` }, 'metrics at /metrics');
    }
  } catch (e) {
    await socket?.close();
    await health?.stop();
    await prep.close();
    throw e;
  }
  if (opts.signals !== false) process.on('SIGHUP', onHup);

  let stopped = false;
  return {
    socketPath: socket.path,
    metrics,
    reload,
    handle,
    healthStates: () => health?.states() ?? [],
    async stop() {
      if (stopped) return;
      stopped = true;
      process.off('SIGHUP', onHup);
      await Promise.all([socket?.close(), metrics?.close(), health?.stop()]);
      await queue.run(() => undefined); // what was queued has finished
      await prep.close();
    },
  };
}
