// What the page shows of the director's tables, as plain JSON: the
// connection table (as ipvsadm -Lnc), services and real servers with their
// counters, drops by reason, and the topology (ports, VIPs, routes, where
// each real server and client sits). Read-only: it goes through the
// director's listings and counters, between frames, on the control plane's
// time (a timer or an HTTP request), never from the data path.
import { readFileSync } from 'node:fs';
import { connStateName } from '../conn/listing.js';
import { serviceKeyOf } from '../control/config.js';
import { serviceKeyText } from '../control/health/actions.js';
import { formatServiceKey } from '../control/ipvsadm-args.js';
import { sortDests, sortServices } from '../control/ipvsadm-format.js';
import type { Director } from '../director/director.js';
import type { DirectorConfig } from '../model/config.js';
import { FWD_DR, fwdName, type Fwd } from '../model/dest.js';
import { protoName } from '../model/proto.js';
import type { Stats } from '../model/stats.js';
import { svcLabel } from '../trace/tracer.js';
import { AF_INET6 } from '../model/proto.js';
import { inSubnet, ipToString, macToString, parseIp } from '../wire/addr.js';
import { ip6InSubnet, ip6ToString, isIp6, parseIp6 } from '../wire/addr6.js';

export const MODE_OF_FWD: Record<string, string> = { Masq: 'NAT', Route: 'DR', Tunnel: 'TUN' };

export interface ConnLine {
  proto: string;
  /** ms left on the connection's timer when the snapshot was taken */
  expiresIn: number;
  state: string;
  source: string;
  virtual: string;
  destination: string;
  mode: string;
  template: boolean;
}

export interface Counters {
  conns: number;
  inpkts: number;
  outpkts: number;
  inbytes: number;
  outbytes: number;
  cps: number;
  inpps: number;
  outpps: number;
}

export interface DestLine {
  addr: string;
  port: number;
  mode: string;
  weight: number;
  active: number;
  inactive: number;
  persistent: number;
  available: boolean;
  overloaded: boolean;
  stats: Counters;
  /** Lab name ("rs1") when the lab said so. */
  name?: string;
  /** How the director reaches it: a port of its own subnet, or a gateway. */
  via: Reach;
  /** Its health check's verdict, when it has one ("down" with the reason). */
  health?: { up: boolean; kind: string; failures: number; error?: string };
  /** Not in the service now because its health check took it out (shown so it does not just vanish). */
  heldOut?: boolean;
}

/** A health check's state as the control plane reports it (control/health/types.ts HealthState). */
export interface HealthLike {
  /** "-t 10.0.0.100:80", "-f 1". */
  service: string;
  /** "ADDR:PORT". */
  dest: string;
  kind: string;
  up: boolean;
  failures: number;
  lastError?: string;
}

export interface ServiceLine {
  label: string;
  scheduler: string;
  persistentTimeout: number;
  stats: Counters;
  dests: DestLine[];
}

export interface Tables {
  /** The director's clock (ms) the expiries count from. */
  now: number;
  conns: ConnLine[];
  /** Entries in the table (conns and templates); `conns` lists at most the first CONN_LIMIT. */
  connCount: number;
  services: ServiceLine[];
  drops: Record<string, number>;
  counters: Record<string, number>;
  totals: Counters;
  ports?: { name: string; rxFrames: number; txFrames: number; rxDropped: number; txErrors: number }[];
}

export type Reach = { port: string; gateway?: string } | { port?: undefined; gateway?: undefined };

/** The lab's own description (netns/lib.sh writes lab.json): names of the client and real servers. */
export interface LabInfo {
  id?: string;
  mode?: string;
  vip?: string;
  client?: { netns?: string; addr?: string };
  realServers?: { name: string; addr: string; method?: string; decap?: string }[];
}

export interface Topology {
  ports: { name: string; mac: string; addrs: string[]; vips: string[] }[];
  routes: { dst: string; via: string; port?: string }[];
  vips: string[];
  /** The gateway of the first route (the lab's router), and the port it is on. */
  router?: { addr: string; port?: string };
  client?: { name: string; addr: string; via: Reach };
  lab?: { id?: string; mode?: string };
}

export const CONN_LIMIT = 200;

function counters(s: Stats): Counters {
  return { conns: s.conns, inpkts: s.inpkts, outpkts: s.outpkts, inbytes: s.inbytes, outbytes: s.outbytes, cps: s.cps, inpps: s.inpps, outpps: s.outpps };
}

/** addr:port, [addr]:port for IPv6 (as ipvsadm -Lnc writes them). */
export function hostPort(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** How the director reaches the IPv6 `addr`: on a port's subnet, or through the longest matching IPv6 route. */
export function reachOf6(cfg: DirectorConfig, addr: Uint32Array): Reach {
  for (const p of cfg.ports) for (const a of p.addrs6 ?? []) if (ip6InSubnet(addr, 0, a.addr, 0, a.prefix)) return { port: p.name };
  let best: DirectorConfig['routes'][number] | undefined;
  for (const r of cfg.routes) if (r.dst6 && r.via6 && ip6InSubnet(addr, 0, r.dst6, 0, r.prefix) && (!best || r.prefix > best.prefix)) best = r;
  if (!best) return {};
  const gw = best.port !== undefined ? { port: best.port } : reachOf6({ ...cfg, routes: [] }, best.via6!);
  return { port: best.port ?? gw.port ?? '', gateway: ip6ToString(best.via6!) };
}

/** How the director reaches `addr`: on a port's subnet, or through the longest matching route. */
export function reachOf(cfg: DirectorConfig, addr: number): Reach {
  for (const p of cfg.ports) for (const a of p.addrs) if (inSubnet(addr, a.addr, a.prefix)) return { port: p.name };
  let best: DirectorConfig['routes'][number] | undefined;
  for (const r of cfg.routes) if (!r.dst6 && inSubnet(addr, r.dst, r.prefix) && (!best || r.prefix > best.prefix)) best = r;
  if (!best) return {};
  const gw = reachOf({ ...cfg, routes: [] }, best.via);
  return { port: best.port ?? gw.port ?? '', gateway: ipToString(best.via) };
}

/** Reads a lab description file (lab.json); throws when it cannot be read or parsed. */
export function readLabInfo(path: string): LabInfo {
  return JSON.parse(readFileSync(path, 'utf8')) as LabInfo;
}

/** The text of an address of the config: IPv4, or IPv6 when it has addr6. */
const addrText = (a: { addr: number; addr6?: Uint32Array }): string => (a.addr6 ? ip6ToString(a.addr6) : ipToString(a.addr));

export function topologyOf(cfg: DirectorConfig, lab?: LabInfo): Topology {
  const vipsOn = (port: string) => cfg.vips.filter((v) => v.port === port).map(addrText);
  const t: Topology = {
    ports: cfg.ports.map((p) => ({
      name: p.name, mac: macToString(p.mac),
      addrs: [...p.addrs.map((a) => `${ipToString(a.addr)}/${a.prefix}`), ...(p.addrs6 ?? []).map((a) => `${ip6ToString(a.addr)}/${a.prefix}`)],
      vips: vipsOn(p.name),
    })),
    routes: cfg.routes.map((r) => (r.dst6 && r.via6
      ? { dst: `${ip6ToString(r.dst6)}/${r.prefix}`, via: ip6ToString(r.via6), port: r.port }
      : { dst: `${ipToString(r.dst)}/${r.prefix}`, via: ipToString(r.via), port: r.port })),
    vips: cfg.vips.map(addrText),
  };
  const r0 = cfg.routes[0];
  if (r0?.via6) t.router = { addr: ip6ToString(r0.via6), port: r0.port ?? reachOf6({ ...cfg, routes: [] }, r0.via6).port };
  else if (r0) t.router = { addr: ipToString(r0.via), port: reachOf({ ...cfg, routes: [] }, r0.via).port };
  if (lab?.client?.addr) {
    const c = lab.client.addr;
    let via: Reach | undefined;
    try { via = isIp6(c) ? reachOf6(cfg, parseIp6(c)) : reachOf(cfg, parseIp(c)); } catch { via = undefined; }
    if (via !== undefined) t.client = { name: 'client', addr: c, via };
  }
  if (lab) t.lab = { id: lab.id, mode: lab.mode };
  return t;
}

/**
 * The tables at `now` (the director's clock). Lists at most CONN_LIMIT
 * connections, walking the table only that far, so a big table costs the
 * page nothing more than a small one.
 */
export function tablesOf(d: Director, cfg: DirectorConfig, now: number, lab?: LabInfo, health: readonly HealthLike[] = []): Tables {
  const t = d.conns;
  const conns: ConnLine[] = [];
  for (const i of t) {
    if (conns.length >= CONN_LIMIT) break;
    const tmpl = t.isTemplate(i);
    const v6 = t.af[i] === AF_INET6;
    conns.push({
      proto: tmpl ? 'IP' : protoName(t.proto[i]!),
      expiresIn: Math.max(0, t.expires[i]! - now),
      state: connStateName(t, i),
      source: v6 ? hostPort(ip6ToString(t.caddr6, i * 4), t.cport[i]!) : `${ipToString(t.caddr[i]!)}:${t.cport[i]}`,
      virtual: v6 ? hostPort(ip6ToString(t.vaddr6, i * 4), t.vport[i]!) : `${ipToString(t.vaddr[i]!)}:${t.vport[i]}`,
      destination: v6 ? hostPort(ip6ToString(t.daddr6, i * 4), t.dport[i]!) : `${ipToString(t.daddr[i]!)}:${t.dport[i]}`,
      mode: MODE_OF_FWD[fwdName(t.fwd(i) as Fwd)]!,
      template: tmpl,
    });
  }
  const names = new Map((lab?.realServers ?? []).map((r) => [r.addr, r.name]));
  const healthOf = new Map(health.map((h) => [`${h.service} ${h.dest}`, h]));
  const services: ServiceLine[] = sortServices(d.services.all).map((svc) => {
    const key = serviceKeyText(svc);
    const dests = sortDests(svc.dests).map((x) => {
      const v6 = x.af === AF_INET6;
      const addr = v6 ? ip6ToString(x.addr6) : ipToString(x.addr);
      const line: DestLine = {
        addr, port: x.port, mode: MODE_OF_FWD[fwdName(x.fwd)]!, weight: x.weight, active: x.activeConns, inactive: x.inactConns,
        persistent: x.persistConns, available: x.available, overloaded: x.overloaded, stats: counters(x.stats),
        via: v6 ? reachOf6(cfg, x.addr6) : reachOf(cfg, x.addr),
      };
      const h = healthOf.get(`${key} ${hostPort(addr, x.port)}`);
      if (h) line.health = healthLine(h);
      const n = names.get(addr);
      if (n !== undefined) line.name = n;
      return line;
    });
    // servers a failed check took out of the service: still there, marked down
    for (const h of health) {
      if (h.service !== key || h.up || dests.some((l) => hostPort(l.addr, l.port) === h.dest)) continue;
      const i = h.dest.lastIndexOf(':');
      // ADDR:PORT, or [ADDR]:PORT for IPv6
      const addr = h.dest.slice(0, i).replace(/^\[(.*)\]$/, '$1');
      const cfgDest = cfg.services.find((c) => formatServiceKey(serviceKeyOf(c)) === key)?.dests
        .find((c) => addrText(c) === addr && String(c.port) === h.dest.slice(i + 1));
      const zero: Counters = { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0, cps: 0, inpps: 0, outpps: 0 };
      const line: DestLine = {
        addr, port: Number(h.dest.slice(i + 1)), mode: cfgDest ? MODE_OF_FWD[fwdName(cfgDest.fwd ?? FWD_DR)]! : '?', weight: 0, active: 0, inactive: 0,
        persistent: 0, available: false, overloaded: false, stats: zero, via: cfgDest?.addr6 ? reachOf6(cfg, cfgDest.addr6) : reachOf(cfg, cfgDest?.addr ?? 0), health: healthLine(h), heldOut: true,
      };
      const n = names.get(addr);
      if (n !== undefined) line.name = n;
      dests.push(line);
    }
    return { label: svcLabel(svc), scheduler: svc.sched.name, persistentTimeout: svc.timeout, stats: counters(svc.stats), dests };
  });
  return {
    now,
    conns,
    connCount: t.size,
    services,
    drops: d.drops.toObject(),
    counters: { ...d.counters },
    totals: counters(d.totals),
  };
}

function healthLine(h: HealthLike): NonNullable<DestLine['health']> {
  const l: NonNullable<DestLine['health']> = { up: h.up, kind: h.kind, failures: h.failures };
  if (!h.up && h.lastError) l.error = h.lastError;
  return l;
}
