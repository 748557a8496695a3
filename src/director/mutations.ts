// The one way the control plane (ipvsadm commands, reload, health checks)
// changes a running director's tables. Each call does what the kernel does
// around the change — a removed real server's connections end at once with
// expire_nodest_conn, or run out while their packets are dropped — and keeps
// what the data path derives from the tables (the set of real-server
// addresses) right, so no caller has to remember to.
import type { ConnSettings, ConnTable } from '../conn/table.js';
import type { IpvsadmTimeouts } from '../conn/timeouts.js';
import { FWD_TUN, TUN_GUE, type Dest, type DestSpec } from '../model/dest.js';
import { GUE_PRINT_PORTS } from '../wire/printer.js';
import type { SchedFlags, Service, ServiceSpec } from '../model/service.js';
import type { Stats } from '../model/stats.js';
import type { MarkRule, ServiceTable } from '../model/services.js';
import { AF_INET6 } from '../model/proto.js';
import { ip6ToString } from '../wire/addr6.js';
import type { HaSwitches } from './ha.js';

/** What -E sets (every attribute: what a command omits returns to its default, as ip_vs_edit_service). */
export interface ServiceAttrs {
  scheduler: string;
  flags: SchedFlags;
  /** Persistence timeout, s (0: not persistent). */
  persistent: number;
  netmask: number;
  onePacket: boolean;
  /** IPv6 services: the persistence prefix length (absent: 128). */
  prefix6?: number;
}

/** What -e sets. */
export type DestAttrs = Pick<Required<DestSpec>, 'weight' | 'fwd' | 'uThreshold' | 'lThreshold'> & Pick<DestSpec, 'tunType' | 'tunPort' | 'tunFlags'>;

/** A GUE real server's tun-port: the trace and the browser view then show its UDP packets' GUE header and inner packet. */
function guePrintPort(d: Dest): void {
  if (d.fwd === FWD_TUN && d.tunType === TUN_GUE && d.tunPort !== 0) GUE_PRINT_PORTS.add(d.tunPort);
}

export class Mutations {
  /** Real servers per address, over every service: the host is told only when an address comes or goes. */
  private readonly rsRefs = new Map<number, number>();
  /** The same for IPv6 real servers, by address text (the control side's key; the host keeps them as words). */
  private readonly rsRefs6 = new Map<string, { addr: Uint32Array; n: number }>();
  /** The real servers counted in rsRefs (removing one twice must not count its address out twice). */
  private readonly counted = new WeakSet<Dest>();
  private batchDepth = 0;
  private rsDirty = false;
  /** The HA pair's switches (director/ha.ts), wired by the director. */
  ha: HaSwitches | null = null;

  /**
   * `realServers` is told the addresses of every real server of every
   * service after each change of them (the host classifies traffic from
   * real servers with it); `realServers6` the IPv6 ones.
   */
  constructor(
    private readonly services: ServiceTable,
    private readonly conns: ConnTable,
    private readonly realServers: (addrs: Set<number>) => void = () => {},
    private readonly realServers6: (addrs: Uint32Array[]) => void = () => {},
    /** The director's totals: -Z of every service zeroes them too (ip_vs_zero_all). */
    private readonly totals?: Stats,
  ) {}

  addService(spec: ServiceSpec): Service {
    const svc = this.services.add(spec);
    this.schedSysctls(svc);
    return svc;
  }

  /** lblc_expiration / lblcr_expiration reach the service's locality table (the kernel's schedulers read the sysctl). */
  private schedSysctls(svc: Service): void {
    const n = svc.sched.name;
    if (n !== 'lblc' && n !== 'lblcr') return;
    const s = this.conns.settings;
    (svc.schedState as { tbl: { expiration: number } }).tbl.expiration = (n === 'lblc' ? s.lblcExpiration : s.lblcrExpiration) * 1000;
  }

  editService(svc: Service, a: ServiceAttrs): void {
    if (svc.sched.name !== a.scheduler) {
      svc.setScheduler(a.scheduler);
      this.schedSysctls(svc);
    }
    svc.flags = { ...a.flags };
    svc.timeout = a.persistent;
    svc.netmask = a.netmask >>> 0;
    if (svc.af === AF_INET6) svc.prefix6 = a.prefix6 ?? 128;
    svc.onePacket = a.onePacket;
  }

  /** Removes a service and its real servers; returns the conns and templates ended at once. */
  removeService(svc: Service): number {
    this.services.remove(svc);
    let expired = 0;
    for (const d of svc.dests) {
      d.available = false;
      expired += this.endConns(d);
      this.rsRef(d, -1);
    }
    return expired;
  }

  /** ipvsadm -C. */
  flush(): number {
    let expired = 0;
    for (const svc of this.services.all) expired += this.removeService(svc);
    return expired;
  }

  addDest(svc: Service, spec: DestSpec): Dest {
    const d = svc.addDest(spec);
    guePrintPort(d);
    this.rsRef(d, 1);
    return d;
  }

  editDest(dest: Dest, a: Partial<DestAttrs>): void {
    dest.svc.editDest(dest, a);
    guePrintPort(dest);
  }

  /** Unlinks a real server; returns the conns and templates ended at once (expire_nodest_conn). */
  removeDest(dest: Dest): number {
    dest.svc.removeDest(dest);
    const expired = this.endConns(dest);
    this.rsRef(dest, -1);
    return expired;
  }

  /** ipvsadm -Z: one service's counters, or every service's. */
  zero(svc?: Service): void {
    for (const s of svc ? [svc] : this.services.all) {
      s.stats.zero();
      for (const d of s.dests) d.stats.zero();
    }
    if (!svc) this.totals?.zero();
  }

  /** ipvsadm --set. */
  setTimeouts(t: Partial<IpvsadmTimeouts>): void {
    this.conns.timeouts.set(t);
  }

  setMarks(rules: readonly MarkRule[]): void {
    this.services.setMarkRules([...rules]);
  }

  /**
   * The connection sysctls (expire_nodest_conn, expire_quiescent_template,
   * conn_reuse_mode) and the flood defences (drop_entry, drop_packet,
   * secure_tcp, amemthresh, am_droprate, evict_embryonic), whose levels
   * follow at once, as the kernel's sysctl handlers update them.
   */
  setConnSettings(s: Partial<ConnSettings>): void {
    Object.assign(this.conns.settings, s);
    this.conns.updateDefense();
    if (s.lblcExpiration !== undefined || s.lblcrExpiration !== undefined) for (const svc of this.services.all) this.schedSysctls(svc);
  }

  /**
   * A VRRP-managed VIP becomes active (the instance is master: answered for
   * in ARP and ICMP, its traffic load-balanced) or is held back (backup).
   * Returns whether it changed; false for an address that is no IPv4 VIP.
   */
  setVipActive(addr: number, active: boolean): boolean {
    return this.ha !== null && this.ha.setVipActive(addr, active);
  }

  /** IPVS backup_only in force or not (the sysctl while a backup sync daemon runs). */
  setBackupOnly(on: boolean): void {
    this.ha?.setBackupOnly(on);
  }

  private endConns(d: Dest): number {
    return this.conns.settings.expireNodestConn ? this.conns.expireDest(d) : 0;
  }

  /**
   * Runs `fn` (a batch of changes) and tells the host about the real-server
   * addresses once at the end instead of after each change: a rule set of
   * thousands of real servers on new addresses would otherwise rebuild the
   * address set once per server.
   */
  batch<T>(fn: () => T): T {
    this.batchDepth++;
    try {
      return fn();
    } finally {
      if (--this.batchDepth === 0 && this.rsDirty) this.realServersChanged();
    }
  }

  private rsRef(d: Dest, delta: 1 | -1): void {
    if (delta > 0) {
      if (this.counted.has(d)) return;
      this.counted.add(d);
    } else if (!this.counted.delete(d)) return;
    let n: number;
    if (d.af === AF_INET6) {
      const k = ip6ToString(d.addr6);
      const e = this.rsRefs6.get(k) ?? { addr: d.addr6, n: 0 };
      n = e.n + delta;
      e.n = n;
      if (n > 0) this.rsRefs6.set(k, e);
      else this.rsRefs6.delete(k);
    } else {
      const addr = d.addr;
      n = (this.rsRefs.get(addr) ?? 0) + delta;
      if (n > 0) this.rsRefs.set(addr, n);
      else this.rsRefs.delete(addr);
    }
    // the set of addresses changes only when the first server of an address comes or the last goes
    if (n === (delta > 0 ? 1 : 0)) {
      this.rsDirty = true;
      if (this.batchDepth === 0) this.realServersChanged();
    }
  }

  private realServersChanged(): void {
    this.rsDirty = false;
    this.realServers(new Set(this.rsRefs.keys()));
    this.realServers6([...this.rsRefs6.values()].map((e) => e.addr));
  }
}
