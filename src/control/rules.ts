// Applies ipvsadm commands to a ServiceTable all or nothing: the whole batch
// is first checked against a shadow of the table (the current table plus the
// effect of the batch's earlier commands), and only a batch without a single
// error is then applied. Messages are ipvsadm's (libipvs ipvs_strerror and the
// kernel's return codes), with the reason added where ipvsadm is terse.
import type { Dest } from '../model/dest.js';
import { IPPROTO_TCP, IPPROTO_UDP } from '../model/proto.js';
import type { Service } from '../model/service.js';
import type { ServiceTable } from '../model/services.js';
import type { Mutations } from '../director/mutations.js';
import { getScheduler, schedulerNames } from '../sched/index.js';
import { formatIpv4, type DestAttrs, type IpvsadmCommand, type ServiceAttrs, type ServiceKey } from './ipvsadm-args.js';

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
const skey = (k: ServiceKey): string => (k.fwmark ? `f${k.fwmark}` : `${k.proto}/${k.addr >>> 0}/${k.port}`);
const dkey = (addr: number, port: number): string => `${addr >>> 0}:${port}`;
const keyOf = (s: Service): ServiceKey => ({ proto: s.fwmark ? 0 : s.proto, addr: s.addr, port: s.port, fwmark: s.fwmark });

function findService(table: ServiceTable, k: ServiceKey): Service | undefined {
  return k.fwmark ? table.getByMark(k.fwmark) : table.get(k.proto, k.addr, k.port);
}

const INVALID = 'Invalid operation.  Possibly wrong module version, address not unicast, ...';

/** Why the kernel would refuse this real-server address (ip_vs_new_dest's address-type check), or null. */
function destAddrProblem(addr: number): string | null {
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

function validate(table: ServiceTable, cmds: readonly IpvsadmCommand[]): RuleError[] {
  const shadow = new Map<string, ShadowSvc>();
  for (const s of table.all) shadow.set(skey(keyOf(s)), { dests: new Set(s.dests.map((d) => dkey(d.addr, d.port))) });
  const errors: RuleError[] = [];
  cmds.forEach((c, index) => {
    const problem = check(shadow, c);
    if (problem) errors.push({ index, message: problem });
  });
  return errors;
}

/** Checks one command against the shadow and, if valid, applies it there. */
function check(shadow: Map<string, ShadowSvc>, c: IpvsadmCommand): string | null {
  switch (c.cmd) {
    case 'add-service': {
      if (c.key.proto !== IPPROTO_TCP && c.key.proto !== IPPROTO_UDP && !c.key.fwmark) return 'Protocol not available';
      if (shadow.has(skey(c.key))) return 'Service already exists';
      const p = schedulerProblem(c.svc.scheduler);
      if (p) return p;
      shadow.set(skey(c.key), { dests: new Set() });
      return null;
    }
    case 'edit-service':
      if (!shadow.has(skey(c.key))) return 'No such service';
      return schedulerProblem(c.svc.scheduler);
    case 'delete-service':
      if (!shadow.delete(skey(c.key))) return 'No such service';
      return null;
    case 'flush':
      shadow.clear();
      return null;
    case 'add-server': {
      const s = shadow.get(skey(c.key));
      if (!s) return 'Service not defined';
      const p = destAddrProblem(c.dest.addr) ?? thresholdProblem(c.dest);
      if (p) return p;
      const k = dkey(c.dest.addr, c.dest.port);
      if (s.dests.has(k)) return 'Destination already exists';
      s.dests.add(k);
      return null;
    }
    case 'edit-server': {
      const s = shadow.get(skey(c.key));
      if (!s) return 'Service not defined';
      const p = thresholdProblem(c.dest);
      if (p) return p;
      return s.dests.has(dkey(c.dest.addr, c.dest.port)) ? null : 'No such destination';
    }
    case 'delete-server': {
      const s = shadow.get(skey(c.key));
      if (!s) return 'Service not defined';
      return s.dests.delete(dkey(c.dest.addr, c.dest.port)) ? null : 'No such destination';
    }
    case 'zero':
      return c.key && !shadow.has(skey(c.key)) ? 'No such service' : null;
    case 'set':
      return null;
    default:
      return `'${c.cmd}' does not change the rule table and cannot be part of a batch`;
  }
}

function specOf(key: ServiceKey, a: ServiceAttrs) {
  return {
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
  for (const c of cmds) {
    switch (c.cmd) {
      case 'add-service':
        effects.push({ kind: 'service-added', svc: m.addService(specOf(c.key, c.svc)) });
        break;
      case 'edit-service': {
        const svc = findService(table, c.key)!;
        m.editService(svc, c.svc);
        effects.push({ kind: 'service-edited', svc });
        break;
      }
      case 'delete-service': {
        const svc = findService(table, c.key)!;
        expired += m.removeService(svc);
        effects.push({ kind: 'service-removed', svc });
        break;
      }
      case 'flush':
        for (const svc of table.all) {
          expired += m.removeService(svc);
          effects.push({ kind: 'service-removed', svc });
        }
        break;
      case 'add-server': {
        const svc = findService(table, c.key)!;
        effects.push({ kind: 'dest-added', dest: m.addDest(svc, { ...c.dest }) });
        break;
      }
      case 'edit-server': {
        // -e, like -E, sets every attribute (__ip_vs_update_dest)
        const dest = findService(table, c.key)!.findDest(c.dest.addr, c.dest.port)!;
        const { weight, fwd, uThreshold, lThreshold } = c.dest;
        m.editDest(dest, { weight, fwd, uThreshold, lThreshold });
        effects.push({ kind: 'dest-edited', dest });
        break;
      }
      case 'delete-server': {
        const dest = findService(table, c.key)!.findDest(c.dest.addr, c.dest.port)!;
        expired += m.removeDest(dest);
        effects.push({ kind: 'dest-removed', dest });
        break;
      }
      case 'zero': {
        const svc = c.key ? findService(table, c.key)! : undefined;
        m.zero(svc);
        effects.push(svc ? { kind: 'zeroed', svc } : { kind: 'zeroed' });
        break;
      }
      case 'set':
        m.setTimeouts({ tcp: c.tcp, tcpfin: c.tcpfin, udp: c.udp });
        effects.push({ kind: 'timeouts', tcp: c.tcp, tcpfin: c.tcpfin, udp: c.udp });
        break;
      default:
        break;
    }
  }
  return { ok: true, effects, expired };
}

