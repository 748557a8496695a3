// A batch of ipvsadm commands (a -R text, the commands a reload derived)
// checked and applied in slices on the forwarding thread: checked whole
// first, so a batch with one bad line still changes nothing; then applied a
// slice at a time, each slice one Mutations.batch. Between slices frames are
// forwarded, and they see the table part-way, as the kernel's table is seen
// part-way while ipvsadm -R feeds it line by line. Only health checks can
// change the table between two slices (control operations are queued one at
// a time): a command the table no longer fits is left out, without a change,
// and reported.
import { performance } from 'node:perf_hooks';
import type { Director } from '../director/director.js';
import type { DirectorConfig } from '../model/config.js';
import { Topology } from '../model/topology.js';
import type { IpvsadmCommand } from './ipvsadm-args.js';
import { RuleChecker, applyOne, type RuleEffect, type RuleError } from './rules.js';
import { SLICE_MS, type Steps } from './slices.js';

/**
 * The problems of a batch against the running director, as applyLive finds
 * them: real servers its ports and routes cannot reach first (those alone
 * are reported when there are any), then what the rule table refuses.
 */
export function* checkSteps(director: Director, topology: DirectorConfig, cmds: readonly IpvsadmCommand[]): Steps<RuleError[]> {
  const t = Topology.of(topology);
  const reach: RuleError[] = [];
  const rules: RuleError[] = [];
  const checker = new RuleChecker(director.services);
  for (let index = 0; index < cmds.length; index++) {
    const c = cmds[index]!;
    if (c.cmd === 'add-server' || c.cmd === 'edit-server') {
      const p = t.destProblem(c.dest.addr, c.dest.fwd);
      if (p) reach.push({ index, message: p });
    }
    if (reach.length === 0) {
      const p = checker.check(c);
      if (p) rules.push({ index, message: p });
    }
    yield;
  }
  return reach.length > 0 ? reach : rules;
}

export interface Applied {
  effects: RuleEffect[];
  /** Conns and templates ended at once (expire_nodest_conn). */
  expired: number;
  /** Commands the table no longer fitted when their turn came. */
  skipped: RuleError[];
}

/** Applies checked commands, one Mutations.batch per slice of about SLICE_MS. */
export function* applySteps(director: Director, cmds: readonly IpvsadmCommand[], sliceMs = SLICE_MS): Steps<Applied> {
  const out: Applied = { effects: [], expired: 0, skipped: [] };
  const m = director.mutate;
  let i = 0;
  while (i < cmds.length) {
    const end = performance.now() + sliceMs;
    m.batch(() => {
      do {
        const c = cmds[i]!;
        let r: number | string;
        try {
          r = applyOne(director.services, m, c, out.effects);
        } catch (e) {
          r = (e as Error).message;
        }
        if (typeof r === 'number') out.expired += r;
        else out.skipped.push({ index: i, message: r });
        i++;
      } while (i < cmds.length && performance.now() < end);
    });
    yield;
  }
  return out;
}
