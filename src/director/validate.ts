import type { DirectorConfig } from '../model/config.js';
import { FWD_DR, FWD_MASQ, FWD_TUN } from '../model/dest.js';
import { ipToString, prefixToMask } from '../wire/addr.js';

export interface ConfigProblem {
  line?: number;
  message: string;
}

function onSubnet(addr: number, net: number, prefix: number): boolean {
  const m = prefixToMask(prefix);
  return ((addr & m) >>> 0) === ((net & m) >>> 0);
}

/**
 * Checks what only the whole director can judge: ports, VIPs, routes, and
 * whether each real server can be reached in its forwarding mode. Returns
 * problems (empty when the config can run); the director refuses to start
 * with any, and `check-config` reports them with their lines.
 */
export function directorProblems(cfg: DirectorConfig): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const names = new Set<string>();
  for (const p of cfg.ports) {
    if (names.has(p.name)) out.push({ line: p.line, message: `port '${p.name}' is defined twice` });
    names.add(p.name);
    if (p.mtu < 68 || p.mtu > 9000) out.push({ line: p.line, message: `port '${p.name}': MTU ${p.mtu} is outside 68..9000` });
  }
  const connected = cfg.ports.flatMap((p) => p.addrs);
  const isConnected = (a: number) => connected.some((c) => onSubnet(a, c.addr, c.prefix));
  for (const v of cfg.vips) {
    if (!names.has(v.port)) out.push({ line: v.line, message: `VIP ${ipToString(v.addr)} is on unknown port '${v.port}'` });
  }
  for (const r of cfg.routes) {
    if (r.port !== undefined && !names.has(r.port)) out.push({ line: r.line, message: `route ${ipToString(r.dst)}/${r.prefix}: unknown port '${r.port}'` });
    if (!isConnected(r.via)) {
      out.push({ line: r.line, message: `route ${ipToString(r.dst)}/${r.prefix}: gateway ${ipToString(r.via)} is not on a connected subnet of any port` });
    }
  }
  const routed = (a: number) => isConnected(a) || cfg.routes.some((r) => onSubnet(a, r.dst, r.prefix));
  for (const s of cfg.services) {
    for (const d of s.dests) {
      const rs = `real server ${ipToString(d.addr)}:${d.port}`;
      const fwd = d.fwd ?? FWD_DR;
      if (fwd === FWD_DR && !isConnected(d.addr)) {
        out.push({
          line: s.line,
          message: `${rs} uses direct routing (-g) but is not on a directly connected network of the director; ` +
            'DR only rewrites the MAC address, so the real server must share a LAN with a director port (use -i for TUN or -m for NAT)',
        });
      } else if ((fwd === FWD_MASQ || fwd === FWD_TUN) && !routed(d.addr)) {
        out.push({ line: s.line, message: `${rs}: no route to it from any port` });
      }
    }
  }
  return out;
}

export function validateDirectorConfig(cfg: DirectorConfig): string[] {
  return directorProblems(cfg).map((p) => (p.line !== undefined ? `line ${p.line}: ${p.message}` : p.message));
}
