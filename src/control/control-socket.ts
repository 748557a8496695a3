// The control channel: a Unix socket, one JSON request per connection
// ({argv, stdin?}) and one JSON reply ({code, stdout, stderr}); the client
// half-closes after its request, the server closes after its reply. The
// socket is owner-only (0600): whoever can write to it can change the rules.
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';

export const DEFAULT_CONTROL_SOCKET = '/run/tapvs/tapvs.sock';

export interface ControlRequest {
  argv: string[];
  stdin?: string;
}

export interface ControlReply {
  code: number;
  stdout: string;
  stderr: string;
}

export type RequestHandler = (req: ControlRequest) => ControlReply;

/** A rule set for -R is text; anything this large is a mistake, not a rule set. */
const MAX_REQUEST = 16 << 20;
const IDLE_MS = 10_000;

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

function serve(conn: net.Socket, handler: RequestHandler): void {
  const chunks: Buffer[] = [];
  let size = 0;
  const reply = (r: ControlReply) => {
    if (!conn.destroyed) conn.end(JSON.stringify(r));
  };
  conn.setTimeout(IDLE_MS, () => conn.destroy());
  conn.on('error', () => conn.destroy());
  conn.on('data', (b: Buffer) => {
    size += b.length;
    if (size > MAX_REQUEST) {
      reply({ code: 1, stdout: '', stderr: `request larger than ${MAX_REQUEST} bytes\n` });
      conn.removeAllListeners('data');
      conn.resume();
      return;
    }
    chunks.push(b);
  });
  conn.on('end', () => {
    if (size > MAX_REQUEST) return;
    let req: unknown;
    try {
      req = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      return reply({ code: 2, stdout: '', stderr: `bad request: ${(e as Error).message}\n` });
    }
    const problem = requestProblem(req);
    if (problem) return reply({ code: 2, stdout: '', stderr: `bad request: ${problem}\n` });
    let r: ControlReply;
    try {
      r = handler(req as ControlRequest);
    } catch (e) {
      r = { code: 1, stdout: '', stderr: `tapvs: internal error: ${(e as Error).message}\n` };
    }
    reply(r);
  });
}

/** Listens on `path` (mode 0600) and answers each connection with `handler`. */
export async function listenControlSocket(path: string, handler: RequestHandler): Promise<ControlSocket> {
  await prepare(path);
  const server = net.createServer({ allowHalfOpen: true }, (c) => serve(c, handler));
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
        resolve(r);
      } catch (e) {
        reject(new Error(`tapvs at ${path} sent a bad reply: ${(e as Error).message}`));
      }
    });
  });
}
