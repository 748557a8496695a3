// The tapvs config file (docs/config.md): tapvs's own directives plus
// ipvsadm-save lines taken verbatim. Parsing collects every error with its
// line, then checks the file as a whole (ports, routes and real servers must
// make a director that can actually forward).
import { FWD_DR, FWD_MASQ, TUN_IPIP, type DestSpec } from '../model/dest.js';
import { MAX_PORT_MTU, MIN_PORT_MTU, Topology, topologyProblems } from '../model/topology.js';
import { inSubnet, parseMac as parseMacText, prefixToMask } from '../wire/addr.js';
import {
  ip6Equal, isIp6, ip6InSubnet, ip6IsLinkLocal, ip6IsMulticast, ip6IsUnspecified, ip6IsV4Mapped, ip6Network, ip6ToString,
} from '../wire/addr6.js';
import { AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../model/proto.js';
import type { MarkRule } from '../model/services.js';
import { schedulerNames } from '../sched/index.js';
import {
  DEFAULT_OPTIONS,
  type DirectorConfig,
  type DirectorOptions,
  type HealthCheckConfig,
  type PortConfig,
  type RouteConfig,
  type ServiceConfig,
  type VipConfig,
} from '../model/config.js';
import {
  MAX_TIMEOUT,
  formatAddr,
  formatAddrPort,
  formatIpv4,
  formatServiceKey,
  inetPton6,
  isV6Key,
  parseIpvsadmArgs,
  parseIpv4,
  parseNumber,
  type ServiceKey,
} from './ipvsadm-args.js';
import { destKeyText } from './keys.js';
import { DEFENSE_OPTION_NAMES, findSysctl, parseSysctlValue } from './sysctl.js';
import { HA_DIRECTIVES, HaConfigParser, SYNC_OPTION_NAMES } from './ha-config.js';

export interface ConfigError {
  file: string;
  line: number;
  message: string;
}

/** "tapvs.conf:12: unknown scheduler 'rrr' (known: rr, wrr, ...)". */
export function formatConfigError(e: ConfigError): string {
  return `${e.file}:${e.line}: ${e.message}`;
}

/** IPVS's default protocol timeouts, in seconds (tcp established, tcp fin_wait, udp). */
export const DEFAULT_TIMEOUTS = { tcp: 900, tcpfin: 120, udp: 300 };

const DIRECTIVES = ['port', 'vip', 'route', 'neigh', 'mark', 'set', 'option', 'check', 'sorry', ...HA_DIRECTIVES];

// ---------------------------------------------------------------- lexing

/** Splits a line into words: blanks separate, "..." quotes (with \" and \\), '#' at a word start comments. */
export function tokenizeLine(line: string): string[] | string {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '"') {
      inWord = true;
      let closed = false;
      for (i++; i < line.length; i++) {
        const q = line[i]!;
        if (q === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) cur += line[++i];
        else if (q === '"') {
          closed = true;
          break;
        } else cur += q;
      }
      if (!closed) return 'unterminated quoted string';
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    if (ch === '#' && !inWord) break;
    cur += ch;
    inWord = true;
  }
  if (inWord) words.push(cur);
  return words;
}

// ---------------------------------------------------------------- values

function parseCidr(s: string): { addr: number; prefix: number } | null {
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(s);
  if (!m) return null;
  const addr = parseIpv4(m[1]!);
  const prefix = parseNumber(m[2]!, 0, 32);
  return addr === null || prefix === null ? null : { addr, prefix };
}

const maskOf = (prefix: number): number => prefixToMask(prefix);

/** "2001:db8::1/64" -> address and prefix length (0..128), or null. */
function parseCidr6(s: string): { addr: Uint32Array; prefix: number } | null {
  const m = /^([0-9A-Fa-f:.]+)\/([0-9]{1,3})$/.exec(s);
  if (!m) return null;
  const addr = inetPton6(m[1]!);
  const prefix = parseNumber(m[2]!, 0, 128);
  return addr === null || prefix === null ? null : { addr, prefix };
}

/** An address of either family: dotted IPv4 or IPv6 text (no brackets), or null. */
function parseAnyAddr(s: string): { addr: number; addr6?: Uint32Array } | null {
  const a = parseIpv4(s);
  if (a !== null) return { addr: a };
  const a6 = inetPton6(s);
  return a6 ? { addr: 0, addr6: a6 } : null;
}

/** Why an IPv6 address cannot be a (global) host address of the director or a real server, or null. */
function badHostAddr6(a: Uint32Array): string | null {
  if (ip6IsUnspecified(a)) return ':: is not a host address';
  if (ip6IsMulticast(a)) return `${ip6ToString(a)} is a multicast address`;
  if (ip6IsLinkLocal(a)) return `${ip6ToString(a)} is link-local (each port has its own, from its MAC; a service needs a global address)`;
  if (ip6IsV4Mapped(a)) return `${ip6ToString(a)} is an IPv4-mapped address (write the IPv4 address itself)`;
  return null;
}

function parseMac(s: string): number | null {
  return MAC_TEXT.test(s) ? parseMacText(s) : null;
}
const MAC_TEXT = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** "2s", "500ms", "1m", "1h", or a bare number of seconds, to milliseconds. */
function parseDuration(s: string): number | null {
  const m = /^([0-9]+)(ms|s|m|h)?$/.exec(s);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60000 : 3600000);
}

function parseBool(s: string): boolean | null {
  if (['1', 'yes', 'true', 'on'].includes(s)) return true;
  if (['0', 'no', 'false', 'off'].includes(s)) return false;
  return null;
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;
const NETNS_RE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Why an address cannot be a host address, or null. */
function badHostAddr(a: number): string | null {
  if (a === 0) return '0.0.0.0 is not a host address';
  if (a >>> 28 === 14) return `${formatIpv4(a)} is a multicast address`;
  if (a === 0xffffffff) return '255.255.255.255 is the broadcast address';
  return null;
}

function sorryPortError(svcPort: number, fwd: number): string {
  const how = fwd === FWD_DR ? 'direct routing (-g)' : 'tunnelling (-i)';
  return `sorry server port differs from the service port ${svcPort}, but ${how} cannot change ports`;
}

// ---------------------------------------------------------------- parser

/** What the mark lines of one protocol and address claim: every lookup is one Map get, so a file of many rules parses in linear time. */
interface MarkClaims {
  all?: { mark: number; line: number };
  ports: Map<number, { mark: number; line: number }>;
}

interface Pending {
  dests: Map<ServiceConfig, Map<string, number>>; // dest key -> line
  sorry: Map<string, { service: string; dest: DestSpec; fwdGiven: boolean; line: number }>; // by service key
  serviceLines: Map<string, ServiceConfig>;
  setOnce: Map<string, number>; // option/timeout name -> line first set
  vips: Map<string, VipConfig>; // address text
  routes: Map<string, RouteConfig>; // "dst/prefix"
  neighbours: Map<string, number>; // address text -> line
  marks: Map<string, MarkClaims>; // "proto/addr"
  checks: Map<string, HealthCheckConfig>; // service, dest and kind
}

class Parser {
  readonly errors: ConfigError[] = [];
  readonly ports: PortConfig[] = [];
  readonly vips: VipConfig[] = [];
  readonly routes: RouteConfig[] = [];
  readonly neighbours: { addr: number; mac: number; addr6?: Uint32Array; line: number }[] = [];
  readonly marks: (MarkRule & { line: number })[] = [];
  readonly services: ServiceConfig[] = [];
  readonly checks: HealthCheckConfig[] = [];
  /** The vrrp and sync lines, and the sync options (control/ha-config.ts). */
  readonly ha = new HaConfigParser();
  timeouts = { ...DEFAULT_TIMEOUTS };
  options: DirectorOptions = { ...DEFAULT_OPTIONS };
  private p: Pending = {
    dests: new Map(), sorry: new Map(), serviceLines: new Map(), setOnce: new Map(),
    vips: new Map(), routes: new Map(), neighbours: new Map(), marks: new Map(), checks: new Map(),
  };
  private line = 0;
  servicesElsewhere = false;

  constructor(private readonly file: string) {}

  err(message: string, line = this.line): void {
    this.errors.push({ file: this.file, line, message });
  }

  /** Records that `what` was set on this line; false (and an error) if it was set before. */
  private once(what: string): boolean {
    const prev = this.p.setOnce.get(what);
    if (prev !== undefined) {
      this.err(`${what} is already set (line ${prev})`);
      return false;
    }
    this.p.setOnce.set(what, this.line);
    return true;
  }

  parseLine(text: string, line: number): void {
    this.line = line;
    const words = tokenizeLine(text);
    if (typeof words === 'string') return this.err(words);
    if (words.length === 0) return;
    const head = words[0]!;
    if (head.startsWith('-') || head === 'ipvsadm') return this.ipvsadmLine(words);
    switch (head) {
      case 'port': return this.port(words.slice(1));
      case 'vip': return this.vip(words.slice(1));
      case 'route': return this.route(words.slice(1));
      case 'neigh': return this.neigh(words.slice(1));
      case 'mark': return this.mark(words.slice(1));
      case 'set': return this.set(words.slice(1));
      case 'option': return this.option(words.slice(1));
      case 'check': return this.check(words.slice(1));
      case 'sorry': return this.sorry(words.slice(1));
      case 'vrrp': case 'sync': return this.ha.line(head, words.slice(1), line, (m, l) => this.err(m, l));
      default:
        return this.err(`unknown directive '${head}' (known: ${DIRECTIVES.join(', ')}, or an ipvsadm line: -A, -a, --set)`);
    }
  }

  // ------------------------------------------------------------ ipvsadm lines

  private ipvsadmLine(words: string[]): void {
    const r = parseIpvsadmArgs(words);
    if (!r.ok) return this.err(r.error);
    const c = r.command;
    switch (c.cmd) {
      case 'add-service': {
        const known = schedulerNames();
        if (!known.includes(c.svc.scheduler)) {
          return this.err(`unknown scheduler '${c.svc.scheduler}' (known: ${known.join(', ')})`);
        }
        const k = formatServiceKey(c.key);
        const prev = this.p.serviceLines.get(k);
        if (prev) return this.err(`Service already exists: ${k} (line ${prev.line})`);
        if (c.key.addr6) {
          const bad = badHostAddr6(c.key.addr6);
          if (bad) return this.err(`illegal virtual service address: ${bad}`);
        }
        const svc: ServiceConfig = {
          proto: c.key.fwmark ? 0 : c.key.proto,
          addr: c.key.addr,
          port: c.key.port,
          fwmark: c.key.fwmark,
          scheduler: c.svc.scheduler,
          flags: { ...c.svc.flags },
          persistent: c.svc.persistent,
          netmask: c.svc.netmask,
          onePacket: c.svc.onePacket,
          dests: [],
          line: this.line,
        };
        if (isV6Key(c.key)) {
          svc.af = AF_INET6;
          if (c.key.addr6) svc.addr6 = c.key.addr6;
          svc.prefix6 = c.svc.prefix6 ?? 128;
        }
        this.services.push(svc);
        this.p.serviceLines.set(k, svc);
        this.p.dests.set(svc, new Map());
        return;
      }
      case 'add-server': {
        const k = formatServiceKey(c.key);
        const svc = this.p.serviceLines.get(k);
        if (!svc) return this.err(`Service not defined: ${k} (a real server line must come after its service's -A line)`);
        const d = c.dest;
        const bad = d.addr6 ? badHostAddr6(d.addr6) : badHostAddr(d.addr);
        if (bad) return this.err(`illegal real server address: ${bad}`);
        if (c.portForced) {
          const how = d.fwd === FWD_DR ? 'direct routing (-g)' : 'tunnelling (-i)';
          return this.err(
            `real server port differs from the service port ${c.key.port}, but ${how} cannot change ports ` +
              `(ipvsadm would silently use ${c.key.port}): leave the port out, or use masquerading (-m)`,
          );
        }
        if (d.lThreshold > d.uThreshold) {
          return this.err(`lower threshold ${d.lThreshold} (-y) is higher than upper threshold ${d.uThreshold} (-x)`);
        }
        const dk = destKeyText(d.addr, d.addr6, d.port);
        const seen = this.p.dests.get(svc)!;
        const prevLine = seen.get(dk);
        if (prevLine !== undefined) return this.err(`Destination already exists: ${formatAddrPort(d.addr, d.addr6, d.port)} in ${k} (line ${prevLine})`);
        seen.set(dk, this.line);
        const spec: DestSpec = { addr: d.addr, port: d.port, weight: d.weight, fwd: d.fwd, uThreshold: d.uThreshold, lThreshold: d.lThreshold };
        if (d.addr6) spec.addr6 = d.addr6;
        // --tun-type gue|gre, --tun-port, --tun-*csum, as ipvsadm takes them
        if (d.tunType !== undefined && d.tunType !== TUN_IPIP) {
          spec.tunType = d.tunType;
          spec.tunPort = d.tunPort ?? 0;
          spec.tunFlags = d.tunFlags ?? 0;
        }
        svc.dests.push(spec);
        return;
      }
      case 'set':
        if (!this.once('timeouts')) return;
        // 0 leaves a timeout unchanged, as ipvsadm --set
        if (c.tcp) this.timeouts.tcp = c.tcp;
        if (c.tcpfin) this.timeouts.tcpfin = c.tcpfin;
        if (c.udp) this.timeouts.udp = c.udp;
        return;
      default:
        return this.err(`'${c.cmd}' does not belong in a config file: it describes rules with -A, -a and --set only`);
    }
  }

  // ------------------------------------------------------------ directives

  /** key=value words; repeatable keys collect; bare words are flags. */
  private keyValues(words: string[], allowed: string[], repeatable: string[] = [], flags: string[] = []) {
    const kv = new Map<string, string[]>();
    const set = new Set<string>();
    let ok = true;
    for (const w of words) {
      const eq = w.indexOf('=');
      if (eq < 0) {
        if (flags.includes(w)) set.add(w);
        else {
          this.err(`unexpected word '${w}' (expected key=value: ${allowed.join(', ')}${flags.length ? `, or ${flags.join(', ')}` : ''})`);
          ok = false;
        }
        continue;
      }
      const k = w.slice(0, eq);
      if (!allowed.includes(k)) {
        this.err(`unknown key '${k}' (known: ${allowed.join(', ')})`);
        ok = false;
        continue;
      }
      const list = kv.get(k) ?? [];
      if (list.length > 0 && !repeatable.includes(k)) {
        this.err(`'${k}' given twice`);
        ok = false;
        continue;
      }
      list.push(w.slice(eq + 1));
      kv.set(k, list);
    }
    return { ok, get: (k: string) => kv.get(k)?.[0], all: (k: string) => kv.get(k) ?? [], flags: set };
  }

  private port(words: string[]): void {
    const name = words[0];
    if (!name || name.includes('=')) return this.err('port needs a name: port NAME kind=tap mac=02:00:00:00:00:01 addr=10.0.0.1/24');
    if (!NAME_RE.test(name)) return this.err(`illegal port name '${name}' (a letter, then letters, digits, '_', '-', '.'; at most 15)`);
    const prev = this.ports.find((p) => p.name === name);
    if (prev) return this.err(`port '${name}' is already defined (line ${prev.line})`);
    const kv = this.keyValues(words.slice(1), ['kind', 'device', 'mac', 'addr', 'mtu', 'netns', 'bridge', 'offload'], ['addr']);
    if (!kv.ok) return;
    const kind = kv.get('kind') ?? 'tap';
    if (kind !== 'tap' && kind !== 'pcap' && kind !== 'memory') return this.err(`unknown port kind '${kind}' (known: tap, pcap, memory)`);
    const macText = kv.get('mac');
    if (macText === undefined) return this.err(`port '${name}' needs mac=XX:XX:XX:XX:XX:XX`);
    const mac = parseMac(macText);
    if (mac === null) return this.err(`illegal MAC address '${macText}' (six hex pairs separated by ':')`);
    if (mac === 0 || Math.floor(mac / 2 ** 40) % 2 === 1) return this.err(`MAC address ${macText} is not a unicast address`);
    const dup = this.ports.find((p) => p.mac === mac);
    if (dup) return this.err(`MAC address ${macText} is already used by port '${dup.name}' (line ${dup.line})`);
    const addrs: { addr: number; prefix: number }[] = [];
    const addrs6: { addr: Uint32Array; prefix: number }[] = [];
    for (const a of kv.all('addr')) {
      if (a.includes(':')) {
        const c6 = parseCidr6(a);
        if (!c6 || c6.prefix === 0) return this.err(`illegal interface address '${a}' (IPv6: ADDR/PREFIX with PREFIX 1..128, e.g. 2001:db8::1/64)`);
        const bad = badHostAddr6(c6.addr);
        if (bad) return this.err(`illegal interface address '${a}': ${bad}`);
        for (const p of [...this.ports, { name, line: this.line, addrs6 }]) {
          for (const o of p.addrs6 ?? []) {
            if (ip6Equal(o.addr, 0, c6.addr, 0)) return this.err(`address ${ip6ToString(c6.addr)} is already on port '${p.name}' (line ${p.line})`);
            const pre = Math.min(o.prefix, c6.prefix);
            if (p.name !== name && ip6InSubnet(c6.addr, 0, o.addr, 0, pre)) {
              return this.err(`subnet ${a} overlaps ${ip6ToString(o.addr)}/${o.prefix} of port '${p.name}' (line ${p.line}): each port needs its own network`);
            }
          }
        }
        addrs6.push(c6);
        continue;
      }
      const c = parseCidr(a);
      if (!c || c.prefix === 0) return this.err(`illegal interface address '${a}' (ADDR/PREFIX with PREFIX 1..32, e.g. 10.0.0.1/24, or IPv6 2001:db8::1/64)`);
      const bad = badHostAddr(c.addr);
      if (bad) return this.err(`illegal interface address '${a}': ${bad}`);
      if (c.prefix <= 30) {
        const host = c.addr & ~maskOf(c.prefix);
        if (host === 0 || host >>> 0 === ~maskOf(c.prefix) >>> 0) return this.err(`'${a}' is the network or broadcast address of its subnet, not a host address`);
      }
      for (const p of this.ports) {
        for (const o of p.addrs) {
          const pre = Math.min(o.prefix, c.prefix);
          if (inSubnet(c.addr, o.addr, pre)) {
            return this.err(`subnet ${a} overlaps ${formatIpv4(o.addr)}/${o.prefix} of port '${p.name}' (line ${p.line}): each port needs its own network`);
          }
        }
      }
      addrs.push(c);
    }
    const mtuText = kv.get('mtu');
    const mtu = mtuText === undefined ? 1500 : parseNumber(mtuText, MIN_PORT_MTU, MAX_PORT_MTU);
    if (mtu === null) return this.err(`illegal mtu '${mtuText}' (${MIN_PORT_MTU}..${MAX_PORT_MTU}: ports carry frames of at most 9216 bytes)`);
    const device = kv.get('device') ?? name;
    if (!NAME_RE.test(device)) return this.err(`illegal device name '${device}' (an interface name of at most 15 characters)`);
    const netns = kv.get('netns');
    if (netns !== undefined) {
      if (kind !== 'tap') return this.err(`netns= only applies to kind=tap (a pcap port attaches to an interface where it is)`);
      if (!NETNS_RE.test(netns)) return this.err(`illegal network namespace name '${netns}'`);
    }
    const bridge = kv.get('bridge');
    if (bridge !== undefined) {
      if (kind !== 'tap') return this.err(`bridge= only applies to kind=tap`);
      if (!NAME_RE.test(bridge)) return this.err(`illegal bridge name '${bridge}' (an interface name of at most 15 characters)`);
    }
    const offload = kv.get('offload');
    if (offload !== undefined) {
      if (offload !== 'tso' && offload !== 'none' && offload !== 'off') return this.err(`unknown offload '${offload}' (known: tso, the default for TAP ports; none or off)`);
      if (offload === 'tso' && kind !== 'tap') return this.err(`offload=tso only applies to kind=tap (it needs the TAP's virtio_net_hdr)`);
    }
    if (addrs6.length > 0 && mtu < 1280) return this.err(`port '${name}' has IPv6 addresses but mtu ${mtu}: IPv6 needs links of at least 1280 bytes`);
    const port: PortConfig = { name, kind, device, mac, addrs, mtu, line: this.line };
    if (addrs6.length > 0) port.addrs6 = addrs6;
    if (netns !== undefined) port.netns = netns;
    if (bridge !== undefined) port.bridge = bridge;
    if (offload === 'tso') port.offload = 'tso';
    else if (offload !== undefined && kind === 'tap') port.offload = 'none';
    this.ports.push(port);
  }

  private vip(words: string[]): void {
    if (words.length !== 3 || words[1] !== 'on') return this.err('usage: vip ADDR on PORT');
    const a = parseAnyAddr(words[0]!);
    if (a === null) return this.err(`illegal VIP '${words[0]}' (a numeric IPv4 or IPv6 address; host names are not resolved)`);
    const bad = a.addr6 ? badHostAddr6(a.addr6) : badHostAddr(a.addr);
    if (bad) return this.err(`illegal VIP: ${bad}`);
    const text = formatAddr(a.addr, a.addr6);
    const prev = this.p.vips.get(text);
    if (prev) return this.err(`VIP ${text} is already declared (line ${prev.line})`);
    const vip: VipConfig = { addr: a.addr, port: words[2]!, line: this.line };
    if (a.addr6) vip.addr6 = a.addr6;
    this.vips.push(vip);
    this.p.vips.set(text, vip);
  }

  private route(words: string[]): void {
    const usage = 'usage: route DEST/PREFIX|default via GATEWAY [on PORT]';
    if (words.length !== 3 && words.length !== 5) return this.err(usage);
    if (words[1] !== 'via' || (words.length === 5 && words[3] !== 'dev' && words[3] !== 'on')) return this.err(usage);
    // the family is the destination's, or for 'default' the gateway's
    if (words[0]!.includes(':') || (words[0] === 'default' && words[2]!.includes(':'))) return this.route6(words);
    const dst = words[0] === 'default' ? { addr: 0, prefix: 0 } : parseCidr(words[0]!);
    if (!dst) return this.err(`illegal route destination '${words[0]}' (NETWORK/PREFIX, or default)`);
    if ((dst.addr & ~maskOf(dst.prefix)) !== 0) {
      return this.err(`route destination ${words[0]} has host bits set (network is ${formatIpv4(dst.addr & maskOf(dst.prefix))}/${dst.prefix})`);
    }
    const via = parseIpv4(words[2]!);
    if (via === null) return this.err(`illegal gateway '${words[2]}' (a numeric IPv4 address)`);
    const rk = `${dst.addr >>> 0}/${dst.prefix}`;
    const prev = this.p.routes.get(rk);
    if (prev) return this.err(`a route to ${words[0]} is already defined (line ${prev.line})`);
    const r: RouteConfig = { dst: dst.addr >>> 0, prefix: dst.prefix, via, line: this.line };
    if (words.length === 5) r.port = words[4]!;
    this.routes.push(r);
    this.p.routes.set(rk, r);
  }

  /** An IPv6 route: `route 2001:db8:1::/48 via 2001:db8::fe`, `route default via fe80::1 on PORT`. */
  private route6(words: string[]): void {
    const dst = words[0] === 'default' ? { addr: new Uint32Array(4), prefix: 0 } : parseCidr6(words[0]!);
    if (!dst) return this.err(`illegal route destination '${words[0]}' (NETWORK/PREFIX with PREFIX 0..128, or default)`);
    const net = new Uint32Array(4);
    ip6Network(dst.addr, 0, dst.prefix, net, 0);
    if (!ip6Equal(net, 0, dst.addr, 0)) {
      return this.err(`route destination ${words[0]} has host bits set (network is ${ip6ToString(net)}/${dst.prefix})`);
    }
    const via = inetPton6(words[2]!);
    if (via === null) {
      if (parseIpv4(words[2]!) !== null) return this.err(`route ${words[0]}: gateway ${words[2]} is IPv4, but the route is IPv6`);
      return this.err(`illegal gateway '${words[2]}' (a numeric IPv6 address)`);
    }
    if (ip6IsUnspecified(via) || ip6IsMulticast(via)) return this.err(`illegal gateway '${words[2]}': not a unicast address`);
    if (ip6IsLinkLocal(via) && words.length !== 5) {
      return this.err(`route ${words[0]}: gateway ${words[2]} is link-local, so the route must name its port ('on PORT'), as ip -6 route ... dev does`);
    }
    const rk = `${ip6ToString(dst.addr)}/${dst.prefix}`;
    const prev = this.p.routes.get(rk);
    if (prev) return this.err(`a route to ${words[0]} is already defined (line ${prev.line})`);
    const r: RouteConfig = { dst: 0, prefix: dst.prefix, via: 0, dst6: dst.addr, via6: via, line: this.line };
    if (words.length === 5) r.port = words[4]!;
    this.routes.push(r);
    this.p.routes.set(rk, r);
  }

  /** A static neighbour, like `ip neigh add ADDR lladdr MAC nud permanent`: never ARPed for. */
  private neigh(words: string[]): void {
    if (words.length !== 2) return this.err('usage: neigh ADDR MAC');
    const a = parseAnyAddr(words[0]!);
    if (a === null) return this.err(`illegal neighbour address '${words[0]}' (a numeric IPv4 or IPv6 address)`);
    if (a.addr6 && (ip6IsUnspecified(a.addr6) || ip6IsMulticast(a.addr6))) return this.err(`illegal neighbour address '${words[0]}': not a unicast address`);
    const mac = parseMac(words[1]!);
    if (mac === null) return this.err(`illegal MAC address '${words[1]}' (six hex pairs separated by ':')`);
    const text = formatAddr(a.addr, a.addr6);
    const prev = this.p.neighbours.get(text);
    if (prev !== undefined) return this.err(`neighbour ${text} is already declared (line ${prev})`);
    this.neighbours.push(a.addr6 ? { addr: 0, addr6: a.addr6, mac, line: this.line } : { addr: a.addr, mac, line: this.line });
    this.p.neighbours.set(text, this.line);
  }

  private mark(words: string[]): void {
    const usage = 'usage: mark MARK tcp|udp|sctp ADDR [ports PORT[,PORT|,LOW-HIGH...]]';
    if (words.length !== 3 && words.length !== 5) return this.err(usage);
    if (words.length === 5 && words[3] !== 'ports') return this.err(usage);
    const mark = parseNumber(words[0]!, 1, 0xffffffff);
    if (mark === null) return this.err(`invalid fwmark value '${words[0]}' (1..4294967295)`);
    const proto = words[1] === 'tcp' ? IPPROTO_TCP : words[1] === 'udp' ? IPPROTO_UDP : words[1] === 'sctp' ? IPPROTO_SCTP : 0;
    if (!proto) return this.err(`unknown protocol '${words[1]}' (tcp, udp or sctp)`);
    const ma = parseAnyAddr(words[2]!);
    if (ma === null) return this.err(`illegal address '${words[2]}' (a numeric IPv4 or IPv6 address)`);
    const addr = ma.addr;
    // each port once, in the order written (a port repeated within the line is not a clash)
    const ports: number[] = [];
    if (words.length === 5) {
      const seen = new Set<number>();
      for (const part of words[4]!.split(',')) {
        const range = /^([0-9]+)-([0-9]+)$/.exec(part);
        const lo = parseNumber(range ? range[1]! : part, 1, 65535);
        const hi = range ? parseNumber(range[2]!, 1, 65535) : lo;
        if (lo === null || hi === null || hi < lo) return this.err(`illegal port or range '${part}' (1..65535, LOW-HIGH)`);
        for (let p = lo; p <= hi; p++) {
          if (seen.has(p)) continue;
          seen.add(p);
          ports.push(p);
        }
      }
    }
    // a rule for all ports clashes only with another such rule; listed ports only with the
    // same ports of another rule (they take precedence over an all-ports rule, as classify does)
    const ck = `${proto}/${formatAddr(addr, ma.addr6)}`;
    let claims = this.p.marks.get(ck);
    if (!claims) {
      claims = { ports: new Map() };
      this.p.marks.set(ck, claims);
    }
    if (ports.length === 0) {
      if (claims.all) return this.err(`${words[1]} ${words[2]} all ports is already marked ${claims.all.mark} (line ${claims.all.line})`);
    } else {
      for (const p of ports) {
        const c = claims.ports.get(p);
        if (c) return this.err(`${words[1]} ${words[2]} port ${p} is already marked ${c.mark} (line ${c.line})`);
      }
    }
    const claim = { mark, line: this.line };
    if (ports.length === 0) claims.all = claim;
    for (const p of ports) claims.ports.set(p, claim);
    this.marks.push(ma.addr6 ? { proto, addr: 0, addr6: ma.addr6, ports, mark, line: this.line } : { proto, addr, ports, mark, line: this.line });
  }

  private set(words: string[]): void {
    if (words[0] !== 'timeout' || words.length < 3 || words.length % 2 === 0) {
      return this.err('usage: set timeout [tcp SECONDS] [tcpfin SECONDS] [udp SECONDS] (or the ipvsadm form: --set TCP TCPFIN UDP)');
    }
    if (!this.once('timeouts')) return;
    const seen = new Set<string>();
    for (let i = 1; i < words.length; i += 2) {
      const k = words[i]!;
      const v = words[i + 1]!;
      if (k !== 'tcp' && k !== 'tcpfin' && k !== 'udp') {
        this.err(`unknown timeout '${k}' (known: tcp, tcpfin, udp)`);
        continue;
      }
      if (seen.has(k)) {
        this.err(`timeout '${k}' given twice`);
        continue;
      }
      seen.add(k);
      const n = parseNumber(v, 1, MAX_TIMEOUT);
      if (n === null) this.err(`invalid timeout value '${v}' for ${k} (1..${MAX_TIMEOUT} seconds)`);
      else this.timeouts[k] = n;
    }
  }

  private option(words: string[]): void {
    // the sync sysctls (control/ha-config.ts)
    if (words.length === 2 && SYNC_OPTION_NAMES.includes(words[0]!)) {
      if (!this.once(`option ${words[0]}`)) return;
      return this.ha.option(words[0]!, words[1]!, (m) => this.err(m));
    }
    if (words.length !== 2) return this.err('usage: option NAME VALUE');
    const [name, v] = words as [string, string];
    const o = this.options;
    const int = (min: number, max: number): number | null => {
      const n = parseNumber(v, min, max);
      if (n === null) this.err(`option ${name}: '${v}' is not a whole number in ${min}..${max}`);
      return n;
    };
    const bool = (): boolean | null => {
      const b = parseBool(v);
      if (b === null) this.err(`option ${name}: '${v}' is not a boolean (0/1, yes/no, on/off, true/false)`);
      return b;
    };
    const known = ['max_conns', 'expire_nodest_conn', 'expire_quiescent_template', 'unmatched_from_rs',
      'neighbour_queue', 'arp_retries', 'arp_retry_interval', 'control_socket', 'metrics_listen', 'check_netns', 'ftp_ports',
      ...DEFENSE_OPTION_NAMES];
    if (!known.includes(name)) return this.err(`unknown option '${name}' (known: ${known.join(', ')})`);
    if (!this.once(`option ${name}`)) return;
    // the flood defences, read as `tapvs sysctl` reads them (control/sysctl.ts)
    const sysctl = DEFENSE_OPTION_NAMES.includes(name) ? findSysctl(name) : undefined;
    // secure_tcp etc.: the flood defences and the other IPVS sysctls of control/sysctl.ts
    if (sysctl) {
      const r = parseSysctlValue(sysctl, v);
      if ('error' in r) return this.err(`option ${name}: ${r.error}`);
      (o as unknown as Record<string, unknown>)[sysctl.key] = r.value;
      return;
    }
    switch (name) {
      // the connection table's own bound (conn/table.ts): a larger value would be accepted here and refused at start
      case 'max_conns': { const n = int(1, 0x3fffffff); if (n !== null) o.maxConns = n; return; }
      case 'expire_nodest_conn': { const b = bool(); if (b !== null) o.expireNodestConn = b; return; }
      case 'expire_quiescent_template': { const b = bool(); if (b !== null) o.expireQuiescentTemplate = b; return; }
      case 'neighbour_queue': { const n = int(0, 65535); if (n !== null) o.neighbourQueue = n; return; }
      case 'arp_retries': { const n = int(0, 100); if (n !== null) o.arpRetries = n; return; }
      case 'arp_retry_interval': {
        const ms = parseDuration(v);
        if (ms === null || ms === 0) return this.err(`option ${name}: '${v}' is not a duration such as 500ms or 1s`);
        o.arpRetryMs = ms;
        return;
      }
      case 'unmatched_from_rs':
        if (v !== 'drop' && v !== 'route') return this.err(`option ${name}: '${v}' must be drop or route`);
        o.unmatchedFromRealServer = v;
        return;
      case 'control_socket':
        o.controlSocket = v;
        return;
      case 'ftp_ports': {
        // ip_vs_ftp's `ports` module parameter: up to 8 ports (IP_VS_APP_MAX_PORTS); none: the module not loaded
        const ps = v === 'none' ? [] : v.split(',').map((w) => parseNumber(w, 1, 65535));
        if (ps.length > 8 || ps.some((p) => p === null)) {
          return this.err(`option ${name}: '${v}' is not up to 8 ports (1..65535) separated by commas, or none`);
        }
        o.ftpPorts = ps as number[];
        return;
      }
      case 'check_netns':
        if (!NETNS_RE.test(v)) return this.err(`option ${name}: illegal network namespace name '${v}'`);
        o.checkNetns = v;
        return;
      default: {
        const m = /^([0-9.]+):([0-9]+)$/.exec(v);
        const m6 = /^\[([0-9A-Fa-f:.]+)\]:([0-9]+)$/.exec(v);
        const ok = m ? parseIpv4(m[1]!) !== null && parseNumber(m[2]!, 1, 65535) !== null
          : m6 ? isIp6(m6[1]!) && parseNumber(m6[2]!, 1, 65535) !== null : false;
        if (!ok) return this.err(`option ${name}: '${v}' is not ADDR:PORT (numeric, e.g. 127.0.0.1:9107 or [::1]:9107)`);
        o.metricsListen = v;
      }
    }
  }

  private check(given: string[]): void {
    const usage = 'usage: check tcp|http|icmp|misc -t|-u|--sctp-service ADDR:PORT | -f MARK [-6] -r ADDR[:PORT] [key=value ...] [netns=NAME] [inhibit_on_failure]';
    const kind = given[0];
    if (kind !== 'tcp' && kind !== 'http' && kind !== 'icmp' && kind !== 'misc') {
      return this.err(kind ? `unknown check kind '${kind}' (known: tcp, http, icmp, misc)` : usage);
    }
    // "-f MARK -6": an IPv6 fwmark service, as ipvsadm names it
    const six = given[1] === '-f' && given[3] === '-6';
    const words = six ? [...given.slice(0, 3), ...given.slice(4)] : given;
    if (words.length < 5 || !['-t', '-u', '--sctp-service', '-f'].includes(words[1]!) || words[3] !== '-r') return this.err(usage);
    // reuse ipvsadm's parsing of the service and server addresses
    const r = parseIpvsadmArgs(['-d', words[1]!, words[2]!, ...(six ? ['-6'] : []), '-r', words[4]!]);
    if (!r.ok) return this.err(r.error);
    if (r.command.cmd !== 'delete-server') return this.err(usage);
    const { key, dest } = r.command;
    const keys: Record<typeof kind, string[]> = {
      tcp: ['interval', 'timeout', 'retries', 'port'],
      http: ['interval', 'timeout', 'retries', 'port', 'path', 'status', 'digest'],
      icmp: ['interval', 'timeout', 'retries'],
      misc: ['interval', 'timeout', 'retries', 'command'],
    };
    // netns= belongs to every kind: taken out here so the per-kind key lists stay about the probe
    const netnsWords = words.slice(5).filter((w) => w.startsWith('netns='));
    if (netnsWords.length > 1) return this.err(`'netns' given twice`);
    const kv = this.keyValues(words.slice(5).filter((w) => !w.startsWith('netns=')), keys[kind], [], ['inhibit_on_failure']);
    if (!kv.ok) return;
    const hc: HealthCheckConfig = {
      service: formatServiceKey(key),
      dest: dest.addr6 ? { addr: 0, port: dest.port, addr6: dest.addr6 } : { addr: dest.addr, port: dest.port },
      kind,
      intervalMs: 5000,
      timeoutMs: 3000,
      retries: 1,
      inhibitOnFailure: kv.flags.has('inhibit_on_failure'),
      line: this.line,
    };
    const dur = (k: 'interval' | 'timeout'): number | null | undefined => {
      const t = kv.get(k);
      if (t === undefined) return undefined;
      const ms = parseDuration(t);
      if (ms === null || ms === 0) this.err(`check ${k}: '${t}' is not a duration such as 2s or 500ms`);
      return ms === 0 ? null : ms;
    };
    const interval = dur('interval');
    const timeout = dur('timeout');
    if (interval === null || timeout === null) return;
    if (interval !== undefined) hc.intervalMs = interval;
    if (timeout !== undefined) hc.timeoutMs = timeout;
    if (hc.timeoutMs > hc.intervalMs) return this.err(`check timeout (${hc.timeoutMs} ms) is longer than its interval (${hc.intervalMs} ms)`);
    const retries = kv.get('retries');
    if (retries !== undefined) {
      const n = parseNumber(retries, 0, 100);
      if (n === null) return this.err(`check retries: '${retries}' is not a whole number in 0..100`);
      hc.retries = n;
    }
    const port = kv.get('port');
    if (port !== undefined) {
      const n = parseNumber(port, 1, 65535);
      if (n === null) return this.err(`check port: '${port}' is not a port number`);
      hc.connectPort = n;
    }
    if (kind === 'http') {
      hc.path = kv.get('path') ?? '/';
      if (!hc.path.startsWith('/')) return this.err(`check path: '${hc.path}' must start with '/'`);
      const st = kv.get('status');
      const status = st === undefined ? 200 : parseNumber(st, 100, 599);
      if (status === null) return this.err(`check status: '${st}' is not an HTTP status code (100..599)`);
      hc.expectStatus = status;
      const digest = kv.get('digest');
      if (digest !== undefined) {
        if (!/^[0-9a-fA-F]{32}$/.test(digest)) return this.err(`check digest: '${digest}' is not an MD5 digest (32 hex digits)`);
        hc.digest = digest.toLowerCase();
      }
    }
    const netns = netnsWords[0]?.slice('netns='.length);
    if (netns !== undefined) {
      if (!NETNS_RE.test(netns)) return this.err(`check netns: illegal network namespace name '${netns}'`);
      hc.netns = netns;
    }
    if (kind === 'misc') {
      const cmd = kv.get('command');
      if (!cmd) return this.err('a misc check needs command="..."');
      hc.command = cmd;
    }
    if (kind !== 'icmp' && !key.fwmark && dest.port === 0 && hc.connectPort === undefined) {
      return this.err(`a ${kind} check of a port-0 service needs port=N`);
    }
    const hk = `${hc.service} ${destKeyText(hc.dest.addr, hc.dest.addr6, hc.dest.port)} ${kind}`;
    const dup = this.p.checks.get(hk);
    if (dup) return this.err(`this ${kind} check is already defined (line ${dup.line})`);
    this.checks.push(hc);
    this.p.checks.set(hk, hc);
  }

  /** keepalived's sorry_server: the real server a service falls back to when none is left with weight > 0. */
  private sorry(words: string[], six = false): void {
    const usage = 'usage: sorry -t|-u|--sctp-service ADDR:PORT | -f MARK [-6] -r ADDR[:PORT] [-m|-g|-i] [-w WEIGHT]';
    if (words[0] === '-f' && words[2] === '-6') return this.sorry([...words.slice(0, 2), ...words.slice(3)], true);
    if (words.length < 4 || !['-t', '-u', '--sctp-service', '-f'].includes(words[0]!) || words[2] !== '-r') return this.err(usage);
    const rest = words.slice(4);
    for (let i = 0; i < rest.length; i++) {
      const w = rest[i]!;
      if (w === '-w') i++;
      else if (w !== '-m' && w !== '-g' && w !== '-i') return this.err(`sorry: unexpected '${w}' (${usage})`);
    }
    const fwds = rest.filter((w) => w === '-m' || w === '-g' || w === '-i');
    if (fwds.length > 1) return this.err(`sorry: more than one forwarding method (${fwds.join(' ')})`);
    // without a method the service's decides (in finish): parse as -m so the port is kept as written
    const r = parseIpvsadmArgs(['-a', ...words.slice(0, 2), ...(six ? ['-6'] : []), ...words.slice(2), ...(fwds.length === 0 ? ['-m'] : [])]);
    if (!r.ok) return this.err(r.error);
    if (r.command.cmd !== 'add-server') return this.err(usage);
    const { key, dest: d, portForced } = r.command;
    const bad = d.addr6 ? badHostAddr6(d.addr6) : badHostAddr(d.addr);
    if (bad) return this.err(`illegal sorry server address: ${bad}`);
    if (portForced) return this.err(sorryPortError(key.port, d.fwd));
    const service = formatServiceKey(key);
    const prev = this.p.sorry.get(service);
    if (prev) return this.err(`${service} already has a sorry server (line ${prev.line})`);
    const dest: DestSpec = { addr: d.addr, port: d.port, weight: d.weight, fwd: d.fwd, uThreshold: 0, lThreshold: 0 };
    if (d.addr6) dest.addr6 = d.addr6;
    this.p.sorry.set(service, { service, dest, fwdGiven: fwds.length > 0, line: this.line });
  }

  // ------------------------------------------------------------ whole-file checks

  finish(): void {
    const topology = Topology.of({ ports: this.ports, routes: this.routes, vips: this.vips });
    const haveTopology = this.ports.length > 0;
    const svcIndex = new Map(this.services.map((svc, i) => [i, svc]));
    const problems = topologyProblems(
      { ...this.result(), marks: this.marks },
      (i, addr, port, addr6) => this.p.dests.get(svcIndex.get(i)!)?.get(destKeyText(addr, addr6, port)),
    );
    for (const p of problems) this.err(p.message, p.line ?? 0);
    const marksUsed = new Set<number>();
    const marksDefined = new Set(this.marks.map((m) => m.mark));
    for (const svc of this.services) {
      if (!svc.fwmark) continue;
      if (!marksDefined.has(svc.fwmark)) {
        this.err(`fwmark service ${svc.fwmark} would receive nothing: no 'mark ${svc.fwmark} ...' line classifies traffic into it`, svc.line!);
      }
      marksUsed.add(svc.fwmark);
    }
    for (const s of this.p.sorry.values()) {
      const svc = this.p.serviceLines.get(s.service);
      if (!svc) {
        this.err(`sorry server of an undefined service ${s.service}`, s.line);
        continue;
      }
      // keepalived's sorry server forwards as its virtual server does: take the real servers' method
      if (!s.fwdGiven) {
        s.dest.fwd = svc.dests[0]?.fwd ?? FWD_DR;
        if (!svc.fwmark && s.dest.fwd !== FWD_MASQ && s.dest.port !== svc.port) {
          this.err(`${sorryPortError(svc.port!, s.dest.fwd)} (the method comes from the service's real servers; give -m to masquerade)`, s.line);
          continue;
        }
      }
      const sk = destKeyText(s.dest.addr, s.dest.addr6, s.dest.port);
      if (this.p.dests.get(svc)!.has(sk)) {
        this.err(`sorry server ${formatAddrPort(s.dest.addr, s.dest.addr6, s.dest.port)} is also a real server of ${s.service}`, s.line);
        continue;
      }
      const mixed = (s.dest.addr6 !== undefined) !== (svc.af === AF_INET6);
      if (mixed) {
        this.err(`sorry server ${formatAddr(s.dest.addr, s.dest.addr6)} is ${s.dest.addr6 ? 'IPv6' : 'IPv4'} but ${s.service} is ` +
          `${svc.af === AF_INET6 ? 'IPv6' : 'IPv4'}: tapvs forwards within one address family`, s.line);
        continue;
      }
      const unreachable = haveTopology ? topology.destProblem(s.dest.addr, s.dest.fwd ?? FWD_DR, 'sorry server', s.dest.addr6) : null;
      if (unreachable) this.err(unreachable, s.line);
      svc.sorry = s.dest;
    }
    for (const m of this.marks) {
      if (!marksUsed.has(m.mark) && !this.servicesElsewhere) this.err(`mark ${m.mark} has no fwmark service: add '-A -f ${m.mark} ...'`, m.line);
    }
    for (const hc of this.checks) {
      const svc = this.p.serviceLines.get(hc.service);
      if (!svc) {
        this.err(`check of an undefined service ${hc.service}`, hc.line!);
        continue;
      }
      if (!this.p.dests.get(svc)!.has(destKeyText(hc.dest.addr, hc.dest.addr6, hc.dest.port))) {
        this.err(`check of ${formatAddrPort(hc.dest.addr, hc.dest.addr6, hc.dest.port)}, which is not a real server of ${hc.service}`, hc.line!);
      }
    }
    this.ha.finish(this.ports, this.vips, (m, l) => this.err(m, l));
    this.errors.sort((a, b) => a.line - b.line);
  }

  result(): DirectorConfig {
    return {
      ports: this.ports,
      vips: this.vips,
      routes: this.routes,
      marks: this.marks.map(({ proto, addr, addr6, ports, mark }) => (addr6 ? { proto, addr, addr6, ports, mark } : { proto, addr, ports, mark })),
      services: this.services,
      timeouts: this.timeouts,
      options: this.options,
      healthChecks: this.checks,
      neighbours: this.neighbours,
      ...(this.ha.result() ? { ha: this.ha.result() } : {}),
    };
  }
}

/**
 * Parses a tapvs config file. Either the whole config, or every error found
 * (each with its file and line), never a partial config.
 */
export function parseConfig(
  text: string, file: string, opts: { servicesElsewhere?: boolean } = {},
): { config: DirectorConfig } | { errors: ConfigError[] } {
  const p = new Parser(file);
  // servicesElsewhere: a keepalived.conf brings the services, so a mark may have its fwmark service there
  if (opts.servicesElsewhere) p.servicesElsewhere = true;
  text.split('\n').forEach((line, i) => p.parseLine(line, i + 1));
  p.finish();
  return p.errors.length > 0 ? { errors: p.errors } : { config: p.result() };
}

/** The service key of a parsed service, as ipvsadm commands name it. */
export function serviceKeyOf(svc: ServiceConfig): ServiceKey {
  const k: ServiceKey = { proto: svc.fwmark ? 0 : svc.proto, addr: svc.addr6 ? 0 : svc.addr ?? 0, port: svc.port ?? 0, fwmark: svc.fwmark ?? 0 };
  if (svc.addr6 || svc.af === AF_INET6) {
    k.af = AF_INET6;
    if (svc.addr6 && !svc.fwmark) k.addr6 = svc.addr6;
  }
  return k;
}
