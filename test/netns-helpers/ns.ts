/**
 * Test helpers for real kernel state: network namespaces with names unique to
 * this process, removed by name (never by pattern), and async command runs so
 * the event loop keeps serving the ports under test while a command waits.
 */
import { execFile, execFileSync } from 'node:child_process';

let seq = 0;

/** A namespace name unique to this test process. */
export function uniqueName(tag: string): string {
  return `tvt${process.pid}${tag}${seq++}`;
}

export function addNetns(name: string): void {
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
}

/** Delete namespaces we created and kill what still runs in them; never throws. */
export function delNetns(...names: string[]): void {
  for (const name of names) {
    try {
      const pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).split('\n').filter(Boolean);
      for (const pid of pids) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
      }
    } catch { /* namespace already gone */ }
    try { execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' }); } catch { /* already gone */ }
  }
}

export interface RunResult { code: number; stdout: string; stderr: string }

/** Run a command (inside `netns` when given) without blocking the event loop. */
export function run(cmd: string, args: string[], netns?: string, timeoutMs = 20_000): Promise<RunResult> {
  const argv = netns ? ['netns', 'exec', netns, cmd, ...args] : args;
  const bin = netns ? 'ip' : cmd;
  return new Promise((resolve) => {
    execFile(bin, argv, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export function linkExists(device: string): boolean {
  try {
    execFileSync('ip', ['link', 'show', 'dev', device], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

