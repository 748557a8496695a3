import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { startHealthChecks, type HealthChecks, type HealthState } from '../../../src/control/health/index.js';
import { CHECK_DROP } from '../../../src/conn/index.js';
import { FWD_DR, FWD_MASQ } from '../../../src/model/dest.js';
import { IPPROTO_TCP } from '../../../src/model/proto.js';
import { parseIpv4 } from '../../../src/control/ipvsadm-args.js';
import { applyConfig } from '../../../src/control/reload.js';
import { parseConfig } from '../../../src/control/config.js';
import { HttpTarget, makeLive, sleep, TcpTarget, TOPOLOGY, waitFor } from './helpers.js';

const VIP = '10.0.0.100';
const ip = (s: string): number => parseIpv4(s)!;
const LO = ip('127.0.0.1');

let running: HealthChecks[] = [];
/** Temporary directories the tests made, removed once all have run. */
const tmpDirs: string[] = [];
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});
let targets: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  await Promise.all(targets.map((t) => t.stop().catch(() => undefined)));
  running = [];
  targets = [];
});

function start(live: ReturnType<typeof makeLive>, events?: HealthState[]): HealthChecks {
  const h = startHealthChecks(live, live.cfg.healthChecks, { onTransition: (s) => events?.push(s) });
  running.push(h);
  return h;
}

const svcOf = (live: ReturnType<typeof makeLive>) => live.director.services.get(IPPROTO_TCP, ip(VIP), 80)!;

describe('TCP check: down after `retries` failures in a row, back after one success', () => {
  it('removes the real server after exactly 3 failures and restores its exact spec when it answers again', async () => {
    const t = await new TcpTarget().start();
    targets.push(t);
    const other = await new TcpTarget().start();
    targets.push(other);
    const live = makeLive(`
-A -t ${VIP}:80 -s wlc
-a -t ${VIP}:80 -r 127.0.0.1:${t.port} -m -w 3 -x 100 -y 10
-a -t ${VIP}:80 -r 127.0.0.1:${other.port} -m -w 1
check tcp -t ${VIP}:80 -r 127.0.0.1:${t.port} interval=100ms timeout=80ms retries=3
`);
    const events: HealthState[] = [];
    const h = start(live, events);
    const svc = svcOf(live);
    await waitFor(() => t.accepted >= 1, 'first probe');
    expect(h.states()).toMatchObject([{ service: `-t ${VIP}:80`, dest: `127.0.0.1:${t.port}`, kind: 'tcp', up: true, failures: 0 }]);

    await t.stop();
    // after the first failure the server must still be in its service
    await waitFor(() => h.states()[0]!.failures >= 1, 'a first failure');
    expect(svc.findDest(LO, t.port)).toBeDefined();
    await waitFor(() => events.length === 1, 'down transition');
    expect(events[0]).toMatchObject({ up: false, failures: 3 });
    expect(events[0]!.lastError).toMatch(/ECONNREFUSED/);
    expect(svc.findDest(LO, t.port)).toBeUndefined();
    expect(svc.findDest(LO, other.port)).toBeDefined();

    const transition = live.lines.find((l) => l.to === 'down');
    expect(transition).toMatchObject({ service: `-t ${VIP}:80`, real_server: `127.0.0.1:${t.port}`, check: 'tcp', from: 'up', to: 'down' });
    expect(String(transition!.reason)).toMatch(/ECONNREFUSED/);

    await t.start();
    await waitFor(() => events.length === 2, 'up transition');
    expect(events[1]).toMatchObject({ up: true, failures: 0 });
    const back = svc.findDest(LO, t.port)!;
    expect(back).toBeDefined();
    expect({ weight: back.weight, fwd: back.fwd, u: back.uThreshold, l: back.lThreshold }).toEqual({ weight: 3, fwd: FWD_MASQ, u: 100, l: 10 });
    expect(live.lines.some((l) => l.from === 'down' && l.to === 'up' && l.check === 'tcp')).toBe(true);
  });

  it('retries=1 takes the server out on the first failure; the real-server address set follows', async () => {
    const t = await new TcpTarget().start();
    const live = makeLive(`
-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r 127.0.0.2:80 -g
check tcp -t ${VIP}:80 -r 127.0.0.2:80 interval=100ms timeout=80ms retries=1 port=${t.port}
`);
    // port= points the probe at our server, while the real server stays 127.0.0.2:80
    await t.stop();
    const events: HealthState[] = [];
    start(live, events);
    await waitFor(() => events.length === 1, 'down');
    expect(events[0]!.failures).toBe(1);
    expect(svcOf(live).dests).toHaveLength(0);
  });
});

describe('HTTP check', () => {
  it('wrong status takes it out, right status with matching digest brings it back, a digest mismatch takes it out again', async () => {
    const h = await new HttpTarget().start();
    targets.push(h);
    h.body = 'ok from rs1\n';
    const digest = (await import('node:crypto')).createHash('md5').update('ok from rs1\n').digest('hex');
    const live = makeLive(`
-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r 127.0.0.1:${h.port} -m -w 2
check http -t ${VIP}:80 -r 127.0.0.1:${h.port} path=/alive status=200 digest=${digest} interval=100ms timeout=80ms retries=1
`);
    const events: HealthState[] = [];
    const hc = start(live, events);
    const svc = svcOf(live);
    await waitFor(() => h.requests.length >= 1, 'a request');
    expect(h.requests[0]).toBe('/alive');
    expect(events).toEqual([]);

    h.status = 500;
    await waitFor(() => events.length === 1, 'down on status 500');
    expect(events[0]!.lastError).toBe('HTTP status 500, expected 200');
    expect(svc.findDest(LO, h.port)).toBeUndefined();

    h.status = 200;
    await waitFor(() => events.length === 2, 'up on 200 + digest');
    expect(svc.findDest(LO, h.port)?.weight).toBe(2);

    h.body = 'defaced\n';
    await waitFor(() => events.length === 3, 'down on digest mismatch');
    expect(events[2]!.lastError).toMatch(/^body digest [0-9a-f]{32}, expected /);
    expect(svc.findDest(LO, h.port)).toBeUndefined();
    expect(hc.states()[0]).toMatchObject({ up: false, kind: 'http' });
  });
});

describe('MISC check', () => {
  it('follows the exit status of the command, and a hung command counts as a failure', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/tapvs-misc-');
    tmpDirs.push(dir);
    const mode = `${dir}/mode`;
    writeFileSync(mode, 'ok');
    const live = makeLive(`
-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r 127.0.0.5:80 -g
check misc -t ${VIP}:80 -r 127.0.0.5:80 command="case $(cat ${mode}) in ok) exit 0;; hang) sleep 10;; *) exit 1;; esac" interval=300ms timeout=250ms retries=1
`);
    const events: HealthState[] = [];
    start(live, events);
    const svc = svcOf(live);
    await sleep(700);
    expect(events).toEqual([]);
    writeFileSync(mode, 'fail');
    await waitFor(() => events.length === 1, 'down on exit 1');
    expect(events[0]!.lastError).toBe('exit status 1');
    expect(svc.dests).toHaveLength(0);
    writeFileSync(mode, 'ok');
    await waitFor(() => events.length === 2, 'up on exit 0');
    expect(svc.dests).toHaveLength(1);
    writeFileSync(mode, 'hang');
    await waitFor(() => events.length === 3, 'down on timeout');
    expect(events[2]!.lastError).toBe('timed out after 250 ms');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('inhibit_on_failure and existing connections', () => {
  it('sets weight 0 instead of removing: existing conns keep going; the weight comes back on recovery', async () => {
    const t = await new TcpTarget().start();
    targets.push(t);
    const live = makeLive(`
-A -t ${VIP}:80 -s wlc
-a -t ${VIP}:80 -r 127.0.0.1:${t.port} -m -w 5
check tcp -t ${VIP}:80 -r 127.0.0.1:${t.port} interval=100ms timeout=80ms retries=1 inhibit_on_failure
`);
    const svc = svcOf(live);
    const dest = svc.findDest(LO, t.port)!;
    const conns = live.director.conns;
    const slot = conns.create(IPPROTO_TCP, ip('10.0.0.7'), 40000, ip(VIP), 80, dest, t.port, 0, -1, 60_000, 1000);
    const events: HealthState[] = [];
    start(live, events);
    await t.stop();
    await waitFor(() => events.length === 1, 'down');
    expect(svc.findDest(LO, t.port)).toBe(dest);
    expect(dest.weight).toBe(0);
    expect(conns.used(slot)).toBe(true);
    expect(conns.checkIn(slot, false, 1001)).toBe(slot);
    expect(live.lines.some((l) => l.action === 'weight 0' && l.weight === 5)).toBe(true);
    await t.start();
    await waitFor(() => events.length === 2, 'up');
    expect(dest.weight).toBe(5);
  });

  it('without expire_nodest_conn a removed server\'s conns stay (their packets are dropped), with it they end at once', async () => {
    for (const expire of [false, true]) {
      const t = await new TcpTarget().start();
      const live = makeLive(`
option expire_nodest_conn ${expire ? 1 : 0}
-A -t ${VIP}:80 -s wlc
-a -t ${VIP}:80 -r 127.0.0.1:${t.port} -m
check tcp -t ${VIP}:80 -r 127.0.0.1:${t.port} interval=100ms timeout=80ms retries=1
`);
      const dest = svcOf(live).findDest(LO, t.port)!;
      const conns = live.director.conns;
      const slot = conns.create(IPPROTO_TCP, ip('10.0.0.7'), 40001, ip(VIP), 80, dest, t.port, 0, -1, 60_000, 1000);
      const events: HealthState[] = [];
      const h = start(live, events);
      await t.stop();
      await waitFor(() => events.length === 1, 'down');
      expect(svcOf(live).findDest(LO, t.port)).toBeUndefined();
      if (expire) {
        expect(conns.used(slot)).toBe(false);
      } else {
        expect(conns.used(slot)).toBe(true);
        expect(conns.checkIn(slot, false, 1001)).toBe(CHECK_DROP);
      }
      await h.stop();
    }
  });
});

describe('sorry server', () => {
  it('comes in when no real server with weight > 0 is left and goes when one is back', async () => {
    const a = await new TcpTarget().start();
    const b = await new TcpTarget().start();
    targets.push(a, b);
    const live = makeLive(`
-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r 127.0.0.1:${a.port} -m
-a -t ${VIP}:80 -r 127.0.0.1:${b.port} -m -w 2
sorry -t ${VIP}:80 -r 127.0.0.9:8080
check tcp -t ${VIP}:80 -r 127.0.0.1:${a.port} interval=100ms timeout=80ms retries=1
check tcp -t ${VIP}:80 -r 127.0.0.1:${b.port} interval=100ms timeout=80ms retries=1 inhibit_on_failure
`);
    const svc = svcOf(live);
    const sorry = () => svc.findDest(ip('127.0.0.9'), 8080);
    const events: HealthState[] = [];
    start(live, events);
    await a.stop();
    await waitFor(() => events.length === 1, 'a down');
    expect(sorry()).toBeUndefined(); // b still has weight 2
    await b.stop();
    await waitFor(() => events.length === 2, 'b down');
    expect(svc.findDest(LO, b.port)?.weight).toBe(0);
    expect(sorry()).toBeDefined();
    // the sorry server forwards as the service's real servers do (-m), weight 1
    expect({ fwd: sorry()!.fwd, weight: sorry()!.weight }).toEqual({ fwd: FWD_MASQ, weight: 1 });
    expect(live.lines.some((l) => l.sorry_server === '127.0.0.9:8080' && l.action === 'added')).toBe(true);
    await b.start();
    await waitFor(() => events.length === 3, 'b up');
    expect(sorry()).toBeUndefined();
    expect(svc.findDest(LO, b.port)?.weight).toBe(2);
    expect(live.lines.some((l) => l.sorry_server === '127.0.0.9:8080' && l.action === 'removed')).toBe(true);
  });

  it('is governed by health and configured weights, not by weights the operator sets (keepalived counts alive servers)', async () => {
    const t = await new TcpTarget().start();
    targets.push(t);
    const live = makeLive(`
-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r 127.0.0.1:${t.port} -m -w 1
sorry -t ${VIP}:80 -r 127.0.0.9:80
check tcp -t ${VIP}:80 -r 127.0.0.1:${t.port} interval=100ms timeout=80ms
`);
    start(live);
    const svc = svcOf(live);
    await sleep(150);
    expect(svc.findDest(ip('127.0.0.9'), 80)).toBeUndefined();
    svc.editDest(svc.findDest(LO, t.port)!, { weight: 0 }); // as `ipvsadm -e ... -w 0` would
    await sleep(300);
    expect(svc.findDest(ip('127.0.0.9'), 80)).toBeUndefined();
    expect(svc.findDest(LO, t.port)!.weight).toBe(0);
    // the server's health decides: down, the sorry server comes in
    await t.stop();
    await waitFor(() => svc.findDest(ip('127.0.0.9'), 80) !== undefined, 'sorry in');
  });

  it('is put in at start when the service has no real server with weight > 0', () => {
    const live = makeLive(`
-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r 127.0.0.1:80 -g -w 0
sorry -t ${VIP}:80 -r 127.0.0.9 -g
`);
    start(live);
    const s = svcOf(live).findDest(ip('127.0.0.9'), 80);
    expect(s?.fwd).toBe(FWD_DR);
    // keepalived's quorum rule: while the sorry server serves, the (alive, weight 0) real server is out
    expect(live.director.services.all[0]!.dests.map((d) => d.addr)).toEqual([ip('127.0.0.9')]);
  });

  it('a reload while the sorry server serves leaves the parked real servers out (and the sorry server in)', () => {
    const text = `
-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r 127.0.0.1:80 -g -w 0
-a -t ${VIP}:80 -r 127.0.0.2:80 -g -w 0
sorry -t ${VIP}:80 -r 127.0.0.9 -g
`;
    const live = makeLive(text);
    const h = start(live);
    expect(h.heldOut().sort()).toEqual([`-t ${VIP}:80 127.0.0.1:80`, `-t ${VIP}:80 127.0.0.2:80`]);
    // the same real servers, another scheduler (so the reload is not a no-op)
    const next = parseConfig(TOPOLOGY + text.replace('-s rr', '-s wrr'), 'test.conf');
    if ('errors' in next) throw new Error(JSON.stringify(next.errors));
    const r = applyConfig(live, next.config, 'test.conf', h);
    expect(r.ok && r.summary).toBe('1 edit-service');
    expect(live.director.services.all[0]!.sched.name).toBe('wrr');
    // the parked servers are not put back: the sorry server alone serves
    expect(live.director.services.all[0]!.dests.map((d) => d.addr)).toEqual([ip('127.0.0.9')]);
  });
});

describe('several checks of one server, reload and stop', () => {
  it('a server is down while any of its checks is down', async () => {
    const t = await new TcpTarget().start();
    targets.push(t);
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const flag = `${mkdtempSync('/tmp/tapvs-multi-')}/ok`;
    tmpDirs.push(dirname(flag));
    writeFileSync(flag, '');
    const live = makeLive(`
-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r 127.0.0.1:${t.port} -m
check tcp -t ${VIP}:80 -r 127.0.0.1:${t.port} interval=100ms timeout=80ms retries=1
check misc -t ${VIP}:80 -r 127.0.0.1:${t.port} command="test -e ${flag}" interval=100ms timeout=80ms retries=1
`);
    const events: HealthState[] = [];
    const h = start(live, events);
    const svc = svcOf(live);
    (await import('node:fs')).rmSync(flag);
    await waitFor(() => events.length === 1, 'misc down');
    expect(svc.dests).toHaveLength(0);
    await sleep(250); // tcp stays up, the server stays out
    expect(h.states().map((s) => [s.kind, s.up]).sort()).toEqual([['misc', false], ['tcp', true]]);
    expect(svc.dests).toHaveLength(0);
    writeFileSync(flag, '');
    await waitFor(() => events.length === 2, 'misc up');
    expect(svc.dests).toHaveLength(1);
  });

  it('reload keeps unchanged checks, and dropping the check of a server that is out puts it back', async () => {
    const t = await new TcpTarget().start();
    const u = await new TcpTarget().start();
    targets.push(u);
    const live = makeLive(`
-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r 127.0.0.1:${t.port} -m -w 4
-a -t ${VIP}:80 -r 127.0.0.1:${u.port} -m
check tcp -t ${VIP}:80 -r 127.0.0.1:${t.port} interval=100ms timeout=80ms retries=1
check tcp -t ${VIP}:80 -r 127.0.0.1:${u.port} interval=100ms timeout=80ms retries=1
`);
    const events: HealthState[] = [];
    const h = start(live, events);
    await t.stop();
    await waitFor(() => events.length === 1, 't down');
    const uState = h.states().find((s) => s.dest.endsWith(`:${u.port}`))!;
    h.reload(live.cfg.healthChecks.filter((c) => c.dest.port === u.port));
    expect(svcOf(live).findDest(LO, t.port)?.weight).toBe(4);
    expect(h.states()).toHaveLength(1);
    expect(h.states()[0]!.since).toBe(uState.since); // the same check, not a new one
    await sleep(250);
    expect(svcOf(live).findDest(LO, t.port)).toBeDefined(); // no one takes it out again
  });

  it('stop() ends probing', async () => {
    const t = await new TcpTarget().start();
    targets.push(t);
    const live = makeLive(`
-A -t ${VIP}:80 -s rr
-a -t ${VIP}:80 -r 127.0.0.1:${t.port} -m
check tcp -t ${VIP}:80 -r 127.0.0.1:${t.port} interval=100ms timeout=80ms
`);
    const h = start(live);
    await waitFor(() => t.accepted >= 2, 'two probes');
    await h.stop();
    const n = t.accepted;
    await sleep(300);
    expect(t.accepted).toBe(n);
  });
});
