import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server } from 'node:net';
import pino from 'pino';
import { parseConfig } from '../../../src/control/config.js';
import type { DirectorConfig } from '../../../src/model/config.js';
import { Director } from '../../../src/director/director.js';

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

// The real servers of these tests live on 127.0.0.0/8: one memory port on that network makes them reachable.
export const TOPOLOGY = `
port lan kind=memory mac=02:00:00:00:00:01 addr=127.255.255.1/8
vip 10.0.0.100 on lan
`;

/** A director built from config text (one memory port), and a pino logger whose lines the test can read. */
export function makeLive(text: string): { director: Director; cfg: DirectorConfig; log: pino.Logger; lines: LogLine[] } {
  const r = parseConfig(TOPOLOGY + text, 'test.conf');
  if ('errors' in r) throw new Error(r.errors.map((e) => `${e.line}: ${e.message}`).join('\n'));
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug', base: undefined }, { write: (s: string) => { lines.push(JSON.parse(s) as LogLine); } });
  const director = new Director(r.config, { send: () => {} });
  return { director, cfg: r.config, log, lines };
}

/** Polls until `cond` holds; fails the test with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A TCP server on 127.0.0.1 that can be stopped and started again on the same port; counts accepted connections. */
export class TcpTarget {
  port = 0;
  accepted = 0;
  private server: Server | null = null;

  async start(port = this.port): Promise<this> {
    const s = createTcpServer((sock) => {
      this.accepted++;
      sock.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = s;
    this.port = (s.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

/** An HTTP server on 127.0.0.1 whose status and body the test sets. */
export class HttpTarget {
  port = 0;
  status = 200;
  body = 'hello\n';
  requests: string[] = [];
  /** When set, requests are never answered (a hung server). */
  hang = false;
  private server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    this.requests.push(req.url ?? '');
    if (this.hang) return;
    res.writeHead(this.status, { 'Content-Type': 'text/plain' });
    res.end(this.body);
  });

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
