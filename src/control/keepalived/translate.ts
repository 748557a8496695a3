// keepalived's model into tapvs's: virtual servers to services (a group to
// one service per address and port it names, or per fwmark), real servers
// to destinations, checkers to health checks, with keepalived's defaults and
// inheritance (checker, then real_server, then virtual_server, then the
// checker kind's default) applied here, in one place (check_data.c's rules).
import { readFileSync } from 'node:fs';
import { FWD_DR, FWD_MASQ, FWD_TUN, type DestSpec, type Fwd } from '../../model/dest.js';
import { IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../../model/proto.js';
import { AF_INET6 } from '../../model/proto.js';
import type { SchedFlags } from '../../model/service.js';
import { ip6ToString, parseIp6 } from '../../wire/addr6.js';
import type { HealthCheckConfig, HttpUrlCheck, PoolHealthConfig, ProbeOptions, ServiceConfig } from '../../model/config.js';
import { formatServiceKey, type ServiceKey } from '../ipvsadm-args.js';
import type { Diagnostics } from './interpret.js';
import type { Where } from './lexer.js';
import type { KaAddr, KaChecker, KaFwd, KaRealServer, KaVirtualServer, KeepalivedConf } from './model.js';

/** keepalived's defaults (check_data.c, check_api.c). */
export const KA_DEFAULTS = {
  delayLoopMs: 60_000,
  connectTimeoutMs: 5_000,
  /** BOOTSTRAP_DELAY: checkers start one second after keepalived. */
  startDelayMs: 1_000,
  persistenceTimeout: 360,
  scheduler: 'wlc',
} as const;

export interface Translated {
  services: ServiceConfig[];
  healthChecks: HealthCheckConfig[];
  timeouts?: { tcp?: number; tcpfin?: number; udp?: number };
  /** Where each service came from, for messages. */
  where: Map<ServiceConfig, Where>;
}

const ip4 = (a: KaAddr): number => a.text.split('.').reduce((n, b) => n * 256 + Number(b), 0) >>> 0;
/** An address as the director's types hold it: IPv4 in addr, IPv6 in addr6 (addr 0). */
const destAddr = (a: KaAddr): { addr: number; addr6?: Uint32Array } => (a.family === 6 ? { addr: 0, addr6: parseIp6(a.text) } : { addr: ip4(a) });
/** An address in one spelling, for duplicate checks. */
const canon = (a: KaAddr): string => (a.family === 6 ? ip6ToString(parseIp6(a.text)) : a.text);
const famOf = (k: ServiceKey): 4 | 6 => (k.af === AF_INET6 ? 6 : 4);

/**
 * The family of a fwmark virtual server (check_parser.c): ip_family, else
 * the first real server (then the sorry server) that is not tunnelled, else
 * the tunnelled ones' if they all agree, else IPv4.
 */
function fwmarkFamily(vs: KaVirtualServer): 4 | 6 {
  if (vs.family) return vs.family;
  const vsFwd = vs.fwd ?? 'NAT';
  const direct = vs.realServers.find((r) => (r.fwd ?? vsFwd) !== 'TUN');
  if (direct) return direct.addr.family;
  if (vs.sorry && (vs.sorry.fwd ?? vsFwd) !== 'TUN') return vs.sorry.addr.family;
  const all = [...(vs.sorry ? [vs.sorry.addr.family] : []), ...vs.realServers.map((r) => r.addr.family)];
  return all.length > 0 && all.every((f) => f === all[0]) ? all[0]! : 4;
}

/** keepalived skips a server of the other family; tapvs refuses the file (it forwards within one family, tunnels too). */
function familyMismatch(fam: 4 | 6, a: KaAddr, fwd: KaFwd, what: string): string | undefined {
  if (a.family === fam) return undefined;
  const v = (f: number): string => (f === 6 ? 'IPv6' : 'IPv4');
  return fwd === 'TUN'
    ? `${what} ${a.text}: an ${v(a.family)} ${what} of an ${v(fam)} service: tapvs tunnels within one address family`
    : `Address family of virtual server and ${what} ${a.text} don't match`;
}
const FWD: Record<KaFwd, Fwd> = { NAT: FWD_MASQ, DR: FWD_DR, TUN: FWD_TUN };

const KIND: Record<KaChecker['kind'], HealthCheckConfig['kind']> = {
  TCP_CHECK: 'tcp', HTTP_GET: 'http', SSL_GET: 'ssl', MISC_CHECK: 'misc', SMTP_CHECK: 'smtp',
  DNS_CHECK: 'dns', UDP_CHECK: 'udp', PING_CHECK: 'icmp', FILE_CHECK: 'file',
};
const DEFAULT_RETRY: Partial<Record<KaChecker['kind'], number>> = { MISC_CHECK: 0, DNS_CHECK: 3 };
/** delay_before_retry when nothing sets it; null: the checker's delay_loop. */
const DEFAULT_DBR: Partial<Record<KaChecker['kind'], number | null>> = { HTTP_GET: 3000, SSL_GET: 3000, DNS_CHECK: null };

/** uid/gid of a user (and group) from /etc/passwd and /etc/group; a message when there is none. */
export function resolveUser(u: { user: string; group?: string }, files = { passwd: '/etc/passwd', group: '/etc/group' }): { uid: number; gid: number } | string {
  const table = (p: string): string[][] => {
    try {
      return readFileSync(p, 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(':'));
    } catch {
      return [];
    }
  };
  const pw = table(files.passwd).find((f) => f[0] === u.user || (/^\d+$/.test(u.user) && f[2] === u.user));
  if (!pw) return `unknown user '${u.user}'`;
  let gid = Number(pw[3]);
  if (u.group !== undefined) {
    const gr = table(files.group).find((f) => f[0] === u.group || (/^\d+$/.test(u.group!) && f[2] === u.group));
    if (!gr) return `unknown group '${u.group}'`;
    gid = Number(gr[2]);
  }
  return { uid: Number(pw[2]), gid };
}

export function translate(conf: KeepalivedConf, diag: Diagnostics): Translated {
  const out: Translated = { services: [], healthChecks: [], where: new Map() };
  const err = (w: Where, message: string): void => void diag.errors.push({ file: w.file, line: w.line, message });
  const warn = (w: Where, message: string): void => void diag.warnings.push({ file: w.file, line: w.line, message });
  const g = conf.global;
  if (g.lvsTimeouts) out.timeouts = g.lvsTimeouts;
  let scriptUser: { uid: number; gid: number } | undefined;
  if (g.scriptUser) {
    const r = resolveUser(g.scriptUser);
    if (typeof r === 'string') diag.errors.push({ file: '', line: 0, message: `global_defs script_user: ${r}` });
    else scriptUser = r;
  }
  const seen = new Map<string, Where>();
  /** Servers whose family error was given once (a group's services share them). */
  const reported = new Set<Where>();

  for (const vs of conf.virtualServers) {
    const keys = serviceKeys(vs, conf, err, warn);
    if (keys.length === 0) continue;
    if (vs.realServers.length === 0) {
      err(vs, `Virtual server ${vsName(vs)} has no real servers`);
      continue;
    }
    const scheduler = vs.scheduler ?? (warn(vs, `Virtual server ${vsName(vs)}: no scheduler set, setting default '${KA_DEFAULTS.scheduler}'`), KA_DEFAULTS.scheduler);
    const flags = schedFlags(vs, scheduler, err);
    const vsFwd = vs.fwd ?? (warn(vs, `Virtual server ${vsName(vs)}: no forwarding method set, setting default NAT`), 'NAT' as KaFwd);
    const pool: PoolHealthConfig = {
      quorum: vs.quorum ?? 1, hysteresis: vs.hysteresis ?? 0, omega: vs.omega, sorryInhibit: vs.sorry?.inhibit ?? false,
    };
    if (scriptUser) pool.scriptUser = scriptUser;
    if (vs.quorumUp) pool.quorumUp = scriptArgv(vs.quorumUp, vs, 'quorum_up', err);
    if (vs.quorumDown) pool.quorumDown = scriptArgv(vs.quorumDown, vs, 'quorum_down', err);
    const totalWeight = vs.realServers.reduce((n, r) => n + (r.weight ?? vs.weight ?? 1), 0);
    if (pool.quorum > totalWeight) warn(vs, `Warning - quorum ${pool.quorum} for ${vsName(vs)} exceeds total weight of real servers ${totalWeight}, reducing quorum to ${totalWeight}`);

    for (const key of keys) {
      const text = formatServiceKey(key);
      const prev = seen.get(text);
      if (prev) {
        err(vs, `virtual server ${text} is already defined (${prev.file}:${prev.line})`);
        continue;
      }
      seen.set(text, vs);
      const fam = famOf(key);
      let persistent = vs.persistenceTimeout ?? 0;
      if (!persistent && !key.fwmark && key.port === 0) {
        warn(vs, `Virtual server ${vsName(vs)}: zero port only valid for persistent services - setting`);
        persistent = KA_DEFAULTS.persistenceTimeout;
      }
      let onePacket = vs.ops;
      if (onePacket && !key.fwmark && key.proto !== IPPROTO_UDP) {
        warn(vs, `Virtual server ${vsName(vs)}: one packet scheduling requires UDP - resetting`);
        onePacket = false;
      }
      const svc: ServiceConfig = {
        proto: key.fwmark ? 0 : key.proto, addr: key.addr, port: key.port, fwmark: key.fwmark,
        scheduler, flags, persistent, netmask: persistent && fam === 4 ? vs.persistenceGranularity ?? 0xffffffff : 0xffffffff,
        onePacket, dests: [], line: vs.line, pool,
      };
      if (fam === 6) {
        svc.af = AF_INET6;
        if (key.addr6) svc.addr6 = key.addr6;
        svc.prefix6 = vs.persistencePrefix6 ?? 128;
        if (vs.persistenceGranularity !== undefined) err(vs, `Virtual server ${vsName(vs)}: an IPv4 persistence_granularity for the IPv6 service ${text} (IPv6 takes a prefix length, 1-128)`);
      } else if (vs.persistencePrefix6 !== undefined) {
        err(vs, `Virtual server ${vsName(vs)}: a prefix-length persistence_granularity for the IPv4 service ${text} (IPv4 takes a netmask)`);
      }
      const destSeen = new Set<string>();
      for (const rs of vs.realServers) {
        const fwdName = rs.fwd ?? vsFwd;
        const bad = familyMismatch(fam, rs.addr, fwdName, 'real server');
        if (bad) {
          if (!reported.has(rs)) err(rs, bad);
          reported.add(rs);
          continue;
        }
        const fwd = FWD[fwdName];
        const a = destAddr(rs.addr);
        const port = destPort(key, fwd, rs.port, rs, 'real server', warn);
        const dk = `${canon(rs.addr)}:${port}`;
        if (destSeen.has(dk)) {
          err(rs, `VS ${vsName(vs)}: real server ${rs.addr.text}:${port} is duplicated`);
          continue;
        }
        destSeen.add(dk);
        const spec: DestSpec = { ...a, port, weight: rs.weight ?? vs.weight ?? 1, fwd, uThreshold: rs.uthreshold ?? 0, lThreshold: rs.lthreshold ?? 0 };
        // the tunnel of the real server's lvs_method, else the virtual server's lb_kind
        const tun = fwd === FWD_TUN ? (rs.fwd !== undefined ? rs.tun : vs.tun) : undefined;
        if (tun) Object.assign(spec, { tunType: tun.type, tunPort: tun.port, tunFlags: tun.flags });
        if (spec.lThreshold! > spec.uThreshold! && spec.uThreshold) err(rs, `real server ${rs.addr.text}: lthreshold ${spec.lThreshold} is above uthreshold ${spec.uThreshold}`);
        svc.dests.push(spec);
        checks(vs, rs, text, { ...a, port }, conf, out.healthChecks, err, scriptUser);
      }
      if (vs.sorry) {
        const s = vs.sorry;
        const bad = familyMismatch(fam, s.addr, s.fwd ?? vsFwd, 'sorry server');
        if (bad) {
          if (!reported.has(s)) err(s, bad);
          reported.add(s);
        } else {
          const fwd = FWD[s.fwd ?? vsFwd];
          const port = destPort(key, fwd, s.port, s, 'sorry server', warn);
          if (destSeen.has(`${canon(s.addr)}:${port}`)) err(s, `sorry server ${s.addr.text}:${port} is also a real server of ${text}: tapvs keeps the two apart`);
          else svc.sorry = { ...destAddr(s.addr), port, weight: 1, fwd, uThreshold: 0, lThreshold: 0 };
        }
      }
      out.services.push(svc);
      out.where.set(svc, vs);
    }
  }
  return out;
}

const vsName = (vs: KaVirtualServer): string =>
  vs.key.kind === 'addr' ? `[${vs.key.addr.text}]:${vs.protocol?.toLowerCase() ?? 'none'}:${vs.key.port}`
    : vs.key.kind === 'fwmark' ? `FWM ${vs.key.mark}` : `group ${vs.key.name}`;

function serviceKeys(vs: KaVirtualServer, conf: KeepalivedConf, err: (w: Where, m: string) => void, warn: (w: Where, m: string) => void): ServiceKey[] {
  const proto = (): number => {
    if (vs.protocol) return vs.protocol === 'TCP' ? IPPROTO_TCP : vs.protocol === 'SCTP' ? IPPROTO_SCTP : IPPROTO_UDP;
    warn(vs, `Virtual server ${vsName(vs)}: no protocol set - defaulting to UDP`);
    return IPPROTO_UDP;
  };
  const k = vs.key;
  if (k.kind === 'fwmark') {
    if (vs.protocol) warn(vs, `Warning: Virtual server ${vsName(vs)}: protocol specified for fwmark - protocol will be ignored`);
    if (k.mark === 0) {
      err(vs, 'virtual server fwmark 0: a fwmark service needs a mark of at least 1');
      return [];
    }
    return [fwmarkFamily(vs) === 6 ? { proto: 0, addr: 0, port: 0, fwmark: k.mark, af: AF_INET6 } : { proto: 0, addr: 0, port: 0, fwmark: k.mark }];
  }
  if (k.kind === 'addr') {
    if (k.addr.family === 6) return [{ proto: proto(), addr: 0, port: k.port, fwmark: 0, af: AF_INET6, addr6: parseIp6(k.addr.text) }];
    return [{ proto: proto(), addr: ip4(k.addr), port: k.port, fwmark: 0 }];
  }
  const grp = conf.groups.find((x) => x.name === k.name);
  if (!grp) {
    err(vs, `virtual server group ${k.name} is not defined`);
    return [];
  }
  const keys: ServiceKey[] = [];
  const p = grp.entries.some((e) => e.kind === 'addr') ? proto() : 0;
  for (const e of grp.entries) {
    if (e.kind === 'fwmark') {
      if (e.mark === 0) err(e, 'fwmark 0 in a virtual_server_group: a fwmark service needs a mark of at least 1');
      else if ((e.family ?? fwmarkFamily(vs)) === 6) keys.push({ proto: 0, addr: 0, port: 0, fwmark: e.mark, af: AF_INET6 });
      else keys.push({ proto: 0, addr: 0, port: 0, fwmark: e.mark });
      continue;
    }
    if (e.first.family === 6) {
      const w0 = parseIp6(e.first.text);
      const w1 = parseIp6(e.last.text);
      const big = (w: Uint32Array): bigint => w.reduce((n, x) => (n << 32n) | BigInt(x), 0n);
      const span = big(w1) - big(w0);
      if (span < 0n) err(e, `Address range end is less than address range start - ${e.first.text}-${e.last.text}`);
      else if (span > 255n) err(e, `address range ${e.first.text}-${e.last.text} spans more than 256 addresses`);
      else {
        for (let i = 0; i <= Number(span); i++) {
          const x = Uint32Array.from(w0);
          x[3] = (x[3]! + i) >>> 0;
          if (x[3]! < w0[3]!) x[2] = (x[2]! + 1) >>> 0; // carry (a range across a 32-bit word; the span is at most 255)
          keys.push({ proto: p, addr: 0, port: e.port, fwmark: 0, af: AF_INET6, addr6: x });
        }
      }
      continue;
    }
    const a = ip4(e.first);
    const b = ip4(e.last);
    if (b < a) {
      err(e, `Address range end is less than address range start - ${e.first.text}-${e.last.text}`);
      continue;
    }
    if (b - a > 255) {
      err(e, `address range ${e.first.text}-${e.last.text} spans more than 256 addresses`);
      continue;
    }
    for (let x = a; x <= b; x++) keys.push({ proto: p, addr: x >>> 0, port: e.port, fwmark: 0 });
  }
  return keys;
}

function schedFlags(vs: KaVirtualServer, sched: string, err: (w: Where, m: string) => void): SchedFlags {
  const f: SchedFlags = { shFallback: false, shPort: false, mhFallback: false, mhPort: false };
  for (const fl of vs.schedFlags) {
    const fam = fl.startsWith('sh-') ? 'sh' : fl.startsWith('mh-') ? 'mh' : sched;
    if (fl.startsWith('sh-') || fl.startsWith('mh-')) {
      if (sched !== fam) {
        err(vs, `${fl} only applies to the ${fam} scheduler`);
        continue;
      }
    } else if (fl === 'flag-3' || (sched !== 'sh' && sched !== 'mh')) {
      err(vs, `${fl} means nothing to the '${sched}' scheduler in tapvs`);
      continue;
    }
    const fallback = fl.endsWith('fallback') || fl === 'flag-1';
    if (sched === 'sh') fallback ? (f.shFallback = true) : (f.shPort = true);
    else fallback ? (f.mhFallback = true) : (f.mhPort = true);
  }
  return f;
}

/** keepalived's port rules: NAT keeps its own (default the service's); DR/TUN use the service's; fwmark DR/TUN use 0. */
function destPort(key: ServiceKey, fwd: Fwd, given: number | undefined, w: Where, what: string, warn: (w: Where, m: string) => void): number {
  if (fwd === FWD_MASQ) return given ?? (key.fwmark ? 0 : key.port);
  if (key.fwmark) {
    if (given) warn(w, `WARNING - fwmark virtual server, ${what} has port specified - clearing`);
    return 0;
  }
  if (given !== undefined && given !== key.port) warn(w, `WARNING - virtual server and ${what} ports don't match - resetting`);
  return key.port;
}

function scriptArgv(s: { argv: string[]; user?: { user: string; group?: string } }, w: Where, what: string, err: (w: Where, m: string) => void): string[] {
  if (s.user) err(w, `${what}: a user of its own is not supported by tapvs (scripts run as global_defs script_user)`);
  return s.argv;
}

function checks(
  vs: KaVirtualServer, rs: KaRealServer, service: string, dest: { addr: number; port: number; addr6?: Uint32Array }, conf: KeepalivedConf,
  out: HealthCheckConfig[], err: (w: Where, m: string) => void, scriptUser: { uid: number; gid: number } | undefined,
): void {
  const kinds = new Set<string>();
  for (const c of rs.checkers) {
    if (kinds.has(c.kind)) {
      err(c, `a second ${c.kind} on one real server: tapvs runs one checker of each kind per real server`);
      continue;
    }
    kinds.add(c.kind);
    const delayLoop = c.delayLoopMs ?? rs.delayLoopMs ?? vs.delayLoopMs ?? KA_DEFAULTS.delayLoopMs;
    const retry = c.retry ?? rs.retry ?? vs.retry ?? DEFAULT_RETRY[c.kind] ?? 1;
    const dflt = DEFAULT_DBR[c.kind];
    const dbr = c.delayBeforeRetryMs ?? rs.delayBeforeRetryMs ?? vs.delayBeforeRetryMs ?? (dflt === undefined ? 1000 : dflt ?? delayLoop);
    let timeout = c.connectTimeoutMs ?? rs.connectTimeoutMs ?? vs.connectTimeoutMs ?? KA_DEFAULTS.connectTimeoutMs;
    const probe: ProbeOptions = {};
    if (c.connectIp) probe.connectIp = c.connectIp.text;
    if (c.bindto) probe.bindto = c.bindto.text;
    if (c.connectIp && c.bindto && c.connectIp.family !== c.bindto.family) err(c, `bindto ${c.bindto.text} and connect_ip ${c.connectIp.text} are of different address families`);
    else if (!c.connectIp && c.bindto && c.bindto.family !== (dest.addr6 ? 6 : 4)) err(c, `bindto ${c.bindto.text}: the real server's address is of the other family`);
    if (c.bindPort !== undefined) probe.bindPort = c.bindPort;
    switch (c.kind) {
      case 'HTTP_GET': case 'SSL_GET':
        probe.urls = c.urls.map((u) => {
          const url: HttpUrlCheck = { path: u.path!, status: u.status };
          const vh = u.virtualhost ?? c.virtualhost ?? rs.virtualhost ?? vs.virtualhost;
          if (vh !== undefined) url.virtualhost = vh;
          if (u.digest !== undefined) url.digest = u.digest;
          if (u.regex !== undefined) url.regex = u.regex;
          if (u.regexFlags !== undefined) url.regexFlags = u.regexFlags;
          if (u.regexNoMatch) url.regexNoMatch = true;
          if (u.regexMinOffset !== undefined) url.regexMinOffset = u.regexMinOffset;
          if (u.regexMaxOffset !== undefined) url.regexMaxOffset = u.regexMaxOffset;
          return url;
        });
        if (c.httpProtocol) probe.httpProtocol = c.httpProtocol;
        if (c.sni) probe.sni = true;
        break;
      case 'MISC_CHECK': {
        probe.argv = c.argv ?? [];
        if (c.dynamic) probe.miscDynamic = true;
        // misc_timeout, else the virtual server's delay_loop (check_misc.c)
        timeout = c.timeoutS ? c.timeoutS * 1000 : vs.delayLoopMs ?? KA_DEFAULTS.delayLoopMs;
        const who = c.user ? resolveUser(c.user) : scriptUser;
        if (typeof who === 'string') err(c, `MISC_CHECK user: ${who}`);
        else if (who) {
          probe.uid = who.uid;
          probe.gid = who.gid;
        }
        break;
      }
      case 'DNS_CHECK':
        if (c.type !== undefined) probe.dnsType = c.type;
        if (c.name !== undefined) probe.dnsName = c.name;
        break;
      case 'UDP_CHECK':
        if (c.payload !== undefined) probe.udpPayload = c.payload;
        if (c.requireReply) probe.udpRequireReply = true;
        if (c.reply !== undefined) probe.udpReply = c.reply;
        if (c.replyMask !== undefined) probe.udpReplyMask = c.replyMask;
        if (c.minReply !== undefined) probe.udpMinReply = c.minReply;
        if (c.maxReply !== undefined) probe.udpMaxReply = c.maxReply;
        break;
      case 'SMTP_CHECK':
        if (c.heloName !== undefined) probe.heloName = c.heloName;
        break;
      case 'FILE_CHECK': {
        const tf = conf.trackFiles.find((t) => t.name === c.trackFile);
        if (!tf) err(c, `FILE_CHECK: no track_file named '${c.trackFile ?? ''}'`);
        else if (tf.path) probe.file = tf.path;
        break;
      }
      default: break;
    }
    const hc: HealthCheckConfig = {
      service, dest, kind: KIND[c.kind], intervalMs: delayLoop, timeoutMs: timeout, retries: retry + 1, retry,
      delayBeforeRetryMs: dbr, warmupMs: c.warmupMs ?? rs.warmupMs ?? vs.warmupMs ?? delayLoop, startDelayMs: KA_DEFAULTS.startDelayMs,
      inhibitOnFailure: rs.inhibit ?? vs.inhibit, line: c.line, probe,
    };
    const alpha = c.alpha ?? rs.alpha ?? vs.alpha;
    if (alpha) hc.alpha = true;
    if (c.connectPort !== undefined) hc.connectPort = c.connectPort;
    if (rs.notifyUp) hc.notifyUp = scriptArgv(rs.notifyUp, rs, 'notify_up', err);
    if (rs.notifyDown) hc.notifyDown = scriptArgv(rs.notifyDown, rs, 'notify_down', err);
    out.push(hc);
  }
}
