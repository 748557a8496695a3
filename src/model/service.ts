import { ip6Fold } from '../wire/addr6.js';
import { Dest, NO_ADDR6, type DestSpec } from './dest.js';
import { AF_INET, AF_INET6 } from './proto.js';
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
  /** IPv6: the VIP (four words); a fwmark service of IPv6 traffic has af AF_INET6 and no addr6. */
  addr6?: Uint32Array;
  /** AF_INET (default) or AF_INET6 (implied by addr6). */
  af?: number;
  port?: number; // 0 with persistence = all ports
  fwmark?: number; // > 0 for fwmark services
  scheduler?: string; // default 'wlc', as ipvsadm
  flags?: Partial<SchedFlags>;
  /** Persistence timeout in seconds; 0 = not persistent. */
  persistent?: number;
  /** Persistence netmask, as uint32 (default 255.255.255.255). */
  netmask?: number;
  /** IPv6 persistence: the prefix length clients are grouped by (ipvsadm -M; default 128). */
  prefix6?: number;
  onePacket?: boolean;
}

/** A virtual service, as ip_vs_service. */
export class Service {
  readonly af: number;
  readonly proto: number;
  /** IPv4: the VIP. IPv6: its four words XORed (ip6Fold), for hashing only. */
  readonly addr: number;
  /** IPv6: the VIP (four words); NO_ADDR6 for IPv4 and fwmark services. */
  readonly addr6: Uint32Array;
  readonly port: number;
  readonly fwmark: number;

  sched!: Scheduler;
  schedState: unknown;
  flags: SchedFlags;
  /** Persistence timeout in seconds, 0 when not persistent. */
  timeout: number;
  netmask: number;
  /** IPv6 persistence prefix length. */
  prefix6: number;
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
    if (spec.addr6) {
      this.af = AF_INET6;
      this.addr6 = Uint32Array.from(spec.addr6);
      this.addr = ip6Fold(this.addr6);
    } else {
      this.af = spec.af ?? AF_INET;
      this.addr6 = NO_ADDR6;
      this.addr = (spec.addr ?? 0) >>> 0;
    }
    this.port = spec.port ?? 0;
    this.fwmark = spec.fwmark ?? 0;
    this.flags = { shFallback: false, shPort: false, mhFallback: false, mhPort: false, ...spec.flags };
    this.timeout = spec.persistent ?? 0;
    this.netmask = (spec.netmask ?? 0xffffffff) >>> 0;
    this.prefix6 = spec.prefix6 ?? 128;
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

  /** The real server at addr:port (IPv4), or at addr6 (IPv6) when given. */
  findDest(addr: number, port: number, addr6?: Uint32Array): Dest | undefined {
    const spec = { addr, port, addr6 };
    return this.dests.find((d) => d.is(spec));
  }

  /**
   * Adds a real server at the head of the list, as the kernel does. Its
   * family must be the service's: IPVS mixes families only for tunnels
   * (and tapvs not at all).
   */
  addDest(spec: DestSpec): Dest {
    const af = spec.addr6 ? AF_INET6 : AF_INET;
    if (af !== this.af) {
      throw new Error(`an ${af === AF_INET6 ? 'IPv6' : 'IPv4'} real server cannot serve an ${this.af === AF_INET6 ? 'IPv6' : 'IPv4'} service: ` +
        'tapvs forwards within one address family');
    }
    if (this.findDest(spec.addr, spec.port, spec.addr6)) throw new Error('destination already exists');
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
    if (spec.tunType !== undefined) d.tunType = spec.tunType;
    if (spec.tunPort !== undefined) d.tunPort = spec.tunPort;
    if (spec.tunFlags !== undefined) d.tunFlags = spec.tunFlags;
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
