// The health checker: one timer-driven loop per check, keepalived's up/down
// rules, and the verdict applied per real server (down when any of its
// checks is down). Everything here runs on timers beside the data path;
// nothing in it throws into the director.
import type pino from 'pino';
import type { Director } from '../../director/director.js';
import { serviceKeyOf } from '../config.js';
import type { DirectorConfig, HealthCheckConfig, ServiceConfig } from '../../model/config.js';
import { formatIpv4, formatServiceKey } from '../ipvsadm-args.js';
import { applySorry, findService, putBack, takeOut, type TakenOut } from './actions.js';
import { ProbeAgent } from './agent-client.js';
import { errorText } from './probes/deadline.js';
import { closeIcmp, runProbe } from './probes/index.js';
import type { HealthState, ProbeResult, ProbeSpec } from './types.js';

export interface HealthLive {
  director: Director;
  cfg: DirectorConfig;
  log: pino.Logger;
}

export interface HealthChecks {
  /** Stops every check and probe agent; the service table is left as it is. */
  stop(): Promise<void>;
  states(): HealthState[];
  /** Replaces the set of checks: unchanged ones keep their state, removed ones give back what they took out. */
  reload(checks: HealthCheckConfig[]): void;
}

export interface HealthOptions {
  /** Called after every up/down change of a check (and after its action was applied). */
  onTransition?: (s: HealthState) => void;
}

const destText = (hc: HealthCheckConfig): string => `${formatIpv4(hc.dest.addr)}:${hc.dest.port}`;
const rsKey = (hc: HealthCheckConfig): string => `${hc.service} ${destText(hc)}`;
const checkKey = (hc: HealthCheckConfig): string => `${rsKey(hc)} ${hc.kind}`;
const serviceText = (s: ServiceConfig): string => formatServiceKey(serviceKeyOf(s));

/** A real server of one service, as the checks of it see it together. */
interface RealServer {
  key: string;
  service: string;
  addr: number;
  port: number;
  checks: Set<Check>;
  /** Set while the server is taken out: how, to put it back. */
  out: TakenOut | null;
}

class Check {
  up = true;
  since = Date.now();
  failures = 0;
  lastError: string | undefined;
  timer: NodeJS.Timeout | null = null;
  abort: AbortController | null = null;
  running: Promise<void> | null = null;
  stopped = false;

  constructor(
    readonly cfg: HealthCheckConfig,
    readonly netns: string | undefined,
    readonly rs: RealServer,
  ) {}

  /** What decides whether a reload may keep this check running as it is. */
  get identity(): string {
    const { line: _line, ...rest } = this.cfg;
    return JSON.stringify({ ...rest, netns: this.netns });
  }

  probeSpec(): ProbeSpec {
    const c = this.cfg;
    const spec: ProbeSpec = { kind: c.kind, addr: formatIpv4(c.dest.addr), port: c.connectPort ?? c.dest.port, timeoutMs: c.timeoutMs };
    if (c.path !== undefined) spec.path = c.path;
    if (c.expectStatus !== undefined) spec.expectStatus = c.expectStatus;
    if (c.digest !== undefined) spec.digest = c.digest;
    if (c.command !== undefined) spec.command = c.command;
    return spec;
  }

  state(): HealthState {
    const s: HealthState = { service: this.cfg.service, dest: destText(this.cfg), kind: this.cfg.kind, up: this.up, since: this.since, failures: this.failures };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    if (this.netns !== undefined) s.netns = this.netns;
    return s;
  }
}

class Checker implements HealthChecks {
  private readonly checks = new Map<string, Check>();
  private readonly servers = new Map<string, RealServer>();
  private readonly agents = new Map<string, ProbeAgent>();
  private stopped = false;

  constructor(private readonly live: HealthLive, private readonly opts: HealthOptions) {}

  private get log(): pino.Logger {
    return this.live.log;
  }

  // ------------------------------------------------------------ set of checks

  reload(list: HealthCheckConfig[]): void {
    if (this.stopped) return;
    const wanted = new Map<string, Check>();
    for (const hc of list) {
      const key = checkKey(hc);
      const netns = hc.netns ?? this.live.cfg.options.checkNetns;
      const old = this.checks.get(key);
      const fresh = new Check(hc, netns, this.server(hc));
      wanted.set(key, old && old.identity === fresh.identity ? old : fresh);
    }
    for (const [key, c] of this.checks) {
      if (wanted.get(key) !== c) this.retire(c);
    }
    for (const [key, c] of wanted) {
      if (this.checks.get(key) === c) continue;
      this.checks.set(key, c);
      c.rs.checks.add(c);
      this.schedule(c, 0);
    }
    for (const rs of [...this.servers.values()]) {
      try {
        if (rs.checks.size === 0) {
          // nothing watches it any more: give back what was taken
          this.servers.delete(rs.key);
          if (rs.out) this.restore(rs, 'no health check left');
        } else this.settle(rs, 'check reloaded');
      } catch (e) {
        this.log.error({ service: rs.service, real_server: `${formatIpv4(rs.addr)}:${rs.port}`, err: errorText(e) }, 'health check action failed');
      }
    }
    for (const [ns, agent] of this.agents) {
      if (![...this.checks.values()].some((c) => c.netns === ns)) {
        this.agents.delete(ns);
        void agent.close();
      }
    }
    this.applyAllSorry();
  }

  private server(hc: HealthCheckConfig): RealServer {
    const key = rsKey(hc);
    let rs = this.servers.get(key);
    if (!rs) {
      rs = { key, service: hc.service, addr: hc.dest.addr, port: hc.dest.port, checks: new Set(), out: null };
      this.servers.set(key, rs);
    }
    return rs;
  }

  private retire(c: Check): void {
    c.stopped = true;
    if (c.timer) clearTimeout(c.timer);
    c.abort?.abort();
    c.rs.checks.delete(c);
    this.checks.delete(checkKey(c.cfg));
  }

  // ------------------------------------------------------------ probing

  private schedule(c: Check, delayMs: number): void {
    if (c.stopped || this.stopped) return;
    c.timer = setTimeout(() => {
      c.timer = null;
      c.running = this.cycle(c);
    }, delayMs);
  }

  private async cycle(c: Check): Promise<void> {
    const started = Date.now();
    const abort = new AbortController();
    c.abort = abort;
    let r: ProbeResult;
    try {
      r = await this.probe(c, abort.signal);
    } catch (e) {
      r = { ok: false, error: errorText(e) };
    }
    c.abort = null;
    if (c.stopped || this.stopped) return;
    try {
      this.verdict(c, r);
      // the table may have changed under us (ipvsadm, a reload): keep the sorry server in line with it
      this.applySorry(c.cfg.service);
    } catch (e) {
      this.log.error({ service: c.cfg.service, real_server: destText(c.cfg), check: c.cfg.kind, err: errorText(e) }, 'health check action failed');
    }
    // interval is start to start, as a timeout is never longer than an interval
    this.schedule(c, Math.max(0, started + c.cfg.intervalMs - Date.now()));
  }

  private probe(c: Check, signal: AbortSignal): Promise<ProbeResult> {
    if (c.netns === undefined) return runProbe(c.probeSpec(), signal);
    let agent = this.agents.get(c.netns);
    if (!agent) {
      agent = new ProbeAgent(c.netns, this.log);
      this.agents.set(c.netns, agent);
    }
    return agent.run(c.probeSpec(), signal);
  }

  /** keepalived's rule: down after `retries` failures in a row, up again after one success. */
  private verdict(c: Check, r: ProbeResult): void {
    const hc = c.cfg;
    if (r.ok) {
      c.failures = 0;
      if (c.up) return;
      this.transition(c, true, 'check succeeded');
      return;
    }
    c.failures++;
    c.lastError = r.error ?? 'failed';
    const needed = Math.max(1, hc.retries);
    if (!c.up) return;
    if (c.failures < needed) {
      this.log.debug({ service: hc.service, real_server: destText(hc), check: hc.kind, failures: c.failures, of: needed, reason: c.lastError }, 'health check failed');
      return;
    }
    this.transition(c, false, c.lastError);
  }

  private transition(c: Check, up: boolean, reason: string): void {
    c.up = up;
    c.since = Date.now();
    const hc = c.cfg;
    const fields = { service: hc.service, real_server: destText(hc), check: hc.kind, from: up ? 'down' : 'up', to: up ? 'up' : 'down', reason };
    if (up) this.log.info(fields, 'real server check up');
    else this.log.warn(fields, 'real server check down');
    this.settle(c.rs, reason);
    this.opts.onTransition?.(c.state());
  }

  // ------------------------------------------------------------ actions

  /** Brings the service table in line with the real server's checks. */
  private settle(rs: RealServer, reason: string): void {
    const down = [...rs.checks].some((c) => !c.up);
    if (down && !rs.out) this.takeOut(rs, reason);
    else if (!down && rs.out) this.restore(rs, reason);
  }

  private takeOut(rs: RealServer, reason: string): void {
    const svc = findService(this.live.director, rs.service);
    const inhibit = [...rs.checks].some((c) => c.cfg.inhibitOnFailure);
    const t: TakenOut = svc ? takeOut(this.live.director, svc, rs.addr, rs.port, inhibit) : { how: 'absent' };
    rs.out = t;
    const fields = { service: rs.service, real_server: `${formatIpv4(rs.addr)}:${rs.port}`, reason };
    if (t.how === 'removed') this.log.warn({ ...fields, action: 'removed', weight: t.spec.weight }, 'real server removed from service');
    else if (t.how === 'inhibited') this.log.warn({ ...fields, action: 'weight 0', weight: t.weight }, 'real server weight set to 0');
    else this.log.warn({ ...fields, action: 'none' }, 'real server down, but it is not in its service');
    if (svc) this.applySorry(rs.service);
  }

  private restore(rs: RealServer, reason: string): void {
    const t = rs.out!;
    rs.out = null;
    const svc = findService(this.live.director, rs.service);
    const fields = { service: rs.service, real_server: `${formatIpv4(rs.addr)}:${rs.port}`, reason };
    if (!svc || !putBack(this.live.director, svc, rs.addr, rs.port, t)) {
      if (t.how !== 'absent') this.log.info({ ...fields, action: 'none' }, 'real server up; left as the operator set it');
      return;
    }
    if (t.how === 'removed') this.log.info({ ...fields, action: 'restored', weight: t.spec.weight }, 'real server restored to service');
    else if (t.how === 'inhibited') this.log.info({ ...fields, action: 'weight restored', weight: t.weight }, 'real server weight restored');
    this.applySorry(rs.service);
  }

  private applySorry(service: string): void {
    const sc = this.live.cfg.services.find((s) => s.sorry && serviceText(s) === service);
    if (!sc?.sorry) return;
    const svc = findService(this.live.director, service);
    if (!svc) return;
    const change = applySorry(this.live.director, svc, sc.sorry);
    if (change) {
      const sorry = `${formatIpv4(sc.sorry.addr)}:${sc.sorry.port}`;
      const why = change === 'added' ? 'no real server with weight > 0 left' : 'a real server is back';
      this.log.warn({ service, sorry_server: sorry, action: change, reason: why }, `sorry server ${change}`);
    }
  }

  private applyAllSorry(): void {
    for (const s of this.live.cfg.services) {
      if (!s.sorry) continue;
      try {
        this.applySorry(serviceText(s));
      } catch (e) {
        this.log.error({ err: errorText(e) }, 'sorry server update failed');
      }
    }
  }

  // ------------------------------------------------------------ API

  states(): HealthState[] {
    return [...this.checks.values()].map((c) => c.state());
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const running: Promise<void>[] = [];
    for (const c of this.checks.values()) {
      c.stopped = true;
      if (c.timer) clearTimeout(c.timer);
      c.abort?.abort();
      if (c.running) running.push(c.running);
    }
    await Promise.all([...this.agents.values()].map((a) => a.close()));
    this.agents.clear();
    await Promise.all(running);
    closeIcmp();
  }
}

/**
 * Starts the health checks of a running director. Checks run on timers;
 * the first probe of each goes out at once. Every real server starts up
 * (as keepalived's do), and sorry servers are put in for services that
 * already have no real server with weight > 0.
 */
export function startHealthChecks(live: HealthLive, checks: HealthCheckConfig[], opts: HealthOptions = {}): HealthChecks {
  const c = new Checker(live, opts);
  c.reload(checks);
  return c;
}
