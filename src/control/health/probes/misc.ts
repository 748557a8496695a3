import { spawn } from 'node:child_process';
import type { ProbeResult, ProbeSpec } from '../types.js';
import { errorText, withDeadline } from './deadline.js';

const STDERR_KEEP = 200;

/**
 * keepalived's MISC_CHECK: the command runs through /bin/sh; exit 0 means up,
 * anything else down. It runs in its own process group so a timeout kills
 * the shell and whatever it started.
 */
export function probeMisc(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
  return withDeadline(spec.timeoutMs, signal, (settle) => {
    const child = spawn('/bin/sh', ['-c', spec.command ?? 'false'], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      if (stderr.length < STDERR_KEEP) stderr += s;
    });
    let exited = false;
    child.once('error', (e) => settle({ ok: false, error: errorText(e) }));
    child.once('exit', (code, sig) => {
      exited = true;
      if (code === 0) return settle({ ok: true });
      const why = sig ? `killed by ${sig}` : `exit status ${code}`;
      const said = stderr.trim().slice(0, STDERR_KEEP);
      settle({ ok: false, error: said ? `${why}: ${said}` : why });
    });
    return () => {
      if (exited || child.pid === undefined) return;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    };
  });
}
