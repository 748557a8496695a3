// keepalived's checkers as tapvs probes them, against servers on loopback:
// the HTTP request as keepalived sends it and status ranges, digest, regex;
// UDP_CHECK, DNS_CHECK, SMTP_CHECK, FILE_CHECK and a misc argv.
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runProbe } from '../../../src/control/health/probes/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tapvs-kaprobe-'));
const closers: (() => void)[] = [];
afterAll(() => {
  for (const c of closers) c();
  rmSync(dir, { recursive: true, force: true });
});

/** A TCP server answering every connection with `reply(requestText)` once it has seen a blank line (or at once). */
async function raw(onData: (sock: import('node:net').Socket, data: string) => void, greet?: string): Promise<{ port: number; seen: string[] }> {
  const seen: string[] = [];
  const s: Server = createServer((sock) => {
    let buf = '';
    if (greet) sock.write(greet);
    sock.on('data', (b) => {
      buf += b.toString('latin1');
      seen.push(buf);
      onData(sock, buf);
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  closers.push(() => s.close());
  return { port: (s.address() as AddressInfo).port, seen };
}

describe('HTTP_GET as keepalived', () => {
  it("sends keepalived's request and judges status ranges, digest and regex on the body", async () => {
    let status = 302;
    const body = 'Service READY\n';
    const srv = await raw((sock, req) => {
      if (!req.includes('\r\n\r\n')) return;
      sock.end(`HTTP/1.0 ${status} X\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    });
    const url = { path: '/h', status: [[200, 299], [302, 302]] as [number, number][], virtualhost: 'v.example', regex: 'ready', regexFlags: 'i' };
    const spec = { kind: 'http' as const, addr: '127.0.0.1', port: srv.port, timeoutMs: 1000, url: 0, opts: { urls: [url], httpProtocol: '1.0C' as const } };
    expect(await runProbe(spec)).toEqual({ ok: true });
    expect(srv.seen.at(-1)).toBe('GET /h HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: v.example\r\n\r\n');
    status = 301;
    expect(await runProbe(spec)).toEqual({ ok: false, error: 'HTTP status 301, expected 200-299,302' });
    status = 200;
    expect(await runProbe({ ...spec, opts: { urls: [{ ...url, regexNoMatch: true }] } })).toEqual({ ok: false, error: 'body matches ready' });
    const md5 = (await import('node:crypto')).createHash('md5').update(body).digest('hex');
    expect(await runProbe({ ...spec, opts: { urls: [{ ...url, digest: md5 }] } })).toEqual({ ok: true });
    expect((await runProbe({ ...spec, opts: { urls: [{ ...url, digest: '0'.repeat(32) }] } })).error).toMatch(/^body digest [0-9a-f]{32}, expected 0{32}$/);
    // without a virtualhost: Host is ADDR:PORT
    await runProbe({ ...spec, opts: { urls: [{ path: '/', status: [[200, 299]] }] } });
    expect(srv.seen.at(-1)).toBe(`GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:${srv.port}\r\n\r\n`);
  });
});

describe('UDP_CHECK, DNS_CHECK, SMTP_CHECK, FILE_CHECK, misc argv', () => {
  it('UDP: a matching reply passes, a different one fails, silence passes unless a reply is required, a closed port fails', async () => {
    const s = createSocket('udp4');
    let answer: Buffer | null = Buffer.from([0x01, 0x7f]);
    s.on('message', (_m, r) => { if (answer) s.send(answer, r.port, r.address); });
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    closers.push(() => s.close());
    const port = s.address().port;
    const spec = { kind: 'udp' as const, addr: '127.0.0.1', port, timeoutMs: 300, opts: { udpPayload: '00', udpRequireReply: true, udpReply: '0100', udpReplyMask: '00ff' } };
    expect(await runProbe(spec)).toEqual({ ok: true });
    answer = Buffer.from([0x02, 0x00]);
    expect(await runProbe(spec)).toEqual({ ok: false, error: 'reply differs at byte 0' });
    answer = null;
    expect((await runProbe(spec)).ok).toBe(false);
    expect(await runProbe({ ...spec, opts: { udpPayload: '00' } })).toEqual({ ok: true });
    const closed = createSocket('udp4');
    await new Promise<void>((r) => closed.bind(0, '127.0.0.1', () => r()));
    const dead = closed.address().port;
    closed.close();
    expect((await runProbe({ ...spec, port: dead, opts: { udpPayload: '00' } })).error).toMatch(/ECONNREFUSED/);
  });

  it('DNS: the same id and rcode 0 pass, another rcode fails', async () => {
    const s = createSocket('udp4');
    let rcode = 0;
    let asked: Buffer | undefined;
    s.on('message', (m, r) => {
      asked = m;
      const reply = Buffer.from(m);
      reply.writeUInt16BE(0x8180 | rcode, 2);
      s.send(reply, r.port, r.address);
    });
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    closers.push(() => s.close());
    const spec = { kind: 'dns' as const, addr: '127.0.0.1', port: s.address().port, timeoutMs: 500, opts: { dnsType: 1, dnsName: 'a.example' } };
    expect(await runProbe(spec)).toEqual({ ok: true });
    // RD set, one question: 1 'a' 7 'example' 0, type A, class IN
    expect(asked!.subarray(2).toString('hex')).toBe('010000010000000000000161076578616d706c65000001' + '0001');
    rcode = 2;
    expect(await runProbe(spec)).toEqual({ ok: false, error: 'DNS rcode 2' });
  });

  it('SMTP: 220, HELO, 250 passes; another code fails', async () => {
    let code = 250;
    const srv = await raw((sock, d) => { if (d.endsWith('\r\n') && d.startsWith('HELO')) sock.write(`${code} ok\r\n`); }, '220 mx ready\r\n');
    const spec = { kind: 'smtp' as const, addr: '127.0.0.1', port: srv.port, timeoutMs: 500, opts: { heloName: 'tapvs.example' } };
    expect(await runProbe(spec)).toEqual({ ok: true });
    expect(srv.seen.some((x) => x.startsWith('HELO tapvs.example\r\n'))).toBe(true);
    code = 554;
    expect(await runProbe(spec)).toEqual({ ok: false, error: 'SMTP HELO answered 554, expected 250' });
  });

  it('FILE: 0 (or no file) is up, another number down', async () => {
    const f = join(dir, 'track');
    const spec = { kind: 'file' as const, addr: '127.0.0.1', port: 0, timeoutMs: 100, opts: { file: f } };
    expect(await runProbe(spec)).toEqual({ ok: true });
    writeFileSync(f, '3\n');
    expect(await runProbe(spec)).toEqual({ ok: false, error: `${f} holds 3` });
    writeFileSync(f, '0');
    expect(await runProbe(spec)).toEqual({ ok: true });
  });

  it('misc argv runs without a shell and reports its exit status', async () => {
    const spec = { kind: 'misc' as const, addr: '127.0.0.1', port: 0, timeoutMs: 1000, opts: { argv: ['/bin/sh', '-c', 'exit 7', 'ignored $(false)'] } };
    expect(await runProbe(spec)).toEqual({ ok: false, error: 'exit status 7', exitStatus: 7 });
    // words are not re-split or expanded: one argument with a space
    expect(await runProbe({ ...spec, opts: { argv: ['/usr/bin/test', 'a b', '=', 'a b'] } })).toEqual({ ok: true });
  });
});
