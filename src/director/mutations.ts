// The one way the control plane (ipvsadm commands, reload, health checks)
// changes a running director's tables. Each call does what the kernel does
// around the change — a removed real server's connections end at once with
// expire_nodest_conn, or run out while their packets are dropped — and keeps
// what the data path derives from the tables (the set of real-server
// addresses) right, so no caller has to remember to.
import type { ConnSettings, ConnTable } from '../conn/table.js';
import type { IpvsadmTimeouts } from '../conn/timeouts.js';
import type { Dest, DestSpec } from '../model/dest.js';
import type { SchedFlags, Service, ServiceSpec } from '../model/service.js';
import type { MarkRule, ServiceTable } from '../model/services.js';

/** What -E sets (every attribute: what a command omits returns to its default, as ip_vs_edit_service). */
export interface ServiceAttrs {
  scheduler: string;
  flags: SchedFlags;
  /** Persistence timeout, s (0: not persistent). */
  persistent: number;
  netmask: number;
  onePacket: boolean;
}

/** What -e sets. */
export type DestAttrs = Pick<Required<DestSpec>, 'weight' | 'fwd' | 'uThreshold' | 'lThreshold'>;

export class Mutations {
  /**
   * `realServers` is told the addresses of every real server of every
   * service after each change of them (the host classifies traffic from
   * real servers with it).
   */
  constructor(
    private readonly services: ServiceTable,
    private readonly conns: ConnTable,
    private readonly realServers: (addrs: Set<number>) => void = () => {},
  ) {}

  addService(spec: ServiceSpec): Service {
    return this.services.add(spec);
  }

  editService(svc: Service, a: ServiceAttrs): void {
    if (svc.sched.name !== a.scheduler) svc.setScheduler(a.scheduler);
    svc.flags = { ...a.flags };
    svc.timeout = a.persistent;
    svc.netmask = a.netmask >>> 0;
    svc.onePacket = a.onePacket;
  }

  /** Removes a service and its real servers; returns the conns and templates ended at once. */
  removeService(svc: Service): number {
    this.services.remove(svc);
    let expired = 0;
    for (const d of svc.dests) {
      d.available = false;
      expired += this.endConns(d);
    }
    this.realServersChanged();
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
    this.realServersChanged();
    return d;
  }

  editDest(dest: Dest, a: Partial<DestAttrs>): void {
    dest.svc.editDest(dest, a);
  }

  /** Unlinks a real server; returns the conns and templates ended at once (expire_nodest_conn). */
  removeDest(dest: Dest): number {
    dest.svc.removeDest(dest);
    const expired = this.endConns(dest);
    this.realServersChanged();
    return expired;
  }

  /** ipvsadm -Z: one service's counters, or every service's. */
  zero(svc?: Service): void {
    for (const s of svc ? [svc] : this.services.all) {
      s.stats.zero();
      for (const d of s.dests) d.stats.zero();
    }
  }

  /** ipvsadm --set. */
  setTimeouts(t: Partial<IpvsadmTimeouts>): void {
    this.conns.timeouts.set(t);
  }

  setMarks(rules: readonly MarkRule[]): void {
    this.services.setMarkRules([...rules]);
  }

  /** The connection sysctls (expire_nodest_conn, expire_quiescent_template, conn_reuse_mode, secure_tcp). */
  setConnSettings(s: Partial<ConnSettings>): void {
    Object.assign(this.conns.settings, s);
  }

  private endConns(d: Dest): number {
    return this.conns.settings.expireNodestConn ? this.conns.expireDest(d) : 0;
  }

  private realServersChanged(): void {
    const addrs = new Set<number>();
    for (const svc of this.services.all) for (const d of svc.dests) addrs.add(d.addr);
    this.realServers(addrs);
  }
}
