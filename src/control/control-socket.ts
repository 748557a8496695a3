// The control channel: a Unix socket, one JSON request per connection
// ({argv, stdin?, names?}) and one JSON reply ({code, stdout, stderr,
// lookup?}: names and lookup are ipvsadm-names.ts's); the client
// half-closes after its request, the server closes after its reply. The
// socket is owner-only (0600): whoever can write to it can change the rules.
//
// What clients can make the director hold is bounded: so many connections
// at once, so many bytes per request and in all (each refused with a reply
// that says which limit), and a deadline for a whole request, so a client
// that never finishes cannot keep its bytes. A large request is decoded by
// `decodeLarge` (the control plane's worker thread), not on the forwarding
// thread.
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import { answersProblem, questionsProblem, type NameAnswers, type NameQuestions } from './ipvsadm-names.js';

export const DEFAULT_CONTROL_SOCKET = '/run/tapvs/tapvs.sock';

export interface ControlRequest {
  argv: string[];
  stdin?: string;
  /** What `tapvs ipvsadm` resolved for this request (the director resolves nothing). */
  names?: NameAnswers;
}

export interface ControlReply {
  code: number;
  stdout: string;
  stderr: string;
  /** The addresses and ports a listing printed without names: ask again with their names. */
  lookup?: NameQuestions;
}

export type RequestHandler<R extends ControlRequest = ControlRequest> = (req: R) => ControlReply | Promise<ControlReply>;

/** A rule set for -R is text; anything this large is a mistake, not a rule set. */
export const MAX_REQUEST = 16 << 20;
/** Connections served at once; more are answered at once with an error. */
export const MAX_CONNECTIONS = 16;
/** Request bytes held for all connections together. */
export const MAX_BUFFERED = 48 << 20;
/** A connection that sends nothing for this long is closed. */
const IDLE_MS = 10_000;
/** A request must be complete this long after its connection opened. */
const REQUEST_DEADLINE_MS = 60_000;
/** How long a refused client has to read why before its connection is closed. */
const REFUSED_GRACE_MS = 1000;
/** Requests up to this size are decoded here; larger ones by decodeLarge. */
const DECODE_HERE_MAX = 16 << 10;

export interface ControlSocketOptions<R extends ControlRequest = ControlRequest> {
  /** Decodes a request of more than 16 KiB (its bytes, moved): a request, or why it is not one. */
  decodeLarge?: (bytes: Uint8Array) => Promise<{ ok: true; req: R } | { ok: false; problem: string }>;
  maxConnections?: number;
  maxRequest?: number;
  maxBuffered?: number;
  idleMs?: number;
  deadlineMs?: number;
}

export interface ControlSocket {
  readonly path: string;
  close(): Promise<void>;
}

/** Checks a decoded request's shape; returns the reason it is not a request, or null. */
export function requestProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return 'not a JSON object';
  const r = v as Record<string, unknown>;
  if (!Array.isArray(r.argv) || !r.argv.every((a) => typeof a === 'string')) return "'argv' must be an array of strings";
  if (r.stdin !== undefined && typeof r.stdin !== 'string') return "'stdin' must be a string";
  if (r.names !== undefined) return answersProblem(r.names);
  return null;
}

function connectOnce(path: string, timeoutMs: number): Promise<'live' | 'refused'> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(path);
    const timer = setTimeout(() => {
      s.destroy();
      resolve('live'); // something accepted the connection and sits on it: not ours to replace
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve('live');
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ECONNREFUSED') resolve('refused');
      else reject(e);
    });
  });
}

/**
 * Makes room for the socket: creates the directory, removes a stale socket
 * (one nobody listens on), and refuses when another process answers on it or
 * when the path is something other than a socket.
 */
async function prepare(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!st.isSocket()) throw new Error(`control socket ${path} exists and is not a socket: refusing to replace it`);
  if ((await connectOnce(path, 1000)) === 'live') {
    throw new Error(`control socket ${path}: another tapvs director is running and answers on it`);
  }
  unlinkSync(path);
}

/** What the connections of one socket hold between them. */
interface Shared<R extends ControlRequest> {
  handler: RequestHandler<R>;
  opts: Required<Omit<ControlSocketOptions<R>, 'decodeLarge'>> & Pick<ControlSocketOptions<R>, 'decodeLarge'>;
  open: number;
  buffered: number;
}

const failure = (code: number, stderr: string): ControlReply => ({ code, stdout: '', stderr });

function decodeHere<R extends ControlRequest>(bytes: Uint8Array): { ok: true; req: R } | { ok: false; problem: string } {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (e) {
    return { ok: false, problem: (e as Error).message };
  }
  const problem = requestProblem(v);
  return problem ? { ok: false, problem } : { ok: true, req: v as R };
}

function serve<R extends ControlRequest>(conn: net.Socket, sh: Shared<R>): void {
  const o = sh.opts;
  let chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  sh.open++;
  // the bytes this connection holds are given back the moment it is finished with, however it ends
  const release = () => {
    sh.buffered -= size;
    size = 0;
    chunks = [];
  };
  const finish = () => {
    if (done) return;
    done = true;
    release();
    clearTimeout(deadline);
    conn.removeAllListeners('data');
    conn.resume(); // what a refused client still sends is read and dropped, not buffered by the kernel for us
  };
  /** Refuses the request: the reason is sent, and the connection closed soon whatever the client does. */
  const refuse = (stderr: string) => {
    finish();
    if (conn.destroyed) return;
    conn.end(JSON.stringify(failure(1, stderr)));
    setTimeout(() => conn.destroy(), REFUSED_GRACE_MS).unref();
  };
  const deadline = setTimeout(() => refuse(`tapvs: request not complete within ${o.deadlineMs} ms\n`), o.deadlineMs);
  deadline.unref();
  conn.once('close', () => {
    finish();
    sh.open--;
  });
  conn.setTimeout(o.idleMs, () => conn.destroy());
  conn.on('error', () => conn.destroy());
  if (sh.open > o.maxConnections) {
    refuse(`tapvs: too many control connections (${o.maxConnections} at most): try again when one has finished\n`);
    return;
  }
  conn.on('data', (b: Buffer) => {
    if (size + b.length > o.maxRequest) {
      refuse(`tapvs: request larger than ${o.maxRequest} bytes\n`);
      return;
    }
    if (sh.buffered + b.length > o.maxBuffered) {
      refuse(`tapvs: control requests in progress hold ${sh.buffered} bytes (${o.maxBuffered} at most): try again\n`);
      return;
    }
    size += b.length;
    sh.buffered += b.length;
    chunks.push(b);
  });
  conn.on('end', () => {
    if (done) return;
    const bytes = Buffer.concat(chunks, size);
    finish();
    // the client waits now, maybe behind a long reload: silence is no longer a reason to close
    conn.setTimeout(0);
    void (async () => {
      const decoded = bytes.length > DECODE_HERE_MAX && o.decodeLarge ? await o.decodeLarge(bytes) : decodeHere<R>(bytes);
      if (!decoded.ok) return failure(2, `bad request: ${decoded.problem}\n`);
      return sh.handler(decoded.req);
    })().then(
      (r) => send(r),
      (e: Error) => send(failure(1, `tapvs: internal error: ${e.message}\n`)),
    );
  });
  const send = (r: ControlReply) => {
    if (conn.destroyed) return;
    conn.setTimeout(o.idleMs, () => conn.destroy()); // a reader that stops taking the reply is cut off
    conn.end(JSON.stringify(r));
  };
}

/** Listens on `path` (mode 0600) and answers each connection with `handler`. */
export async function listenControlSocket<R extends ControlRequest = ControlRequest>(
  path: string, handler: RequestHandler<R>, options: ControlSocketOptions<R> = {},
): Promise<ControlSocket> {
  await prepare(path);
  const sh: Shared<R> = {
    handler,
    opts: {
      maxConnections: options.maxConnections ?? MAX_CONNECTIONS,
      maxRequest: options.maxRequest ?? MAX_REQUEST,
      maxBuffered: options.maxBuffered ?? MAX_BUFFERED,
      idleMs: options.idleMs ?? IDLE_MS,
      deadlineMs: options.deadlineMs ?? REQUEST_DEADLINE_MS,
      decodeLarge: options.decodeLarge,
    },
    open: 0,
    buffered: 0,
  };
  const server = net.createServer({ allowHalfOpen: true }, (c) => serve(c, sh));
  // the socket file is created by bind(): create it owner-only, with no window
  // in which others could connect (listen binds synchronously on this path)
  const old = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(old);
  }
  chmodSync(path, 0o600);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        try {
          if (lstatSync(path).isSocket()) unlinkSync(path);
        } catch {
          // already gone
        }
      }),
  };
}

/** Error thrown by sendControlRequest when no director answers; `code` is the errno name. */
export class ControlUnreachable extends Error {
  constructor(readonly path: string, readonly code: string) {
    super(`cannot reach tapvs at ${path}: is \`tapvs run\` running? (${code})`);
  }
}

/** Sends one request and waits for the reply. */
export function sendControlRequest(path: string, req: ControlRequest, timeoutMs = 30_000): Promise<ControlReply> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(path);
    const chunks: Buffer[] = [];
    let connected = false;
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no reply from tapvs at ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('connect', () => {
      connected = true;
      s.end(JSON.stringify(req));
    });
    s.on('data', (b: Buffer) => chunks.push(b));
    s.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (!connected) reject(new ControlUnreachable(path, e.code ?? 'error'));
      else reject(new Error(`tapvs at ${path}: ${e.message}`));
    });
    s.once('end', () => {
      clearTimeout(timer);
      try {
        const r = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ControlReply;
        if (typeof r.code !== 'number' || typeof r.stdout !== 'string' || typeof r.stderr !== 'string') throw new Error('malformed reply');
        if (r.lookup !== undefined) {
          const problem = questionsProblem(r.lookup);
          if (problem) throw new Error(problem);
        }
        resolve(r);
      } catch (e) {
        reject(new Error(`tapvs at ${path} sent a bad reply: ${(e as Error).message}`));
      }
    });
  });
}
