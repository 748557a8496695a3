// The view's HTTP server: where it listens, what it serves, what it refuses,
// and the event stream a live page reads.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { config, clientAddr, clientFrame } from '../../bench/director.js';
import { Director } from '../../src/director/director.js';
import { FWD_MASQ } from '../../src/model/dest.js';
import { UiHub } from '../../src/ui/hub.js';
import { isLoopback, parseUiAddress, startUiServer, type UiServer } from '../../src/ui/server.js';
import { uiSettings } from '../../src/ui/index.js';

describe('parseUiAddress', () => {
  it('a bare port listens on loopback; an address is taken as written', () => {
    expect(parseUiAddress('8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseUiAddress('0.0.0.0:9000')).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(parseUiAddress('[::1]:81')).toEqual({ host: '::1', port: 81 });
    expect(parseUiAddress('localhost:82')).toEqual({ host: 'localhost', port: 82 });
  });
  it('refuses what is not PORT or ADDR:PORT', () => {
    for (const bad of ['', 'x', '1.2.3.4:', ':80', '80000', '1.2.3.4:8080:1']) expect(() => parseUiAddress(bad)).toThrow(/--ui/);
  });
  it('knows loopback names', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '10.0.0.1', 'example.com'].some(isLoopback)).toBe(false);
  });
  it('names --ui-lab in its error', () => {
    expect(() => uiSettings('8080', '/nonexistent/lab.json')).toThrow(/--ui-lab \/nonexistent\/lab.json/);
  });
});

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the live server', () => {
  const hub = new UiHub();
  const cfg = config(FWD_MASQ);
  const d = new Director(cfg, { send: () => {} }, { trace: hub.sink });
  let now = 1000;
  let server: UiServer;
  const key = `TCP ${'172.16.1.0'}:10000 10.0.0.100:80`;

  beforeAll(async () => {
    server = await startUiServer({
      listen: { host: '127.0.0.1', port: 0 }, hub, stateMs: 100,
      source: { kind: 'live', director: d, cfg: () => cfg, now: () => now },
    });
    const f = clientFrame(clientAddr(0), 10_000, 'S');
    const buf = new Uint8Array(64 + f.length);
    buf.set(f, 64);
    d.process(0, buf, 64, f.length, now);
  });
  afterAll(async () => { await server.close(); });

  it('listens where it was told and serves the app', async () => {
    expect(server.address.host).toBe('127.0.0.1');
    const page = await get(server.url);
    expect(page.status).toBe(200);
    expect(page.type).toContain('text/html');
    expect(page.body).toContain('<script type="module" src="/app.js">');
    // every file the page loads is served from the package, none from elsewhere
    for (const f of ['/app.js', '/app.css', '/diagram.js', '/lessons.js']) expect((await get(server.url.replace(/\/$/, '') + f)).status).toBe(200);
    expect(page.body).not.toMatch(/https?:\/\//);
  });

  it('answers the API from the director: topology, tables, the walk of a connection', async () => {
    const hello = JSON.parse((await get(`${server.url}api/hello`)).body);
    expect(hello.mode).toBe('live');
    expect(hello.topology.vips).toEqual(['10.0.0.100']);
    const state = JSON.parse((await get(`${server.url}api/state`)).body);
    expect(state.tables.conns).toHaveLength(1);
    expect(state.tables.conns[0]).toMatchObject({ proto: 'TCP', state: 'SYN_RECV', virtual: '10.0.0.100:80', mode: 'NAT' });
    expect(state.tables.services[0].dests).toHaveLength(4);
    const [w] = state.walks;
    expect(w.key.startsWith(key)).toBe(true);
    const walk = JSON.parse((await get(`${server.url}api/walk?key=${encodeURIComponent(w.key)}`)).body);
    expect(walk.passes).toHaveLength(1);
    expect(walk.passes[0].decision.isNew).toBe(true);
    expect(walk.passes[0].sent[0].frame.layers.find((l: { id: string }) => l.id === 'ip').fields.find((f: { id: string }) => f.id === 'dst').changed).toBe('rewrite');
    expect((await get(`${server.url}api/walk?key=nope`)).status).toBe(404);
  });

  it('pushes tables and connections on its event stream', async () => {
    const events = await new Promise<string>((resolve, reject) => {
      let text = '';
      const req = http.get(`${server.url}events`, (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream');
        res.on('data', (b: Buffer) => {
          text += b.toString();
          if ((text.match(/event: state/g) ?? []).length >= 2) {
            req.destroy();
            resolve(text);
          }
        });
      });
      req.on('error', reject);
    });
    expect(events).toContain('event: walks');
    const state = JSON.parse(/event: state\ndata: (.*)\n/.exec(events)![1]!);
    expect(state.tables.connCount).toBe(1);
  });

  it('refuses other host names on loopback (DNS rebinding) and anything but GET', async () => {
    expect((await get(server.url, { host: 'evil.example:80' })).status).toBe(421);
    expect((await get(server.url, { host: `localhost:${server.address.port}` })).status).toBe(200);
    expect((await get(`${server.url}api/hello`, {}, 'POST')).status).toBe(405);
    expect((await get(`${server.url}../../etc/passwd`)).status).toBe(404);
  });
});
