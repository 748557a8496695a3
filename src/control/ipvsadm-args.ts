// ipvsadm's command line, parsed into a typed command. The rules follow
// ipvsadm 1.31 (popt option table, the command/option legality table,
// defaults and messages); features tapvs does not have (persistence
// engines) are refused with a message saying so. IPv6 is read as ipvsadm
// reads it: "[2001:db8::1]:80" (or a bare address), -6 after -f, -M as a
// prefix length once the service is IPv6.
//
// Host and service names are resolved where ipvsadm resolves them, in the
// user's process: `tapvs ipvsadm` looks them up (ipvsadm-names.ts says
// what, cli/ipvsadm-resolve.ts how) and hands the answers in as a
// NameLookup, so this parser never resolves anything itself and the
// director never waits on a resolver. Without a NameLookup (the config
// file, a request that carries no answers) names are refused, saying why.
import { ipToString, isIp, parseIp } from '../wire/addr.js';
import { ip6ToString, parseIp6 } from '../wire/addr6.js';
import { FWD_DR, FWD_MASQ, FWD_TUN, TUN_F_CSUM, TUN_F_NOCSUM, TUN_F_REMCSUM, TUN_IPIP, TUN_NAMES, type Fwd, type TunType } from '../model/dest.js';
import type { SyncDaemonSpec } from '../model/ha.js';
import { AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../model/proto.js';
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
  /** IPv4: the VIP; 0 for IPv6 and fwmark services. */
  addr: number;
  port: number;
  fwmark: number;
  /** AF_INET6 for an IPv6 service (its VIP in addr6) or an IPv6 fwmark service (-f N -6); absent: IPv4. */
  af?: number;
  addr6?: Uint32Array;
}

/** ipvsadm's message for -6 without a -f before it (its text ends in a newline of its own, so ipvsadm prints a blank line after it). */
export const SIX_BEFORE_F = '-6 used before -f';

/** Is this the key of an IPv6 service? */
export const isV6Key = (k: ServiceKey): boolean => k.af === AF_INET6;

/** Every attribute of a virtual service as one -A/-E line sets it (ip_vs_service_user). */
export interface ServiceAttrs {
  scheduler: string;
  flags: SchedFlags;
  /** Persistence timeout in seconds; 0 = not persistent. */
  persistent: number;
  netmask: number;
  onePacket: boolean;
  /** IPv6 services: the persistence prefix length (-M as a number; default 128). */
  prefix6?: number;
}

/** Every attribute of a real server as one -a/-e line sets it (ip_vs_dest_user). */
export interface DestAttrs {
  addr: number;
  /** An IPv6 real server (then addr is 0). */
  addr6?: Uint32Array;
  port: number;
  fwd: Fwd;
  weight: number;
  uThreshold: number;
  lThreshold: number;
  /** --tun-type (TUN_IPIP when not given), --tun-port (GUE), the checksum flag (--tun-nocsum/--tun-csum/--tun-remcsum). */
  tunType?: TunType;
  tunPort?: number;
  tunFlags?: number;
}

/**
 * ipvsadm 1.31's tunnel_types_v_options: per tunnel type, for --tun-port,
 * --tun-nocsum, --tun-csum, --tun-remcsum: '+' needed, 'x' illegal, '1' at
 * most one of them.
 */
const TUN_OPTS: readonly Opt[] = ['tun-port', 'tun-nocsum', 'tun-csum', 'tun-remcsum'];
const TUN_RULES: readonly string[] = ['xxxx', '+111', 'x11x'];

function tunnelOptCheck(type: TunType, seen: ReadonlySet<Opt>): void {
  const rule = TUN_RULES[type]!;
  const name = TUN_NAMES[type]!;
  let first: Opt | undefined;
  TUN_OPTS.forEach((o, j) => {
    const r = rule[j];
    if (!seen.has(o)) {
      if (r === '+') fail(`You need to supply the '${o}' option for the '${name}' tunnel type`);
      return;
    }
    if (r === 'x') fail(`Illegal '${o}' option with the '${name}' tunnel type`);
    if (r === '1') {
      if (first) fail(`The option '${o}' conflicts with the '${first}' option in the '${name}' tunnel type`);
      first = o;
    }
  });
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
  | { cmd: 'delete-server'; key: ServiceKey; dest: { addr: number; port: number; addr6?: Uint32Array } }
  | { cmd: 'list'; what: 'services' | 'connections' | 'timeout' | 'daemon'; key?: ServiceKey; format: ListFormat }
  | { cmd: 'set'; tcp: number; tcpfin: number; udp: number }
  | { cmd: 'zero'; key?: ServiceKey }
  | { cmd: 'save'; format: ListFormat }
  /** `compat`: tapvs's --compat, applying line by line as ipvsadm -R does. */
  | { cmd: 'restore'; compat: boolean }
  /** --start-daemon master|backup with its daemon options (unset ones: the kernel's defaults), --stop-daemon. */
  | { cmd: 'start-daemon'; daemon: SyncDaemonSpec }
  | { cmd: 'stop-daemon'; state: 'master' | 'backup' }
  | { cmd: 'help' }
  | { cmd: 'version' };

export type CommandName = IpvsadmCommand['cmd'];

/**
 * A refused command line. `code` is ipvsadm's exit status for it: 2 for what
 * its own checks refuse (`fail(2, ...)`), 255 for what popt refuses (an
 * unknown option, a missing argument; main returns -1). `tryHelp`: ipvsadm
 * prints only its "Try ... -h" line (the line does not start with a command).
 */
export type ParseArgsResult =
  | { ok: true; command: IpvsadmCommand }
  | { ok: false; error: string; code: 2 | 255; tryHelp?: boolean };

// ---------------------------------------------------------------- numbers and addresses

/** A decimal number within [min, max] (strict: digits only), or null. The config file's numbers. */
export function parseNumber(s: string, min: number, max: number): number | null {
  if (!/^[0-9]+$/.test(s)) return null;
  const n = Number(s);
  return n >= min && n <= max ? n : null;
}

/**
 * A number as ipvsadm's string_to_number reads it: strtol in base 10, so
 * leading blanks and a sign are allowed, nothing may follow; within [min, max].
 */
export function ipvsadmNumber(s: string, min: number, max: number): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(s);
  if (!m) return null;
  const n = Number(m[2]) * (m[1] === '-' ? -1 : 1);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : null;
}

/** Strict dotted-quad IPv4 (four decimal parts, no leading zeros) to uint32, or null. */
export function parseIpv4(s: string): number | null {
  return isIp(s) ? parseIp(s) : null;
}

export const formatIpv4 = ipToString;

/**
 * An IPv4 address as inet_aton(3) reads it, which ipvsadm uses for -t, -u,
 * -r and -M: one to four parts, each decimal, octal (leading 0) or hex (0x),
 * the last filling the remaining bytes ("10.1" is 10.0.0.1, "24" is 0.0.0.24).
 */
export function inetAton(s: string): number | null {
  const parts = s.split('.');
  if (parts.length > 4) return null;
  const vals: number[] = [];
  for (const p of parts) {
    let v: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(p)) v = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]*$/.test(p)) v = parseInt(p, 8);
    else if (/^[1-9][0-9]*$/.test(p)) v = parseInt(p, 10);
    else return null;
    vals.push(v);
  }
  const last = vals.pop()!;
  if (vals.some((v) => v > 255)) return null;
  const lastMax = 2 ** (8 * (4 - vals.length)) - 1;
  if (last > lastMax) return null;
  let a = 0;
  vals.forEach((v, i) => { a += v * 2 ** (8 * (3 - i)); });
  return (a + last) >>> 0;
}

/** A contiguous IPv4 netmask in dotted form, or null. */
export function parseNetmask(s: string): number | null {
  const m = parseIpv4(s);
  if (m === null) return null;
  const inv = ~m >>> 0;
  return (inv & (inv + 1)) === 0 ? m : null; // inverse must be 2^k - 1
}

/** The option that names a service of this protocol, as ipvsadm -S writes it (option_from_protocol). */
export function serviceOption(proto: number): '-t' | '-u' | '--sctp-service' {
  return proto === IPPROTO_UDP ? '-u' : proto === IPPROTO_SCTP ? '--sctp-service' : '-t';
}

export function formatServiceKey(k: ServiceKey): string {
  if (k.fwmark) return isV6Key(k) ? `-f ${k.fwmark} -6` : `-f ${k.fwmark}`;
  return `${serviceOption(k.proto)} ${formatAddrPort(k.addr, k.addr6, k.port)}`;
}

/** An address as ipvsadm -n prints it: dotted IPv4, or IPv6 as inet_ntop gives it. */
export function formatAddr(addr: number, addr6?: Uint32Array): string {
  return addr6 ? ip6ToString(addr6) : formatIpv4(addr);
}

/** addr:port as ipvsadm prints it (addrport_to_anyname): "10.0.0.1:80", "[2001:db8::1]:80". */
export function formatAddrPort(addr: number, addr6: Uint32Array | undefined, port: number): string {
  return addr6 ? `[${ip6ToString(addr6)}]:${port}` : `${formatIpv4(addr)}:${port}`;
}

/** An IPv6 address as inet_pton(AF_INET6) reads it (no blanks, no zone id), or null. */
export function inetPton6(s: string): Uint32Array | null {
  if (s !== s.trim() || s === '' || !/^[0-9A-Fa-f:.]+$/.test(s)) return null;
  try {
    return parseIp6(s);
  } catch {
    return null;
  }
}

const looksLikeName = (s: string): boolean => /[A-Za-z_]/.test(s) && !/^(0[xX][0-9a-fA-F]*|[0-9.])*$/.test(s);

/**
 * Answers to the lookups ipvsadm makes while it parses (host_to_addr and
 * service_to_port), given by whoever resolved them beforehand. null: the
 * name did not resolve.
 */
export interface NameLookup {
  /** gethostbyname: the host's first IPv4 address. */
  host(name: string): number | null;
  /** getservbyname under "tcp" or "udp" (ipvsadm asks for no other protocol). */
  service(name: string, proto: 'tcp' | 'udp'): number | null;
}

/** The protocol ipvsadm's service_to_port looks a port name up under; null: it would not look (SCTP, no service yet). */
export function lookupProtoName(proto: number): 'tcp' | 'udp' | null {
  return proto === IPPROTO_TCP ? 'tcp' : proto === IPPROTO_UDP ? 'udp' : null;
}

/**
 * Is this text one that gethostbyname would send to a resolver? glibc
 * answers digits-and-dots and anything with a colon (a failed numeric IPv6
 * form here) itself, without a lookup; so do we.
 */
const resolvableHost = (h: string): boolean => h !== '' && !/^[0-9.]+$/.test(h) && !h.includes(':');

/**
 * "addr[:port]" as ipvsadm's parse_service reads it: "[2001:db8::1]:80"
 * (the port is then required) or a bare IPv6 address (inet_pton: IPv6 is
 * numeric only, as in ipvsadm), else IPv4 as inet_aton reads it or a host
 * name (its first IPv4 address), then the port as a number or a service
 * name under `proto` (ipvsadm's svc->protocol so far: tcp or udp, nothing
 * for SCTP). Names are taken from `names`; without it they are refused
 * with a word on why.
 */
function parseAddrPort(
  s: string, what: string, proto: number, names?: NameLookup,
): { addr: number; addr6?: Uint32Array; port: number | null } | string {
  const illegal = `illegal ${what} address[:port] specified`;
  if (/^[0-9]+$/.test(s)) return illegal; // str_is_digit: a bare number is not an address
  const portOf = (text: string): number | string => {
    const n = ipvsadmNumber(text, 0, 65535);
    if (n !== null) return n;
    if (!names) return looksLikeName(text) ? `${illegal} ('${text}' is a service name; tapvs takes numeric ports only)` : illegal;
    const p = lookupProtoName(proto);
    const byName = p ? names.service(text, p) : null;
    return byName ?? illegal;
  };
  let rest = s;
  let bracketPort: string | null = null;
  if (s.startsWith('[')) {
    // "[addr]" must be followed by ':' (and the port); the inside is then read as below, without that port
    const close = s.indexOf(']');
    if (close < 0 || s[close + 1] !== ':') return illegal;
    rest = s.slice(1, close);
    bracketPort = s.slice(close + 2);
  }
  const a6 = inetPton6(rest);
  if (a6) {
    if (bracketPort === null) return { addr: 0, addr6: a6, port: null };
    const port = portOf(bracketPort);
    return typeof port === 'string' ? port : { addr: 0, addr6: a6, port };
  }
  // ipvsadm looks for the port within the brackets only: "[10.0.0.1]:80" is the address alone
  const colon = rest.lastIndexOf(':');
  const host = colon >= 0 ? rest.slice(0, colon) : rest;
  const portText = colon >= 0 ? rest.slice(colon + 1) : null;
  let addr = inetAton(host);
  if (addr === null) {
    if (!names) {
      if (looksLikeName(host) && !host.includes(':')) return `${illegal} ('${host}' is a host name; tapvs takes numeric addresses only)`;
      return illegal;
    }
    addr = resolvableHost(host) ? names.host(host) : null;
    if (addr === null) return illegal;
  }
  if (portText === null) return { addr, port: null };
  const port = portOf(portText);
  return typeof port === 'string' ? port : { addr, port };
}

// ---------------------------------------------------------------- option table

// Option names, in ipvsadm's order (its error messages name them this way).
const OPTS = [
  'numeric', 'connection', 'service-address', 'scheduler', 'persistent', 'netmask', 'real-server',
  'forwarding-method', 'weight', 'u-threshold', 'l-threshold', 'mcast-interface', 'timeout', 'daemon',
  'stats', 'rate', 'thresholds', 'persistent-conn', 'nosort', 'syncid', 'exact', 'ops', 'pe', 'sched-flags',
  'mcast-group', 'mcast-port', 'mcast-ttl', 'sync-maxlen', 'tun-info', 'tun-type', 'tun-port', 'tun-nocsum',
  'tun-csum', 'tun-remcsum',
] as const;
type Opt = (typeof OPTS)[number];

// ipvsadm's commands_v_options, one string per command in OPTS order:
// '+' required, 'x' illegal, '1' at most one of these, ' ' allowed.
const LEGALITY: Record<string, string> = {
  'add-service':    'xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx',
  'edit-service':   'xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx',
  'delete-service': 'xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  flush:            'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  list:             ' 11xxxxxxxxx11       xxxxxxx xxxxx',
  'add-server':     'xx+xxx+    xxxxxxxxxxxxxxxxxx     ',
  'delete-server':  'xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'edit-server':    'xx+xxx+    xxxxxxxxxxxxxxxxxx     ',
  set:              'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'start-daemon':   'xxxxxxxxxxx xxxxxxx xxxx    xxxxxx',
  'stop-daemon':    'xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx',
  restore:          'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  save:             ' xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  zero:             'xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
};

interface OptionDef {
  long: string;
  short?: string;
  arg: 'none' | 'required' | 'optional';
  /** A command, or an option (by legality-table name). */
  command?: CommandName | 'start-daemon' | 'stop-daemon';
  opt?: Opt;
  /** tapvs refuses it, with this reason (where ipvsadm would act on it). */
  unsupported?: string;
  /** tapvs's own (ipvsadm has no such option). */
  tapvs?: boolean;
}

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
  { long: 'sctp-service', arg: 'required', opt: 'service-address' },
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
  { long: 'mcast-interface', arg: 'required', opt: 'mcast-interface' },
  { long: 'syncid', arg: 'required', opt: 'syncid' },
  { long: 'timeout', arg: 'none', opt: 'timeout' },
  { long: 'daemon', arg: 'none', opt: 'daemon' },
  { long: 'stats', arg: 'none', opt: 'stats' },
  { long: 'rate', arg: 'none', opt: 'rate' },
  { long: 'thresholds', arg: 'none', opt: 'thresholds' },
  { long: 'persistent-conn', arg: 'none', opt: 'persistent-conn' },
  { long: 'nosort', arg: 'none', opt: 'nosort' },
  { long: 'sort', arg: 'none' }, // the default; accepted and ignored, as ipvsadm
  { long: 'exact', short: 'X', arg: 'none', opt: 'exact' },
  { long: 'ipv6', short: '6', arg: 'none' },
  { long: 'ops', short: 'o', arg: 'none', opt: 'ops' },
  { long: 'pe', arg: 'required', opt: 'pe', unsupported: 'persistence engines (--pe) are not supported by tapvs' },
  { long: 'sched-flags', short: 'b', arg: 'required', opt: 'sched-flags' },
  { long: 'mcast-group', arg: 'required', opt: 'mcast-group' },
  { long: 'mcast-port', arg: 'required', opt: 'mcast-port' },
  { long: 'mcast-ttl', arg: 'required', opt: 'mcast-ttl' },
  { long: 'sync-maxlen', arg: 'required', opt: 'sync-maxlen' },
  { long: 'tun-info', arg: 'none', opt: 'tun-info' },
  { long: 'tun-type', arg: 'required', opt: 'tun-type' },
  { long: 'tun-port', arg: 'required', opt: 'tun-port' },
  { long: 'tun-nocsum', arg: 'none', opt: 'tun-nocsum' },
  { long: 'tun-csum', arg: 'none', opt: 'tun-csum' },
  { long: 'tun-remcsum', arg: 'none', opt: 'tun-remcsum' },
  // tapvs's own: -R applied line by line, as ipvsadm does, instead of all or nothing
  { long: 'compat', arg: 'none', tapvs: true },
];
const BY_LONG = new Map(OPTION_DEFS.map((d) => [d.long, d]));
const BY_SHORT = new Map(OPTION_DEFS.filter((d) => d.short).map((d) => [d.short!, d]));

class ArgError extends Error {
  constructor(message: string, readonly code: 2 | 255 = 2, readonly tryHelp = false) {
    super(message);
  }
}
function fail(msg: string): never {
  throw new ArgError(msg);
}

interface Occurrence {
  def: OptionDef;
  /** As written, for messages ("-w", "--weight"). */
  flag: string;
  value: string | undefined;
}

/** What popt says about an argument it cannot take, at the place it stops. */
interface PoptError {
  /** The argument as written. */
  arg: string;
  message: 'unknown option' | 'missing argument' | 'option does not take an argument';
}

/**
 * Splits argv the way popt does: clustered short options, -xVALUE,
 * --long=VALUE, optional arguments, '--'. Stops at the first argument popt
 * would refuse and says which.
 */
function tokenize(argv: readonly string[]): { occ: Occurrence[]; positional: string[]; error?: PoptError } {
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
      if (!def) return { occ, positional, error: { arg: a, message: 'unknown option' } };
      let value: string | undefined;
      if (eq >= 0) {
        if (def.arg === 'none') return { occ, positional, error: { arg: a, message: 'option does not take an argument' } };
        value = a.slice(eq + 1);
      } else if (takesNext(i, def)) {
        if (i + 1 >= argv.length) return { occ, positional, error: { arg: a, message: 'missing argument' } };
        value = argv[++i];
      }
      occ.push({ def, flag: `--${name}`, value });
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const def = BY_SHORT.get(a[j]!);
        if (!def) return { occ, positional, error: { arg: a, message: 'unknown option' } };
        if (def.arg === 'none') {
          occ.push({ def, flag: `-${a[j]}`, value: undefined });
          continue;
        }
        const rest = a.slice(j + 1);
        let value: string | undefined;
        if (rest !== '') value = rest;
        else if (takesNext(i, def)) {
          if (i + 1 >= argv.length) return { occ, positional, error: { arg: a, message: 'missing argument' } };
          value = argv[++i];
        }
        occ.push({ def, flag: `-${a[j]}`, value });
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
  // strtok: empty pieces are skipped; a text of commas only leaves a null flag, which ipvsadm
  // would hand to strcmp: tapvs calls it invalid
  const flags = text.split(',').filter((x) => x !== '');
  if (flags.length === 0) fail(`invalid scheduler flag \`${text}'`);
  for (const flag of flags) {
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

/** ipvsadm's generic_opt_check: which options each command needs, allows, or allows only one of. */
function checkLegality(cmd: string, seen: ReadonlySet<Opt>): void {
  const rule = LEGALITY[cmd]!;
  let first: Opt | undefined;
  OPTS.forEach((o, j) => {
    const r = rule[j];
    if (!seen.has(o)) {
      if (r === '+') fail(`You need to supply the '${o}' option for the '${cmd}' command`);
      return;
    }
    if (r === 'x') fail(`Illegal '${o}' option with the '${cmd}' command`);
    if (r === '1') {
      if (first) fail(`The option '${o}' conflicts with the '${first}' option in the '${cmd}' command`);
      first = o;
    }
  });
}

/**
 * Parses one ipvsadm command line (without the program name; a leading
 * "ipvsadm" word is dropped). An empty argv lists the table, as ipvsadm does.
 * `names`: the answers to its host and service name lookups.
 */
export function parseIpvsadmArgs(argv: readonly string[], names?: NameLookup): ParseArgsResult {
  try {
    return { ok: true, command: parseOrThrow(argv[0] === 'ipvsadm' ? argv.slice(1) : [...argv], names) };
  } catch (e) {
    if (e instanceof ArgError) {
      const r: ParseArgsResult = { ok: false, error: e.message, code: e.code };
      if (e.tryHelp) r.tryHelp = true;
      return r;
    }
    throw e;
  }
}

/** The line ipvsadm prints for a command line that does not start with a command (tryhelp_exit). */
export function tryHelpLine(program: string): string {
  return `Try \`${program} -h' or '${program} --help' for more information.`;
}

function parseOrThrow(argv: string[], names: NameLookup | undefined): IpvsadmCommand {
  const fmt: ListFormat = {
    numeric: false, stats: false, rate: false, thresholds: false,
    persistentConn: false, exact: false, nosort: false, tunInfo: false,
  };
  if (argv.length === 0) return { cmd: 'list', what: 'services', format: fmt };
  const { occ, positional, error } = tokenize(argv);
  const poptFail = (): never => {
    throw new ArgError(`${error!.arg}: ${error!.message}`, 255);
  };

  // the first option must be the command (parse_options' first poptGetNextOpt)
  const head = occ[0];
  if (!head || !head.def.command) throw new ArgError('the command line does not start with a command', 255, true);
  const command = head.def.command;
  if (command === 'help' || command === 'version') return { cmd: command };
  // --start-daemon / --stop-daemon take master or backup (ipvsadm checks it as it reads the command)
  let daemonState: 'master' | 'backup' = 'master';
  if (command === 'start-daemon' || command === 'stop-daemon') {
    const v = head.value;
    if (v === 'master' || v === 'backup') daemonState = v;
    else fail(command === 'start-daemon' ? 'illegal start-daemon parameter specified' : 'illegal start_daemon specified');
  }
  const daemon: Omit<SyncDaemonSpec, 'state'> = { mcastIfn: '' };

  const seen = new Set<Opt>();
  let key: ServiceKey = { proto: 0, addr: 0, port: 0, fwmark: 0 };
  let scheduler = '';
  let persistent = 0;
  let netmask = 0xffffffff;
  let prefix6 = 128;
  let onePacket = false;
  let schedFlagsText: string | undefined;
  let dest: { addr: number; addr6?: Uint32Array; port: number } | undefined;
  let fwd: Fwd = FWD_DR;
  let tunType: TunType = TUN_IPIP;
  let tunPort = 0;
  let tunFlags = TUN_F_NOCSUM;
  let weight = 1;
  let uThreshold = 0;
  let lThreshold = 0;
  let compat = false;
  // ipvsadm's ce->svc.protocol, which a -r port name is looked up under: -f sets it to TCP ("a sane value")
  let lookupProto = 0;

  for (const { def, flag, value } of occ.slice(1)) {
    if (def.command) fail(`invalid option \`${flag}'`);
    if (def.tapvs) {
      if (def.long === 'compat' && command !== 'restore') fail(`--compat belongs to -R only (tapvs's line-by-line restore)`);
      compat = true;
      continue;
    }
    if (def.long === 'ipv6') {
      // not an option of the legality table: it turns the fwmark service read so far into an IPv6 one
      if (!key.fwmark) fail(SIX_BEFORE_F);
      key = { ...key, af: AF_INET6 };
      prefix6 = 128;
      continue;
    }
    if (!def.opt) continue; // --sort
    if (seen.has(def.opt)) fail(`multiple '${def.opt}' options specified`);
    seen.add(def.opt);
    if (def.unsupported) fail(def.unsupported);
    const v = value ?? '';
    switch (def.long) {
      case 'tcp-service':
      case 'udp-service':
      case 'sctp-service': {
        const proto = def.long === 'tcp-service' ? IPPROTO_TCP : def.long === 'udp-service' ? IPPROTO_UDP : IPPROTO_SCTP;
        lookupProto = proto;
        const r = parseAddrPort(v, 'virtual server', proto, names);
        if (typeof r === 'string') fail(r);
        key = { proto, addr: r.addr, port: r.port ?? 0, fwmark: 0 };
        if (r.addr6) {
          key.af = AF_INET6;
          key.addr6 = r.addr6;
          prefix6 = 128; // parse_service sets the netmask of an IPv6 service to 128, whatever -M said before
        }
        break;
      }
      case 'fwmark-service': {
        const m = ipvsadmNumber(v, 1, 0xffffffff);
        if (m === null) fail(`invalid fwmark value \`${v}' specified`);
        key = { proto: 0, addr: 0, port: 0, fwmark: m };
        lookupProto = IPPROTO_TCP;
        break;
      }
      case 'scheduler':
        scheduler = v.slice(0, 15); // IP_VS_SCHEDNAME_MAXLEN - 1
        break;
      case 'persistent':
        if (value === undefined) persistent = DEFAULT_PERSISTENT_TIMEOUT;
        else {
          const t = ipvsadmNumber(v, 1, MAX_TIMEOUT);
          if (t === null) fail(`invalid timeout value \`${v}' specified`);
          persistent = t;
        }
        break;
      case 'netmask': {
        if (isV6Key(key)) {
          // ipvsadm reads an IPv6 service's -M with atoi: leading digits, 1..128
          const m = /^[ \t\n\v\f\r]*([+-]?[0-9]+)/.exec(v);
          const n = m ? Number(m[1]) : 0;
          if (!(n >= 1 && n <= 128)) fail('illegal ipv6 netmask specified');
          prefix6 = n;
          break;
        }
        const m = inetAton(v);
        if (m === null) fail('illegal virtual server persistent mask specified');
        netmask = m;
        break;
      }
      case 'real-server': {
        const r = parseAddrPort(v, 'real server', lookupProto, names);
        if (typeof r === 'string') fail(r);
        // a port left out is the service's (as the line has set it so far)
        dest = { addr: r.addr, port: r.port ?? key.port };
        if (r.addr6) dest.addr6 = r.addr6;
        break;
      }
      case 'masquerading': fwd = FWD_MASQ; break;
      case 'ipip': fwd = FWD_TUN; break;
      case 'gatewaying': fwd = FWD_DR; break;
      case 'weight': {
        const w = ipvsadmNumber(v, 0, 65535);
        if (w === null) fail('illegal weight specified');
        weight = w;
        break;
      }
      case 'u-threshold': {
        const x = ipvsadmNumber(v, 0, INT_MAX);
        if (x === null) fail('illegal u_threshold specified');
        uThreshold = x;
        break;
      }
      case 'l-threshold': {
        const y = ipvsadmNumber(v, 0, INT_MAX);
        if (y === null) fail('illegal l_threshold specified');
        lThreshold = y;
        break;
      }
      case 'ops': onePacket = true; break;
      case 'sched-flags': schedFlagsText = v.slice(0, 127); break;
      // the sync daemon's options, with ipvsadm 1.31's ranges and messages
      case 'mcast-interface': daemon.mcastIfn = v.slice(0, 15); break; // IP_VS_IFNAME_MAXLEN - 1
      case 'syncid': {
        const n = ipvsadmNumber(v, 0, 255);
        if (n === null) fail('illegal syncid specified');
        daemon.syncid = n;
        break;
      }
      case 'mcast-group': {
        if (v.includes(':')) {
          fail(isIPv6Multicast(v) ? `an IPv6 mcast-group is not supported by tapvs (it sends sync messages over IPv4): '${v}'` : `invalid IPv6 mcast-group \`${v}'`);
        }
        if (!isIp(v) || parseIp(v) >>> 28 !== 0xe) fail(`invalid IPv4 mcast-group \`${v}'`);
        daemon.mcastGroup = parseIp(v) >>> 0;
        break;
      }
      case 'mcast-port': {
        const n = ipvsadmNumber(v, 1, 65535);
        if (n === null) fail('illegal mcast-port specified');
        daemon.mcastPort = n;
        break;
      }
      case 'mcast-ttl': {
        const n = ipvsadmNumber(v, 1, 255);
        if (n === null) fail('illegal mcast-ttl specified');
        daemon.mcastTtl = n;
        break;
      }
      case 'sync-maxlen': {
        const n = ipvsadmNumber(v, 1, 65535 - 20 - 8);
        if (n === null) fail('illegal sync-maxlen specified');
        daemon.syncMaxlen = n;
        break;
      }
      case 'tun-type': {
        const t = TUN_NAMES.indexOf(v);
        if (t < 0) fail('illegal tunnel type specified');
        tunType = t as TunType;
        break;
      }
      case 'tun-port': {
        const n = ipvsadmNumber(v, 1, 65535);
        if (n === null) fail('illegal tunnel port specified');
        tunPort = n;
        break;
      }
      // the flags are ORed as ipvsadm does (nocsum is 0); the tunnel check allows one of them
      case 'tun-nocsum': break;
      case 'tun-csum': tunFlags |= TUN_F_CSUM; break;
      case 'tun-remcsum': tunFlags |= TUN_F_REMCSUM; break;
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
  // popt stopped here: what came before was handled (and may have failed first)
  if (error) poptFail();

  let timeouts: [number, number, number] | undefined;
  if (command === 'set') {
    if (positional.length < 3) fail('--set option requires 3 timeout values');
    timeouts = positional.slice(0, 3).map((t) => {
      const n = ipvsadmNumber(t, 0, MAX_TIMEOUT);
      if (n === null) fail(`invalid timeout value \`${t}' specified`);
      return n;
    }) as [number, number, number];
    positional.splice(0, 3);
  }
  if (positional.length > 0) fail(`unexpected argument ${positional[0]}`);

  const sched = scheduler || DEFAULT_SCHEDULER;
  const flags = schedFlagsText !== undefined
    ? parseSchedFlags(sched, schedFlagsText)
    : { shFallback: false, shPort: false, mhFallback: false, mhPort: false };

  checkLegality(command, seen);

  switch (command) {
    case 'add-service':
    case 'edit-service': {
      if (!key.fwmark && key.port === 0 && persistent === 0) fail('Zero port specified for non-persistent service');
      if (onePacket && !key.fwmark && key.proto !== IPPROTO_UDP) fail('One-Packet Scheduling is only for UDP virtual services');
      const svc: ServiceAttrs = { scheduler: sched, flags, persistent, netmask: persistent && !isV6Key(key) ? netmask : 0xffffffff, onePacket };
      if (isV6Key(key)) svc.prefix6 = persistent ? prefix6 : 128;
      return { cmd: command, key, svc };
    }
    case 'delete-service':
      return { cmd: command, key };
    case 'add-server':
    case 'edit-server': {
      let port = dest!.port;
      let portForced = false;
      // DR and TUN cannot change the port: ipvsadm uses the service port
      if (!key.fwmark && (fwd === FWD_DR || fwd === FWD_TUN) && port !== key.port) {
        portForced = true;
        port = key.port;
      }
      // tunnels alone may cross families (process_options); tapvs's rules then refuse that too
      if ((dest!.addr6 !== undefined) !== isV6Key(key) && fwd !== FWD_TUN) fail('Different address family is allowed only for tunneling servers');
      if (TUN_OPTS.some((o) => seen.has(o)) || seen.has('tun-type')) {
        if (fwd !== FWD_TUN) fail('Tunnel options conflict with forward method');
      }
      tunnelOptCheck(tunType, seen);
      const d: DestAttrs = { addr: dest!.addr, port, fwd, weight, uThreshold, lThreshold };
      // only when given: a plain -i is ipip with nothing more (as the kernel's defaults)
      if (fwd === FWD_TUN && seen.has('tun-type')) {
        d.tunType = tunType;
        d.tunPort = tunPort;
        d.tunFlags = tunFlags;
      }
      if (dest!.addr6) d.addr6 = dest!.addr6;
      return { cmd: command, key, portForced, dest: d };
    }
    case 'delete-server': {
      const d: { addr: number; port: number; addr6?: Uint32Array } = { addr: dest!.addr, port: dest!.port };
      if (dest!.addr6) d.addr6 = dest!.addr6;
      return { cmd: command, key, dest: d };
    }
    case 'list': {
      const c = seen.has('connection'), t = seen.has('timeout'), d = seen.has('daemon');
      if (((c || t || d) && (fmt.stats || fmt.rate || fmt.thresholds)) || ((t || d) && fmt.persistentConn)) {
        fail('options conflicts in the list command');
      }
      const what = c ? 'connections' : t ? 'timeout' : d ? 'daemon' : 'services';
      return seen.has('service-address') && !c ? { cmd: 'list', what, key, format: fmt } : { cmd: 'list', what, format: fmt };
    }
    case 'set':
      return { cmd: 'set', tcp: timeouts![0], tcpfin: timeouts![1], udp: timeouts![2] };
    case 'zero':
      return seen.has('service-address') ? { cmd: 'zero', key } : { cmd: 'zero' };
    case 'save':
      return { cmd: 'save', format: fmt };
    case 'restore':
      return { cmd: 'restore', compat };
    // ipvsadm's default --mcast-interface is eth0
    case 'start-daemon':
      return { cmd: 'start-daemon', daemon: { ...daemon, mcastIfn: daemon.mcastIfn || 'eth0', state: daemonState } };
    case 'stop-daemon':
      return { cmd: 'stop-daemon', state: daemonState };
    default:
      return { cmd: 'flush' };
  }
}

/** An IPv6 multicast address (ff00::/8) in text. */
function isIPv6Multicast(s: string): boolean {
  try {
    return parseIp6(s)[0]! >>> 24 === 0xff;
  } catch {
    return false;
  }
}

/**
 * Splits a -R line into words as ipvsadm's config_stream_read does: blanks
 * separate, no quoting, every "ipvsadm" word is dropped. Unlike ipvsadm
 * 1.31 (whose comment test never fires), '#' at a word's start comments out
 * the rest of the line.
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  for (const w of line.trim().split(/[ \t\r]+/)) {
    if (w === '') continue;
    if (w.startsWith('#')) break;
    if (w === 'ipvsadm') continue;
    words.push(w);
  }
  return words;
}
