// The browser view's HTTP server: the single-page app (hand-written files in
// ./static, read once at start, nothing fetched from elsewhere), a small JSON
// API, and a server-sent-events stream that pushes the tables every second
// and the connection list whenever a pass was filed. GET only; on loopback
// (the default) requests must name a loopback host, so a web page elsewhere
// cannot reach it through DNS rebinding.
import { readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Director } from '../director/director.js';
import type { DirectorConfig } from '../model/config.js';
import type { UiHub } from './hub.js';
import { tablesOf, topologyOf, type LabInfo, type Tables , type HealthLike } from './tables.js';
import { passSummary, passView, walkSummary } from './walk.js';

export interface UiListen {
  host: string;
  port: number;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * `--ui PORT`, `--ui ADDR:PORT` or `--ui [V6ADDR]:PORT`. A bare port means
 * 127.0.0.1: the view is served beyond this machine only when the operator
 * writes another address.
 */
export function parseUiAddress(spec: string): UiListen {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:\s]+):)?(\d{1,5})$/.exec(spec.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) {
    throw new Error(`--ui ${spec}: expected PORT or ADDR:PORT (e.g. --ui 127.0.0.1:8080; a bare port listens on 127.0.0.1)`);
  }
  const host = m[1] === undefined ? '127.0.0.1' : m[1].replace(/^\[|\]$/g, '');
  return { host, port };
}

/** What the server shows: a running director, or a replay that has finished and is studied pass by pass. */
export type UiSource =
  | {
    kind: 'live';
    director: Director;
    /** The config in force (a reload replaces it). */
    cfg: () => DirectorConfig;
    now: () => number;
    ports?: () => readonly { name: string; counters: { rxFrames: number; txFrames: number; rxDropped: number; txErrors: number } }[];
    /** What the health checks last found. */
    health?: () => readonly HealthLike[];
  }
  | {
    kind: 'replay'; director: Director; cfg: () => DirectorConfig; capture: string; summary: string;
    /** The capture's clock at its last frame (ms): what the final tables' expiries count from. */
    end: number;
  };

export interface UiServerOptions {
  listen: UiListen;
  hub: UiHub;
  source: UiSource;
  lab?: LabInfo;
  /** How often the tables are pushed (ms). */
  stateMs?: number;
}

export interface UiServer {
  readonly url: string;
  readonly address: UiListen;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The app's files, from the folder beside this module (src/ui/static in a checkout, dist/ui/static in the package). */
function loadStatic(): Map<string, { type: string; body: Buffer }> {
  const dir = fileURLToPath(new URL('./static/', import.meta.url));
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(dir)) {
    const ext = name.slice(name.lastIndexOf('.'));
    const type = TYPES[ext];
    if (type) files.set(`/${name}`, { type, body: readFileSync(dir + name) });
  }
  const index = files.get('/index.html');
  if (!index) throw new Error(`the browser view's files are missing (${dir}index.html)`);
  files.set('/', index);
  return files;
}

function json(res: http.ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(text);
}

export async function startUiServer(o: UiServerOptions): Promise<UiServer> {
  const files = loadStatic();
  const { hub, source, lab } = o;
  const loopbackOnly = isLoopback(o.listen.host);
  const clients = new Set<http.ServerResponse>();

  const tables = (): Tables => {
    if (source.kind === 'replay') return tablesOf(source.director, source.cfg(), source.end, lab);
    const t = tablesOf(source.director, source.cfg(), source.now(), lab, source.health?.());
    const ports = source.ports?.();
    if (ports) t.ports = ports.map((p) => ({ name: p.name, ...p.counters }));
    return t;
  };
  const walkList = () => {
    hub.finish();
    return [...hub.walks.values()].reverse().slice(0, 100).map(walkSummary);
  };
  const hello = () => ({
    mode: source.kind,
    topology: topologyOf(source.cfg(), lab),
    lab: lab ?? null,
    capture: source.kind === 'replay' ? source.capture : undefined,
    summary: source.kind === 'replay' ? source.summary : undefined,
    timeline: source.kind === 'replay' ? { passes: hub.timeline.length, dropped: hub.timelineDropped } : undefined,
  });

  const api = (path: string, q: URLSearchParams, res: http.ServerResponse): void => {
    switch (path) {
      case '/api/hello': return json(res, 200, hello());
      case '/api/state': return json(res, 200, { tables: tables(), topology: topologyOf(source.cfg(), lab), walks: walkList() });
      case '/api/walks': return json(res, 200, walkList());
      case '/api/walk': {
        const key = q.get('key') ?? '';
        const w = hub.walks.get(key);
        const r = hub.walkPasses(key);
        if (!w || !r) return json(res, 404, { error: `no connection ${key}` });
        return json(res, 200, { walk: walkSummary(w), skipped: r.skipped, passes: r.passes.map((p) => passView(p, w)) });
      }
      case '/api/pass': {
        hub.finish();
        const p = hub.passes.get(Number(q.get('id')));
        if (!p) return json(res, 404, { error: 'no such pass (not kept)' });
        return json(res, 200, passView(p, p.connKey ? hub.walks.get(p.connKey) : undefined));
      }
      case '/api/other': return json(res, 200, hub.otherPassList().map(passSummary));
      case '/api/timeline': {
        hub.finish();
        const list = hub.timeline.map((id) => hub.passes.get(id)).filter((p) => p !== undefined).map((p) => passSummary(p!));
        return json(res, 200, { passes: list, dropped: hub.timelineDropped });
      }
      case '/api/at': {
        const i = Number(q.get('i'));
        const id = hub.timeline[i];
        const p = id === undefined ? undefined : hub.passes.get(id);
        if (!p) return json(res, 404, { error: `no timeline entry ${q.get('i')}` });
        const w = p.connKey ? hub.walks.get(p.connKey) : undefined;
        return json(res, 200, { index: i, pass: passView(p, w), tables: hub.snapshots[i] ?? null, walk: w ? walkSummary(w) : null });
      }
      default: return json(res, 404, { error: `unknown ${path}` });
    }
  };

  const server = http.createServer((req, res) => {
    try {
      if (loopbackOnly) {
        const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
        if (!isLoopback(host)) {
          res.writeHead(421, { 'content-type': 'text/plain' });
          res.end('this view answers only to a loopback host name\n');
          return;
        }
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' });
        res.end();
        return;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write('retry: 1000\n\n');
        clients.add(res);
        req.on('close', () => clients.delete(res));
        push(res, 'state', { tables: tables(), topology: topologyOf(source.cfg(), lab) });
        push(res, 'walks', walkList());
        return;
      }
      if (url.pathname.startsWith('/api/')) return api(url.pathname, url.searchParams, res);
      const f = files.get(url.pathname);
      if (!f) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found\n');
        return;
      }
      res.writeHead(200, { 'content-type': f.type, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : f.body);
    } catch (e) {
      json(res, 500, { error: (e as Error).message });
    }
  });

  function push(res: http.ServerResponse, event: string, data: unknown): void {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }
  const broadcast = (event: string, data: () => unknown): void => {
    if (clients.size === 0) return;
    const body = `event: ${event}\ndata: ${JSON.stringify(data())}\n\n`;
    for (const c of clients) c.write(body);
  };

  const timers: NodeJS.Timeout[] = [];
  if (source.kind === 'live') {
    let seen = hub.version;
    timers.push(setInterval(() => broadcast('state', () => ({ tables: tables(), topology: topologyOf(source.cfg(), lab) })), o.stateMs ?? 1000));
    timers.push(setInterval(() => {
      if (hub.version === seen) return;
      seen = hub.version;
      broadcast('walks', walkList);
    }, 250));
    for (const t of timers) t.unref();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.listen.port, o.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const address = { host: a.address, port: a.port };
  const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    url: `http://${shown}:${a.port}/`,
    address,
    close: async () => {
      for (const t of timers) clearInterval(t);
      for (const c of clients) c.end();
      clients.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}
