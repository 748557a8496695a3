// Whether a configuration makes a director that can forward: its ports,
// the VIPs on them, its routes, and whether each real server can be reached
// in its forwarding mode. The one place these rules and their wording live:
// the config parser, the director, live ipvsadm changes and reload all ask
// here.
import { inSubnet, ipToString } from '../wire/addr.js';
import type { DirectorConfig, PortConfig, RouteConfig, VipConfig } from './config.js';
import { FWD_DR, FWD_MASQ, FWD_TUN, type Fwd } from './dest.js';

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

  private connectedPort(addr: number): PortConfig | undefined {
    return this.ports.find((p) => p.addrs.some((s) => inSubnet(addr, s.addr, s.prefix)));
  }

  private routed(addr: number): boolean {
    return this.routes.some((r) => inSubnet(addr, r.dst, r.prefix));
  }

  /** Is `addr` one of the director's port addresses or VIPs (answered for with ARP)? */
  announced(addr: number): boolean {
    const a = addr >>> 0;
    return this.ports.some((p) => p.addrs.some((s) => s.addr >>> 0 === a)) || this.vips.some((v) => v.addr >>> 0 === a);
  }

  /**
   * Why a real server (or sorry server: `what`) at `addr` cannot be reached
   * in its forwarding mode from these ports and routes, or null.
   */
  destProblem(addr: number, fwd: Fwd, what = 'real server'): string | null {
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
    }
    const offloading = this.ports.find((p) => p.offload === 'tso');
    if (offloading) {
      // a super-frame may leave through any port: only a TAP port can cut it (or have the kernel cut it)
      for (const p of this.ports) {
        if (p.kind !== 'tap') {
          out.push({
            line: p.line,
            message: `port '${p.name}' is kind=${p.kind}, but port '${offloading.name}' (line ${offloading.line}) has offload=tso: ` +
              `its TCP super-frames could be forwarded to '${p.name}', which cannot segment them; with offload, every port must be kind=tap`,
          });
        }
      }
    }
    const known = [...names.keys()].join(', ') || 'none defined';
    for (const v of this.vips) {
      if (!names.has(v.port)) out.push({ line: v.line, message: `vip ${ipToString(v.addr)} is on unknown port '${v.port}' (ports: ${known})` });
    }
    for (const r of this.routes) {
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
}

/**
 * Every topology problem of a whole config: the network, each service's VIP
 * (answered on some port), each real server's and sorry server's
 * reachability. `destLine` gives a real server's line when known (the
 * parser knows each one's), else the service's line is used.
 */
export function topologyProblems(
  cfg: DirectorConfig, destLine: (svcIndex: number, addr: number, port: number) => number | undefined = () => undefined,
): TopologyProblem[] {
  const t = Topology.of(cfg);
  const out = t.networkProblems();
  const haveTopology = cfg.ports.length > 0;
  if (!haveTopology) return out;
  cfg.services.forEach((svc, i) => {
    if (!svc.fwmark && !t.announced(svc.addr ?? 0)) {
      const vip = ipToString(svc.addr ?? 0);
      out.push({ line: svc.line, message: `VIP ${vip} is not answered on any port: add 'vip ${vip} on PORT'` });
    }
    for (const d of svc.dests) {
      const p = t.destProblem(d.addr, d.fwd ?? FWD_DR);
      if (p) out.push({ line: destLine(i, d.addr, d.port) ?? svc.line, message: p });
    }
  });
  for (const m of cfg.marks) {
    if (!t.announced(m.addr)) {
      out.push({ line: m.line, message: `marked address ${ipToString(m.addr)} is not answered on any port: add 'vip ${ipToString(m.addr)} on PORT'` });
    }
  }
  return out;
}

/** "line 3: message" strings, for an Error. */
export function formatTopologyProblems(problems: readonly TopologyProblem[]): string {
  return problems.map((p) => (p.line !== undefined ? `line ${p.line}: ${p.message}` : p.message)).join('\n');
}
