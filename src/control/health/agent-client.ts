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
  spec: ProbeSpec;
  settle: (r: ProbeResult) => void;
  guard: NodeJS.Timeout | undefined;
  /** Already sent again once, to a restarted agent. */
  resent: boolean;
}

/**
 * The tapvs side of one namespace's probe agent: starts it on first use,
 * matches replies to requests, and kills it on close. An agent that dies
 * after working is started again at once and the probes it held are sent
 * to the new one, so its death costs no verdict; one that fails to start
 * is tried again with back-off, and probes fail meanwhile (with its last
 * words), since nothing can reach the servers from there.
 */
export class ProbeAgent {
  private child: ChildProcessWithoutNullStreams | null = null;
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;
  private ready = false;
  private closed = false;
  private failedStarts = 0;
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
    const id = this.nextId++;
    return new Promise((resolve) => {
      const onAbort = (): void => w.settle({ ok: false, error: 'cancelled' });
      const w: Waiter = {
        spec,
        guard: undefined,
        resent: false,
        settle: (r) => {
          if (!this.waiting.delete(id)) return;
          clearTimeout(w.guard);
          signal?.removeEventListener('abort', onAbort);
          resolve(r);
        },
      };
      this.waiting.set(id, w);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.send(id, w);
    });
  }

  private send(id: number, w: Waiter): void {
    const child = this.child ?? this.start();
    if (!child) {
      const wait = Math.max(0, this.notBefore - Date.now());
      return w.settle({ ok: false, error: `probe agent in netns ${this.netns} is down (restart in ${wait} ms)${this.lastWords()}` });
    }
    clearTimeout(w.guard);
    w.guard = setTimeout(
      () => w.settle({ ok: false, error: `probe agent in netns ${this.netns} did not answer in time` }),
      w.spec.timeoutMs + (this.ready ? GRACE_MS : STARTUP_GRACE_MS),
    );
    child.stdin.write(JSON.stringify({ id, probe: w.spec }) + '\n');
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
      const why = err ? err.message : sig ? `signal ${sig}` : `exit status ${code}`;
      const stderr = this.stderrTail.trim() || undefined;
      if (this.ready) {
        this.log.warn({ netns: this.netns, reason: why, stderr }, 'health probe agent died; starting it again');
        for (const [id, w] of [...this.waiting]) {
          if (w.resent) w.settle({ ok: false, error: `probe agent in netns ${this.netns} died twice during one probe (${why})` });
          else {
            w.resent = true;
            this.send(id, w);
          }
        }
        return;
      }
      this.failedStarts++;
      const backoff = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** (this.failedStarts - 1));
      this.notBefore = Date.now() + backoff;
      this.log.warn({ netns: this.netns, reason: why, stderr, restart_ms: backoff }, 'health probe agent failed to start');
      for (const w of [...this.waiting.values()]) w.settle({ ok: false, error: `probe agent in netns ${this.netns} died (${why})${this.lastWords()}` });
    };
    child.once('exit', (code, sig) => onGone(code, sig));
    child.once('error', (e) => onGone(null, null, e));
    this.log.info({ netns: this.netns, pid: child.pid }, 'health probe agent started');
    return child;
  }

  private onLine(line: string): void {
    let msg: { id?: unknown; ok?: unknown; error?: unknown; ready?: unknown; exitStatus?: unknown };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    if (msg.ready === true) {
      this.ready = true;
      this.failedStarts = 0;
      this.log.debug({ netns: this.netns, pid: this.child?.pid }, 'health probe agent ready');
      return;
    }
    if (typeof msg.id !== 'number') return;
    const w = this.waiting.get(msg.id);
    if (!w) return;
    const r: ProbeResult = msg.ok === true ? { ok: true } : { ok: false, error: typeof msg.error === 'string' ? msg.error : 'probe failed' };
    if (typeof msg.exitStatus === 'number') r.exitStatus = msg.exitStatus;
    w.settle(r);
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
