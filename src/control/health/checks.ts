// The health checker, as keepalived's checker process runs it: one timer
// loop per check with keepalived's retry / delay_before_retry / delay_loop
// rules per checker kind, a real server alive while all its checks are up,
// and per virtual server keepalived's quorum: below it the sorry server
// takes the service. Everything here runs on timers beside the data path;
// nothing in it throws into the director.
import { spawn } from 'node:child_process';
import type pino from 'pino';
import type { Director } from '../../director/director.js';
import type { DestSpec } from '../../model/dest.js';
import { serviceKeyOf } from '../config.js';
import type { DirectorConfig, HealthCheckConfig, PoolHealthConfig, ServiceConfig } from '../../model/config.js';
import { formatAddr, formatAddrPort, formatServiceKey } from '../ipvsadm-args.js';
import { destKeyText } from '../keys.js';
import { findService, putBack, takeOut, type TakenOut } from './actions.js';
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
  /** Stops every check and probe agent; the service table is left as it is (omega scripts run first). */
  stop(): Promise<void>;
  states(): HealthState[];
  /**
   * Real servers the checker holds out of their service, by heldKey ("-t VIP:port RS:port"):
   * those whose check is down and those parked while a sorry server serves. A reload adds neither back.
   */
  heldOut(): string[];
  /** Replaces the set of checks: unchanged ones keep their state, removed ones give back what they took out. */
  reload(checks: HealthCheckConfig[]): void;
}

export interface HealthOptions {
  /** Called after every up/down change of a check (and after its action was applied). */
  onTransition?: (s: HealthState) => void;
  /** Random numbers in [0, 1) for warmup (tests pin it). */
  random?: () => number;
  /** Called after each probe's verdict was applied (whatever it changed: a transition, a weight, the sorry server); `--record` compares the table then. */
  onVerdict?: (s: HealthState) => void;
}

type At = { addr: number; port: number; addr6?: Uint32Array };
/** "192.168.10.11:80", "[2001:db8::11]:80". */
const atText = (d: At): string => formatAddrPort(d.addr, d.addr6, d.port);
const destText = (hc: { dest: At }): string => atText(hc.dest);
const rsKey = (service: string, d: At): string => `${service} ${atText(d)}`;
const checkKey = (hc: HealthCheckConfig): string => `${rsKey(hc.service, hc.dest)} ${hc.kind}`;
const serviceText = (s: ServiceConfig): string => formatServiceKey(serviceKeyOf(s));

/** How a checker kind schedules its probes after a result (keepalived's per-checker epilogs). */
type Family = 'tcp' | 'up-only' | 'misc' | 'http';

/** keepalived's defaults per checker: retry, and delay_before_retry (null: the delay_loop). */
const DEFAULTS: Record<HealthCheckConfig['kind'], { retry: number; dbr: number | null; family: Family }> = {
  tcp: { retry: 1, dbr: 1000, family: 'tcp' },
  http: { retry: 1, dbr: 3000, family: 'http' },
  ssl: { retry: 1, dbr: 3000, family: 'http' },
  misc: { retry: 0, dbr: 1000, family: 'misc' },
  dns: { retry: 3, dbr: null, family: 'up-only' },
  udp: { retry: 1, dbr: 1000, family: 'up-only' },
  smtp: { retry: 1, dbr: 1000, family: 'up-only' },
  icmp: { retry: 1, dbr: 1000, family: 'up-only' },
  file: { retry: 1, dbr: 1000, family: 'up-only' },
};

/** A real server of one service, as the checks of it see it together. */
interface RealServer {
  key: string;
  service: string;
  addr: number;
  port: number;
  /** An IPv6 real server's address (then addr is 0). */
  addr6?: Uint32Array;
  checks: Set<Check>;
  /** Set while the server is out of its service (down, or parked while the sorry server serves): how, to put it back. */
  out: TakenOut | null;
}

class Check {
  /** keepalived's is_up / has_run / retry_it. */
  up: boolean;
  hasRun = false;
  retryIt: number;
  /** http: the url the next probe fetches, and the one that failed while down. */
  urlIt = 0;
  failedUrl: number | null = null;
  /** misc_dynamic: last exit status, and this check's change to the server's weight. */
  lastExit = 0;
  curWeight = 0;
  since = Date.now();
  failures = 0;
  lastError: string | undefined;
  timer: NodeJS.Timeout | null = null;
  abort: AbortController | null = null;
  running: Promise<void> | null = null;
  stopped = false;
  readonly retry: number;
  readonly dbrMs: number;
  readonly family: Family;

  constructor(
    readonly cfg: HealthCheckConfig,
    readonly netns: string | undefined,
    readonly rs: RealServer,
  ) {
    const d = DEFAULTS[cfg.kind];
    if (cfg.retry === undefined) {
      // a `check` line: down after `retries` failures in a row, `interval` apart, back after one success
      this.retry = Math.max(1, cfg.retries) - 1;
      this.dbrMs = cfg.intervalMs;
      this.family = 'tcp';
      this.retryIt = 0;
    } else {
      this.retry = cfg.retry;
      this.dbrMs = cfg.delayBeforeRetryMs ?? d.dbr ?? cfg.intervalMs;
      this.family = d.family;
      // keepalived: one failure is enough before the first verdict
      this.retryIt = this.retry;
    }
    this.up = !cfg.alpha;
  }

  /** What decides whether a reload may keep this check running as it is. */
  get identity(): string {
    const { line: _line, ...rest } = this.cfg;
    return JSON.stringify({ ...rest, netns: this.netns });
  }

  probeSpec(): ProbeSpec {
    const c = this.cfg;
    const addr = c.probe?.connectIp ?? formatAddr(c.dest.addr, c.dest.addr6);
    const spec: ProbeSpec = { kind: c.kind, addr, port: c.connectPort ?? c.dest.port, timeoutMs: c.timeoutMs };
    if (c.path !== undefined) spec.path = c.path;
    if (c.expectStatus !== undefined) spec.expectStatus = c.expectStatus;
    if (c.digest !== undefined) spec.digest = c.digest;
    if (c.command !== undefined) spec.command = c.command;
    if (c.probe) spec.opts = c.probe;
    if (this.family === 'http') spec.url = this.urlIt;
    return spec;
  }

  state(): HealthState {
    const s: HealthState = { service: this.cfg.service, dest: destText(this.cfg), kind: this.cfg.kind, up: this.up, since: this.since, failures: this.failures };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    if (this.netns !== undefined) s.netns = this.netns;
    return s;
  }
}

/** A virtual server's pool state: keepalived's quorum_state_up and whether the sorry server is in. */
interface Pool {
  service: string;
  quorumUp: boolean;
  sorryIn: boolean;
  /** Real servers without checks taken out while the sorry server serves. */
  parked: Map<string, { at: At; t: TakenOut }>;
}

const DEFAULT_POOL: PoolHealthConfig = { quorum: 1, hysteresis: 0, omega: false, sorryInhibit: false };

class Checker implements HealthChecks {
  private readonly checks = new Map<string, Check>();
  private readonly servers = new Map<string, RealServer>();
  private readonly pools = new Map<string, Pool>();
  private readonly agents = new Map<string, ProbeAgent>();
  private stopped = false;
  private readonly random: () => number;

  constructor(private readonly live: HealthLive, private readonly opts: HealthOptions) {
    this.random = opts.random ?? Math.random;
  }

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
      const fresh = new Check(hc, netns, this.server(hc.service, hc.dest));
      wanted.set(key, old && old.identity === fresh.identity ? old : fresh);
    }
    for (const [key, c] of this.checks) {
      if (wanted.get(key) !== c) this.retire(c);
    }
    const fresh: Check[] = [];
    for (const [key, c] of wanted) {
      if (this.checks.get(key) === c) continue;
      this.checks.set(key, c);
      c.rs.checks.add(c);
      fresh.push(c);
    }
    for (const rs of [...this.servers.values()]) {
      this.guard(rs.service, () => {
        if (rs.checks.size === 0) {
          // nothing watches it any more: give back what was taken
          this.servers.delete(rs.key);
          if (rs.out && !this.pools.get(rs.service)?.sorryIn) this.restore(rs, 'no health check left');
        } else this.settle(rs, 'check reloaded', false);
      });
    }
    for (const [ns, agent] of this.agents) {
      if (![...this.checks.values()].some((c) => c.netns === ns)) {
        this.agents.delete(ns);
        void agent.close();
      }
    }
    this.syncPools();
    for (const c of fresh) {
      const warm = c.cfg.warmupMs ? Math.floor(c.cfg.warmupMs * this.random()) : 0;
      this.schedule(c, (c.cfg.startDelayMs ?? 0) + warm);
    }
  }

  private server(service: string, d: At): RealServer {
    const key = rsKey(service, d);
    let rs = this.servers.get(key);
    if (!rs) {
      rs = { key, service, addr: d.addr, port: d.port, checks: new Set(), out: null };
      if (d.addr6) rs.addr6 = d.addr6;
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

  private guard(service: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.log.error({ service, err: errorText(e) }, 'health check action failed');
    }
  }

  // ------------------------------------------------------------ probing

  private schedule(c: Check, delayMs: number): void {
    if (c.stopped || this.stopped) return;
    c.timer = setTimeout(() => {
      c.timer = null;
      c.running = this.cycle(c);
    }, Math.max(0, delayMs));
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
    let delay = c.cfg.intervalMs;
    this.guard(c.cfg.service, () => { delay = this.verdict(c, r, started); });
    this.opts.onVerdict?.(c.state());
    this.schedule(c, delay);
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

  /** keepalived's epilog for the check's kind: the state change, if any, and the delay to the next probe. */
  private verdict(c: Check, r: ProbeResult, started: number): number {
    const loop = c.cfg.intervalMs;
    const dbr = c.dbrMs;
    if (r.ok) c.failures = 0;
    else {
      c.failures++;
      c.lastError = r.error ?? 'failed';
    }
    const was = { up: c.up, hasRun: c.hasRun };
    const fails = (): void => {
      this.log.debug({ service: c.cfg.service, real_server: destText(c.cfg), check: c.cfg.kind, failures: c.failures, retry: c.retryIt, of: c.retry, reason: c.lastError }, 'health check failed');
    };
    switch (c.family) {
      case 'tcp': {
        let delay: number;
        if (r.ok || c.retryIt >= c.retry) {
          delay = loop;
          c.retryIt = 0;
          if (r.ok && (!was.up || !was.hasRun)) this.transition(c, true, 'check succeeded');
          else if (!r.ok && (was.up || !was.hasRun)) this.transition(c, false, c.lastError!);
        } else {
          delay = dbr;
          c.retryIt++;
          fails();
        }
        c.hasRun = true;
        return delay;
      }
      case 'up-only': {
        let delay = loop;
        if (r.ok || ((was.up || !was.hasRun) && c.retryIt >= c.retry)) {
          c.retryIt = 0;
          if (r.ok && (!was.up || !was.hasRun)) this.transition(c, true, 'check succeeded');
          else if (!r.ok && (was.up || !was.hasRun)) this.transition(c, false, c.lastError!);
        } else if (was.up) {
          delay = dbr;
          c.retryIt++;
          fails();
        }
        c.hasRun = true;
        return delay;
      }
      case 'misc': {
        const status = r.exitStatus;
        const dynamicOk = c.cfg.probe?.miscDynamic === true && status !== undefined && status >= 2 && status <= 255;
        if (r.ok || dynamicOk) {
          if (c.failures > 0) c.failures = 0;
          const st = status ?? 0;
          if (st !== c.lastExit) {
            c.curWeight = st ? st - 2 - this.iweight(c.rs) : 0;
            c.lastExit = st;
            this.weightChanged(c.rs);
          }
          if (!was.up || !was.hasRun) this.transition(c, true, st ? `exit status ${st}` : 'check succeeded');
          c.retryIt = 0;
        } else if (was.up || !was.hasRun) {
          if (c.retryIt < c.retry) {
            c.retryIt++;
            fails();
          } else {
            c.retryIt = 0;
            const had = c.curWeight;
            c.curWeight = 0;
            if (status !== undefined) c.lastExit = status;
            if (had) this.weightChanged(c.rs);
            this.transition(c, false, c.lastError!);
          }
        }
        c.hasRun = true;
        // start to start, as keepalived counts from when the script was run
        return started + (c.retryIt ? dbr : loop) - Date.now();
      }
      case 'http': {
        const n = Math.max(1, c.cfg.probe?.urls?.length ?? 1);
        if (r.ok) {
          const done = c.urlIt >= n - 1;
          c.urlIt = done ? 0 : c.urlIt + 1;
          c.retryIt = 0;
          if (done && c.failedUrl === null) {
            if (!was.up || !was.hasRun) this.transition(c, true, 'check succeeded');
            c.hasRun = true;
          } else if (c.failedUrl !== null) {
            // the failed url answers again: check them all from the first
            c.failedUrl = null;
            c.urlIt = 0;
          }
          if (!c.hasRun) c.retryIt = c.retry;
          return loop;
        }
        if (was.up || !was.hasRun) {
          c.hasRun = true;
          c.retryIt++;
          if (c.retryIt > c.retry) {
            if (was.up) this.transition(c, false, c.lastError!);
            c.failedUrl = c.urlIt;
          } else fails();
        }
        return c.failedUrl !== null ? Math.max(dbr, loop) : dbr;
      }
    }
  }

  private transition(c: Check, up: boolean, reason: string): void {
    if (c.up === up) return;
    c.up = up;
    c.since = Date.now();
    const hc = c.cfg;
    const fields = { service: hc.service, real_server: destText(hc), check: hc.kind, from: up ? 'down' : 'up', to: up ? 'up' : 'down', reason };
    if (up) this.log.info(fields, 'real server check up');
    else this.log.warn(fields, 'real server check down');
    this.settle(c.rs, reason, true);
    this.opts.onTransition?.(c.state());
  }

  // ------------------------------------------------------------ real servers

  private alive(rs: RealServer): boolean {
    for (const c of rs.checks) if (!c.up) return false;
    return true;
  }

  private destConfig(service: string, at: At): DestSpec | undefined {
    const sc = this.live.cfg.services.find((s) => serviceText(s) === service);
    const k = destKeyText(at.addr, at.addr6, at.port);
    return sc?.dests.find((d) => destKeyText(d.addr, d.addr6, d.port) === k);
  }

  /** keepalived's iweight: the configured weight. */
  private iweight(rs: RealServer): number {
    return this.destConfig(rs.service, rs)?.weight ?? 1;
  }

  /** keepalived's effective_weight: configured, moved by misc_dynamic. */
  private effectiveWeight(rs: RealServer): number {
    let w = this.iweight(rs);
    for (const c of rs.checks) w += c.curWeight;
    return Math.max(0, w);
  }

  private first<K extends 'notifyUp' | 'notifyDown'>(rs: RealServer, k: K): string[] | undefined {
    for (const c of rs.checks) if (c.cfg[k]) return c.cfg[k];
    return undefined;
  }

  /** Brings the service table in line with the real server's checks. */
  private settle(rs: RealServer, reason: string, notify: boolean): void {
    const down = !this.alive(rs);
    const pool = this.pools.get(rs.service);
    const changed = down ? !rs.out : !!rs.out;
    // while the sorry server serves, the pool's table is left alone (keepalived's perform_svr_state)
    if (!pool?.sorryIn) {
      if (down && !rs.out) this.takeOut(rs, reason);
      else if (!down && rs.out) this.restore(rs, reason);
    } else if (down && rs.out === null) {
      rs.out = { how: 'absent' };
    }
    if (notify && changed) {
      const script = down ? this.first(rs, 'notifyDown') : this.first(rs, 'notifyUp');
      if (script) this.runScript(script, rs.service, down ? 'notify_down' : 'notify_up');
    }
    if (pool) this.updateQuorum(pool, false);
  }

  private takeOut(rs: RealServer, reason: string): void {
    const svc = findService(this.live.director, rs.service);
    const inhibit = [...rs.checks].some((c) => c.cfg.inhibitOnFailure);
    const t: TakenOut = svc ? takeOut(this.live.director, svc, rs.addr, rs.port, inhibit, rs.addr6) : { how: 'absent' };
    rs.out = t;
    const fields = { service: rs.service, real_server: atText(rs), reason };
    if (t.how === 'removed') this.log.warn({ ...fields, action: 'removed', weight: t.spec.weight }, 'real server removed from service');
    else if (t.how === 'inhibited') this.log.warn({ ...fields, action: 'weight 0', weight: t.weight }, 'real server weight set to 0');
    else this.log.warn({ ...fields, action: 'none' }, 'real server down, but it is not in its service');
  }

  private restore(rs: RealServer, reason: string): void {
    const t = rs.out!;
    rs.out = null;
    const svc = findService(this.live.director, rs.service);
    const fields = { service: rs.service, real_server: atText(rs), reason };
    if (!svc || !putBack(this.live.director, svc, rs.addr, rs.port, t, rs.addr6)) {
      if (t.how !== 'absent') this.log.info({ ...fields, action: 'none' }, 'real server up; left as the operator set it');
      return;
    }
    if (t.how === 'removed') this.log.info({ ...fields, action: 'restored', weight: t.spec.weight }, 'real server restored to service');
    else if (t.how === 'inhibited') this.log.info({ ...fields, action: 'weight restored', weight: t.weight }, 'real server weight restored');
    this.weightChanged(rs);
  }

  /** misc_dynamic moved the weight: the live server follows while it is in and serving. */
  private weightChanged(rs: RealServer): void {
    const pool = this.pools.get(rs.service);
    if (rs.out || pool?.sorryIn) return;
    const svc = findService(this.live.director, rs.service);
    const d = svc?.findDest(rs.addr, rs.port, rs.addr6);
    const w = this.effectiveWeight(rs);
    if (d && d.weight !== w && [...rs.checks].some((c) => c.cfg.probe?.miscDynamic)) {
      this.log.info({ service: rs.service, real_server: atText(rs), from: d.weight, to: w }, 'real server weight changed (misc_dynamic)');
      this.live.director.mutate.editDest(d, { weight: w });
    }
    if (pool) this.updateQuorum(pool, false);
  }

  // ------------------------------------------------------------ quorum and the sorry server

  private serviceConfig(service: string): ServiceConfig | undefined {
    return this.live.cfg.services.find((s) => serviceText(s) === service);
  }

  /** Pools exist for services with a sorry server or pool settings (quorum, scripts). */
  private syncPools(): void {
    const want = new Set<string>();
    for (const s of this.live.cfg.services) {
      if (!s.sorry && !s.pool) continue;
      const key = serviceText(s);
      want.add(key);
      let pool = this.pools.get(key);
      if (!pool) {
        pool = { service: key, quorumUp: true, sorryIn: false, parked: new Map() };
        this.pools.set(key, pool);
        this.guard(key, () => this.initPool(pool!, s));
      } else this.guard(key, () => this.updateQuorum(pool!, false));
    }
    for (const [key, pool] of this.pools) {
      if (want.has(key)) continue;
      this.pools.delete(key);
      // the sorry server's reason is gone: take it out, give the parked servers back
      this.guard(key, () => {
        const svc = findService(this.live.director, key);
        if (pool.sorryIn && svc) this.sorryOut(pool, undefined);
      });
    }
  }

  private poolConfig(s: ServiceConfig | undefined): PoolHealthConfig {
    return s?.pool ?? DEFAULT_POOL;
  }

  /** Σ effective weights of the alive real servers of the service (its configured ones). */
  private weightSum(s: ServiceConfig): { sum: number; total: number } {
    let sum = 0;
    let total = 0;
    const service = serviceText(s);
    for (const d of s.dests) {
      const rs = this.servers.get(rsKey(service, d));
      const w = rs ? this.effectiveWeight(rs) : d.weight ?? 1;
      total += rs ? this.iweight(rs) : d.weight ?? 1;
      if (!rs || this.alive(rs)) sum += w;
    }
    return { sum, total };
  }

  /** The quorum and hysteresis in force (keepalived lowers a quorum above the total weight, and a hysteresis not below it). */
  private thresholds(s: ServiceConfig): { q: number; h: number } {
    const p = this.poolConfig(s);
    const { total } = this.weightSum(s);
    const q = Math.min(p.quorum, total);
    const h = Math.min(p.hysteresis, Math.max(0, q - 1));
    return { q, h };
  }

  private initPool(pool: Pool, s: ServiceConfig): void {
    const { q, h } = this.thresholds(s);
    pool.quorumUp = this.weightSum(s).sum >= q + h;
    const p = this.poolConfig(s);
    this.updateQuorum(pool, true);
    if (s.sorry && p.sorryInhibit && !pool.sorryIn) this.sorryPresent(s, 0);
  }

  /** keepalived's update_quorum_state. */
  private updateQuorum(pool: Pool, init: boolean): void {
    const s = this.serviceConfig(pool.service);
    if (!s) return;
    const p = this.poolConfig(s);
    const { sum } = this.weightSum(s);
    const { q, h } = this.thresholds(s);
    const threshold = q + (pool.quorumUp ? -h : h);
    // a sum of 0 is quorum lost below whatever the threshold (a quorum lowered to a total of 0 is
    // 0): it must not count as gained too, or each update would swap the sorry server in and out
    if (!pool.quorumUp && sum > 0 && sum >= threshold) {
      pool.quorumUp = true;
      this.log.info({ service: pool.service, quorum: q, hysteresis: h, weight: sum }, 'quorum gained');
      if (pool.sorryIn) this.sorryOut(pool, s);
      if (p.quorumUp) this.runScript(p.quorumUp, pool.service, 'quorum_up');
    } else if ((pool.quorumUp && (sum === 0 || sum < threshold)) || (init && !pool.quorumUp && s.sorry && !pool.sorryIn)) {
      pool.quorumUp = false;
      this.log.warn({ service: pool.service, quorum: q, hysteresis: h, weight: sum }, init ? 'starting with quorum down' : 'quorum lost');
      if (s.sorry && !pool.sorryIn) this.sorryIn(pool, s);
      if (p.quorumDown) this.runScript(p.quorumDown, pool.service, 'quorum_down');
    }
  }

  /** Quorum lost: the alive real servers leave, the sorry server comes in. */
  private sorryIn(pool: Pool, s: ServiceConfig): void {
    const svc = findService(this.live.director, pool.service);
    if (!svc) return;
    for (const d of s.dests) {
      const rs = this.servers.get(rsKey(pool.service, d));
      if (rs && !this.alive(rs)) continue;
      const inhibit = rs ? [...rs.checks].some((c) => c.cfg.inhibitOnFailure) : false;
      const t = takeOut(this.live.director, svc, d.addr, d.port, inhibit, d.addr6);
      if (rs) rs.out = t;
      else pool.parked.set(destKeyText(d.addr, d.addr6, d.port), { at: d, t });
    }
    pool.sorryIn = true;
    this.sorryPresent(s, s.sorry!.weight ?? 1);
    this.log.warn({ service: pool.service, sorry_server: atText(s.sorry!), action: 'added', reason: 'quorum lost' }, 'sorry server added');
  }

  /** Quorum gained: the sorry server leaves (or goes to weight 0 with sorry_server_inhibit), the alive real servers come back. */
  private sorryOut(pool: Pool, s: ServiceConfig | undefined): void {
    const svc = findService(this.live.director, pool.service);
    pool.sorryIn = false;
    if (svc && s?.sorry) {
      if (this.poolConfig(s).sorryInhibit) this.sorryPresent(s, 0);
      else {
        const d = svc.findDest(s.sorry.addr, s.sorry.port, s.sorry.addr6);
        if (d) this.live.director.mutate.removeDest(d);
      }
      this.log.warn({ service: pool.service, sorry_server: atText(s.sorry), action: 'removed', reason: 'quorum gained' }, 'sorry server removed');
    } else if (svc) {
      // the config no longer names it: take out whatever sorry server was in
      const old = this.live.cfg.services.find((x) => serviceText(x) === pool.service)?.sorry;
      const d = old ? svc.findDest(old.addr, old.port, old.addr6) : undefined;
      if (d) this.live.director.mutate.removeDest(d);
    }
    for (const { at, t } of pool.parked.values()) {
      if (svc) putBack(this.live.director, svc, at.addr, at.port, t, at.addr6);
    }
    pool.parked.clear();
    for (const rs of this.servers.values()) {
      if (rs.service === pool.service && rs.out && this.alive(rs)) this.restore(rs, 'quorum gained');
    }
  }

  /** The sorry server in the service with this weight (added if missing). */
  private sorryPresent(s: ServiceConfig, weight: number): void {
    const svc = findService(this.live.director, serviceText(s));
    if (!svc || !s.sorry) return;
    const d = svc.findDest(s.sorry.addr, s.sorry.port, s.sorry.addr6);
    if (!d) this.live.director.mutate.addDest(svc, { ...s.sorry, weight });
    else if (d.weight !== weight) this.live.director.mutate.editDest(d, { weight });
  }

  // ------------------------------------------------------------ scripts

  /** notify_up/down, quorum_up/down: started and left to run (keepalived does not wait for them either). */
  private runScript(argv: string[], service: string, what: string): void {
    const user = this.serviceConfig(service)?.pool?.scriptUser;
    try {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore', detached: true, uid: user?.uid, gid: user?.gid });
      child.once('error', (e) => this.log.warn({ service, script: argv.join(' '), what, err: errorText(e) }, 'notify script failed'));
      child.unref();
      this.log.info({ service, script: argv.join(' '), what }, 'notify script started');
    } catch (e) {
      this.log.warn({ service, script: argv.join(' '), what, err: errorText(e) }, 'notify script failed');
    }
  }

  // ------------------------------------------------------------ API

  states(): HealthState[] {
    return [...this.checks.values()].map((c) => c.state());
  }

  heldOut(): string[] {
    const out: string[] = [];
    for (const [key, rs] of this.servers) if (rs.out) out.push(key);
    for (const pool of this.pools.values()) for (const { at } of pool.parked.values()) out.push(rsKey(pool.service, at));
    return out;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // omega: the real servers' notify_down and the pool's quorum_down, as on the way down
    for (const pool of this.pools.values()) {
      const s = this.serviceConfig(pool.service);
      const p = this.poolConfig(s);
      if (!p.omega || !s) continue;
      for (const rs of this.servers.values()) {
        const down = this.first(rs, 'notifyDown');
        if (rs.service === pool.service && this.alive(rs) && down) this.runScript(down, pool.service, 'notify_down');
      }
      if (p.quorumDown) this.runScript(p.quorumDown, pool.service, 'quorum_down');
    }
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
 * Starts the health checks of a running director. Each check's first probe
 * goes out after its start delay and warmup (a `check` line: at once).
 * Real servers start up unless a check of theirs has alpha; a virtual
 * server whose alive weight is below its quorum starts with its sorry server.
 */
export function startHealthChecks(live: HealthLive, checks: HealthCheckConfig[], opts: HealthOptions = {}): HealthChecks {
  const c = new Checker(live, opts);
  c.reload(checks);
  return c;
}
