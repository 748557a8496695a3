// The control plane of `tapvs run`: the ipvsadm control socket, SIGHUP
// reload of the config file, health checks and the metrics endpoint. It
// changes the tables the data path reads only through the director's
// mutation API, synchronously between frames.
import type pino from 'pino';
import type { Director } from '../director/director.js';
import type { DirectorConfig } from '../model/config.js';
import { portNow, type Port } from '../io/port.js';
import { startHealthChecks, type HealthChecks } from './health/index.js';
import { DEFAULT_CONTROL_SOCKET, listenControlSocket, type ControlReply, type ControlRequest, type ControlSocket } from './control-socket.js';
import { execIpvsadm } from './ipvsadm-exec.js';
import { parseIpvsadmArgs } from './ipvsadm-args.js';
import { changesRules } from './live-rules.js';
import { renderMetrics, startMetricsServer, type MetricsServer } from './metrics.js';
import { reloadConfig, type ConfigLoader, type ReloadResult } from './reload.js';

type Logger = pino.Logger;

/** What the control plane works on: the running director, its ports and the config in force (a reload replaces it). */
export interface ControlTarget {
  readonly director: Director;
  readonly ports: readonly Port[];
  readonly log: Logger;
  cfg: DirectorConfig;
}

export interface ControlPlane {
  readonly socketPath: string;
  readonly metrics: MetricsServer | undefined;
  /** Re-reads the config file (what SIGHUP does). */
  reload(): ReloadResult;
  /** Runs one request as if it came through the socket. */
  handle(req: ControlRequest): ControlReply;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Install the SIGHUP handler (default true; tests call reload() instead). */
  signals?: boolean;
  /** Start the health checker (default true). */
  health?: boolean;
  /** How SIGHUP reads the config (default: parse configPath); --keepalived reads its keepalived.conf too. */
  load?: ConfigLoader;
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

  const handle = (req: ControlRequest): ControlReply => {
    const reply = execIpvsadm(live, req.argv, req.stdin, portNow());
    const parsed = parseIpvsadmArgs(req.argv);
    if (reply.code === 0 && parsed.ok && changesRules(parsed.command)) {
      log.info({ argv: req.argv, lines: req.stdin?.split('\n').filter((l) => l.trim() !== '').length }, 'ipvsadm: rules changed');
    } else if (reply.code !== 0) {
      log.warn({ argv: req.argv, code: reply.code, error: reply.stderr.trim() }, 'ipvsadm: refused');
    }
    return reply;
  };

  // a successful reload makes the new file live.cfg, the config in force
  const reload = (): ReloadResult => reloadConfig(live, configPath, log, health, opts.load);
  const onHup = () => {
    log.info({ file: configPath }, 'SIGHUP: reloading config');
    reload();
  };

  try {
    // started even without checks, so that a reload can add some
    if (opts.health !== false) health = startHealthChecks(live, cfg.healthChecks);
    socket = await listenControlSocket(cfg.options.controlSocket ?? DEFAULT_CONTROL_SOCKET, handle);
    log.info({ socket: socket.path }, 'control socket listening');
    if (cfg.options.metricsListen) {
      metrics = await startMetricsServer(cfg.options.metricsListen, () =>
        renderMetrics({ director: live.director, ports: live.ports, health: health ? () => health!.states() : undefined }));
      log.info({ listen: `${metrics.address.host}:${metrics.address.port}` }, 'metrics at /metrics');
    }
  } catch (e) {
    await socket?.close();
    await health?.stop();
    throw e;
  }
  if (opts.signals !== false) process.on('SIGHUP', onHup);

  let stopped = false;
  return {
    socketPath: socket.path,
    metrics,
    reload,
    handle,
    async stop() {
      if (stopped) return;
      stopped = true;
      process.off('SIGHUP', onHup);
      await Promise.all([socket?.close(), metrics?.close(), health?.stop()]);
    },
  };
}
