import { Dest, type DestSpec } from './dest.js';
import { Stats } from './stats.js';
import { getScheduler, type Scheduler } from './scheduler.js';

/** Scheduler flags as ipvsadm -b names them (IP_VS_SVC_F_SCHED1..3). */
export interface SchedFlags {
  shFallback: boolean;
  shPort: boolean;
  mhFallback: boolean;
  mhPort: boolean;
}

export interface ServiceSpec {
  /** IPPROTO_TCP / IPPROTO_UDP, or 0 for a firewall-mark service. */
  proto: number;
  addr?: number; // VIP, uint32; 0 for fwmark services
  port?: number; // 0 with persistence = all ports
  fwmark?: number; // > 0 for fwmark services
  scheduler?: string; // default 'wlc', as ipvsadm
  flags?: Partial<SchedFlags>;
  /** Persistence timeout in seconds; 0 = not persistent. */
  persistent?: number;
  /** Persistence netmask, as uint32 (default 255.255.255.255). */
  netmask?: number;
  onePacket?: boolean;
}

/** A virtual service, as ip_vs_service. */
export class Service {
  readonly af = 2;
  readonly proto: number;
  readonly addr: number;
  readonly port: number;
  readonly fwmark: number;

  sched!: Scheduler;
  schedState: unknown;
  flags: SchedFlags;
  /** Persistence timeout in seconds, 0 when not persistent. */
  timeout: number;
  netmask: number;
  onePacket: boolean;

  /**
   * Real servers in the kernel's list order: ip_vs adds a new dest at the
   * head of svc->destinations, so the newest comes first. Schedulers that walk
   * the list (rr, wlc, ...) depend on this order.
   */
  dests: Dest[] = [];

  readonly stats = new Stats();

  constructor(spec: ServiceSpec) {
    this.proto = spec.proto;
    this.addr = (spec.addr ?? 0) >>> 0;
    this.port = spec.port ?? 0;
    this.fwmark = spec.fwmark ?? 0;
    this.flags = { shFallback: false, shPort: false, mhFallback: false, mhPort: false, ...spec.flags };
    this.timeout = spec.persistent ?? 0;
    this.netmask = (spec.netmask ?? 0xffffffff) >>> 0;
    this.onePacket = spec.onePacket ?? false;
    this.setScheduler(spec.scheduler ?? 'wlc');
  }

  get persistent(): boolean {
    return this.timeout > 0;
  }

  setScheduler(name: string): void {
    const s = getScheduler(name);
    if (!s) throw new Error(`unknown scheduler '${name}'`);
    this.sched = s;
    this.schedState = s.init(this);
  }

  findDest(addr: number, port: number): Dest | undefined {
    addr >>>= 0;
    return this.dests.find((d) => d.addr === addr && d.port === port);
  }

  /** Adds a real server at the head of the list, as the kernel does. */
  addDest(spec: DestSpec): Dest {
    if (this.findDest(spec.addr, spec.port)) throw new Error('destination already exists');
    const d = new Dest(this, spec);
    this.dests.unshift(d);
    this.sched.update?.(this, this.schedState);
    return d;
  }

  editDest(d: Dest, spec: Partial<DestSpec>): void {
    if (spec.weight !== undefined) d.weight = spec.weight;
    if (spec.fwd !== undefined) d.fwd = spec.fwd;
    if (spec.uThreshold !== undefined) {
      // like __ip_vs_update_dest: a raised or cleared limit lifts the overload mark
      if (spec.uThreshold === 0 || spec.uThreshold > d.uThreshold) d.overloaded = false;
      d.uThreshold = spec.uThreshold;
    }
    if (spec.lThreshold !== undefined) d.lThreshold = spec.lThreshold;
    this.sched.update?.(this, this.schedState);
  }

  /** Unlinks a real server; its connections are the connection table's business. */
  removeDest(d: Dest): void {
    const i = this.dests.indexOf(d);
    if (i < 0) return;
    this.dests.splice(i, 1);
    d.available = false;
    this.sched.update?.(this, this.schedState);
  }
}
