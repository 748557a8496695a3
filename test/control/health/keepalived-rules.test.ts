// keepalived's pool rules in the health checker: quorum with hysteresis and
// the sorry server (alive servers leave while it serves), quorum_up/down
// and notify_up/down scripts, alpha, sorry_server_inhibit, and misc checks
// whose first failure decides (keepalived's retry_it starts at retry).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startHealthChecks, type HealthChecks } from '../../../src/control/health/index.js';
import type { HealthCheckConfig, PoolHealthConfig } from '../../../src/model/config.js';
import { IPPROTO_TCP } from '../../../src/model/proto.js';
import { parseIpv4 } from '../../../src/control/ipvsadm-args.js';
import { makeLive, waitFor } from './helpers.js';

const VIP = '10.0.0.100';
const ip = (s: string): number => parseIpv4(s)!;
const dir = mkdtempSync(join(tmpdir(), 'tapvs-karules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let running: HealthChecks[] = [];
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  running = [];
});

/** A keepalived-style MISC_CHECK of 127.0.0.N:80 whose exit status is the content of a file. */
function misc(n: number, extra: Partial<HealthCheckConfig> = {}): { hc: HealthCheckConfig; set: (status: number) => void } {
  const f = join(dir, `s${n}-${Math.random().toString(36).slice(2)}`);
  writeFileSync(f, '0');
  const hc: HealthCheckConfig = {
    service: `-t ${VIP}:80`, dest: { addr: ip(`127.0.0.${n}`), port: 80 }, kind: 'misc', intervalMs: 100, timeoutMs: 1000,
    retries: 1, retry: 0, delayBeforeRetryMs: 100, warmupMs: 0, startDelayMs: 0, inhibitOnFailure: false,
    probe: { argv: ['/bin/sh', '-c', `exit $(cat ${f})`] }, ...extra,
  };
  return { hc, set: (s) => writeFileSync(f, String(s)) };
}

function setup(pool: Partial<PoolHealthConfig>, checks: HealthCheckConfig[], sorry = true) {
  const live = makeLive(`
-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r 127.0.0.1:80 -g
-a -t ${VIP}:80 -r 127.0.0.2:80 -g
-a -t ${VIP}:80 -r 127.0.0.3:80 -g
${sorry ? `sorry -t ${VIP}:80 -r 127.0.0.9:80 -g` : ''}
`);
  live.cfg.services[0]!.pool = { quorum: 1, hysteresis: 0, omega: false, sorryInhibit: false, ...pool };
  live.cfg.healthChecks = checks;
  const h = startHealthChecks(live, checks, { random: () => 0 });
  running.push(h);
  const svc = live.director.services.get(IPPROTO_TCP, ip(VIP), 80)!;
  const addrs = (): string[] => svc.dests.map((d) => `${d.addr >>> 24}.${(d.addr >>> 16) & 255}.${(d.addr >>> 8) & 255}.${d.addr & 255}`).sort();
  return { live, h, svc, addrs };
}

describe("keepalived's quorum, hysteresis and sorry server", () => {
  it('keeps the quorum while the alive weight stays at quorum - hysteresis, loses it at 0 (the alive servers leave), regains it only at quorum + hysteresis', async () => {
    const up = join(dir, 'quorum-up');
    const down = join(dir, 'quorum-down');
    const [a, b, c] = [misc(1), misc(2), misc(3)];
    const { addrs, h } = setup({ quorum: 2, hysteresis: 1, quorumUp: ['/bin/sh', '-c', `echo up >> ${up}`], quorumDown: ['/bin/sh', '-c', `echo down >> ${down}`] }, [a.hc, b.hc, c.hc]);
    await waitFor(() => h.states().every((s) => s.since > 0) && addrs().length === 3, 'start');
    a.set(1);
    b.set(1);
    await waitFor(() => addrs().join() === '127.0.0.3', 'two down');
    // weight 1 >= quorum - hysteresis = 1: quorum kept, no sorry server
    await new Promise((r) => setTimeout(r, 300));
    expect(addrs()).toEqual(['127.0.0.3']);
    expect(existsSync(down)).toBe(false);
    c.set(1);
    await waitFor(() => addrs().join() === '127.0.0.9', 'sorry in');
    await waitFor(() => existsSync(down), 'quorum_down ran');
    // one back: weight 1 < quorum + hysteresis = 3; the server stays out while the sorry server serves
    a.set(0);
    await waitFor(() => h.states().find((s) => s.dest === '127.0.0.1:80')!.up, 'a up');
    await new Promise((r) => setTimeout(r, 300));
    expect(addrs()).toEqual(['127.0.0.9']);
    b.set(0);
    c.set(0);
    await waitFor(() => addrs().join() === '127.0.0.1,127.0.0.2,127.0.0.3', 'quorum regained');
    await waitFor(() => existsSync(up), 'quorum_up ran');
  });

  it('sorry_server_inhibit: the sorry server sits at weight 0 until the quorum is lost', async () => {
    const a = misc(1);
    const { svc, h } = setup({ sorryInhibit: true }, [a.hc]);
    await waitFor(() => h.states()[0]!.failures === 0 && svc.findDest(ip('127.0.0.9'), 80)?.weight === 0, 'sorry at 0');
    // 127.0.0.2 and .3 have no check: alive, so the quorum (1) holds while a is down
    a.set(1);
    await waitFor(() => !svc.findDest(ip('127.0.0.1'), 80), 'a out');
    expect(svc.findDest(ip('127.0.0.9'), 80)?.weight).toBe(0);
  });
});

describe("keepalived's per-server rules", () => {
  it('alpha: the server starts out and comes in after its first success; notify_up and notify_down run', async () => {
    const upFile = join(dir, 'notified-up');
    const downFile = join(dir, 'notified-down');
    const a = misc(1, { alpha: true, notifyUp: ['/bin/sh', '-c', `touch ${upFile}`], notifyDown: ['/bin/sh', '-c', `touch ${downFile}`] });
    a.set(1);
    const { svc, h } = setup({}, [a.hc], false);
    expect(svc.findDest(ip('127.0.0.1'), 80)).toBeUndefined();
    a.set(0);
    await waitFor(() => !!svc.findDest(ip('127.0.0.1'), 80), 'in after a success');
    await waitFor(() => existsSync(upFile), 'notify_up');
    a.set(1);
    await waitFor(() => !svc.findDest(ip('127.0.0.1'), 80), 'out again');
    await waitFor(() => existsSync(downFile), 'notify_down');
    expect(h.states()[0]!.up).toBe(false);
  });

  it('the first failure decides, before any success (keepalived starts retry_it at retry)', async () => {
    const a = misc(1, { retry: 5, delayBeforeRetryMs: 1000 });
    a.set(1);
    const { svc } = setup({}, [a.hc], false);
    // with 5 retries a second apart an up server would stay in for 5 s; this one never passed a check
    await waitFor(() => !svc.findDest(ip('127.0.0.1'), 80), 'out at the first failure', 800);
  });

  it('misc_dynamic: exit 2..255 moves the weight to status - 2 and exit 0 restores it; retry counts failures in a row while up', async () => {
    const a = misc(1, { retry: 2, delayBeforeRetryMs: 50, probe: undefined });
    a.hc.probe = { argv: a.hc.probe?.argv ?? [], miscDynamic: true };
    const f = join(dir, 'dyn');
    writeFileSync(f, '0');
    a.hc.probe.argv = ['/bin/sh', '-c', `exit $(cat ${f})`];
    const { svc, h } = setup({}, [a.hc], false);
    await waitFor(() => h.states()[0]!.since > 0 && svc.findDest(ip('127.0.0.1'), 80)?.weight === 1, 'start');
    writeFileSync(f, '9');
    await waitFor(() => svc.findDest(ip('127.0.0.1'), 80)?.weight === 7, 'weight 7');
    writeFileSync(f, '0');
    await waitFor(() => svc.findDest(ip('127.0.0.1'), 80)?.weight === 1, 'weight back');
    writeFileSync(f, '1');
    await waitFor(() => !svc.findDest(ip('127.0.0.1'), 80), 'down after 3 failures');
    expect(h.states()[0]!.failures).toBe(3);
  });
});
