// What control clients can make the director hold is bounded, each refusal
// is answered with its reason, and what a client held is given back when it
// leaves.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listenControlSocket, sendControlRequest, type ControlReply, type ControlRequest, type ControlSocket, type ControlSocketOptions } from '../../src/control/control-socket.js';

let dir: string | undefined;
let sock: ControlSocket | undefined;
const open: net.Socket[] = [];

afterEach(async () => {
  for (const s of open.splice(0)) s.destroy();
  await sock?.close();
  sock = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const echo = (req: ControlRequest): ControlReply => ({ code: 0, stdout: `${req.argv.join(' ')} ${req.stdin?.length ?? 0}`, stderr: '' });

async function listen(opts: ControlSocketOptions, handler: (r: ControlRequest) => ControlReply | Promise<ControlReply> = echo): Promise<string> {
  dir = mkdtempSync(join(tmpdir(), 'tapvs-lim-'));
  const path = join(dir, 's.sock');
  sock = await listenControlSocket(path, handler, opts);
  return path;
}

/** A client that sends `bytes` of a request and does not finish it; resolves once sent, with what it is told. */
function partial(path: string, bytes: number): Promise<{ s: net.Socket; told: Promise<string> }> {
  return new Promise((resolve) => {
    const s = net.createConnection(path);
    open.push(s);
    let text = '';
    const told = new Promise<string>((done) => {
      s.on('data', (d: Buffer) => { text += d.toString(); });
      s.on('close', () => done(text));
      s.on('error', () => done(text));
    });
    s.once('connect', () => {
      s.write(`{"argv":["-R"],"stdin":"${' '.repeat(Math.max(0, bytes - 24))}`, () => resolve({ s, told }));
    });
  });
}

const settle = () => new Promise((r) => setTimeout(r, 100));

describe('control socket limits', () => {
  it('a connection beyond the limit is answered at once with the reason, and the others are served', async () => {
    const path = await listen({ maxConnections: 2 });
    await partial(path, 10);
    await partial(path, 10);
    await settle();
    const third = await partial(path, 10);
    const told = JSON.parse(await third.told) as ControlReply;
    expect(told.code).toBe(1);
    expect(told.stderr).toMatch(/too many control connections \(2 at most\)/);
    for (const s of open.splice(0)) s.destroy();
    await settle();
    // the slots came back with the clients that left
    expect((await sendControlRequest(path, { argv: ['-L'] })).stdout).toBe('-L 0');
  });

  it('a request over the size limit is refused with the limit named', async () => {
    const path = await listen({ maxRequest: 4096 });
    const r = await sendControlRequest(path, { argv: ['-R'], stdin: 'x'.repeat(5000) });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('tapvs: request larger than 4096 bytes\n');
    expect((await sendControlRequest(path, { argv: ['-R'], stdin: 'x'.repeat(3000) })).stdout).toBe('-R 3000');
  });

  it('bytes held for all clients together are bounded, and a client that leaves gives its share back', async () => {
    const path = await listen({ maxBuffered: 100_000 });
    const a = await partial(path, 60_000);
    await settle();
    const b = await partial(path, 60_000);
    const told = JSON.parse(await b.told) as ControlReply;
    expect(told.stderr).toMatch(/control requests in progress hold \d+ bytes \(100000 at most\)/);
    a.s.destroy();
    await settle();
    const r = await sendControlRequest(path, { argv: ['-R'], stdin: 'y'.repeat(60_000) });
    expect(r).toEqual({ code: 0, stdout: '-R 60000', stderr: '' });
  });

  it('a request not finished in time is refused and its connection closed', async () => {
    const path = await listen({ deadlineMs: 300, idleMs: 10_000 });
    const c = await partial(path, 100);
    const told = JSON.parse(await c.told) as ControlReply;
    expect(told).toEqual({ code: 1, stdout: '', stderr: 'tapvs: request not complete within 300 ms\n' });
  });

  it('a client waiting for a slow answer is not cut off as idle', async () => {
    const path = await listen({ idleMs: 150 }, async (req) => {
      await new Promise((r) => setTimeout(r, 500));
      return echo(req);
    });
    expect((await sendControlRequest(path, { argv: ['-L', '-n'] })).stdout).toBe('-L -n 0');
  });

  it('a large request goes to decodeLarge (the worker), a small one is decoded here', async () => {
    const seen: number[] = [];
    const path = await listen({
      decodeLarge: async (bytes) => {
        seen.push(bytes.length);
        return { ok: true, req: { argv: ['decoded-elsewhere'] } };
      },
    });
    expect((await sendControlRequest(path, { argv: ['-L'] })).stdout).toBe('-L 0');
    expect((await sendControlRequest(path, { argv: ['-R'], stdin: 'z'.repeat(40_000) })).stdout).toBe('decoded-elsewhere 0');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeGreaterThan(40_000);
  });

  it('what decodeLarge refuses is a bad request (exit 2), with its reason', async () => {
    const path = await listen({ decodeLarge: async () => ({ ok: false, problem: "'argv' must be an array of strings" }) });
    const r = await sendControlRequest(path, { argv: ['-R'], stdin: 'q'.repeat(40_000) });
    expect(r).toEqual({ code: 2, stdout: '', stderr: "bad request: 'argv' must be an array of strings\n" });
  });
});
