import { IPPROTO_TCP, IPPROTO_UDP } from './proto.js';
import { Service, type ServiceSpec } from './service.js';

// Keys as plain numbers (no string building per packet): 32-bit address,
// 16-bit port, 2 bits of protocol class -> 50 bits, exact in a double.
function protoBits(proto: number): number {
  return proto === IPPROTO_TCP ? 1 : proto === IPPROTO_UDP ? 2 : 3;
}
function vkey(proto: number, addr: number, port: number): number {
  return ((addr >>> 0) * 65536 + port) * 4 + protoBits(proto);
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
  /** Line in the config file, for error messages. */
  line?: number;
}

/** All virtual services, found as ip_vs_service_find finds them. */
export class ServiceTable {
  private byAddr = new Map<number, Service>();
  private byMark = new Map<number, Service>();
  private markByAddrPort = new Map<number, number>();
  private markByAddr = new Map<number, number>();
  private rules: MarkRule[] = [];

  get all(): Service[] {
    return [...this.byAddr.values(), ...this.byMark.values()];
  }

  add(spec: ServiceSpec): Service {
    if (spec.fwmark) {
      if (this.byMark.has(spec.fwmark)) throw new Error(`service FWM ${spec.fwmark} already exists`);
    } else if (this.byAddr.has(vkey(spec.proto, spec.addr ?? 0, spec.port ?? 0))) {
      throw new Error('service already exists');
    }
    const svc = new Service(spec);
    if (svc.fwmark) this.byMark.set(svc.fwmark, svc);
    else this.byAddr.set(vkey(svc.proto, svc.addr, svc.port), svc);
    return svc;
  }

  remove(svc: Service): void {
    if (svc.fwmark) this.byMark.delete(svc.fwmark);
    else this.byAddr.delete(vkey(svc.proto, svc.addr, svc.port));
  }

  get(proto: number, addr: number, port: number): Service | undefined {
    return this.byAddr.get(vkey(proto, addr, port));
  }

  getByMark(mark: number): Service | undefined {
    return this.byMark.get(mark);
  }

  setMarkRules(rules: MarkRule[]): void {
    this.rules = rules.map((r) => ({ ...r, ports: [...r.ports] }));
    this.markByAddrPort.clear();
    this.markByAddr.clear();
    for (const r of this.rules) {
      if (r.ports.length === 0) this.markByAddr.set(vkey(r.proto, r.addr, 0), r.mark);
      for (const p of r.ports) this.markByAddrPort.set(vkey(r.proto, r.addr, p), r.mark);
    }
  }

  get markRules(): readonly MarkRule[] {
    return this.rules;
  }

  /** The packet's firewall mark under the configured rules, 0 if none. */
  classify(proto: number, addr: number, port: number): number {
    return this.markByAddrPort.get(vkey(proto, addr, port)) ?? this.markByAddr.get(vkey(proto, addr, 0)) ?? 0;
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
    const s = this.byAddr.get(vkey(proto, addr, port));
    if (s) return s;
    const wild = this.byAddr.get(vkey(proto, addr, 0));
    return wild && wild.persistent ? wild : undefined;
  }
}
