// Health probes of IPv6 real servers: TCP and HTTP connect to [addr]:port
// (HTTP's Host header then reads "[::1]:PORT"), UDP on an udp6 socket,
// ICMPv6 echo over a raw ICMPv6 socket and through `ping -6`.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeIcmp, probeIcmpWithPingCommand } from '../../../src/control/health/probes/icmp.js';
import { runProbe } from '../../../src/control/health/probes/index.js';

function listen(s: Server | HttpServer, host: string): Promise<number> {
  return new Promise((resolve) => s.listen(0, host, () => resolve((s.address() as { port: number }).port)));
}
const close = (s: Server | HttpServer): Promise<void> => new Promise((r) => s.close(() => r()));

describe('TCP probe over IPv6', () => {
  it('connects to [::1]:PORT (up), and is refused once the server is gone', async () => {
    const s = createServer((c) => c.end());
    const port = await listen(s, '::1');
    expect(await runProbe({ kind: 'tcp', addr: '::1', port, timeoutMs: 500 })).toEqual({ ok: true });
    await close(s);
    const r = await runProbe({ kind: 'tcp', addr: '::1', port, timeoutMs: 500 });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/ECONNREFUSED/);
    // and an IPv4-only listener is not reached through ::1
    const v4 = createServer((c) => c.end());
    const p4 = await listen(v4, '127.0.0.1');
    expect((await runProbe({ kind: 'tcp', addr: '::1', port: p4, timeoutMs: 500 })).ok).toBe(false);
    await close(v4);
  });
});

describe('HTTP probe over IPv6', () => {
  let server: HttpServer;
  let port = 0;
  const hosts: string[] = [];
  beforeAll(async () => {
    server = createHttpServer((req, res) => {
      hosts.push(req.headers.host ?? '');
      res.statusCode = req.url === '/health' ? 200 : 404;
      res.end('ok');
    });
    port = await listen(server, '::1');
  });
  afterAll(() => close(server));

  it('asks [::1]:PORT with a bracketed Host header, as keepalived writes ADDR:PORT', async () => {
    expect(await runProbe({ kind: 'http', addr: '::1', port, timeoutMs: 500, path: '/health', expectStatus: 200 })).toEqual({ ok: true });
    expect(hosts).toEqual([`[::1]:${port}`]);
    expect(await runProbe({ kind: 'http', addr: '::1', port, timeoutMs: 500, path: '/nope', expectStatus: 200 }))
      .toEqual({ ok: false, error: 'HTTP status 404, expected 200' });
  });
});

describe('UDP probe over IPv6', () => {
  let echo: UdpSocket;
  let port = 0;
  beforeAll(async () => {
    echo = createSocket('udp6');
    echo.on('message', (m, r) => echo.send(m, r.port, r.address));
    await new Promise<void>((r) => echo.bind(0, '::1', () => r()));
    port = echo.address().port;
  });
  afterAll(() => new Promise<void>((r) => echo.close(() => r())));

  it('sends from an udp6 socket and takes the echoed reply', async () => {
    const r = await runProbe({
      kind: 'udp', addr: '::1', port, timeoutMs: 500,
      opts: { udpPayload: '68656c6c6f', udpRequireReply: true, udpReply: '68656c6c6f' },
    });
    expect(r).toEqual({ ok: true });
  });
});

describe('ICMPv6 probe', () => {
  afterAll(() => closeIcmp());

  it('::1 answers an ICMPv6 echo (raw socket: with no ping(8) to be found, it is still up)', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(await runProbe({ kind: 'icmp', addr: '::1', port: 0, timeoutMs: 1000 })).toEqual({ ok: true });
    } finally {
      process.env.PATH = path;
    }
  });

  it('IPv4 and IPv6 pings at once each get their own family\'s answer', async () => {
    const rs = await Promise.all(['::1', '127.0.0.1', '0:0::1'].map((addr) => runProbe({ kind: 'icmp', addr, port: 0, timeoutMs: 1000 })));
    expect(rs).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
  });

  it('an address that never answers is down when the timeout runs out', async () => {
    // 2001:db8::/32 is for documentation (RFC 3849): nothing answers there
    const r = await runProbe({ kind: 'icmp', addr: '2001:db8::dead', port: 0, timeoutMs: 300 });
    expect(r.ok).toBe(false);
  });

  it('the ping -6 fallback says up for ::1', async () => {
    expect(await probeIcmpWithPingCommand({ kind: 'icmp', addr: '::1', port: 0, timeoutMs: 1000 })).toEqual({ ok: true });
  });
});
