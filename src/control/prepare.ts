// Runs prepare-core.ts in a worker thread, so that parsing a large config
// or -R text happens beside the forwarding thread instead of on it. The
// input bytes are moved to the worker (not copied); the answer comes back
// as chunks of JSON for the forwarding thread to rebuild a slice at a time.
// Should the worker be unusable (it failed to start, or died), the same
// code runs in this thread, and `onFallback` says so once.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { attachPacks, prepareConfig, prepareRequest, type PreparedConfig, type PreparedRequest } from './prepare-core.js';

type JobBody = { kind: 'config'; bytes: Uint8Array; file: string } | { kind: 'request'; bytes: Uint8Array };
export type PrepareJob = JobBody & { id: number };

export type PrepareReply =
  /** `packs`: the buffers of the result's StringPacks, moved with it (prepare-core.ts: detachPacks). */
  | { id: number; result: PreparedConfig | PreparedRequest; packs: { bytes: Uint8Array; ends: Uint32Array }[] }
  | { id: number; error: string };

/** The worker's own heap: a pathological input ends the worker, not the director. */
const WORKER_HEAP_MB = 1024;

function workerSource(): { url: URL; eval?: string } {
  const self = import.meta.url;
  if (self.endsWith('.js')) return { url: new URL('./prepare-worker.js', self) };
  // a checkout runs the TypeScript sources through tsx: the worker registers it before loading its entry
  const url = new URL('./prepare-worker.ts', self);
  const api = tsxApi(self);
  return {
    url,
    eval: `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`,
  };
}

/** tsx's ESM API (its register() installs the TypeScript loader in the thread that calls it). */
function tsxApi(self: string): string {
  const resolve = (import.meta as { resolve?: (s: string) => string }).resolve;
  if (typeof resolve === 'function') {
    try {
      return resolve('tsx/esm/api');
    } catch {
      // not resolvable this way here (a test runner's module system): below
    }
  }
  // require's resolution gives the CommonJS build, whose register() does not work in a worker; its ESM twin sits beside it
  const cjs = createRequire(self).resolve('tsx/esm/api');
  const mjs = cjs.replace(/\.cjs$/, '.mjs');
  return pathToFileURL(existsSync(mjs) ? mjs : cjs).href;
}

/** A copy of `bytes` in an ArrayBuffer of its own, which can be moved to the worker. */
function movable(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes;
  return new Uint8Array(bytes);
}

type Result = PreparedConfig | PreparedRequest;

interface Pending {
  resolve: (r: Result) => void;
  reject: (e: Error) => void;
  inThread: () => Result;
  /** Not yet sent: the worker is starting. */
  job?: PrepareJob;
}

export class Preparer {
  private worker: Worker | undefined;
  private online = false;
  private broken = false;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly onFallback: (why: string) => void = () => {}) {}

  /** Starts the worker now rather than at the first job (its start-up is then not part of a reload). */
  start(): void {
    this.ensure();
  }

  config(bytes: Uint8Array, file: string): Promise<PreparedConfig> {
    return this.run({ kind: 'config', bytes, file }, () => prepareConfig(bytes, file)) as Promise<PreparedConfig>;
  }

  request(bytes: Uint8Array): Promise<PreparedRequest> {
    return this.run({ kind: 'request', bytes }, () => prepareRequest(bytes)) as Promise<PreparedRequest>;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.broken = true;
    if (w) await w.terminate();
  }

  private ensure(): Worker | undefined {
    if (this.worker || this.broken) return this.worker;
    try {
      const src = workerSource();
      const w = src.eval
        ? new Worker(src.eval, { eval: true, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } })
        : new Worker(src.url, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
      w.unref();
      w.on('message', (m: PrepareReply | 'ready') => {
        // the worker's entry has loaded (with the TypeScript loader, in a checkout): jobs can go
        if (m === 'ready') return ready();
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (this.pending.size === 0) w.unref();
        if ('error' in m) p.reject(new Error(m.error));
        else p.resolve(attachPacks(m.result, m.packs) as Result);
      });
      this.online = false;
      const ready = () => {
        if (this.worker !== w) return;
        this.online = true;
        for (const p of this.pending.values()) if (p.job) this.send(w, p);
      };
      const died = (why: string) => {
        if (this.worker !== w) return;
        const online = this.online;
        this.worker = undefined;
        this.online = false;
        const jobs = [...this.pending.values()];
        this.pending.clear();
        if (!online) {
          // it never ran (no tsx, no threads): this thread does the work from now on
          this.broken = true;
          this.onFallback(`the control plane's worker thread ${why} before it started: parsing on the forwarding thread`);
          for (const p of jobs) {
            try {
              p.resolve(p.inThread());
            } catch (e) {
              p.reject(e as Error);
            }
          }
          return;
        }
        // it died working (out of its heap on some input): that job fails, the next one gets a new worker
        for (const p of jobs) p.reject(new Error(`the control plane's worker ${why}`));
      };
      w.on('error', (e) => died(`failed: ${e.message}`));
      w.on('exit', (code) => died(`exited (${code})`));
      this.worker = w;
      return w;
    } catch (e) {
      this.broken = true;
      this.onFallback(`cannot start the control plane's worker thread (${(e as Error).message}): parsing on the forwarding thread`);
      return undefined;
    }
  }

  private run(job: JobBody, inThread: () => Result): Promise<Result> {
    const w = this.ensure();
    if (!w) return Promise.resolve().then(inThread);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const p: Pending = { resolve, reject, inThread, job: { ...job, id } };
      this.pending.set(id, p);
      w.ref();
      if (this.online) this.send(w, p);
    });
  }

  /** Moves the job's bytes to the worker (until then the job can still run here: see died()). */
  private send(w: Worker, p: Pending): void {
    const job = p.job!;
    p.job = undefined;
    const bytes = movable(job.bytes);
    w.postMessage({ ...job, bytes }, [bytes.buffer as ArrayBuffer]);
  }
}
