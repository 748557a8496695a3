// The control plane of `tapvs run`: the ipvsadm control socket, SIGHUP
// reload of the config file, health checks and the metrics endpoint. It only
// changes the tables the data path reads, synchronously between frames.
import type { LiveDirector, Logger } from '../cli/run.js';
import type { HealthCheckConfig } from './config-types.js';
import { portNow } from '../io/port.js';
import { DEFAULT_CONTROL_SOCKET, listenControlSocket, type ControlReply, type ControlRequest, type ControlSocket } from './control-socket.js';
import { execIpvsadm } from './ipvsadm-exec.js';
import { parseIpvsadmArgs } from './ipvsadm-args.js';
import { changesRules } from './live-rules.js';
import { renderMetrics, startMetricsServer, type HealthStateLike, type MetricsServer } from './metrics.js';
import { reloadConfig, type ReloadResult } from './reload.js';

/** What the health checker (src/control/health) gives back once started. */
export interface HealthChecks {
  stop(): Promise<void>;
  states(): HealthStateLike[];
  reload(checks: HealthCheckConfig[]): void;
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
  /** Start health checks (default true when the config has any). */
  health?: boolean;
}

// ---- health checks: the single call site ------------------------------------
// src/control/health is written alongside this file; until its entry point
// exists, the director runs without health checks and says so.
async function startHealth(live: LiveDirector, checks: HealthCheckConfig[], log: Logger): Promise<HealthChecks | undefined> {
  const entry = './health/index.js';
  try {
    const mod = (await import(entry)) as { startHealthChecks?: (l: LiveDirector, c: HealthCheckConfig[], g: Logger) => HealthChecks };
    if (typeof mod.startHealthChecks !== 'function') throw new Error('src/control/health has no startHealthChecks');
    return mod.startHealthChecks(live, checks, log);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    if (checks.length > 0) log.warn({ checks: checks.length }, 'health checks are configured but this build has no health checker');
    return undefined;
  }
}
// ------------------------------------------------------------------------------

/**
 * Starts the control socket (cfg.options.controlSocket, default
 * /run/tapvs/tapvs.sock), health checks, the metrics endpoint when
 * cfg.options.metricsListen is set, and the SIGHUP reload of `configPath`.
 */
export async function startControlPlane(
  live: LiveDirector, configPath: string, log: Logger, opts: ControlPlaneOptions = {},
): Promise<ControlPlane> {
  const cfg = live.cfg;
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

  const reload = (): ReloadResult => {
    const r = reloadConfig(live, configPath, log);
    if (r.ok) health?.reload(r.config.healthChecks);
    return r;
  };
  const onHup = () => {
    log.info({ file: configPath }, 'SIGHUP: reloading config');
    reload();
  };

  try {
    if (opts.health !== false) health = await startHealth(live, cfg.healthChecks, log);
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
