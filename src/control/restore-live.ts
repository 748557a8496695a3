// ipvsadm -R against the running director for a text parsed in the worker
// thread (prepare-core.ts): the commands are rebuilt, checked whole and
// applied in slices of the forwarding thread (batch-apply.ts). Replies as
// ipvsadm-exec.ts's -R does: exit 2 for a line that does not parse, 255 for
// one the rules refuse, each error with its line, and nothing changed.
import type { Director } from '../director/director.js';
import type { DirectorConfig } from '../model/config.js';
import { applySteps, checkSteps } from './batch-apply.js';
import type { ControlReply } from './control-socket.js';
import { EXIT_REFUSED, EXIT_USAGE } from './ipvsadm-exec.js';
import { MAX_ERRORS, restoreChunks, type PreparedRestore } from './prepare-core.js';
import { drain, type Steps } from './slices.js';

const failed = (code: number, lines: string[]): ControlReply => ({ code, stdout: '', stderr: `${lines.join('\n')}\nno rule was changed\n` });

export function restoreLive(t: { director: Director; cfg: DirectorConfig }, prepared: PreparedRestore): Promise<ControlReply> {
  return drain(restoreSteps(t, prepared));
}

function* restoreSteps(t: { director: Director; cfg: DirectorConfig }, prepared: PreparedRestore): Steps<ControlReply> {
  if (!prepared.ok) {
    const more = prepared.more > 0 ? [`... and ${prepared.more} more errors`] : [];
    return failed(EXIT_USAGE, [...prepared.errors, ...more]);
  }
  // the commands stay JSON chunks, rebuilt once to check and once to apply; only their lines are kept
  const lines = new Int32Array(prepared.count);
  const chunks = restoreChunks(prepared.lines, lines);
  const errors = yield* checkSteps(t.director, t.cfg, chunks);
  if (errors.length > 0) {
    const text = errors.slice(0, MAX_ERRORS).map((e) => `line ${lines[e.index]}: ${e.message}`);
    if (errors.length > MAX_ERRORS) text.push(`... and ${errors.length - MAX_ERRORS} more errors`);
    return failed(EXIT_REFUSED, text);
  }
  const applied = yield* applySteps(t.director, chunks);
  if (applied.skipped.length === 0) return { code: 0, stdout: '', stderr: '' };
  // checked whole, but a health check changed the table between two slices
  const text = applied.skipped.map((e) => `line ${lines[e.index]}: ${e.message} (left out: a health check changed the table while -R was applied)`);
  return { code: 0, stdout: '', stderr: `${text.join('\n')}\n` };
}
