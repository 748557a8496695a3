// Reloading the config file into a running director (SIGHUP). The new file is
// parsed and checked as a whole; the service table is then brought to the new
// rule set by the ipvsadm commands that turn the live table into it (only
// what differs: an unchanged service or real server keeps its stats and
// conns). Ports, VIPs, routes, neighbours and the options that size or wire
// the director cannot change under a running director: a reload that changes
// them is refused whole, with what changed.
//
// SIGHUP takes reloadConfigAsync: the file is read and parsed in the control
// plane's worker thread (prepare.ts), and the comparison and the changes run
// on the forwarding thread in slices (slices.ts, batch-apply.ts), so a large
// config never stops forwarding for long. applyConfig and reloadConfig do
// the same work at once, for callers that hold a parsed config.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Director } from '../director/director.js';
import { topologyProblems } from '../model/topology.js';
import type { Dest } from '../model/dest.js';
import { FWD_DR, FWD_TUN, TUN_IPIP } from '../model/dest.js';
import type { Service } from '../model/service.js';
import type { MarkRule } from '../model/services.js';
import { formatConfigError, parseConfig, serviceKeyOf } from './config.js';
import type { DirectorConfig, DirectorOptions, HealthCheckConfig, ServiceConfig } from '../model/config.js';
import { formatAddr, formatAddrPort, formatIpv4, formatServiceKey, type DestAttrs, type IpvsadmCommand, type ServiceAttrs, type ServiceKey } from './ipvsadm-args.js';
import { destKeyOf, destKeyText, keyOfService } from './keys.js';
import { AF_INET6 } from '../model/proto.js';
import { ip6ToString } from '../wire/addr6.js';
import { applySteps } from './batch-apply.js';
import { unpackConfig, type Packed } from './prepare-core.js';
import type { Preparer } from './prepare.js';
import { drain, drainNow, type Steps } from './slices.js';
import { liveSettingsDiffer, liveSettingsOf } from './sysctl.js';

export interface ReloadLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ReloadTarget {
  readonly director: Director;
  /** The config in force: its ports, VIPs and routes are the ones in use. A successful reload replaces it. */
  cfg: DirectorConfig;
}

/** The health checker, as a reload needs it (src/control/health). */
export interface ReloadHealth {
  reload(checks: HealthCheckConfig[]): void;
  states(): readonly { service: string; dest: string; up: boolean }[];
  /** Real servers it holds out (down, or parked while a sorry server serves), by heldKey. */
  heldOut?(): readonly string[];
}

export type ReloadResult =
  | {
    ok: true; config: DirectorConfig; commands: IpvsadmCommand[]; summary: string;
    /** Commands left out because a health check changed the table while the reload was applied in slices. */
    skipped: string[];
  }
  | { ok: false; errors: string[] };

/** Options the director only reads when it starts. */
const RESTART_OPTIONS: readonly [keyof DirectorOptions, string][] = [
  ['maxConns', 'max_conns'],
  ['unmatchedFromRealServer', 'unmatched_from_rs'],
  ['neighbourQueue', 'neighbour_queue'],
  ['arpRetries', 'arp_retries'],
  ['arpRetryMs', 'arp_retry_interval'],
  ['controlSocket', 'control_socket'],
  ['metricsListen', 'metrics_listen'],
];

/** Compares two keyed lists; describes what was added, removed or changed. */
function listChanges<T>(what: string, before: readonly T[], after: readonly T[], key: (t: T) => string, body: (t: T) => string): string[] {
  const b = new Map(before.map((t) => [key(t), body(t)]));
  const a = new Map(after.map((t) => [key(t), body(t)]));
  const out: string[] = [];
  for (const [k, v] of a) {
    if (!b.has(k)) out.push(`${what} ${k} added`);
    else if (b.get(k) !== v) out.push(`${what} ${k} changed`);
  }
  for (const k of b.keys()) if (!a.has(k)) out.push(`${what} ${k} removed`);
  return out;
}

/** What changed that only a restart can apply (empty: the reload can go live). */
export function restartNeeded(running: DirectorConfig, next: DirectorConfig): string[] {
  const out = [
    ...listChanges('port', running.ports, next.ports, (p) => `'${p.name}'`,
      (p) => JSON.stringify([p.kind, p.device ?? p.name, p.mac, p.addrs, (p.addrs6 ?? []).map((a) => `${ip6ToString(a.addr)}/${a.prefix}`),
        p.mtu, p.netns ?? '', p.bridge ?? '', p.offload ?? ''])),
    ...listChanges('vip', running.vips, next.vips, (v) => formatAddr(v.addr, v.addr6), (v) => v.port),
    ...listChanges('route', running.routes, next.routes, (r) => `${r.dst6 ? ip6ToString(r.dst6) : formatIpv4(r.dst)}/${r.prefix}`,
      (r) => `${r.via6 ? ip6ToString(r.via6) : r.via} ${r.port ?? ''}`),
    ...listChanges('neigh', running.neighbours ?? [], next.neighbours ?? [], (n) => formatAddr(n.addr, n.addr6), (n) => String(n.mac)),
  ];
  if (running.ports.map((p) => p.name).join() !== next.ports.map((p) => p.name).join() && out.length === 0) {
    out.push('port order changed');
  }
  for (const [k, name] of RESTART_OPTIONS) {
    if (running.options[k] !== next.options[k]) out.push(`option ${name} changed`);
  }
  return out;
}

// ---------------------------------------------------------------- the diff

function attrsOf(c: ServiceConfig): ServiceAttrs {
  return {
    scheduler: c.scheduler ?? 'wlc',
    flags: { shFallback: false, shPort: false, mhFallback: false, mhPort: false, ...c.flags },
    persistent: c.persistent ?? 0,
    netmask: (c.netmask ?? 0xffffffff) >>> 0,
    onePacket: c.onePacket ?? false,
    ...(c.addr6 !== undefined || c.af === AF_INET6 ? { prefix6: c.prefix6 ?? 128 } : {}),
  };
}

function sameAttrs(svc: Service, a: ServiceAttrs): boolean {
  const f = svc.flags;
  return svc.sched.name === a.scheduler && svc.timeout === a.persistent && svc.netmask >>> 0 === a.netmask &&
    svc.onePacket === a.onePacket && f.shFallback === a.flags.shFallback && f.shPort === a.flags.shPort &&
    f.mhFallback === a.flags.mhFallback && f.mhPort === a.flags.mhPort && (svc.af !== AF_INET6 || svc.prefix6 === (a.prefix6 ?? 128));
}

function destAttrs(d: ServiceConfig['dests'][number]): DestAttrs {
  const a: DestAttrs = { addr: d.addr >>> 0, port: d.port, fwd: d.fwd ?? FWD_DR, weight: d.weight ?? 1, uThreshold: d.uThreshold ?? 0, lThreshold: d.lThreshold ?? 0 };
  if ((d.fwd ?? FWD_DR) === FWD_TUN) {
    a.tunType = d.tunType ?? TUN_IPIP;
    a.tunPort = d.tunPort ?? 0;
    a.tunFlags = d.tunFlags ?? 0;
  }
  if (d.addr6) {
    a.addr = 0;
    a.addr6 = d.addr6;
  }
  return a;
}

function sameDest(d: Dest, a: DestAttrs): boolean {
  return d.weight === a.weight && d.fwd === a.fwd && d.uThreshold === a.uThreshold && d.lThreshold === a.lThreshold &&
    (d.fwd !== FWD_TUN || (d.tunType === (a.tunType ?? TUN_IPIP) && d.tunPort === (a.tunPort ?? 0) && d.tunFlags === (a.tunFlags ?? 0)));
}

const keyText = (k: ServiceKey): string => formatServiceKey(k);
const liveKey = (s: Service): ServiceKey => keyOfService(s);
const destKey = (d: { addr: number; addr6?: Uint32Array; port: number }): string => destKeyText(d.addr, d.addr6, d.port);

/** "-t 10.0.0.100:80 192.168.10.11:80" ("... [2001:db8::11]:80"): a real server of a service, as health states name it. */
export const heldKey = (service: string, addr: number, port: number, addr6?: Uint32Array): string =>
  `${service} ${formatAddrPort(addr, addr6, port)}`;

/**
 * The ipvsadm commands that turn the live service table (and timeouts) into
 * `next`'s: removed services first, then changes inside kept services, then
 * new services with their real servers in file order (as startup adds them).
 * What the health checker did is left alone: a sorry server of `next` it put
 * in, and real servers it holds out (`heldDown`, by heldKey) are neither
 * added back nor given their weight back.
 */
export function diffCommands(director: Director, next: DirectorConfig, heldDown: ReadonlySet<string> = new Set()): IpvsadmCommand[] {
  return drainNow(diffSteps(director, next, heldDown));
}

/** diffCommands in steps (one per service), for a large table compared in slices. */
export function* diffSteps(director: Director, next: DirectorConfig, heldDown: ReadonlySet<string>): Steps<IpvsadmCommand[]> {
  const cmds: IpvsadmCommand[] = [];
  const wanted = new Map<string, ServiceConfig>();
  for (const s of next.services) {
    wanted.set(keyText(serviceKeyOf(s)), s);
    yield;
  }
  const live = new Map<string, Service>();
  for (const s of director.services.all) {
    live.set(keyText(liveKey(s)), s);
    yield;
  }

  for (const [k, svc] of live) if (!wanted.has(k)) cmds.push({ cmd: 'delete-service', key: liveKey(svc) });

  for (const [k, c] of wanted) {
    yield;
    const svc = live.get(k);
    if (!svc) continue;
    const key = serviceKeyOf(c);
    const attrs = attrsOf(c);
    if (!sameAttrs(svc, attrs)) cmds.push({ cmd: 'edit-service', key, svc: attrs });
    const want = new Map(c.dests.map((d) => [destKey(d), destAttrs(d)]));
    const sorry = c.sorry ? destKey(c.sorry) : undefined;
    for (const d of svc.dests) {
      const dk = destKeyOf(d);
      if (!want.has(dk) && dk !== sorry) {
        cmds.push({ cmd: 'delete-server', key, dest: d.af === AF_INET6 ? { addr: 0, port: d.port, addr6: d.addr6 } : { addr: d.addr, port: d.port } });
      }
    }
    for (const a of want.values()) {
      if (heldDown.has(heldKey(k, a.addr, a.port, a.addr6))) continue;
      const d = svc.findDest(a.addr, a.port, a.addr6);
      if (!d) cmds.push({ cmd: 'add-server', key, dest: a, portForced: false });
      else if (!sameDest(d, a)) cmds.push({ cmd: 'edit-server', key, dest: a, portForced: false });
    }
  }

  for (const [k, c] of wanted) {
    if (live.has(k)) continue;
    yield;
    const key = serviceKeyOf(c);
    cmds.push({ cmd: 'add-service', key, svc: attrsOf(c) });
    for (const d of c.dests) cmds.push({ cmd: 'add-server', key, dest: destAttrs(d), portForced: false });
  }

  const t = director.conns.timeouts.get();
  const n = next.timeouts;
  if (t.tcp !== n.tcp || t.tcpfin !== n.tcpfin || t.udp !== n.udp) cmds.push({ cmd: 'set', tcp: n.tcp, tcpfin: n.tcpfin, udp: n.udp });
  return cmds;
}

/** Whether two lists hold the same mark rules, in any order; a step per rule. */
function* sameMarks(a: readonly MarkRule[], b: readonly MarkRule[]): Steps<boolean> {
  if (a.length !== b.length) return false;
  const text = (m: MarkRule) => `${m.mark} ${m.proto} ${m.addr >>> 0} ${m.addr6 ? Array.from(m.addr6).join(':') : ''} ${[...m.ports].sort((x, y) => x - y).join(',')}`;
  const count = new Map<string, number>();
  for (const m of a) {
    const t = text(m);
    count.set(t, (count.get(t) ?? 0) + 1);
    yield;
  }
  for (const m of b) {
    const t = text(m);
    const n = count.get(t);
    if (!n) return false;
    count.set(t, n - 1);
    yield;
  }
  return true;
}

function describe(cmds: readonly IpvsadmCommand[], marksChanged: boolean, settingsChanged: boolean): string {
  if (cmds.length === 0 && !marksChanged && !settingsChanged) return 'no change';
  const count = new Map<string, number>();
  for (const c of cmds) count.set(c.cmd, (count.get(c.cmd) ?? 0) + 1);
  const parts = [...count].map(([c, n]) => `${n} ${c}`);
  if (marksChanged) parts.push('mark rules');
  if (settingsChanged) parts.push('options');
  return parts.join(', ');
}

/** Real servers the health checker holds out: some check is down, or a sorry server stands in for them. */
function heldDownBy(health: ReloadHealth | undefined): Set<string> {
  const out = new Set<string>();
  for (const h of health?.states() ?? []) if (!h.up) out.add(`${h.service} ${h.dest}`);
  for (const k of health?.heldOut?.() ?? []) out.add(k);
  return out;
}

/**
 * Applies `next` (already parsed) to the running director, or refuses it
 * whole. Nothing changes when the result is not ok. With a health checker,
 * its checks are reloaded first (a server whose check is gone is given back
 * before the rules are compared), and servers it still holds out stay out.
 */
export function applyConfig(target: ReloadTarget, next: DirectorConfig, file: string, health?: ReloadHealth): ReloadResult {
  return drainNow(applyConfigSteps(target, next, file, health, false));
}

/**
 * The steps of applyConfig. `checked`: `next` comes from parseConfig, which
 * has judged its topology (ports, VIPs, every real server's reachability);
 * a reload that passes restartNeeded keeps the running topology, so nothing
 * needs judging again.
 */
function* applyConfigSteps(
  target: ReloadTarget, next: DirectorConfig, file: string, health: ReloadHealth | undefined, checked: boolean,
): Steps<ReloadResult> {
  if (!checked) {
    const problems = topologyProblems(next);
    if (problems.length > 0) return { ok: false, errors: problems.map((p) => `${file}:${p.line ?? 0}: ${p.message}`) };
  }
  const restart = restartNeeded(target.cfg, next);
  if (restart.length > 0) {
    return { ok: false, errors: [`${file}: restart needed, reload refused (nothing was changed): ${restart.join('; ')}`] };
  }
  const d = target.director;
  target.cfg = next; // the health checker reads sorry servers from it
  health?.reload(next.healthChecks);
  yield;
  const cmds = yield* diffSteps(d, next, heldDownBy(health));
  // the commands come from the live table itself, so each fits it; applySteps leaves out
  // (and names) any that a health check made obsolete while the slices ran
  const applied = yield* applySteps(d, [cmds]);
  const marksChanged = !(yield* sameMarks(d.services.markRules, next.marks));
  if (marksChanged) d.mutate.setMarks(next.marks);
  // the options that change while running, as the IPVS sysctls they are (control/sysctl.ts; check_netns goes to the health checker)
  const settingsChanged = liveSettingsDiffer(d.conns.settings, next.options);
  d.mutate.setConnSettings(liveSettingsOf(next.options));
  // option ftp_ports: new conns to these ports get the FTP helper (conns made before keep what they had)
  d.conns.setAppPorts(next.options.ftpPorts ?? [21]);
  const skipped = applied.skipped.map((e) =>
    `${file}: ${keyOfCommand(cmds[e.index])}${e.message} (${cmds[e.index]!.cmd} left out: a health check changed the table while the reload was applied)`);
  return { ok: true, config: next, commands: cmds, summary: describe(cmds, marksChanged, settingsChanged), skipped };
}

function keyOfCommand(c: IpvsadmCommand | undefined): string {
  return c && 'key' in c && c.key ? `${formatServiceKey(c.key)}: ` : '';
}

/**
 * SIGHUP: reads and parses `file`, then applyConfig. Every error is logged
 * with its file:line, and the running rules stay as they were.
 */
/** Reads the config in force anew: the config file's parse, or (--keepalived) the keepalived.conf with it. */
export type ConfigLoader = () => { config: DirectorConfig } | { errors: string[] };

export function reloadConfig(target: ReloadTarget, file: string, log?: ReloadLogger, health?: ReloadHealth, load?: ConfigLoader): ReloadResult {
  const result = load ? loadAndApply(target, file, health, load) : readAndApply(target, file, health);
  if (log) {
    if (result.ok) log.info({ file, changes: result.summary }, 'config reloaded');
    else for (const e of result.errors) log.error({ file }, `reload failed, old config kept: ${e}`);
  }
  return result;
}

function loadAndApply(target: ReloadTarget, file: string, health: ReloadHealth | undefined, load: ConfigLoader): ReloadResult {
  const r = load();
  if ('errors' in r) return { ok: false, errors: r.errors };
  return applyConfig(target, r.config, file, health);
}

function readAndApply(target: ReloadTarget, file: string, health: ReloadHealth | undefined): ReloadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { ok: false, errors: [`${file}: cannot read: ${(e as Error).message}`] };
  }
  const parsed = parseConfig(text, file);
  if ('errors' in parsed) return { ok: false, errors: parsed.errors.map(formatConfigError) };
  return applyConfig(target, parsed.config, file, health);
}

/**
 * SIGHUP in a running director: reloadConfig with the file read
 * asynchronously and parsed and checked by `prep` (the worker thread), then
 * compared and applied in slices of the forwarding thread. With `load` (a
 * loader of its own, such as --keepalived's), that loader reads the config.
 */
export async function reloadConfigAsync(
  target: ReloadTarget, file: string, prep: Preparer, log?: ReloadLogger, health?: ReloadHealth, load?: ConfigLoader,
): Promise<ReloadResult> {
  let result: ReloadResult;
  try {
    result = await drain(reloadSteps(target, file, health, load, await loadForReload(file, prep, load)));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    result = { ok: false, errors: [err.code ? `${file}: cannot read: ${err.message}` : `${file}: ${err.message}`] };
  }
  if (log) {
    if (result.ok) {
      log.info({ file, changes: result.summary }, 'config reloaded');
      for (const e of result.skipped) log.error({ file }, `reload: ${e}`);
    } else {
      for (const e of result.errors) log.error({ file }, `reload failed, old config kept: ${e}`);
    }
  }
  return result;
}

type Loaded = { packed: Packed } | { config: DirectorConfig } | { errors: string[] };

async function loadForReload(file: string, prep: Preparer, load: ConfigLoader | undefined): Promise<Loaded> {
  if (load) return load();
  const prepared = await prep.config(await readFile(file), file);
  if (prepared.ok) return { packed: prepared.config };
  return { errors: prepared.more > 0 ? [...prepared.errors, `${file}: ... and ${prepared.more} more errors`] : prepared.errors };
}

function* reloadSteps(target: ReloadTarget, file: string, health: ReloadHealth | undefined, load: ConfigLoader | undefined, loaded: Loaded): Steps<ReloadResult> {
  if ('errors' in loaded) return { ok: false, errors: loaded.errors };
  const next = 'packed' in loaded ? yield* unpackConfig(loaded.packed) : loaded.config;
  // a loader of its own may not have judged the topology; parseConfig in the worker has
  return yield* applyConfigSteps(target, next, file, health, load === undefined);
}
