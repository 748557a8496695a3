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
import { RuleChecker, applyOne, destAddrProblem, type RuleEffect, type RuleError } from './rules.js';
import { SLICE_MS, type Steps } from './slices.js';

/**
 * A batch as chunks of commands, iterable more than once: a large batch is
 * kept as its JSON chunks and rebuilt chunk by chunk for each pass, so that
 * hundreds of thousands of command objects never live at once (the garbage
 * collector's pauses grow with what lives).
 */
export type CommandChunks = Iterable<readonly IpvsadmCommand[]>;

/**
 * The problems of a batch against the running director, as applyLive finds
 * them: real servers its ports and routes cannot reach first (those alone
 * are reported when there are any), then what the rule table refuses.
 * Indexes count across chunks.
 */
export function* checkSteps(director: Director, topology: DirectorConfig, chunks: CommandChunks): Steps<RuleError[]> {
  const t = Topology.of(topology);
  const reach: RuleError[] = [];
  const rules: RuleError[] = [];
  const checker = new RuleChecker(director.services);
  let index = 0;
  for (const cmds of chunks) {
    for (const c of cmds) {
      // an address the kernel refuses outright is the rule checker's to name (its message is ipvsadm's)
      if ((c.cmd === 'add-server' || c.cmd === 'edit-server') && !destAddrProblem(c.dest.addr, c.dest.addr6)) {
        const p = t.destProblem(c.dest.addr, c.dest.fwd, 'real server', c.dest.addr6);
        if (p) reach.push({ index, message: p });
      }
      if (reach.length === 0) {
        const p = checker.check(c);
        if (p) rules.push({ index, message: p });
      }
      index++;
      yield;
    }
  }
  return reach.length > 0 ? reach : rules;
}

export interface Applied {
  /** Conns and templates ended at once (expire_nodest_conn). */
  expired: number;
  /** Commands the table no longer fitted when their turn came (indexes across chunks). */
  skipped: RuleError[];
}

/** Applies checked commands, one Mutations.batch per slice of about SLICE_MS. */
export function* applySteps(director: Director, chunks: CommandChunks, sliceMs = SLICE_MS): Steps<Applied> {
  const out: Applied = { expired: 0, skipped: [] };
  const m = director.mutate;
  const effects: RuleEffect[] = []; // applyOne reports them; nobody here reads them
  let index = 0;
  const it = chunks[Symbol.iterator]();
  let cmds: readonly IpvsadmCommand[] = [];
  let i = 0;
  for (;;) {
    if (i === cmds.length) {
      const n = it.next();
      if (n.done) return out;
      cmds = n.value;
      i = 0;
      yield; // rebuilding a chunk is a step of its own
      continue;
    }
    const end = performance.now() + sliceMs;
    m.batch(() => {
      do {
        let r: number | string;
        try {
          r = applyOne(director.services, m, cmds[i]!, effects);
        } catch (e) {
          r = (e as Error).message;
        }
        effects.length = 0;
        if (typeof r === 'number') out.expired += r;
        else out.skipped.push({ index, message: r });
        i++;
        index++;
      } while (i < cmds.length && performance.now() < end);
    });
    yield;
  }
}
