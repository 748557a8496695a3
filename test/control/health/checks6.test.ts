// Health checks of IPv6 real servers take them out of their service and put
// them back exactly as they were, as for IPv4: the check, its state and log
// lines name the server as [addr]:port.
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { startHealthChecks, type HealthChecks, type HealthState } from '../../../src/control/health/index.js';
import { FWD_MASQ } from '../../../src/model/dest.js';
import { IPPROTO_TCP } from '../../../src/model/proto.js';
import { makeLive, waitFor } from './helpers.js';

// ::1 (the real servers) sits on the IPv6 port's ::/126
const V6 = 'port lan6 kind=memory mac=02:00:00:00:00:02 addr=::2/126\nvip 2001:db8::100 on lan6\n';
const VIP6 = Uint32Array.of(0x20010db8, 0, 0, 0x100);
const LO6 = Uint32Array.of(0, 0, 0, 1);

class Target6 {
  port = 0;
  private s: Server | null = null;
  async start(port = this.port): Promise<this> {
    const s = createServer((c) => c.destroy());
    await new Promise<void>((r, j) => { s.once('error', j); s.listen(port, '::1', () => r()); });
    this.s = s;
    this.port = (s.address() as { port: number }).port;
    return this;
  }
  async stop(): Promise<void> {
    const s = this.s;
    this.s = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

let running: HealthChecks[] = [];
let targets: Target6[] = [];
afterEach(async () => {
  await Promise.all(running.map((h) => h.stop()));
  await Promise.all(targets.map((t) => t.stop()));
  running = [];
  targets = [];
});

describe('TCP check of an IPv6 real server', () => {
  it('takes [::1]:PORT out after its failures and restores its exact spec', async () => {
    const t = await new Target6().start();
    const other = await new Target6().start();
    targets.push(t, other);
    const live = makeLive(`${V6}
-A -t [2001:db8::100]:80 -s wlc
-a -t [2001:db8::100]:80 -r [::1]:${t.port} -m -w 3 -x 100 -y 10
-a -t [2001:db8::100]:80 -r [::1]:${other.port} -m -w 1
check tcp -t [2001:db8::100]:80 -r [::1]:${t.port} interval=100ms timeout=80ms retries=2
`);
    const events: HealthState[] = [];
    const h = startHealthChecks(live, live.cfg.healthChecks, { onTransition: (s) => events.push(s) });
    running.push(h);
    const svc = live.director.services.get6(IPPROTO_TCP, VIP6, 80)!;
    expect(h.states()).toMatchObject([{ service: '-t [2001:db8::100]:80', dest: `[::1]:${t.port}`, kind: 'tcp', up: true }]);

    await t.stop();
    await waitFor(() => events.length === 1, 'down transition');
    expect(events[0]).toMatchObject({ up: false, failures: 2, dest: `[::1]:${t.port}` });
    expect(svc.findDest(0, t.port, LO6)).toBeUndefined();
    expect(svc.findDest(0, other.port, LO6)).toBeDefined();
    expect(live.lines.find((l) => l.action === 'removed')).toMatchObject({ service: '-t [2001:db8::100]:80', real_server: `[::1]:${t.port}` });

    await t.start();
    await waitFor(() => events.length === 2, 'up transition');
    const back = svc.findDest(0, t.port, LO6)!;
    expect({ af: back.af, weight: back.weight, fwd: back.fwd, u: back.uThreshold, l: back.lThreshold }).toEqual({ af: 10, weight: 3, fwd: FWD_MASQ, u: 100, l: 10 });
  });

  it('puts an IPv6 sorry server in when every real server is down, and takes it out again', async () => {
    const t = await new Target6().start();
    targets.push(t);
    const live = makeLive(`${V6}
-A -t [2001:db8::100]:80 -s rr
-a -t [2001:db8::100]:80 -r [::1]:${t.port} -m
sorry -t [2001:db8::100]:80 -r [::3]:80 -m
check tcp -t [2001:db8::100]:80 -r [::1]:${t.port} interval=100ms timeout=80ms retries=1
`);
    const h = startHealthChecks(live, live.cfg.healthChecks, {});
    running.push(h);
    const svc = live.director.services.get6(IPPROTO_TCP, VIP6, 80)!;
    const sorry6 = Uint32Array.of(0, 0, 0, 3);
    await t.stop();
    await waitFor(() => svc.findDest(0, 80, sorry6) !== undefined, 'sorry server in');
    expect(svc.dests.map((d) => d.port)).toEqual([80]);
    await t.start();
    await waitFor(() => svc.findDest(0, 80, sorry6) === undefined, 'sorry server out');
    expect(svc.findDest(0, t.port, LO6)).toBeDefined();
  });
});

describe('keepalived connect_ip / bindto in IPv6', () => {
  it('a check of an IPv6 real server probes connect_ip from bindto, both IPv6', async () => {
    const t = await new Target6().start();
    targets.push(t);
    // [::3]:80 answers nothing (no host has it); every verdict comes from connect_ip [::1]
    const live = makeLive(`${V6}
-A -t [2001:db8::100]:80 -s wlc
-a -t [2001:db8::100]:80 -r [::3]:80 -m -w 2
check tcp -t [2001:db8::100]:80 -r [::3]:80 interval=100ms timeout=80ms retries=2 port=${t.port}
`);
    live.cfg.healthChecks[0]!.probe = { connectIp: '::1', bindto: '::1' };
    const events: HealthState[] = [];
    const h = startHealthChecks(live, live.cfg.healthChecks, { onTransition: (s) => events.push(s) });
    running.push(h);
    const svc = live.director.services.get6(IPPROTO_TCP, VIP6, 80)!;
    await t.stop();
    await waitFor(() => events.length === 1, 'down transition');
    expect(events[0]).toMatchObject({ up: false, dest: '[::3]:80' });
    expect(svc.findDest(0, 80, Uint32Array.of(0, 0, 0, 3))).toBeUndefined();
    await t.start();
    await waitFor(() => events.length === 2, 'up transition');
    expect(events[1]).toMatchObject({ up: true, dest: '[::3]:80' });
    expect(svc.findDest(0, 80, Uint32Array.of(0, 0, 0, 3))!.weight).toBe(2);
  });
});
