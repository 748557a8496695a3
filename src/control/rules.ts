// Applies ipvsadm commands to a ServiceTable all or nothing: the whole batch
// is first checked against a shadow of the table (the current table plus the
// effect of the batch's earlier commands), and only a batch without a single
// error is then applied. Messages are ipvsadm's (libipvs ipvs_strerror and the
// kernel's return codes), with the reason added where ipvsadm is terse.
import { TUN_IPIP, type Dest } from '../model/dest.js';
import { AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from '../model/proto.js';
import type { Service, ServiceSpec } from '../model/service.js';
import type { ServiceTable } from '../model/services.js';
import type { Mutations } from '../director/mutations.js';
import { getScheduler, schedulerNames } from '../sched/index.js';
import { familyProblem } from '../model/topology.js';
import { ip6IsLinkLocal, ip6IsMulticast, ip6IsUnspecified, ip6ToString } from '../wire/addr6.js';
import { formatIpv4, isV6Key, type DestAttrs, type IpvsadmCommand, type ServiceAttrs, type ServiceKey } from './ipvsadm-args.js';
import { destKeyOf, destKeyText, findService, serviceKeyText } from './keys.js';

export interface RuleError {
  /** Index of the failing command in the batch. */
  index: number;
  message: string;
}

/** What a successful batch did, in order, for the director's connection-table work. */
export type RuleEffect =
  | { kind: 'service-added'; svc: Service }
  | { kind: 'service-edited'; svc: Service }
  | { kind: 'service-removed'; svc: Service }
  | { kind: 'dest-added'; dest: Dest }
  | { kind: 'dest-edited'; dest: Dest }
  | { kind: 'dest-removed'; dest: Dest }
  | { kind: 'zeroed'; svc?: Service }
  | { kind: 'timeouts'; tcp: number; tcpfin: number; udp: number };

export type ApplyResult =
  | { ok: true; effects: RuleEffect[]; /** conns and templates ended at once (expire_nodest_conn) */ expired: number }
  | { ok: false; errors: RuleError[] };

// Shadow state: enough of each service to validate the next command.
interface ShadowSvc {
  dests: Set<string>;
}
const skey = serviceKeyText;
const dkey = (d: { addr: number; addr6?: Uint32Array; port: number }): string => destKeyText(d.addr, d.addr6, d.port);

const INVALID = 'Invalid operation.  Possibly wrong module version, address not unicast, ...';

/** Why the kernel would refuse this real-server address (ip_vs_new_dest's address-type check), or null. */
export function destAddrProblem(addr: number, addr6?: Uint32Array): string | null {
  if (addr6) {
    // IPv6: a unicast address that is not link-local (ipv6_addr_type)
    if (ip6IsUnspecified(addr6)) return `${INVALID} (:: is not a real server address)`;
    if (ip6IsMulticast(addr6)) return `${INVALID} (${ip6ToString(addr6)} is multicast)`;
    if (ip6IsLinkLocal(addr6)) return `${INVALID} (${ip6ToString(addr6)} is link-local)`;
    return null;
  }
  addr >>>= 0;
  if (addr === 0) return `${INVALID} (0.0.0.0 is not a real server address)`;
  if (addr >>> 28 === 14) return `${INVALID} (${formatIpv4(addr)} is multicast)`;
  if (addr === 0xffffffff) return `${INVALID} (255.255.255.255 is broadcast)`;
  return null;
}

function schedulerProblem(name: string): string | null {
  if (getScheduler(name)) return null;
  return `Scheduler or persistence engine not found: unknown scheduler '${name}' (known: ${schedulerNames().join(', ')})`;
}

function thresholdProblem(d: DestAttrs): string | null {
  if (d.lThreshold > d.uThreshold) {
    return `Numerical result out of range: lower threshold ${d.lThreshold} is higher than upper threshold ${d.uThreshold}`;
  }
  return null;
}

/**
 * Checks a batch one command at a time against a shadow of the table plus
 * the batch's commands checked so far. A service enters the shadow when a
 * command first names it, so checking costs what the batch touches, not the
 * size of the table (one `-a` against a table of 100 000 real servers looks
 * at one service).
 */
export class RuleChecker {
  /** By service key: what the batch has made of it so far; null: it does not exist (any more). */
  private readonly shadow = new Map<string, ShadowSvc | null>();
  /** After a flush (-C) in the batch, the live table no longer counts. */
  private flushed = false;

  constructor(private readonly table: ServiceTable) {}

  /** Why `c` would be refused after the commands checked before it, or null (and it is then part of the shadow). */
  check(c: IpvsadmCommand): string | null {
    return check(this, c);
  }

  get(k: ServiceKey): ShadowSvc | undefined {
    const sk = skey(k);
    let s = this.shadow.get(sk);
    if (s === undefined) {
      const live = this.flushed ? undefined : findService(this.table, k);
      s = live ? { dests: new Set(live.dests.map(destKeyOf)) } : null;
      this.shadow.set(sk, s);
    }
    return s ?? undefined;
  }

  set(k: ServiceKey, s: ShadowSvc | null): void {
    this.shadow.set(skey(k), s);
  }

  flush(): void {
    this.shadow.clear();
    this.flushed = true;
  }
}

function validate(table: ServiceTable, cmds: readonly IpvsadmCommand[]): RuleError[] {
  const checker = new RuleChecker(table);
  const errors: RuleError[] = [];
  cmds.forEach((c, index) => {
    const problem = checker.check(c);
    if (problem) errors.push({ index, message: problem });
  });
  return errors;
}

/** Checks one command against the shadow and, if valid, applies it there. */
function check(shadow: RuleChecker, c: IpvsadmCommand): string | null {
  switch (c.cmd) {
    case 'add-service': {
      if (c.key.proto !== IPPROTO_TCP && c.key.proto !== IPPROTO_UDP && c.key.proto !== IPPROTO_SCTP && !c.key.fwmark) return 'Protocol not available';
      if (shadow.get(c.key)) return 'Service already exists';
      const p = schedulerProblem(c.svc.scheduler);
      if (p) return p;
      shadow.set(c.key, { dests: new Set() });
      return null;
    }
    case 'edit-service':
      if (!shadow.get(c.key)) return 'No such service';
      return schedulerProblem(c.svc.scheduler);
    case 'delete-service':
      if (!shadow.get(c.key)) return 'No such service';
      shadow.set(c.key, null);
      return null;
    case 'flush':
      shadow.flush();
      return null;
    case 'add-server': {
      const s = shadow.get(c.key);
      if (!s) return 'Service not defined';
      const p = destAddrProblem(c.dest.addr, c.dest.addr6) ?? mixedProblem(c.key, c.dest) ?? thresholdProblem(c.dest);
      if (p) return p;
      const k = dkey(c.dest);
      if (s.dests.has(k)) return 'Destination already exists';
      s.dests.add(k);
      return null;
    }
    case 'edit-server': {
      const s = shadow.get(c.key);
      if (!s) return 'Service not defined';
      const p = thresholdProblem(c.dest);
      if (p) return p;
      return s.dests.has(dkey(c.dest)) ? null : 'No such destination';
    }
    case 'delete-server': {
      const s = shadow.get(c.key);
      if (!s) return 'Service not defined';
      return s.dests.delete(dkey(c.dest)) ? null : 'No such destination';
    }
    case 'zero':
      return c.key && !shadow.get(c.key) ? 'No such service' : null;
    case 'set':
      return null;
    default:
      return `'${c.cmd}' does not change the rule table and cannot be part of a batch`;
  }
}

/**
 * A tunnel real server of the other family than its service's: ipvsadm lets
 * it through (the kernel tunnels IPv4 in IPv6 and back), tapvs does not.
 */
function mixedProblem(key: ServiceKey, d: { addr: number; addr6?: Uint32Array; tunType?: number }): string | null {
  const p = familyProblem(isV6Key(key), d.addr6, d.addr, key.addr6, key.addr, key.fwmark);
  if (p) return `${INVALID} (${p})`;
  return null;
}

function specOf(key: ServiceKey, a: ServiceAttrs): ServiceSpec {
  const spec: ServiceSpec = {
    proto: key.fwmark ? 0 : key.proto,
    addr: key.addr,
    port: key.port,
    fwmark: key.fwmark,
    scheduler: a.scheduler,
    flags: { ...a.flags },
    persistent: a.persistent,
    netmask: a.netmask,
    onePacket: a.onePacket,
  };
  if (isV6Key(key)) {
    spec.af = AF_INET6;
    if (key.addr6) spec.addr6 = key.addr6;
    spec.prefix6 = a.prefix6 ?? 128;
  }
  return spec;
}

/**
 * Applies a batch of commands (as parsed by parseIpvsadmArgs or parseRestore)
 * to the director's tables through `m`: all of them, or, if any one is
 * invalid (checked against `table` and the batch's own earlier commands),
 * none. Returns the effects, and how many conns and templates ended at once
 * (removed real servers with expire_nodest_conn).
 */
export function applyCommands(table: ServiceTable, m: Mutations, cmds: readonly IpvsadmCommand[]): ApplyResult {
  const errors = validate(table, cmds);
  if (errors.length > 0) return { ok: false, errors };
  const effects: RuleEffect[] = [];
  let expired = 0;
  // checked whole just above, so every command applies (applyOne cannot refuse one)
  m.batch(() => {
    for (const c of cmds) {
      const r = applyOne(table, m, c, effects);
      if (typeof r === 'number') expired += r;
    }
  });
  return { ok: true, effects, expired };
}


/**
 * Applies one command of a checked batch through `m`, appending what it did
 * to `effects`; returns the conns and templates it ended, or, when the table
 * changed since the batch was checked (a health check took a real server out
 * or put one back in between), why it no longer applies: then nothing was
 * changed and nothing thrown.
 */
export function applyOne(table: ServiceTable, m: Mutations, c: IpvsadmCommand, effects: RuleEffect[]): number | string {
  const svcOf = (k: ServiceKey): Service | string => findService(table, k) ?? 'No such service';
  switch (c.cmd) {
    case 'add-service':
      if (findService(table, c.key)) return 'Service already exists';
      effects.push({ kind: 'service-added', svc: m.addService(specOf(c.key, c.svc)) });
      return 0;
    case 'edit-service': {
      const svc = svcOf(c.key);
      if (typeof svc === 'string') return svc;
      m.editService(svc, c.svc);
      effects.push({ kind: 'service-edited', svc });
      return 0;
    }
    case 'delete-service': {
      const svc = svcOf(c.key);
      if (typeof svc === 'string') return svc;
      effects.push({ kind: 'service-removed', svc });
      return m.removeService(svc);
    }
    case 'flush': {
      let expired = 0;
      for (const svc of table.all) {
        expired += m.removeService(svc);
        effects.push({ kind: 'service-removed', svc });
      }
      return expired;
    }
    case 'add-server': {
      const svc = svcOf(c.key);
      if (typeof svc === 'string') return 'Service not defined';
      if (svc.findDest(c.dest.addr, c.dest.port, c.dest.addr6)) return 'Destination already exists';
      effects.push({ kind: 'dest-added', dest: m.addDest(svc, { ...c.dest }) });
      return 0;
    }
    case 'edit-server': {
      // -e, like -E, sets every attribute (__ip_vs_update_dest)
      const svc = svcOf(c.key);
      if (typeof svc === 'string') return 'Service not defined';
      const dest = svc.findDest(c.dest.addr, c.dest.port, c.dest.addr6);
      if (!dest) return 'No such destination';
      const { weight, fwd, uThreshold, lThreshold } = c.dest;
      // the tunnel settings too (ip_vs_edit_dest takes them from the request; absent: ipip, as ipvsadm sends)
      m.editDest(dest, { weight, fwd, uThreshold, lThreshold, tunType: c.dest.tunType ?? TUN_IPIP, tunPort: c.dest.tunPort ?? 0, tunFlags: c.dest.tunFlags ?? 0 });
      effects.push({ kind: 'dest-edited', dest });
      return 0;
    }
    case 'delete-server': {
      const svc = svcOf(c.key);
      if (typeof svc === 'string') return 'Service not defined';
      const dest = svc.findDest(c.dest.addr, c.dest.port, c.dest.addr6);
      if (!dest) return 'No such destination';
      effects.push({ kind: 'dest-removed', dest });
      return m.removeDest(dest);
    }
    case 'zero': {
      let svc: Service | undefined;
      if (c.key) {
        const s = svcOf(c.key);
        if (typeof s === 'string') return s;
        svc = s;
      }
      m.zero(svc);
      effects.push(svc ? { kind: 'zeroed', svc } : { kind: 'zeroed' });
      return 0;
    }
    case 'set':
      m.setTimeouts({ tcp: c.tcp, tcpfin: c.tcpfin, udp: c.udp });
      effects.push({ kind: 'timeouts', tcp: c.tcp, tcpfin: c.tcpfin, udp: c.udp });
      return 0;
    default:
      return `'${c.cmd}' does not change the rule table`;
  }
}
