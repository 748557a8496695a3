// ipvsadm commands applied to a running director. rules.ts decides whether a
// batch is valid against the service table; this file adds what only the
// running director can judge (can each new real server be reached in its
// forwarding mode from these ports and routes?) and then does the work the
// kernel does around a table change: conns of removed real servers, timeouts,
// and the director's set of real-server addresses.
import type { Director } from '../director/director.js';
import { directorProblems } from '../director/validate.js';
import type { DirectorConfig, ServiceConfig } from '../model/config.js';
import type { DestAttrs, IpvsadmCommand } from './ipvsadm-args.js';
import { applyCommands, type RuleEffect, type RuleError } from './rules.js';

export type LiveResult =
  | { ok: true; effects: RuleEffect[]; /** conns and templates ended at once (expire_nodest_conn) */ expired: number }
  | { ok: false; errors: RuleError[] };

// A line number no config has: marks the problems of the probe service below.
const PROBE_LINE = -1;

/**
 * Why `dest` cannot be reached in its forwarding mode from the director's
 * ports and routes (`topology` is the running config: ports and routes never
 * change while it runs), or null. Same rules and words as directorProblems.
 */
export function reachabilityProblem(topology: DirectorConfig, dest: DestAttrs): string | null {
  const probe: ServiceConfig = {
    proto: 6, addr: 0, port: 0, line: PROBE_LINE,
    dests: [{ addr: dest.addr, port: dest.port, fwd: dest.fwd, weight: dest.weight }],
  };
  const problems = directorProblems({ ...topology, vips: [], services: [probe] });
  const mine = problems.find((p) => p.line === PROBE_LINE);
  return mine ? mine.message : null;
}

/**
 * Applies a batch of ipvsadm commands to the running director, all or
 * nothing. After the table changed: a removed real server's conns (and those
 * of every real server of a removed service) end at once when
 * expire_nodest_conn is set, else they stay until they time out and the
 * director drops their packets; `--set` changes the conn timeouts; the
 * director's real-server address set is rebuilt. Conns of other real servers
 * are never touched.
 */
export function applyLive(director: Director, topology: DirectorConfig, cmds: readonly IpvsadmCommand[]): LiveResult {
  const errors: RuleError[] = [];
  cmds.forEach((c, index) => {
    if (c.cmd !== 'add-server' && c.cmd !== 'edit-server') return;
    const p = reachabilityProblem(topology, c.dest);
    if (p) errors.push({ index, message: p });
  });
  if (errors.length > 0) return { ok: false, errors };

  const r = applyCommands(director.services, cmds);
  if (!r.ok) return r;

  const conns = director.conns;
  let expired = 0;
  for (const e of r.effects) {
    switch (e.kind) {
      case 'dest-removed':
        if (conns.settings.expireNodestConn) expired += conns.expireDest(e.dest);
        break;
      case 'service-removed':
        if (conns.settings.expireNodestConn) for (const d of e.svc.dests) expired += conns.expireDest(d);
        break;
      case 'timeouts':
        conns.timeouts.set({ tcp: e.tcp, tcpfin: e.tcpfin, udp: e.udp });
        break;
      default:
        break;
    }
  }
  director.refreshRealServers();
  return { ok: true, effects: r.effects, expired };
}

/** True for commands that change the table (worth a log line when applied). */
export function changesRules(c: IpvsadmCommand): boolean {
  return !['list', 'save', 'help', 'version'].includes(c.cmd);
}
