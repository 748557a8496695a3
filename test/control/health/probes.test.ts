import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeIcmp, probeIcmpWithPingCommand } from '../../../src/control/health/probes/icmp.js';
import { runProbe } from '../../../src/control/health/probes/index.js';
import { HttpTarget, sleep, TcpTarget } from './helpers.js';

function processState(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0]!;
  } catch {
    return 'gone';
  }
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

describe('TCP probe', () => {
  it('is up while a server listens and down (connection refused) once it stops', async () => {
    const t = await new TcpTarget().start();
    expect(await runProbe({ kind: 'tcp', addr: '127.0.0.1', port: t.port, timeoutMs: 500 })).toEqual({ ok: true });
    expect(t.accepted).toBe(1);
    await t.stop();
    const r = await runProbe({ kind: 'tcp', addr: '127.0.0.1', port: t.port, timeoutMs: 500 });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/ECONNREFUSED/);
  });

  it('an abort settles the probe as cancelled', async () => {
    const t = await new TcpTarget().start();
    const ac = new AbortController();
    ac.abort();
    expect(await runProbe({ kind: 'tcp', addr: '127.0.0.1', port: t.port, timeoutMs: 500 }, ac.signal)).toEqual({ ok: false, error: 'cancelled' });
    await t.stop();
  });
});

describe('HTTP probe', () => {
  const h = new HttpTarget();
  beforeAll(() => h.start());
  afterAll(() => h.stop());
  const spec = (extra: object) => ({ kind: 'http' as const, addr: '127.0.0.1', port: h.port, timeoutMs: 500, path: '/health', ...extra });

  it('asks for the configured path and accepts the expected status', async () => {
    h.status = 200;
    h.requests = [];
    expect(await runProbe(spec({ expectStatus: 200 }))).toEqual({ ok: true });
    expect(h.requests).toEqual(['/health']);
  });

  it('a different status is down, and says which', async () => {
    h.status = 503;
    expect(await runProbe(spec({ expectStatus: 200 }))).toEqual({ ok: false, error: 'HTTP status 503, expected 200' });
    // and an expected non-200 status is up
    expect(await runProbe(spec({ expectStatus: 503 }))).toEqual({ ok: true });
  });

  it('checks the MD5 of the body when a digest is given', async () => {
    h.status = 200;
    h.body = 'rs1 is fine\n';
    expect(await runProbe(spec({ expectStatus: 200, digest: md5('rs1 is fine\n') }))).toEqual({ ok: true });
    const bad = await runProbe(spec({ expectStatus: 200, digest: md5('something else') }));
    expect(bad.ok).toBe(false);
    expect(bad.error).toBe(`body digest ${md5('rs1 is fine\n')}, expected ${md5('something else')}`);
  });

  it('a server that never answers is down after the timeout, not before', async () => {
    h.hang = true;
    const t0 = Date.now();
    const r = await runProbe(spec({ timeoutMs: 200 }));
    const took = Date.now() - t0;
    h.hang = false;
    expect(r).toEqual({ ok: false, error: 'timed out after 200 ms' });
    expect(took).toBeGreaterThanOrEqual(195);
  });
});

describe('MISC probe', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tapvs-misc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exit 0 is up, any other exit status is down with the status and stderr', async () => {
    expect(await runProbe({ kind: 'misc', addr: '127.0.0.1', port: 0, timeoutMs: 1000, command: 'test 1 -eq 1' })).toEqual({ ok: true });
    expect(await runProbe({ kind: 'misc', addr: '127.0.0.1', port: 0, timeoutMs: 1000, command: 'echo "no backend" >&2; exit 2' }))
      .toEqual({ ok: false, error: 'exit status 2: no backend', exitStatus: 2 });
    expect(await runProbe({ kind: 'misc', addr: '127.0.0.1', port: 0, timeoutMs: 1000, command: 'false' }))
      .toEqual({ ok: false, error: 'exit status 1', exitStatus: 1 });
  });

  it('runs through /bin/sh (pipes and quoting work)', async () => {
    const cmd = `printf 'a b' | grep -q "a b" && [ "$(echo x | tr x y)" = y ]`;
    expect(await runProbe({ kind: 'misc', addr: '127.0.0.1', port: 0, timeoutMs: 1000, command: cmd })).toEqual({ ok: true });
  });

  it('a command past its timeout is down and killed with whatever it started', async () => {
    const pidFile = join(dir, 'pid');
    const marker = join(dir, 'late');
    const cmd = `sleep 30 & echo $! > ${pidFile}; wait; touch ${marker}`;
    const r = await runProbe({ kind: 'misc', addr: '127.0.0.1', port: 0, timeoutMs: 300, command: cmd });
    expect(r).toEqual({ ok: false, error: 'timed out after 300 ms' });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await sleep(100);
    // the background sleep belonged to the command's process group: dead too
    // (gone, or a zombie waiting for whoever reaps orphans here)
    expect(processState(pid)).toMatch(/^(gone|Z)$/);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('ICMP probe', () => {
  afterAll(() => closeIcmp());

  it('127.0.0.1 answers an echo (raw socket)', async () => {
    expect(await runProbe({ kind: 'icmp', addr: '127.0.0.1', port: 0, timeoutMs: 1000 })).toEqual({ ok: true });
  });

  it('several pings at once are told apart by sequence number', async () => {
    const rs = await Promise.all(['127.0.0.1', '127.0.0.2', '127.0.0.3'].map((addr) => runProbe({ kind: 'icmp', addr, port: 0, timeoutMs: 1000 })));
    expect(rs).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
  });

  it('the ping(8) fallback says up for 127.0.0.1', async () => {
    expect(await probeIcmpWithPingCommand({ kind: 'icmp', addr: '127.0.0.1', port: 0, timeoutMs: 1000 })).toEqual({ ok: true });
  });
});
