// ipvsadm's command line, parsed into a typed command. The rules follow
// ipvsadm 1.31 (popt option table, the command/option legality table,
// defaults and messages), with two deliberate differences: addresses and ports
// are numeric only (no resolver on a director's control path), and features
// tapvs does not have (IPv6, SCTP, sync daemon, persistence engines, GUE/GRE
// tunnels) are refused with a message saying so.
import { ipToString, isIp, parseIp } from '../wire/addr.js';
import { FWD_DR, FWD_MASQ, FWD_TUN, type Fwd } from '../model/dest.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../model/proto.js';
import type { SchedFlags } from '../model/service.js';

/** ipvsadm's IPVS_SVC_PERSISTENT_TIMEOUT (libipvs.h: 6*60; the man page still says 300). */
export const DEFAULT_PERSISTENT_TIMEOUT = 360;
/** ipvsadm's MAX_TIMEOUT: 31 days, in seconds. */
export const MAX_TIMEOUT = 86400 * 31;
export const DEFAULT_SCHEDULER = 'wlc';
const INT_MAX = 2147483647;

/** Which virtual service: proto/addr/port, or a firewall mark (proto 0, addr 0, port 0). */
export interface ServiceKey {
  proto: number;
  addr: number;
  port: number;
  fwmark: number;
}

/** Every attribute of a virtual service as one -A/-E line sets it (ip_vs_service_user). */
export interface ServiceAttrs {
  scheduler: string;
  flags: SchedFlags;
  /** Persistence timeout in seconds; 0 = not persistent. */
  persistent: number;
  netmask: number;
  onePacket: boolean;
}

/** Every attribute of a real server as one -a/-e line sets it (ip_vs_dest_user). */
export interface DestAttrs {
  addr: number;
  port: number;
  fwd: Fwd;
  weight: number;
  uThreshold: number;
  lThreshold: number;
}

export interface ListFormat {
  numeric: boolean;
  stats: boolean;
  rate: boolean;
  thresholds: boolean;
  persistentConn: boolean;
  exact: boolean;
  nosort: boolean;
  tunInfo: boolean;
}

export type IpvsadmCommand =
  | { cmd: 'add-service'; key: ServiceKey; svc: ServiceAttrs }
  | { cmd: 'edit-service'; key: ServiceKey; svc: ServiceAttrs }
  | { cmd: 'delete-service'; key: ServiceKey }
  | { cmd: 'flush' }
  /**
   * `portForced`: the line gave a real-server port different from the service
   * port for a DR/TUN server; ipvsadm silently uses the service port then.
   */
  | { cmd: 'add-server'; key: ServiceKey; dest: DestAttrs; portForced: boolean }
  | { cmd: 'edit-server'; key: ServiceKey; dest: DestAttrs; portForced: boolean }
  | { cmd: 'delete-server'; key: ServiceKey; dest: { addr: number; port: number } }
  | { cmd: 'list'; what: 'services' | 'connections' | 'timeout' | 'daemon'; key?: ServiceKey; format: ListFormat }
  | { cmd: 'set'; tcp: number; tcpfin: number; udp: number }
  | { cmd: 'zero'; key?: ServiceKey }
  | { cmd: 'save'; format: ListFormat }
  | { cmd: 'restore' }
  | { cmd: 'help' }
  | { cmd: 'version' };

export type CommandName = IpvsadmCommand['cmd'];

export type ParseArgsResult = { ok: true; command: IpvsadmCommand } | { ok: false; error: string };

// ---------------------------------------------------------------- addresses

/** Strict dotted-quad IPv4 (four decimal parts, no leading zeros) to uint32, or null. */
export function parseIpv4(s: string): number | null {
  return isIp(s) ? parseIp(s) : null;
}

export const formatIpv4 = ipToString;

/** A decimal number within [min, max] (strtol-like but strict), or null. */
export function parseNumber(s: string, min: number, max: number): number | null {
  if (!/^[0-9]+$/.test(s)) return null;
  const n = Number(s);
  return n >= min && n <= max ? n : null;
}

/** A contiguous IPv4 netmask in dotted form, or null. */
export function parseNetmask(s: string): number | null {
  const m = parseIpv4(s);
  if (m === null) return null;
  const inv = ~m >>> 0;
  return (inv & (inv + 1)) === 0 ? m : null; // inverse must be 2^k - 1
}

export function formatServiceKey(k: ServiceKey): string {
  if (k.fwmark) return `-f ${k.fwmark}`;
  return `${k.proto === IPPROTO_UDP ? '-u' : '-t'} ${formatIpv4(k.addr)}:${k.port}`;
}

const looksLikeName = (s: string): boolean => /[A-Za-z_]/.test(s) && !/^[0-9.]*$/.test(s);

/** "addr[:port]" as ipvsadm's parse_service, numeric only. */
function parseAddrPort(s: string, what: string): { addr: number; port: number | null } | string {
  const illegal = `illegal ${what} address[:port] specified`;
  if (s.startsWith('[') || s.split(':').length > 2) return `${illegal}: '${s}' (IPv6 is not supported by tapvs)`;
  const colon = s.lastIndexOf(':');
  const host = colon >= 0 ? s.slice(0, colon) : s;
  const portText = colon >= 0 ? s.slice(colon + 1) : null;
  const addr = parseIpv4(host);
  if (addr === null) {
    if (looksLikeName(host)) return `${illegal}: '${host}' is a host name; tapvs takes numeric IPv4 addresses only`;
    return `${illegal}: '${s}'`;
  }
  if (portText === null) return { addr, port: null };
  const port = parseNumber(portText, 0, 65535);
  if (port === null) {
    if (looksLikeName(portText)) return `${illegal}: '${portText}' is a service name; tapvs takes numeric ports only`;
    return `${illegal}: port '${portText}' is not a number in 0..65535`;
  }
  return { addr, port };
}

// ---------------------------------------------------------------- option table

// Option names, in ipvsadm's order (its error messages name them this way).
const OPTS = [
  'numeric', 'connection', 'service-address', 'scheduler', 'persistent', 'netmask', 'real-server',
  'forwarding-method', 'weight', 'u-threshold', 'l-threshold', 'timeout', 'daemon', 'stats', 'rate',
  'thresholds', 'persistent-conn', 'nosort', 'exact', 'ops', 'sched-flags', 'tun-info', 'tun-type',
] as const;
type Opt = (typeof OPTS)[number];

interface CommandRule {
  need: Opt[];
  allow: Opt[];
  /** At most one of these. */
  oneOf?: Opt[];
}
// Which options each command needs, allows, or allows only one of (ipvsadm's
// commands_v_options, for the options tapvs knows).
const SVC_OPTS: Opt[] = ['scheduler', 'persistent', 'netmask', 'ops', 'sched-flags'];
const DEST_OPTS: Opt[] = ['forwarding-method', 'weight', 'u-threshold', 'l-threshold', 'tun-type'];
const LIST_OPTS: Opt[] = ['numeric', 'stats', 'rate', 'thresholds', 'persistent-conn', 'nosort', 'exact', 'tun-info'];
const RULES: Record<string, CommandRule> = {
  'add-service': { need: ['service-address'], allow: SVC_OPTS },
  'edit-service': { need: ['service-address'], allow: SVC_OPTS },
  'delete-service': { need: ['service-address'], allow: [] },
  flush: { need: [], allow: [] },
  list: { need: [], allow: LIST_OPTS, oneOf: ['connection', 'service-address', 'timeout', 'daemon'] },
  'add-server': { need: ['service-address', 'real-server'], allow: DEST_OPTS },
  'delete-server': { need: ['service-address', 'real-server'], allow: [] },
  'edit-server': { need: ['service-address', 'real-server'], allow: DEST_OPTS },
  set: { need: [], allow: [] },
  restore: { need: [], allow: [] },
  save: { need: [], allow: ['numeric'] },
  zero: { need: [], allow: ['service-address'] },
};

interface OptionDef {
  long: string;
  short?: string;
  arg: 'none' | 'required' | 'optional';
  /** A command, an option (by legality-table name), or something tapvs refuses. */
  command?: CommandName | 'start-daemon' | 'stop-daemon';
  opt?: Opt;
  unsupported?: string;
}

const NOSYNC = 'the connection synchronisation daemon is not supported by tapvs';
const OPTION_DEFS: OptionDef[] = [
  { long: 'add-service', short: 'A', arg: 'none', command: 'add-service' },
  { long: 'edit-service', short: 'E', arg: 'none', command: 'edit-service' },
  { long: 'delete-service', short: 'D', arg: 'none', command: 'delete-service' },
  { long: 'clear', short: 'C', arg: 'none', command: 'flush' },
  { long: 'list', short: 'L', arg: 'none', command: 'list' },
  { long: 'list', short: 'l', arg: 'none', command: 'list' },
  { long: 'zero', short: 'Z', arg: 'none', command: 'zero' },
  { long: 'add-server', short: 'a', arg: 'none', command: 'add-server' },
  { long: 'edit-server', short: 'e', arg: 'none', command: 'edit-server' },
  { long: 'delete-server', short: 'd', arg: 'none', command: 'delete-server' },
  { long: 'set', arg: 'none', command: 'set' },
  { long: 'help', short: 'h', arg: 'none', command: 'help' },
  { long: 'version', short: 'v', arg: 'none', command: 'version' },
  { long: 'restore', short: 'R', arg: 'none', command: 'restore' },
  { long: 'save', short: 'S', arg: 'none', command: 'save' },
  { long: 'start-daemon', arg: 'required', command: 'start-daemon' },
  { long: 'stop-daemon', arg: 'required', command: 'stop-daemon' },
  { long: 'tcp-service', short: 't', arg: 'required', opt: 'service-address' },
  { long: 'udp-service', short: 'u', arg: 'required', opt: 'service-address' },
  { long: 'sctp-service', arg: 'required', unsupported: 'SCTP services are not supported by tapvs' },
  { long: 'fwmark-service', short: 'f', arg: 'required', opt: 'service-address' },
  { long: 'scheduler', short: 's', arg: 'required', opt: 'scheduler' },
  { long: 'persistent', short: 'p', arg: 'optional', opt: 'persistent' },
  { long: 'netmask', short: 'M', arg: 'required', opt: 'netmask' },
  { long: 'real-server', short: 'r', arg: 'required', opt: 'real-server' },
  { long: 'masquerading', short: 'm', arg: 'none', opt: 'forwarding-method' },
  { long: 'ipip', short: 'i', arg: 'none', opt: 'forwarding-method' },
  { long: 'gatewaying', short: 'g', arg: 'none', opt: 'forwarding-method' },
  { long: 'weight', short: 'w', arg: 'required', opt: 'weight' },
  { long: 'u-threshold', short: 'x', arg: 'required', opt: 'u-threshold' },
  { long: 'l-threshold', short: 'y', arg: 'required', opt: 'l-threshold' },
  { long: 'numeric', short: 'n', arg: 'none', opt: 'numeric' },
  { long: 'connection', short: 'c', arg: 'none', opt: 'connection' },
  { long: 'timeout', arg: 'none', opt: 'timeout' },
  { long: 'daemon', arg: 'none', opt: 'daemon' },
  { long: 'stats', arg: 'none', opt: 'stats' },
  { long: 'rate', arg: 'none', opt: 'rate' },
  { long: 'thresholds', arg: 'none', opt: 'thresholds' },
  { long: 'persistent-conn', arg: 'none', opt: 'persistent-conn' },
  { long: 'nosort', arg: 'none', opt: 'nosort' },
  { long: 'sort', arg: 'none' }, // the default; accepted and ignored, as ipvsadm
  { long: 'exact', short: 'X', arg: 'none', opt: 'exact' },
  { long: 'ops', short: 'o', arg: 'none', opt: 'ops' },
  { long: 'sched-flags', short: 'b', arg: 'required', opt: 'sched-flags' },
  { long: 'tun-info', arg: 'none', opt: 'tun-info' },
  { long: 'tun-type', arg: 'required', opt: 'tun-type' },
  { long: 'ipv6', short: '6', arg: 'none', unsupported: 'IPv6 is not supported by tapvs' },
  { long: 'pe', arg: 'required', unsupported: 'persistence engines (--pe) are not supported by tapvs' },
  { long: 'tun-port', arg: 'required', unsupported: 'only ipip tunnels are supported by tapvs (no --tun-port)' },
  { long: 'tun-nocsum', arg: 'none', unsupported: 'only ipip tunnels are supported by tapvs (no --tun-nocsum)' },
  { long: 'tun-csum', arg: 'none', unsupported: 'only ipip tunnels are supported by tapvs (no --tun-csum)' },
  { long: 'tun-remcsum', arg: 'none', unsupported: 'only ipip tunnels are supported by tapvs (no --tun-remcsum)' },
  { long: 'mcast-interface', arg: 'required', unsupported: NOSYNC },
  { long: 'syncid', arg: 'required', unsupported: NOSYNC },
  { long: 'mcast-group', arg: 'required', unsupported: NOSYNC },
  { long: 'mcast-port', arg: 'required', unsupported: NOSYNC },
  { long: 'mcast-ttl', arg: 'required', unsupported: NOSYNC },
  { long: 'sync-maxlen', arg: 'required', unsupported: NOSYNC },
];
const BY_LONG = new Map(OPTION_DEFS.map((d) => [d.long, d]));
const BY_SHORT = new Map(OPTION_DEFS.filter((d) => d.short).map((d) => [d.short!, d]));

class ArgError extends Error {}
function fail(msg: string): never {
  throw new ArgError(msg);
}

interface Occurrence {
  def: OptionDef;
  flag: string; // as written, for messages
  value: string | undefined;
}

/** Splits argv the way popt does: clustered short options, -xVALUE, --long=VALUE, optional arguments. */
function tokenize(argv: string[]): { occ: Occurrence[]; positional: string[] } {
  const occ: Occurrence[] = [];
  const positional: string[] = [];
  const takesNext = (i: number, def: OptionDef): boolean =>
    def.arg === 'required' || (def.arg === 'optional' && i + 1 < argv.length && !argv[i + 1]!.startsWith('-'));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const def = BY_LONG.get(name);
      if (!def) fail(`invalid option \`${a}'`);
      let value: string | undefined;
      if (eq >= 0) {
        if (def!.arg === 'none') fail(`option \`--${name}' takes no argument`);
        value = a.slice(eq + 1);
      } else if (takesNext(i, def!)) {
        if (i + 1 >= argv.length) fail(`option \`${a}' requires an argument`);
        value = argv[++i];
      }
      occ.push({ def: def!, flag: `--${name}`, value });
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const def = BY_SHORT.get(a[j]!);
        if (!def) fail(`invalid option \`-${a[j]}'`);
        if (def!.arg === 'none') {
          occ.push({ def: def!, flag: `-${a[j]}`, value: undefined });
          continue;
        }
        const rest = a.slice(j + 1);
        let value: string | undefined;
        if (rest !== '') value = rest;
        else if (takesNext(i, def!)) {
          if (i + 1 >= argv.length) fail(`option \`-${a[j]}' requires an argument`);
          value = argv[++i];
        }
        occ.push({ def: def!, flag: `-${a[j]}`, value });
        break;
      }
      continue;
    }
    positional.push(a);
  }
  return { occ, positional };
}

function parseSchedFlags(sched: string, text: string): SchedFlags {
  const f: SchedFlags = { shFallback: false, shPort: false, mhFallback: false, mhPort: false };
  for (const flag of text.split(',').filter((x) => x !== '')) {
    const needs = (name: string) => {
      if (sched !== name) fail(`incompatible scheduler flag \`${flag}'`);
    };
    switch (flag) {
      case 'sh-fallback': needs('sh'); f.shFallback = true; break;
      case 'sh-port': needs('sh'); f.shPort = true; break;
      case 'mh-fallback': needs('mh'); f.mhFallback = true; break;
      case 'mh-port': needs('mh'); f.mhPort = true; break;
      // flag-1/flag-2 are the same bits the sh and mh flags use
      case 'flag-1':
      case 'flag-2':
        if (sched === 'sh') flag === 'flag-1' ? (f.shFallback = true) : (f.shPort = true);
        else if (sched === 'mh') flag === 'flag-1' ? (f.mhFallback = true) : (f.mhPort = true);
        else fail(`scheduler flag \`${flag}' means nothing to the '${sched}' scheduler in tapvs`);
        break;
      case 'flag-3':
        fail(`scheduler flag \`${flag}' is not used by any tapvs scheduler`);
        break;
      default:
        fail(`invalid scheduler flag \`${flag}'`);
    }
  }
  return f;
}

function checkLegality(cmd: string, seen: Set<Opt>): void {
  const rule = RULES[cmd]!;
  let first: Opt | undefined;
  for (const o of OPTS) {
    if (!seen.has(o)) {
      if (rule.need.includes(o)) fail(`You need to supply the '${o}' option for the '${cmd}' command`);
      continue;
    }
    if (rule.oneOf?.includes(o)) {
      if (first) fail(`The option '${o}' conflicts with the '${first}' option in the '${cmd}' command`);
      first = o;
    } else if (!rule.need.includes(o) && !rule.allow.includes(o)) {
      fail(`Illegal '${o}' option with the '${cmd}' command`);
    }
  }
}

/**
 * Parses one ipvsadm command line (without the program name; a leading
 * "ipvsadm" word is dropped). An empty argv lists the table, as ipvsadm does.
 */
export function parseIpvsadmArgs(argv: readonly string[]): ParseArgsResult {
  try {
    return { ok: true, command: parseOrThrow(argv[0] === 'ipvsadm' ? argv.slice(1) : [...argv]) };
  } catch (e) {
    if (e instanceof ArgError) return { ok: false, error: e.message };
    throw e;
  }
}

function parseOrThrow(argv: string[]): IpvsadmCommand {
  const fmt: ListFormat = {
    numeric: false, stats: false, rate: false, thresholds: false,
    persistentConn: false, exact: false, nosort: false, tunInfo: false,
  };
  if (argv.length === 0) return { cmd: 'list', what: 'services', format: fmt };
  const { occ, positional } = tokenize(argv);

  let command: string | undefined;
  const seen = new Set<Opt>();
  let key: ServiceKey | undefined;
  let scheduler = '';
  let persistent = 0;
  let netmask = 0xffffffff;
  let onePacket = false;
  let schedFlagsText: string | undefined;
  let dest: { addr: number; port: number | null } | undefined;
  let fwd: Fwd = FWD_DR;
  let weight = 1;
  let uThreshold = 0;
  let lThreshold = 0;

  for (const { def, value } of occ) {
    if (def.unsupported) fail(def.unsupported);
    if (def.command) {
      if (command) fail('multiple commands specified');
      if (def.command === 'start-daemon' || def.command === 'stop-daemon') fail(NOSYNC);
      if (def.command === 'help' || def.command === 'version') return { cmd: def.command };
      command = def.command;
      continue;
    }
    if (!def.opt) continue; // --sort
    if (seen.has(def.opt)) fail(`multiple '${def.opt}' options specified`);
    seen.add(def.opt);
    const v = value ?? '';
    switch (def.long) {
      case 'tcp-service':
      case 'udp-service': {
        const r = parseAddrPort(v, 'virtual server');
        if (typeof r === 'string') fail(r);
        const ap = r as { addr: number; port: number | null };
        key = { proto: def.long === 'tcp-service' ? IPPROTO_TCP : IPPROTO_UDP, addr: ap.addr, port: ap.port ?? 0, fwmark: 0 };
        break;
      }
      case 'fwmark-service': {
        const m = parseNumber(v, 1, 0xffffffff);
        if (m === null) fail(`invalid fwmark value \`${v}' specified`);
        key = { proto: 0, addr: 0, port: 0, fwmark: m! };
        break;
      }
      case 'scheduler':
        scheduler = v;
        break;
      case 'persistent':
        if (value === undefined) persistent = DEFAULT_PERSISTENT_TIMEOUT;
        else {
          const t = parseNumber(v, 1, MAX_TIMEOUT);
          if (t === null) fail(`invalid timeout value \`${v}' specified`);
          persistent = t!;
        }
        break;
      case 'netmask': {
        const m = parseNetmask(v);
        if (m === null) fail(`illegal virtual server persistent mask specified: '${v}' (a contiguous dotted mask such as 255.255.255.0)`);
        netmask = m!;
        break;
      }
      case 'real-server': {
        const r = parseAddrPort(v, 'real server');
        if (typeof r === 'string') fail(r);
        dest = r as { addr: number; port: number | null };
        break;
      }
      case 'masquerading': fwd = FWD_MASQ; break;
      case 'ipip': fwd = FWD_TUN; break;
      case 'gatewaying': fwd = FWD_DR; break;
      case 'weight': {
        const w = parseNumber(v, 0, 65535);
        if (w === null) fail(`illegal weight specified: '${v}' (0..65535)`);
        weight = w!;
        break;
      }
      case 'u-threshold': {
        const x = parseNumber(v, 0, INT_MAX);
        if (x === null) fail(`illegal u_threshold specified: '${v}'`);
        uThreshold = x!;
        break;
      }
      case 'l-threshold': {
        const y = parseNumber(v, 0, INT_MAX);
        if (y === null) fail(`illegal l_threshold specified: '${v}'`);
        lThreshold = y!;
        break;
      }
      case 'ops': onePacket = true; break;
      case 'sched-flags': schedFlagsText = v; break;
      case 'tun-type':
        if (v !== 'ipip') fail(v === 'gue' || v === 'gre' ? `only ipip tunnels are supported by tapvs (not ${v})` : 'illegal tunnel type specified');
        break;
      case 'numeric': fmt.numeric = true; break;
      case 'stats': fmt.stats = true; break;
      case 'rate': fmt.rate = true; break;
      case 'thresholds': fmt.thresholds = true; break;
      case 'persistent-conn': fmt.persistentConn = true; break;
      case 'exact': fmt.exact = true; break;
      case 'nosort': fmt.nosort = true; break;
      case 'tun-info': fmt.tunInfo = true; break;
      default: break; // connection, timeout, daemon: only their presence matters
    }
  }
  if (!command) fail('no command given: one of -A -E -D -C -L -a -e -d -R -S -Z --set');

  let timeouts: [number, number, number] | undefined;
  if (command === 'set') {
    if (positional.length < 3) fail('--set option requires 3 timeout values');
    timeouts = positional.slice(0, 3).map((t) => {
      const n = parseNumber(t, 0, MAX_TIMEOUT);
      if (n === null) fail(`invalid timeout value \`${t}' specified`);
      return n!;
    }) as [number, number, number];
    positional.splice(0, 3);
  }
  if (positional.length > 0) fail(`unexpected argument ${positional[0]}`);

  checkLegality(command, seen);

  const sched = scheduler || DEFAULT_SCHEDULER;
  const flags = schedFlagsText !== undefined
    ? parseSchedFlags(sched, schedFlagsText)
    : { shFallback: false, shPort: false, mhFallback: false, mhPort: false };

  switch (command) {
    case 'add-service':
    case 'edit-service': {
      const k = key!;
      if (!k.fwmark && k.port === 0 && persistent === 0) fail('Zero port specified for non-persistent service');
      if (onePacket && !k.fwmark && k.proto !== IPPROTO_UDP) fail('One-Packet Scheduling is only for UDP virtual services');
      return { cmd: command, key: k, svc: { scheduler: sched, flags, persistent, netmask: persistent ? netmask : 0xffffffff, onePacket } };
    }
    case 'delete-service':
      return { cmd: command, key: key! };
    case 'add-server':
    case 'edit-server': {
      const k = key!;
      let port = dest!.port ?? k.port;
      let portForced = false;
      // DR and TUN cannot change the port: ipvsadm uses the service port
      if (!k.fwmark && (fwd === FWD_DR || fwd === FWD_TUN) && port !== k.port) {
        portForced = true;
        port = k.port;
      }
      return { cmd: command, key: k, portForced, dest: { addr: dest!.addr, port, fwd, weight, uThreshold, lThreshold } };
    }
    case 'delete-server':
      return { cmd: command, key: key!, dest: { addr: dest!.addr, port: dest!.port ?? key!.port } };
    case 'list': {
      const c = seen.has('connection'), t = seen.has('timeout'), d = seen.has('daemon');
      if (((c || t || d) && (fmt.stats || fmt.rate || fmt.thresholds)) || ((t || d) && fmt.persistentConn)) {
        fail('options conflicts in the list command');
      }
      const what = c ? 'connections' : t ? 'timeout' : d ? 'daemon' : 'services';
      return key ? { cmd: 'list', what, key, format: fmt } : { cmd: 'list', what, format: fmt };
    }
    case 'set':
      return { cmd: 'set', tcp: timeouts![0], tcpfin: timeouts![1], udp: timeouts![2] };
    case 'zero':
      return key ? { cmd: 'zero', key } : { cmd: 'zero' };
    case 'save':
      return { cmd: 'save', format: fmt };
    case 'restore':
      return { cmd: 'restore' };
    default:
      return { cmd: 'flush' };
  }
}

/** Splits a command line on blanks (ipvsadm -R's reader has no quoting either); '#' starts a comment. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  for (const w of line.trim().split(/\s+/)) {
    if (w === '') continue;
    if (w.startsWith('#')) break;
    words.push(w);
  }
  return words;
}
