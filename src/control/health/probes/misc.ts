import { spawn } from 'node:child_process';
import type { ProbeResult, ProbeSpec } from '../types.js';
import { errorText } from './deadline.js';

const STDERR_KEEP = 200;
/** keepalived sends SIGTERM at the timeout, then SIGKILL this much later. */
const KILL_AFTER_MS = 2000;

/**
 * keepalived's MISC_CHECK: the command runs in its own process group
 * (misc_path's argv as is, a `check misc` line's text through /bin/sh -c),
 * as `user` when given; exit 0 means up, anything else down (the checker
 * reads misc_dynamic weights from the status). At the timeout the group
 * gets SIGTERM, 2 s later SIGKILL; a command that had to be stopped failed.
 */
export function probeMisc(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const argv = spec.opts?.argv ?? ['/bin/sh', '-c', spec.command ?? 'false'];
    let child;
    try {
      child = spawn(argv[0]!, argv.slice(1), {
        detached: true, stdio: ['ignore', 'ignore', 'pipe'], uid: spec.opts?.uid, gid: spec.opts?.gid,
      });
    } catch (e) {
      return resolve({ ok: false, error: errorText(e) });
    }
    let stderr = '';
    let timedOut = false;
    let done = false;
    const kill = (sig: NodeJS.Signals): void => {
      try { if (child.pid !== undefined) process.kill(-child.pid, sig); } catch { /* gone */ }
    };
    const finish = (r: ProbeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(term);
      clearTimeout(hard);
      signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    let hard: NodeJS.Timeout | undefined;
    const term = setTimeout(() => {
      timedOut = true;
      kill('SIGTERM');
      hard = setTimeout(() => kill('SIGKILL'), KILL_AFTER_MS);
    }, spec.timeoutMs);
    const onAbort = (): void => {
      kill('SIGKILL');
      finish({ ok: false, error: 'cancelled' });
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      if (stderr.length < STDERR_KEEP) stderr += s;
    });
    child.once('error', (e) => finish({ ok: false, error: errorText(e) }));
    child.once('exit', (code, sig) => {
      // whatever the command left behind goes with it, as keepalived's kill(-pid)
      kill('SIGKILL');
      if (timedOut) return finish({ ok: false, error: `timed out after ${spec.timeoutMs} ms` });
      if (code === 0) return finish({ ok: true });
      const why = sig ? `killed by ${sig}` : `exit status ${code}`;
      const said = stderr.trim().slice(0, STDERR_KEEP);
      const r: ProbeResult = { ok: false, error: said ? `${why}: ${said}` : why };
      if (code !== null) r.exitStatus = code;
      finish(r);
    });
  });
}
