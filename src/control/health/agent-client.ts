import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type pino from 'pino';
import type { ProbeResult, ProbeSpec } from './types.js';

/** Extra time a probe may take through the agent (pipe, and Node's start-up on the first one). */
const GRACE_MS = 2_000;
const STARTUP_GRACE_MS = 15_000;
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;
const STDERR_KEEP = 500;

const self = fileURLToPath(import.meta.url);
const agentFile = join(dirname(self), `agent-main${extname(self)}`);

/** `node [--import tsx] agent-main`: sources run through tsx, a build runs as is. */
function agentArgv(): string[] {
  if (extname(self) !== '.ts') return [process.execPath, agentFile];
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return [process.execPath, '--import', tsx, agentFile];
}

interface Waiter {
  settle: (r: ProbeResult) => void;
}

/**
 * The tapvs side of one namespace's probe agent: starts it on first use,
 * matches replies to requests, starts it again (with back-off) after it
 * dies, and kills it on close.
 */
export class ProbeAgent {
  private child: ChildProcessWithoutNullStreams | null = null;
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;
  private ready = false;
  private closed = false;
  private deaths = 0;
  private notBefore = 0;
  private stderrTail = '';
  private exited: Promise<void> = Promise.resolve();

  constructor(readonly netns: string, private readonly log: pino.Logger) {}

  /** The agent's process id while it runs (tests clean up by it). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  run(spec: ProbeSpec, signal?: AbortSignal): Promise<ProbeResult> {
    if (this.closed) return Promise.resolve({ ok: false, error: 'cancelled' });
    const child = this.child ?? this.start();
    if (!child) {
      const wait = Math.max(0, this.notBefore - Date.now());
      return Promise.resolve({ ok: false, error: `probe agent in netns ${this.netns} is down (restart in ${wait} ms)${this.lastWords()}` });
    }
    const id = this.nextId++;
    return new Promise((resolve) => {
      const guard = setTimeout(
        () => settle({ ok: false, error: `probe agent in netns ${this.netns} did not answer in time` }),
        spec.timeoutMs + (this.ready ? GRACE_MS : STARTUP_GRACE_MS),
      );
      const onAbort = (): void => settle({ ok: false, error: 'cancelled' });
      const settle = (r: ProbeResult): void => {
        if (!this.waiting.delete(id)) return;
        clearTimeout(guard);
        signal?.removeEventListener('abort', onAbort);
        resolve(r);
      };
      this.waiting.set(id, { settle });
      signal?.addEventListener('abort', onAbort, { once: true });
      child.stdin.write(JSON.stringify({ id, probe: spec }) + '\n');
    });
  }

  private lastWords(): string {
    const t = this.stderrTail.trim();
    return t ? `: ${t.split('\n').slice(-3).join(' | ')}` : '';
  }

  private start(): ChildProcessWithoutNullStreams | null {
    if (Date.now() < this.notBefore) return null;
    const argv = ['netns', 'exec', this.netns, ...agentArgv()];
    const child = spawn('ip', argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.ready = false;
    this.stderrTail = '';
    let resolveExit!: () => void;
    this.exited = new Promise((r) => { resolveExit = r; });
    child.stdin.on('error', () => { /* the exit handler reports it */ });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      this.stderrTail = (this.stderrTail + s).slice(-STDERR_KEEP);
    });
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => this.onLine(line));
    const onGone = (code: number | null, sig: NodeJS.Signals | null, err?: Error): void => {
      if (this.child !== child) return;
      this.child = null;
      resolveExit();
      if (this.closed) return;
      this.deaths = this.ready ? 1 : this.deaths + 1;
      const backoff = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** (this.deaths - 1));
      this.notBefore = Date.now() + backoff;
      const why = err ? err.message : sig ? `signal ${sig}` : `exit status ${code}`;
      this.log.warn({ netns: this.netns, reason: why, stderr: this.stderrTail.trim() || undefined, restart_ms: backoff }, 'health probe agent died');
      for (const w of [...this.waiting.values()]) w.settle({ ok: false, error: `probe agent in netns ${this.netns} died (${why})${this.lastWords()}` });
    };
    child.once('exit', (code, sig) => onGone(code, sig));
    child.once('error', (e) => onGone(null, null, e));
    this.log.info({ netns: this.netns, pid: child.pid }, 'health probe agent started');
    return child;
  }

  private onLine(line: string): void {
    let msg: { id?: unknown; ok?: unknown; error?: unknown; ready?: unknown };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    if (msg.ready === true) {
      this.ready = true;
      this.deaths = 0;
      return;
    }
    if (typeof msg.id !== 'number') return;
    const w = this.waiting.get(msg.id);
    if (!w) return;
    w.settle(msg.ok === true ? { ok: true } : { ok: false, error: typeof msg.error === 'string' ? msg.error : 'probe failed' });
  }

  /** Stops the agent: closes its stdin (it exits), then kills it if it lingers. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of [...this.waiting.values()]) w.settle({ ok: false, error: 'cancelled' });
    const child = this.child;
    if (!child) return;
    child.stdin.end();
    const killer = setTimeout(() => child.kill('SIGKILL'), 1_000);
    await this.exited;
    clearTimeout(killer);
  }
}
