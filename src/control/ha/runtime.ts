// The high-availability pair of a running director: its VRRP instances and
// sync daemons, their timers, and the sync daemon that follows a VRRP
// instance (keepalived's lvs_sync_daemon: master daemon while the instance
// is master, backup daemon otherwise). What the control socket (`ipvsadm
// --start-daemon`, `-L --daemon`, `tapvs vrrp`), the metrics and the logs
// read. A director without HA configured still gets one, idle: ipvsadm can
// start sync daemons on it at run time, as on any LVS director.
import type { Director } from '../../director/director.js';
import type { HaConfig, SyncDaemonSpec } from '../../model/ha.js';
import { SyncDaemons, type SyncLog } from '../sync/daemon.js';
import { VrrpRouter, type PortHealth, type VrrpStatus } from '../vrrp/router.js';

/** How often partly filled sync messages are looked at (the kernel: every second; tapvs sends them 2 s after their first record, +0.1 s). */
const SYNC_TICK_MS = 100;

export interface HaLog extends SyncLog {
  error?(obj: object, msg: string): void;
}

export class HaRuntime {
  readonly sync: SyncDaemons;
  readonly vrrp: VrrpRouter;
  private vrrpTimer: NodeJS.Timeout | null = null;
  private syncTimer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly d: Director,
    private readonly cfg: HaConfig,
    private readonly clock: () => number,
    private readonly log?: HaLog,
    txErrors?: PortHealth,
  ) {
    this.sync = new SyncDaemons(d, cfg.syncSettings, log);
    this.vrrp = new VrrpRouter(d, cfg.vrrp, log, txErrors);
    this.vrrp.kick = () => this.armVrrp();
    const follow = cfg.syncFollow;
    if (follow) {
      const inst = this.vrrp.instance(follow.instance);
      if (!inst) throw new Error(`sync follow: no vrrp instance '${follow.instance}'`);
      this.vrrp.onTransition((name, _from, to) => {
        if (name !== follow.instance) return;
        this.followState(to === 'master' ? 'master' : 'backup');
      });
    }
  }

  /** The spec of the following daemon in `state` (syncid: the instance's VRID unless given). */
  private followSpec(state: 'master' | 'backup'): SyncDaemonSpec {
    const f = this.cfg.syncFollow!;
    const vrid = this.vrrp.instance(f.instance)!.cfg.vrid;
    return { ...f.spec, syncid: f.spec.syncid ?? vrid, state };
  }

  /** keepalived's ipvs_syncd_master / ipvs_syncd_backup: stop the other daemon, start this one. */
  private followState(state: 'master' | 'backup'): void {
    const other = state === 'master' ? 'backup' : 'master';
    if ((other === 'master' ? this.sync.masterConfig : this.sync.backupConfig) !== null) this.sync.stop(other);
    if ((state === 'master' ? this.sync.masterConfig : this.sync.backupConfig) !== null) return;
    const err = this.sync.start(this.followSpec(state));
    if (err) this.log?.warn({ state, error: err }, `sync daemon (following ${this.cfg.syncFollow!.instance}) not started: ${err}`);
  }

  /** Starts the configured daemons and VRRP instances (after the director has started). */
  start(): void {
    if (this.running) return;
    this.running = true;
    const now = this.clock();
    for (const spec of this.cfg.sync) {
      const err = this.sync.start(spec);
      if (err) throw new Error(`sync ${spec.state} on ${spec.mcastIfn}: ${err}`);
    }
    // a following daemon starts as backup: the instance starts as backup (unless it owns the addresses)
    if (this.cfg.syncFollow) this.followState('backup');
    this.vrrp.start(now);
    this.armVrrp();
    this.syncTimer = setInterval(() => this.sync.tick(this.clock()), SYNC_TICK_MS);
    this.syncTimer.unref?.();
  }

  /** Masters send priority 0 and release their addresses; the daemons stop. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    if (this.vrrpTimer) clearTimeout(this.vrrpTimer);
    if (this.syncTimer) clearInterval(this.syncTimer);
    this.vrrpTimer = this.syncTimer = null;
    const now = this.clock();
    this.vrrp.stop(now);
    this.sync.flush(now);
    this.sync.stopAll();
  }

  /** Runs the VRRP timers due now and waits for the next deadline. */
  private armVrrp(): void {
    if (!this.running) return;
    if (this.vrrpTimer) clearTimeout(this.vrrpTimer);
    this.vrrpTimer = null;
    const next = this.vrrp.nextDeadline;
    if (next === Infinity) return;
    const wait = Math.max(0, Math.ceil(next - this.clock()));
    this.vrrpTimer = setTimeout(() => {
      this.vrrpTimer = null;
      try {
        this.vrrp.tick(this.clock());
      } catch (e) {
        this.log?.warn({ error: String(e) }, 'vrrp timer failed');
      }
      this.armVrrp();
    }, wait);
  }

  get vipsHeldBack(): number {
    return this.d.host.inactiveVips;
  }

  get hasVrrp(): boolean {
    return this.vrrp.instances.length > 0;
  }

  vrrpStatus(): VrrpStatus[] {
    return this.vrrp.status();
  }

  /** `tapvs vrrp`: one block per instance, then the sync daemons. */
  describe(now = this.clock()): string {
    const out: string[] = [];
    const st = this.vrrp.status();
    if (st.length === 0) out.push('no VRRP instance configured');
    for (const s of st) {
      const master = s.state === 'master' ? `this director (${s.addr})` : s.master === null ? 'unknown' : `${s.master} (priority ${s.masterPriority})`;
      out.push(`${s.name}: ${s.state.toUpperCase()} vrid ${s.vrid} on ${s.port} (${s.addr}), priority ${s.priority}, VRRPv${s.version}, ` +
        `advert ${s.intervalMs / 1000} s, preempt ${s.preempt ? (s.preemptDelayMs > 0 ? `after ${s.preemptDelayMs / 1000} s` : 'on') : 'off'}`);
      out.push(`  master: ${master}; master down after ${(s.masterDownIntervalMs / 1000).toFixed(3)} s`);
      out.push(`  addresses: ${[...s.addrs, ...s.excluded.map((a) => `${a} (not advertised)`)].join(', ')}`);
      if (s.lastTransition) {
        const t = s.lastTransition;
        out.push(`  last transition ${((now - t.at) / 1000).toFixed(1)} s ago: ${t.from.toUpperCase()} -> ${t.to.toUpperCase()} (${t.reason})`);
      }
      const c = s.counters;
      const refused = Object.entries(c.refused).map(([k, n]) => `${k} ${n}`).join(', ');
      out.push(`  adverts sent ${c.advertsSent} (priority 0: ${c.priorityZeroSent}), received ${c.advertsReceived} (priority 0: ${c.priorityZeroReceived})` +
        `${refused ? `, refused: ${refused}` : ''}; became master ${c.becameMaster}, backup ${c.becameBackup}, fault ${c.becameFault}`);
    }
    const line = this.sync.listing().trimEnd();
    out.push(line === '' ? 'sync daemon: none running' : line.split('\n').map((l) => `sync: ${l}`).join('\n'));
    if (this.cfg.syncFollow) out.push(`sync daemon follows ${this.cfg.syncFollow.instance} (master while it is master, backup otherwise)`);
    for (const [state, c] of [['master', this.sync.masterCounters], ['backup', this.sync.backupCounters]] as const) {
      if (!c) continue;
      out.push(state === 'master'
        ? `  master sent ${c.messages} messages, ${c.conns} records`
        : `  backup took ${c.messages} messages, ${c.conns} records: ${c.created} conns created, ${c.updated} updated, ${c.noDest} without a real server here, ` +
          `${c.skippedProto + c.skippedState} skipped, ${c.dropped} messages dropped`);
    }
    const inactive = this.d.host.inactiveVips;
    if (inactive > 0) out.push(`VIPs held back (backup): ${inactive}`);
    return out.join('\n') + '\n';
  }

  /** For JSON output (`tapvs vrrp --json`). */
  toJSON(): object {
    return {
      vrrp: this.vrrp.status(),
      sync: this.sync.describe(),
      follow: this.cfg.syncFollow?.instance ?? null,
      vipsHeldBack: this.d.host.inactiveVips,
      unknownVrids: Object.fromEntries(this.vrrp.unknownVrid),
    };
  }
}
