// ipvsadm -L listings, laid out column for column as ipvsadm 1.31 prints
// them (print_title, print_service_entry, print_largenum, list_conn). With
// -n, or without names to print, addresses and ports read as `ipvsadm -Ln`
// prints them; otherwise as addrport_to_anyname names them, from the names
// the client looked up (a Naming: this file never resolves anything).
import { fwdName, FWD_TUN, TUN_GRE, TUN_GUE, type Dest } from '../model/dest.js';
import { AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, protoName } from '../model/proto.js';
import type { Service } from '../model/service.js';
import type { ServiceTable } from '../model/services.js';
import { ip6Compare, ip6ToString } from '../wire/addr6.js';
import { formatAddrPort, formatIpv4, lookupProtoName, type ListFormat, type ServiceKey } from './ipvsadm-args.js';
import { Questions, type ReverseNames } from './ipvsadm-names.js';
import { findService } from './keys.js';

/** IP_VS_VERSION_CODE 0x010201, which every kernel since 2.6 reports. */
export const IPVS_VERSION = '1.2.1';

/** One connection as the caller sees it; this file knows nothing of the connection table. */
export interface ConnRecord {
  proto: number;
  /** State name as /proc/net/ip_vs_conn shows it: ESTABLISHED, SYN_RECV, FIN_WAIT, NONE, UDP, ... */
  state: string;
  expiresInMs: number;
  caddr: number;
  cport: number;
  vaddr: number;
  vport: number;
  daddr: number;
  dport: number;
  /** An IPv6 connection's addresses (then caddr/vaddr/daddr are unused). */
  caddr6?: Uint32Array;
  vaddr6?: Uint32Array;
  daddr6?: Uint32Array;
}

const pad = (s: string, w: number): string => (s.length >= w ? s : s + ' '.repeat(w - s.length));
const lpad = (s: string, w: number): string => (s.length >= w ? s : ' '.repeat(w - s.length) + s);

/** addrport_to_anyname writes into 60 bytes with snprintf: a name is cut to 59 characters. */
const ANYNAME_MAX = 59;

/**
 * How a listing writes addr:port: numerically (-n), or with names as
 * ipvsadm's addrport_to_anyname gives them: the address's host name, the
 * port's service name under tcp or udp, each falling back to the number.
 * `names` holds what the client resolved; without them every name falls
 * back to its number (the text is then exactly -n's), and `questions`
 * collects what the client should look up.
 */
export class Naming {
  readonly questions = new Questions();

  constructor(readonly numeric: boolean, readonly names?: ReverseNames) {}

  addrPort(addr: number, addr6: Uint32Array | undefined, port: number, proto: number): string {
    if (this.numeric) return formatAddrPort(addr, addr6, port);
    let host: string;
    if (addr6) {
      // ipvsadm's addr_to_host calls gethostbyaddr with sizeof(struct in_addr) whatever the
      // family, and glibc refuses that length for AF_INET6: an IPv6 address always prints numeric
      host = `[${ip6ToString(addr6)}]`;
    } else {
      const dotted = formatIpv4(addr);
      this.questions.addr(dotted);
      host = this.names?.addrs.get(dotted) ?? dotted;
    }
    // port_to_service knows tcp and udp only: SCTP (and a connection of no protocol) stays numeric
    const p = lookupProtoName(proto);
    let service = String(port);
    if (p) {
      const key = `${p}/${port}`;
      this.questions.port(key);
      service = this.names?.ports.get(key) ?? service;
    }
    return `${host}:${service}`.slice(0, ANYNAME_MAX);
  }
}

/** -n's naming. */
export const NUMERIC: Naming = new Naming(true);

/** A listing's naming: numeric for -n, else by the names given (none: numbers, and questions). */
export const namingFor = (f: Pick<ListFormat, 'numeric'>, names?: ReverseNames): Naming => (f.numeric ? NUMERIC : new Naming(false, names));

const svcAp = (svc: Service, n: Naming): string => n.addrPort(svc.addr, svc.af === AF_INET6 ? svc.addr6 : undefined, svc.port, svc.proto);
/**
 * A real server is named under its service's protocol; a fwmark service's
 * under TCP, the protocol ipvsadm -f gives the kernel ("a sane value").
 */
const destAp = (svc: Service, d: Dest, n: Naming): string =>
  n.addrPort(d.addr, d.af === AF_INET6 ? d.addr6 : undefined, d.port, svc.fwmark ? IPPROTO_TCP : svc.proto);

/** A counter as print_largenum prints it: 9 columns, scaled to K/M/G/T unless --exact. */
export function largeNum(n: number, exact: boolean): string {
  n = Math.max(0, Math.floor(n));
  if (exact) {
    const s = String(n);
    return lpad(s, s.length <= 8 ? 9 : s.length + 1);
  }
  if (n < 1e8) return lpad(String(n), 9);
  if (n < 1e9) return lpad(String(Math.floor(n / 1e3)), 8) + 'K';
  if (n < 1e11) return lpad(String(Math.floor(n / 1e6)), 8) + 'M';
  if (n < 1e14) return lpad(String(Math.floor(n / 1e9)), 8) + 'G';
  return lpad(String(Math.floor(n / 1e12)), 8) + 'T';
}

/** The sched flags as ipvsadm names them, comma separated ('' when none). */
export function schedFlagsText(svc: Service): string {
  const f: string[] = [];
  if (svc.sched.name === 'sh') {
    if (svc.flags.shFallback) f.push('sh-fallback');
    if (svc.flags.shPort) f.push('sh-port');
  } else if (svc.sched.name === 'mh') {
    if (svc.flags.mhFallback) f.push('mh-fallback');
    if (svc.flags.mhPort) f.push('mh-port');
  }
  return f.join(',');
}

/** Address order within one family: IPv4 as unsigned numbers, IPv6 word by word. */
function addrOrder(a: Service | Dest, b: Service | Dest): number {
  if (a.af === AF_INET6 && b.af === AF_INET6) return ip6Compare(a.addr6, 0, b.addr6, 0);
  return (a.addr >>> 0) - (b.addr >>> 0);
}

/** ipvsadm's default order: fwmark, family (IPv4 first), protocol, address, port (ipvs_cmp_services), unsigned. */
export function sortServices(list: readonly Service[]): Service[] {
  return [...list].sort((a, b) => a.fwmark - b.fwmark || a.af - b.af || a.proto - b.proto || addrOrder(a, b) || a.port - b.port);
}

/** ipvsadm's default order of real servers: address, then port (ipvs_cmp_dests). */
export function sortDests(list: readonly Dest[]): Dest[] {
  return [...list].sort((a, b) => addrOrder(a, b) || a.port - b.port);
}

function title(f: ListFormat): string {
  const first = pad('Prot LocalAddress:Port', 33);
  const r = (cols: string[], w: number, left: boolean) => cols.map((c) => (left ? pad(c, w) : lpad(c, w))).join(' ');
  if (f.stats) return `${first} ${r(['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'], 8, false)}\n  -> RemoteAddress:Port\n`;
  if (f.rate) return `${first} ${r(['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'], 8, false)}\n  -> RemoteAddress:Port\n`;
  if (f.thresholds) return `${first} ${r(['Uthreshold', 'Lthreshold', 'ActiveConn', 'InActConn'], 10, true)}\n  -> RemoteAddress:Port\n`;
  if (f.persistentConn) {
    return `${first} ${pad('Weight', 9)} ${pad('PersistConn', 11)} ${pad('ActiveConn', 10)} ${pad('InActConn', 10)}\n  -> RemoteAddress:Port\n`;
  }
  if (f.tunInfo) {
    return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n';
  }
  return 'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
}

function serviceName(svc: Service, nm: Naming): string {
  const v6 = svc.af === AF_INET6;
  if (svc.fwmark) return v6 ? `FWM  ${svc.fwmark} IPv6` : `FWM  ${svc.fwmark}`;
  const name = `${pad(protoName(svc.proto), 4)} ${svcAp(svc, nm)}`;
  // ipvsadm cuts an IPv4 service's name to 33 characters, never an IPv6 one's
  return v6 ? name : name.slice(0, 33);
}

function serviceLine(svc: Service, f: ListFormat, nm: Naming): string {
  const name = serviceName(svc, nm);
  const s = svc.stats;
  const x = f.exact;
  if (f.stats) return pad(name, 33) + [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes].map((n) => largeNum(n, x)).join('');
  if (f.rate) return pad(name, 33) + [s.cps, s.inpps, s.outpps, s.inbps, s.outbps].map((n) => largeNum(Math.round(n), x)).join('');
  let line = `${name} ${svc.sched.name}`;
  const flags = schedFlagsText(svc);
  if (flags) line += ` (${flags})`;
  if (svc.persistent) {
    line += ` persistent ${svc.timeout}`;
    if (svc.af === AF_INET6) {
      if (svc.prefix6 !== 128) line += ` mask ${svc.prefix6}`;
    } else if (svc.netmask >>> 0 !== 0xffffffff) line += ` mask ${formatIpv4(svc.netmask)}`;
  }
  if (svc.onePacket) line += ' ops';
  return line;
}

/** ipvsadm's tunflags: how --tun-info shows the checksum setting. */
const TUN_FLAG_SHORT: readonly string[] = ['-c', '+c', 'r+c'];

/** fwd_tun_info: ipip; gue:PORT:FLAGS; gre:FLAGS. */
function tunInfo(d: Dest): string {
  const f = TUN_FLAG_SHORT[d.tunFlags] ?? '-c';
  if (d.tunType === TUN_GUE) return `gue:${d.tunPort}:${f}`;
  if (d.tunType === TUN_GRE) return `gre:${f}`;
  return 'ipip';
}

function destLine(svc: Service, d: Dest, f: ListFormat, nm: Naming): string {
  // cut to 28 characters for IPv4 only, as ipvsadm does
  const name = d.af === AF_INET6 ? destAp(svc, d, nm) : destAp(svc, d, nm).slice(0, 28);
  const s = d.stats;
  const x = f.exact;
  const u = (n: number) => String(Math.max(0, Math.floor(n)));
  if (f.stats) return `  -> ${pad(name, 28)}` + [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes].map((n) => largeNum(n, x)).join('');
  if (f.rate) {
    const [cps, inpps, outpps] = [s.cps, s.inpps, s.outpps].map((n) => lpad(u(Math.round(n)), 8));
    return `  -> ${pad(name, 28)} ${cps} ${inpps} ${outpps}` + largeNum(Math.round(s.inbps), x) + largeNum(Math.round(s.outbps), x);
  }
  if (f.thresholds) {
    return `  -> ${pad(name, 28)} ${[d.uThreshold, d.lThreshold, d.activeConns, d.inactConns].map((n) => pad(u(n), 10)).join(' ')}`;
  }
  if (f.persistentConn) {
    return `  -> ${pad(name, 28)} ${pad(u(d.weight), 9)} ${pad(u(d.persistConns), 11)} ${pad(u(d.activeConns), 10)} ${pad(u(d.inactConns), 10)}`;
  }
  if (f.tunInfo) {
    const ti = d.fwd === FWD_TUN ? tunInfo(d) : 'n/a';
    return `  -> ${pad(name, 28)} ${pad(fwdName(d.fwd), 7)} ${pad(ti, 13)} ${pad(u(d.weight), 6)} ${pad(u(d.activeConns), 10)} ${pad(u(d.inactConns), 10)}`;
  }
  return `  -> ${pad(name, 28)} ${pad(fwdName(d.fwd), 7)} ${pad(u(d.weight), 6)} ${pad(u(d.activeConns), 10)} ${pad(u(d.inactConns), 10)}`;
}

function serviceEntry(svc: Service, f: ListFormat, nm: Naming): string {
  const dests = f.nosort ? svc.dests : sortDests(svc.dests);
  return [serviceLine(svc, f, nm), ...dests.map((d) => destLine(svc, d, f, nm))].map((l) => l + '\n').join('');
}

export type ListingResult = { ok: true; text: string } | { ok: false; error: string };

/**
 * `ipvsadm -L [-t|-u|-f service] [--stats|--rate|--thresholds|--persistent-conn|--tun-info] [--exact] [--nosort]`.
 * `connTableSize` is what the header's "(size=N)" reports; `naming` how
 * addresses and ports are written (default: numeric, as -n).
 */
export function formatServiceListing(
  table: ServiceTable, f: ListFormat, connTableSize: number, key?: ServiceKey, naming: Naming = NUMERIC,
): ListingResult {
  if (key) {
    const svc = findService(table, key);
    if (!svc) return { ok: false, error: 'No such service' };
    return { ok: true, text: title(f) + serviceEntry(svc, f, naming) };
  }
  const services = f.nosort ? table.all : sortServices(table.all);
  const head = `IP Virtual Server version ${IPVS_VERSION} (size=${connTableSize})\n`;
  return { ok: true, text: head + title(f) + services.map((s) => serviceEntry(s, f, naming)).join('') };
}

/** `ipvsadm -L --timeout`. */
export function formatTimeouts(t: { tcp: number; tcpfin: number; udp: number }): string {
  return `Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpfin} ${t.udp}\n`;
}

/** Expiry as ipvsadm shows it: whole seconds left, as mm:ss (minutes may pass 99). */
export function expireText(ms: number): string {
  const secs = Math.max(0, Math.floor(ms / 1000));
  const two = (n: number) => (n < 10 ? `0${n}` : String(n));
  return `${two(Math.floor(secs / 60))}:${two(secs % 60)}`;
}

/** `ipvsadm -L -c [--persistent-conn]`: the connection entries, in the order given. */
export function formatConnections(conns: Iterable<ConnRecord>, f: Pick<ListFormat, 'persistentConn'>, naming: Naming = NUMERIC): string {
  let out = 'IPVS connection entries\n';
  out += f.persistentConn
    ? `pro expire ${pad('state', 11)} ${pad('source', 18)} ${pad('virtual', 18)} ${pad('destination', 18)} ${pad('pe name', 16)} pe_data\n`
    : `pro expire ${pad('state', 11)} ${pad('source', 18)} ${pad('virtual', 18)} destination\n`;
  for (const c of conns) {
    const proto = c.proto === IPPROTO_TCP ? 'TCP' : c.proto === IPPROTO_UDP ? 'UDP' : c.proto === IPPROTO_SCTP ? 'SCTP' : 'IP';
    // print_conn names each address under the connection's protocol (TCP, UDP; none for the others)
    const src = naming.addrPort(c.caddr, c.caddr6, c.cport, c.proto);
    const virt = naming.addrPort(c.vaddr, c.vaddr6, c.vport, c.proto);
    const dst = naming.addrPort(c.daddr, c.daddr6, c.dport, c.proto);
    out += `${pad(proto, 3)} ${pad(expireText(c.expiresInMs), 6)} ${pad(c.state, 11)} ${pad(src, 18)} ${pad(virt, 18)} ${dst}\n`;
  }
  return out;
}
