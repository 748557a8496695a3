// Whether a configuration makes a director that can forward: its ports,
// the VIPs on them, its routes, and whether each real server can be reached
// in its forwarding mode. The one place these rules and their wording live:
// the config parser, the director, live ipvsadm changes and reload all ask
// here.
import { inSubnet, ipToString } from '../wire/addr.js';
import { ip6Equal, ip6InSubnet, ip6IsLinkLocal, ip6IsMulticast, ip6IsUnspecified, ip6ToString } from '../wire/addr6.js';
import { IPV6_HEADER_LEN, IPV6_MIN_MTU } from '../wire/ipv6.js';
import type { DirectorConfig, PortConfig, RouteConfig, VipConfig } from './config.js';
import { FWD_DR, FWD_MASQ, FWD_TUN, type Fwd } from './dest.js';
import { AF_INET6 } from './proto.js';

export interface TopologyProblem {
  /** Line in the config file, when the thing it is about came from one. */
  line?: number;
  message: string;
}

/** Largest MTU a port can have: frames of up to 9216 bytes (jumbo) are carried, headers included. */
export const MAX_PORT_MTU = 9000;
export const MIN_PORT_MTU = 68;

/** The director's ports, VIPs and routes: what never changes while it runs. */
export class Topology {
  constructor(
    readonly ports: readonly PortConfig[],
    readonly routes: readonly RouteConfig[],
    readonly vips: readonly VipConfig[],
  ) {}

  static of(cfg: Pick<DirectorConfig, 'ports' | 'routes' | 'vips'>): Topology {
    return new Topology(cfg.ports, cfg.routes, cfg.vips);
  }

  /** "a 10.0.0.1/24, b 192.168.0.1/24": what the messages show of the ports. */
  private portList(): string {
    return this.ports.map((p) => `${p.name} ${p.addrs.map((a) => `${ipToString(a.addr)}/${a.prefix}`).join(' ') || '(no address)'}`).join(', ') || 'none';
  }

  /** The same for IPv6: "a 2001:db8:1::1/64, b (no IPv6 address)". */
  private portList6(): string {
    return this.ports.map((p) => `${p.name} ${(p.addrs6 ?? []).map((a) => `${ip6ToString(a.addr)}/${a.prefix}`).join(' ') || '(no IPv6 address)'}`)
      .join(', ') || 'none';
  }

  private connectedPort6(a: Uint32Array): PortConfig | undefined {
    return this.ports.find((p) => (p.addrs6 ?? []).some((s) => ip6InSubnet(a, 0, s.addr, 0, s.prefix)));
  }

  /** The IPv6 route that covers `a` (longest prefix), if any. */
  private route6(a: Uint32Array): RouteConfig | undefined {
    let best: RouteConfig | undefined;
    for (const r of this.routes) {
      if (r.dst6 && ip6InSubnet(a, 0, r.dst6, 0, r.prefix) && (!best || r.prefix > best.prefix)) best = r;
    }
    return best;
  }

  /** The port an IPv6 packet to `a` leaves through: its connected network's, or its route's. */
  private egressPort6(a: Uint32Array): PortConfig | undefined {
    const c = this.connectedPort6(a);
    if (c) return c;
    const r = this.route6(a);
    if (!r) return undefined;
    if (r.port !== undefined) return this.ports.find((p) => p.name === r.port);
    return r.via6 ? this.connectedPort6(r.via6) : undefined;
  }

  private connectedPort(addr: number): PortConfig | undefined {
    return this.ports.find((p) => p.addrs.some((s) => inSubnet(addr, s.addr, s.prefix)));
  }

  private routed(addr: number): boolean {
    return this.routes.some((r) => !r.dst6 && inSubnet(addr, r.dst, r.prefix));
  }

  /** Is `addr` one of the director's port addresses or VIPs (answered for with ARP)? */
  announced(addr: number): boolean {
    if (this.announcedSet === null) {
      // built once: a config of thousands of services asks once per service
      this.announcedSet = new Set();
      for (const p of this.ports) for (const s of p.addrs) this.announcedSet.add(s.addr >>> 0);
      for (const v of this.vips) if (!v.addr6) this.announcedSet.add(v.addr >>> 0);
    }
    return this.announcedSet.has(addr >>> 0);
  }

  private announcedSet: Set<number> | null = null;

  /** Is the IPv6 address `a` one of the director's port addresses or VIPs (answered for with neighbour discovery)? */
  announced6(a: Uint32Array): boolean {
    return this.ports.some((p) => (p.addrs6 ?? []).some((s) => ip6Equal(s.addr, 0, a, 0))) ||
      this.vips.some((v) => v.addr6 !== undefined && ip6Equal(v.addr6, 0, a, 0));
  }

  /**
   * Why a real server (or sorry server: `what`) at `addr` cannot be reached
   * in its forwarding mode from these ports and routes, or null.
   */
  destProblem(addr: number, fwd: Fwd, what = 'real server', addr6?: Uint32Array): string | null {
    if (addr6) return this.destProblem6(addr6, fwd, what);
    const rs = ipToString(addr);
    if (fwd === FWD_DR && !this.connectedPort(addr)) {
      return `${what} ${rs} uses direct routing (-g) but is on no network directly connected to the director ` +
        `(ports: ${this.portList()}): DR only rewrites the destination MAC, so the real server must share a LAN with a port`;
    }
    if ((fwd === FWD_TUN || fwd === FWD_MASQ) && !this.connectedPort(addr) && !this.routed(addr)) {
      const how = fwd === FWD_TUN ? 'tunnelling (-i)' : 'masquerading (-m)';
      return `no route to ${what} ${rs} (${how}): it is on no connected network (ports: ${this.portList()}) and no route covers it`;
    }
    return null;
  }

  /** destProblem() for an IPv6 real server. */
  destProblem6(a: Uint32Array, fwd: Fwd, what = 'real server'): string | null {
    const rs = ip6ToString(a);
    if (ip6IsLinkLocal(a) || ip6IsMulticast(a) || ip6IsUnspecified(a)) {
      return `${what} ${rs} is not a unicast address of global scope: a real server needs an address the director can route to`;
    }
    if (fwd === FWD_DR && !this.connectedPort6(a)) {
      return `${what} ${rs} uses direct routing (-g) but is on no IPv6 network directly connected to the director ` +
        `(ports: ${this.portList6()}): DR only rewrites the destination MAC, so the real server must share a LAN with a port`;
    }
    if ((fwd === FWD_TUN || fwd === FWD_MASQ) && !this.connectedPort6(a) && !this.route6(a)) {
      const how = fwd === FWD_TUN ? 'tunnelling (-i)' : 'masquerading (-m)';
      return `no route to ${what} ${rs} (${how}): it is on no connected IPv6 network (ports: ${this.portList6()}) and no IPv6 route covers it`;
    }
    if (fwd === FWD_TUN) {
      const p = this.egressPort6(a);
      if (p && p.mtu - IPV6_HEADER_LEN < IPV6_MIN_MTU) {
        return `${what} ${rs} uses tunnelling (-i) through port '${p.name}', whose MTU ${p.mtu} leaves ${p.mtu - IPV6_HEADER_LEN} bytes ` +
          `inside an IPv6-in-IPv6 packet: below the IPv6 minimum of ${IPV6_MIN_MTU}, so nothing could be tunnelled (the kernel refuses too); ` +
          `the port needs an MTU of at least ${IPV6_MIN_MTU + IPV6_HEADER_LEN}`;
      }
    }
    return null;
  }

  /** Problems of the ports, VIPs and routes themselves. */
  networkProblems(): TopologyProblem[] {
    const out: TopologyProblem[] = [];
    const names = new Map<string, PortConfig>();
    for (const p of this.ports) {
      const prev = names.get(p.name);
      if (prev) out.push({ line: p.line, message: `port '${p.name}' is already defined (line ${prev.line ?? '?'})` });
      else names.set(p.name, p);
      if (p.mtu < MIN_PORT_MTU || p.mtu > MAX_PORT_MTU) {
        out.push({
          line: p.line,
          message: `port '${p.name}': MTU ${p.mtu} is outside ${MIN_PORT_MTU}..${MAX_PORT_MTU} (ports carry frames of at most 9216 bytes)`,
        });
      }
      for (const a of p.addrs6 ?? []) {
        const t = `${ip6ToString(a.addr)}/${a.prefix}`;
        if (!Number.isInteger(a.prefix) || a.prefix < 1 || a.prefix > 128) {
          out.push({ line: p.line, message: `port '${p.name}': IPv6 address ${t}: the prefix length must be 1..128` });
        } else if (ip6IsLinkLocal(a.addr) || ip6IsMulticast(a.addr) || ip6IsUnspecified(a.addr)) {
          out.push({
            line: p.line,
            message: `port '${p.name}': IPv6 address ${t} is not a unicast address of global scope ` +
              '(each port has its link-local address, from its MAC, without being told)',
          });
        }
      }
      if ((p.addrs6?.length ?? 0) > 0 && p.mtu < IPV6_MIN_MTU) {
        out.push({ line: p.line, message: `port '${p.name}' has IPv6 addresses but MTU ${p.mtu}: IPv6 needs links of at least ${IPV6_MIN_MTU} bytes` });
      }
    }
    // offload (TAP ports, on unless offload=none) needs no rule across ports: a super-frame or a
    // partial checksum forwarded to a port that cannot take it is cut and finished there, in
    // software (io/vnet.ts SoftwareOffload: TAPs without offload, pcap ports)
    const known = [...names.keys()].join(', ') || 'none defined';
    for (const v of this.vips) {
      const vip = v.addr6 ? ip6ToString(v.addr6) : ipToString(v.addr);
      if (!names.has(v.port)) out.push({ line: v.line, message: `vip ${vip} is on unknown port '${v.port}' (ports: ${known})` });
      else if (v.addr6 && (ip6IsLinkLocal(v.addr6) || ip6IsMulticast(v.addr6) || ip6IsUnspecified(v.addr6))) {
        out.push({ line: v.line, message: `vip ${vip} is not a unicast address of global scope` });
      } else if (v.addr6 && names.get(v.port)!.mtu < IPV6_MIN_MTU) {
        out.push({ line: v.line, message: `vip ${vip} is on port '${v.port}' whose MTU ${names.get(v.port)!.mtu} is below the IPv6 minimum of ${IPV6_MIN_MTU}` });
      }
    }
    for (const r of this.routes) {
      if (r.dst6) {
        const p = this.route6Problem(r, names, known);
        if (p) out.push({ line: r.line, message: p });
        continue;
      }
      const label = `route ${r.prefix === 0 ? 'default' : `${ipToString(r.dst)}/${r.prefix}`}`;
      if (r.port !== undefined && !names.has(r.port)) {
        out.push({ line: r.line, message: `${label}: unknown port '${r.port}' (ports: ${known})` });
        continue;
      }
      const gwPort = r.port !== undefined ? names.get(r.port)! : this.connectedPort(r.via);
      if (!gwPort || !gwPort.addrs.some((s) => inSubnet(r.via, s.addr, s.prefix))) {
        const where = r.port !== undefined ? `port '${r.port}'` : 'any port';
        out.push({ line: r.line, message: `${label}: gateway ${ipToString(r.via)} is not on a network connected to ${where} (ports: ${this.portList()})` });
      }
    }
    return out;
  }

  private route6Problem(r: RouteConfig, names: Map<string, PortConfig>, known: string): string | null {
    const label = `route ${r.prefix === 0 ? 'default (IPv6)' : `${ip6ToString(r.dst6!)}/${r.prefix}`}`;
    if (!Number.isInteger(r.prefix) || r.prefix < 0 || r.prefix > 128) return `${label}: the prefix length must be 0..128`;
    if (r.port !== undefined && !names.has(r.port)) return `${label}: unknown port '${r.port}' (ports: ${known})`;
    const via = r.via6;
    if (!via) return r.port !== undefined ? null : `${label}: needs a gateway (via) or a port`;
    const gw = ip6ToString(via);
    if (ip6IsMulticast(via) || ip6IsUnspecified(via)) return `${label}: gateway ${gw} is not a unicast address`;
    if (ip6IsLinkLocal(via)) {
      // a link-local address names no network: which link must be said
      return r.port !== undefined ? null : `${label}: gateway ${gw} is link-local, so the route must name its port ('on PORT')`;
    }
    const gwPort = r.port !== undefined ? names.get(r.port)! : this.connectedPort6(via);
    if (!gwPort || !(gwPort.addrs6 ?? []).some((s) => ip6InSubnet(via, 0, s.addr, 0, s.prefix))) {
      const where = r.port !== undefined ? `port '${r.port}'` : 'any port';
      return `${label}: gateway ${gw} is not on an IPv6 network connected to ${where} (ports: ${this.portList6()})`;
    }
    return null;
  }
}

/**
 * Every topology problem of a whole config: the network, each service's VIP
 * (answered on some port), each real server's and sorry server's
 * reachability. `destLine` gives a real server's line when known (the
 * parser knows each one's), else the service's line is used.
 */
export function topologyProblems(
  cfg: DirectorConfig, destLine: (svcIndex: number, addr: number, port: number, addr6?: Uint32Array) => number | undefined = () => undefined,
): TopologyProblem[] {
  const t = Topology.of(cfg);
  const out = t.networkProblems();
  const haveTopology = cfg.ports.length > 0;
  if (!haveTopology) return out;
  cfg.services.forEach((svc, i) => {
    const v6 = svc.addr6 !== undefined || svc.af === AF_INET6;
    if (!svc.fwmark && svc.addr6 && !t.announced6(svc.addr6)) {
      const vip = ip6ToString(svc.addr6);
      out.push({ line: svc.line, message: `VIP ${vip} is not answered on any port: add 'vip ${vip} on PORT'` });
    } else if (!svc.fwmark && !v6 && !t.announced(svc.addr ?? 0)) {
      const vip = ipToString(svc.addr ?? 0);
      out.push({ line: svc.line, message: `VIP ${vip} is not answered on any port: add 'vip ${vip} on PORT'` });
    }
    for (const d of svc.dests) {
      const line = destLine(i, d.addr, d.port, d.addr6) ?? svc.line;
      const mixed = familyProblem(v6, d.addr6, d.addr, svc.addr6, svc.addr ?? 0, svc.fwmark ?? 0);
      if (mixed) {
        out.push({ line, message: mixed });
        continue;
      }
      const p = t.destProblem(d.addr, d.fwd ?? FWD_DR, 'real server', d.addr6);
      if (p) out.push({ line, message: p });
    }
  });
  for (const m of cfg.marks) {
    if (m.addr6) {
      if (!t.announced6(m.addr6)) {
        const a = ip6ToString(m.addr6);
        out.push({ line: m.line, message: `marked address ${a} is not answered on any port: add 'vip ${a} on PORT'` });
      }
      continue;
    }
    // with cache_bypass a marked address may be transit traffic the director routes (a transparent cache
    // cluster: the mark catches what passes, and with no real server it goes on to its own destination)
    if (!t.announced(m.addr) && cfg.options.cacheBypass !== true) {
      out.push({ line: m.line, message: `marked address ${ipToString(m.addr)} is not answered on any port: add 'vip ${ipToString(m.addr)} on PORT'` });
    }
  }
  return out;
}

/**
 * Why a real server of the other address family than its service's cannot
 * be added (IPVS mixes families only for tunnels, and tapvs not at all), or null.
 */
export function familyProblem(
  svcV6: boolean, destAddr6: Uint32Array | undefined, destAddr: number, svcAddr6: Uint32Array | undefined, svcAddr: number, fwmark: number,
): string | null {
  const destV6 = destAddr6 !== undefined;
  if (destV6 === svcV6) return null;
  const rs = destV6 ? ip6ToString(destAddr6) : ipToString(destAddr);
  const svc = fwmark ? `fwmark service ${fwmark} (${svcV6 ? 'IPv6' : 'IPv4'})` : svcV6 ? `service [${ip6ToString(svcAddr6 ?? new Uint32Array(4))}]` : `service ${ipToString(svcAddr)}`;
  return `real server ${rs} is ${destV6 ? 'IPv6' : 'IPv4'} but ${svc} is ${svcV6 ? 'IPv6' : 'IPv4'}: ` +
    'tapvs forwards within one address family (IPVS mixes families only in tunnels), so an IPv6 service needs IPv6 real servers and an IPv4 service IPv4 ones';
}

/** "line 3: message" strings, for an Error. */
export function formatTopologyProblems(problems: readonly TopologyProblem[]): string {
  return problems.map((p) => (p.line !== undefined ? `line ${p.line}: ${p.message}` : p.message)).join('\n');
}
