import { ip6Equal, ip6Fold } from '../wire/addr6.js';
import { AF_INET6, IPPROTO_TCP, IPPROTO_UDP } from './proto.js';
import { Service, type ServiceSpec } from './service.js';

// Keys as small integers, two levels: the address as a signed 32-bit
// integer (a V8 small integer, cheap to hash), then port and protocol class
// in 18 bits. One 50-bit key would be a heap number: several times slower
// to look up, on every packet.
function protoBits(proto: number): number {
  return proto === IPPROTO_TCP ? 1 : proto === IPPROTO_UDP ? 2 : 3;
}
function portKey(proto: number, port: number): number {
  return (port << 2) | protoBits(proto);
}

/** Services (or marks) keyed by address, then by port and protocol. */
class AddrPortMap<T> {
  private readonly byAddr = new Map<number, Map<number, T>>();

  get(proto: number, addr: number, port: number): T | undefined {
    const m = this.byAddr.get(addr | 0);
    return m === undefined ? undefined : m.get(portKey(proto, port));
  }

  has(proto: number, addr: number, port: number): boolean {
    return this.get(proto, addr, port) !== undefined;
  }

  set(proto: number, addr: number, port: number, v: T): void {
    let m = this.byAddr.get(addr | 0);
    if (m === undefined) {
      m = new Map();
      this.byAddr.set(addr | 0, m);
    }
    m.set(portKey(proto, port), v);
  }

  delete(proto: number, addr: number, port: number): void {
    const m = this.byAddr.get(addr | 0);
    if (m === undefined) return;
    m.delete(portKey(proto, port));
    if (m.size === 0) this.byAddr.delete(addr | 0);
  }

  clear(): void {
    this.byAddr.clear();
  }

  *values(): IterableIterator<T> {
    for (const m of this.byAddr.values()) yield* m.values();
  }
}

/** The same for IPv6 addresses: keyed by their fold first, the full address confirmed. */
class Addr6PortMap<T> {
  private readonly byFold = new Map<number, { a: Uint32Array; m: Map<number, T> }[]>();

  private entry(a: Uint32Array, aOff: number): { a: Uint32Array; m: Map<number, T> } | undefined {
    const list = this.byFold.get(ip6Fold(a, aOff) | 0);
    if (list === undefined) return undefined;
    for (const e of list) if (ip6Equal(e.a, 0, a, aOff)) return e;
    return undefined;
  }

  get(proto: number, a: Uint32Array, aOff: number, port: number): T | undefined {
    return this.entry(a, aOff)?.m.get(portKey(proto, port));
  }

  set(proto: number, a: Uint32Array, port: number, v: T): void {
    let e = this.entry(a, 0);
    if (e === undefined) {
      e = { a: Uint32Array.from(a), m: new Map() };
      const k = ip6Fold(a) | 0;
      const list = this.byFold.get(k);
      if (list) list.push(e);
      else this.byFold.set(k, [e]);
    }
    e.m.set(portKey(proto, port), v);
  }

  delete(proto: number, a: Uint32Array, port: number): void {
    const e = this.entry(a, 0);
    if (e === undefined) return;
    e.m.delete(portKey(proto, port));
    if (e.m.size > 0) return;
    const k = ip6Fold(a) | 0;
    const rest = this.byFold.get(k)!.filter((x) => x !== e);
    if (rest.length > 0) this.byFold.set(k, rest);
    else this.byFold.delete(k);
  }

  clear(): void {
    this.byFold.clear();
  }
}

/**
 * A rule that marks packets, like `iptables -t mangle -A PREROUTING -d VIP
 * -p tcp -m multiport --dports 80,443 -j MARK --set-mark 1`: traffic to any of
 * `ports` (or any port, when empty) of `addr` is classified into `mark`.
 */
export interface MarkRule {
  proto: number;
  addr: number;
  ports: number[];
  mark: number;
  /** An IPv6 address to mark (then `addr` is unused). */
  addr6?: Uint32Array;
  /** Line in the config file, for error messages. */
  line?: number;
}

/** A rule's identity (control plane only): its ports are compared separately, without building text of them. */
function ruleKey(r: MarkRule): string {
  return `${r.mark}/${r.proto}/${r.addr6 ? Array.from(r.addr6).join(':') : r.addr >>> 0}`;
}

function samePorts(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** All virtual services, found as ip_vs_service_find finds them. */
export class ServiceTable {
  private byAddr = new AddrPortMap<Service>();
  private byMark = new Map<number, Service>();
  private markByAddrPort = new AddrPortMap<number>();
  private markByAddr = new AddrPortMap<number>();
  // IPv6: services by VIP, fwmark services of IPv6 traffic (a mark names one per family, as in IPVS), marks
  private byAddr6 = new Addr6PortMap<Service>();
  private byMark6 = new Map<number, Service>();
  private markByAddrPort6 = new Addr6PortMap<number>();
  private markByAddr6 = new Addr6PortMap<number>();
  /** Services in the order they were added (listings and -S show them so); a Set removes in O(1). */
  private readonly order = new Set<Service>();
  /** `all`, built once per change of the table (callers walk it often: listings, metrics, the estimator). */
  private allCache: Service[] | null = null;
  private rules: MarkRule[] = [];
  /** Each rule in force under its identity (mark, protocol, address): a change of the rules touches only what changed. */
  private ruleByKey = new Map<string, MarkRule>();

  /** Every service, address services first, in the order they were added. Do not modify the array. */
  get all(): Service[] {
    if (this.allCache === null) {
      const a: Service[] = [];
      for (const s of this.order) if (!s.fwmark) a.push(s);
      for (const s of this.order) if (s.fwmark) a.push(s);
      this.allCache = a;
    }
    return this.allCache;
  }

  add(spec: ServiceSpec): Service {
    const v6 = spec.addr6 !== undefined || spec.af === AF_INET6;
    if (spec.fwmark) {
      if ((v6 ? this.byMark6 : this.byMark).has(spec.fwmark)) throw new Error(`service FWM ${spec.fwmark} already exists`);
    } else if (v6 ? this.get6(spec.proto, spec.addr6!, spec.port ?? 0) : this.byAddr.has(spec.proto, spec.addr ?? 0, spec.port ?? 0)) {
      throw new Error('service already exists');
    }
    const svc = new Service(spec);
    if (svc.fwmark) (v6 ? this.byMark6 : this.byMark).set(svc.fwmark, svc);
    else if (v6) this.byAddr6.set(svc.proto, svc.addr6, svc.port, svc);
    else this.byAddr.set(svc.proto, svc.addr, svc.port, svc);
    this.order.add(svc);
    this.allCache = null;
    return svc;
  }

  remove(svc: Service): void {
    const v6 = svc.af === AF_INET6;
    if (svc.fwmark) (v6 ? this.byMark6 : this.byMark).delete(svc.fwmark);
    else if (v6) this.byAddr6.delete(svc.proto, svc.addr6, svc.port);
    else this.byAddr.delete(svc.proto, svc.addr, svc.port);
    this.order.delete(svc);
    this.allCache = null;
  }

  get(proto: number, addr: number, port: number): Service | undefined {
    return this.byAddr.get(proto, addr, port);
  }

  get6(proto: number, addr6: Uint32Array, port: number): Service | undefined {
    return this.byAddr6.get(proto, addr6, 0, port);
  }

  /** The fwmark service of `mark` for IPv4 traffic, or (af AF_INET6) for IPv6 traffic. */
  getByMark(mark: number, af = 2): Service | undefined {
    return (af === AF_INET6 ? this.byMark6 : this.byMark).get(mark);
  }

  /**
   * Replaces the mark rules. Only rules that are new or changed are entered
   * and only the ones gone or changed are taken out (a reload that changes
   * one rule of thousands does the work of one); the config parser makes
   * sure no two rules mark the same port of the same address.
   */
  setMarkRules(rules: MarkRule[]): void {
    const next = new Map<string, MarkRule>();
    const seen = new Map<string, number>();
    for (const r of rules) {
      // several lines may mark ports of the same address into the same mark: number them
      const base = ruleKey(r);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      const k = `${base}#${n}`;
      const cur = this.ruleByKey.get(k);
      if (cur !== undefined && samePorts(cur.ports, r.ports)) {
        next.set(k, cur);
        continue;
      }
      next.set(k, { ...r, ports: [...r.ports] });
    }
    for (const [k, r] of this.ruleByKey) if (next.get(k) !== r) this.enterRule(r, false);
    for (const [k, r] of next) if (this.ruleByKey.get(k) !== r) this.enterRule(r, true);
    this.ruleByKey = next;
    this.rules = [...next.values()];
  }

  private enterRule(r: MarkRule, on: boolean): void {
    if (r.addr6) {
      if (r.ports.length === 0) {
        if (on) this.markByAddr6.set(r.proto, r.addr6, 0, r.mark);
        else this.markByAddr6.delete(r.proto, r.addr6, 0);
      }
      for (const p of r.ports) {
        if (on) this.markByAddrPort6.set(r.proto, r.addr6, p, r.mark);
        else this.markByAddrPort6.delete(r.proto, r.addr6, p);
      }
      return;
    }
    if (r.ports.length === 0) {
      if (on) this.markByAddr.set(r.proto, r.addr, 0, r.mark);
      else this.markByAddr.delete(r.proto, r.addr, 0);
    }
    for (const p of r.ports) {
      if (on) this.markByAddrPort.set(r.proto, r.addr, p, r.mark);
      else this.markByAddrPort.delete(r.proto, r.addr, p);
    }
  }

  get markRules(): readonly MarkRule[] {
    return this.rules;
  }

  /** The packet's firewall mark under the configured rules, 0 if none. */
  classify(proto: number, addr: number, port: number): number {
    return this.markByAddrPort.get(proto, addr, port) ?? this.markByAddr.get(proto, addr, 0) ?? 0;
  }

  /**
   * The service for a packet: the fwmark service first, then proto/VIP/port,
   * then the port-0 service of a persistent VIP (as the kernel, which only
   * falls back to port 0 for persistent services).
   */
  find(proto: number, addr: number, port: number): Service | undefined {
    if (this.byMark.size > 0) {
      const mark = this.classify(proto, addr, port);
      if (mark !== 0) {
        const s = this.byMark.get(mark);
        if (s) return s;
      }
    }
    const s = this.byAddr.get(proto, addr, port);
    if (s) return s;
    const wild = this.byAddr.get(proto, addr, 0);
    return wild && wild.persistent ? wild : undefined;
  }

  /** classify() for an IPv6 destination (four words at a[aOff]). */
  classify6(proto: number, a: Uint32Array, aOff: number, port: number): number {
    return this.markByAddrPort6.get(proto, a, aOff, port) ?? this.markByAddr6.get(proto, a, aOff, 0) ?? 0;
  }

  /** find() for an IPv6 packet to a[aOff]:port. */
  find6(proto: number, a: Uint32Array, aOff: number, port: number): Service | undefined {
    if (this.byMark6.size > 0) {
      const mark = this.classify6(proto, a, aOff, port);
      if (mark !== 0) {
        const s = this.byMark6.get(mark);
        if (s) return s;
      }
    }
    const s = this.byAddr6.get(proto, a, aOff, port);
    if (s) return s;
    const wild = this.byAddr6.get(proto, a, aOff, 0);
    return wild && wild.persistent ? wild : undefined;
  }
}
