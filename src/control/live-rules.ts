// ipvsadm commands applied to a running director. rules.ts decides whether a
// batch is valid against the service table and applies it through the
// director's mutation API; this file adds what only the running director can
// judge: can each new real server be reached in its forwarding mode from
// these ports and routes (the topology validator's rule)?
import type { Director } from '../director/director.js';
import type { DirectorConfig } from '../model/config.js';
import { Topology } from '../model/topology.js';
import type { IpvsadmCommand } from './ipvsadm-args.js';
import { applyCommands, destAddrProblem, type ApplyResult, type RuleError } from './rules.js';

export type LiveResult = ApplyResult;

/**
 * Applies a batch of ipvsadm commands to the running director, all or
 * nothing (`topology` is the running config: its ports and routes never
 * change while it runs). Conns of other real servers are never touched.
 */
export function applyLive(director: Director, topology: DirectorConfig, cmds: readonly IpvsadmCommand[]): LiveResult {
  const t = Topology.of(topology);
  const errors: RuleError[] = [];
  cmds.forEach((c, index) => {
    if (c.cmd !== 'add-server' && c.cmd !== 'edit-server') return;
    // an address the kernel refuses outright is the rule checker's to name (its message is ipvsadm's)
    if (destAddrProblem(c.dest.addr, c.dest.addr6)) return;
    const p = t.destProblem(c.dest.addr, c.dest.fwd, 'real server', c.dest.addr6);
    if (p) errors.push({ index, message: p });
  });
  if (errors.length > 0) return { ok: false, errors };
  return applyCommands(director.services, director.mutate, cmds);
}

/** True for commands that change the table (worth a log line when applied). */
export function changesRules(c: IpvsadmCommand): boolean {
  return !['list', 'save', 'help', 'version'].includes(c.cmd);
}
