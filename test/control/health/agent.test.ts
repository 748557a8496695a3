import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHealthChecks, type HealthChecks, type HealthState } from '../../../src/control/health/index.js';
import { parseIpv4 } from '../../../src/control/ipvsadm-args.js';
import { IPPROTO_TCP } from '../../../src/model/proto.js';
import { addNetns, delNetns, run, uniqueName } from '../../netns-helpers/ns.js';
import { makeLive, sleep, waitFor } from './helpers.js';

// A namespace whose lo holds 198.51.100.7 with an HTTP server on it. The
// director's own namespace has no such address (its default route leads
// elsewhere), so a check only passes when it runs inside the namespace.
const RS = '198.51.100.7';
const NOBODY = '198.51.100.8';
const BODY = 'rs in a namespace\n';
const DIGEST = createHash('md5').update(BODY).digest('hex');
const SERVER = `
const http = require('node:http');
http.createServer((q, s) => { s.end(${JSON.stringify(BODY)}); }).listen(8080, '${RS}', () => console.log('listening'));
`;

describe('probe agent in a network namespace (check_netns)', () => {
  const ns = uniqueName('hc');
  let server: ChildProcess | null = null;
  const running: HealthChecks[] = [];

  async function startServer(): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    server = child;
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (c) => reject(new Error(`server exited ${c}`)));
    });
  }

  async function stopServer(): Promise<void> {
    const child = server;
    server = null;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }

  const nsPids = async (): Promise<number[]> => (await run('ip', ['netns', 'pids', ns])).stdout.split('\n').filter(Boolean).map(Number);
  /** Probe agents running in the namespace (misc probes come and go there too). */
  const agentPids = async (): Promise<number[]> => (await nsPids()).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('agent-main');
    } catch {
      return false;
    }
  });

  beforeAll(async () => {
    addNetns(ns);
    expect((await run('ip', ['-n', ns, 'addr', 'add', `${RS}/32`, 'dev', 'lo'])).code).toBe(0);
    await startServer();
  });

  afterAll(async () => {
    await Promise.all(running.map((h) => h.stop()));
    if (server?.pid) try { process.kill(server.pid, 'SIGKILL'); } catch { /* gone */ }
    delNetns(ns);
  });

  const config = (global: boolean, extra = '') => `
route 198.51.100.0/24 via 127.0.0.2
${global ? `option check_netns ${ns}` : ''}
-A -t 10.0.0.100:80 -s rr
-a -t 10.0.0.100:80 -r ${RS}:8080 -m
-a -t 10.0.0.100:80 -r ${NOBODY}:8080 -m
${extra}`;

  it('runs tcp, http+digest and icmp checks inside the namespace: the server there is up, a missing one down', async () => {
    const live = makeLive(config(true, `
check tcp -t 10.0.0.100:80 -r ${RS}:8080 interval=1s timeout=1s retries=3
check http -t 10.0.0.100:80 -r ${RS}:8080 digest=${DIGEST} interval=1s timeout=1s retries=3
check icmp -t 10.0.0.100:80 -r ${RS}:8080 interval=1s timeout=1s retries=3
check icmp -t 10.0.0.100:80 -r ${NOBODY}:8080 interval=200ms timeout=150ms retries=1
check misc -t 10.0.0.100:80 -r ${NOBODY}:8080 command="ip -br addr show dev lo | grep -q ${NOBODY}" interval=200ms timeout=150ms retries=1
`));
    // the live server's checks with a timeout and retries a loaded machine cannot exhaust; the missing server's fail at once
    const events: HealthState[] = [];
    const h = startHealthChecks(live, live.cfg.healthChecks, { onTransition: (s) => events.push(s) });
    running.push(h);
    const svc = live.director.services.get(IPPROTO_TCP, parseIpv4('10.0.0.100')!, 80)!;
    await waitFor(() => events.length >= 2, 'both checks of the missing server down', 15_000);
    await sleep(1200); // another round or so: the live server must stay up
    const byKey = Object.fromEntries(h.states().map((s) => [`${s.kind} ${s.dest}`, s]));
    expect(byKey[`tcp ${RS}:8080`]).toMatchObject({ up: true, failures: 0, netns: ns });
    expect(byKey[`http ${RS}:8080`]).toMatchObject({ up: true, failures: 0 });
    expect(byKey[`icmp ${RS}:8080`]).toMatchObject({ up: true, failures: 0 });
    expect(byKey[`icmp ${NOBODY}:8080`]).toMatchObject({ up: false });
    expect(byKey[`icmp ${NOBODY}:8080`]!.lastError).toMatch(/unreachable|ENETUNREACH|timed out/i);
    expect(byKey[`misc ${NOBODY}:8080`]).toMatchObject({ up: false, lastError: 'exit status 1' });
    expect(svc.dests.map((d) => d.addr)).toEqual([parseIpv4(RS)]);
    // the probes really left from the namespace: the director's own stack cannot reach RS
    const here = await run('curl', ['-s', '--max-time', '1', `http://${RS}:8080/`]);
    expect(here.stdout).not.toBe(BODY);

    // the server stops: http and tcp go down, it is taken out; it starts again: it is back
    await stopServer();
    await waitFor(() => !svc.findDest(parseIpv4(RS)!, 8080), 'RS taken out', 5000);
    await startServer();
    await waitFor(() => !!svc.findDest(parseIpv4(RS)!, 8080), 'RS back', 5000);

    // one agent per namespace, and stop() ends it
    expect(await agentPids()).toHaveLength(1);
    await h.stop();
    running.pop();
    expect(await agentPids()).toEqual([]);
  }, 30_000);

  it('a killed agent is started again and the checks carry on', async () => {
    // a probe timeout a loaded machine cannot miss: the point is that the agent's death fails no probe
    const live = makeLive(config(false, `
check tcp -t 10.0.0.100:80 -r ${RS}:8080 interval=1s timeout=1s retries=1 netns=${ns}
`));
    const h = startHealthChecks(live, live.cfg.healthChecks);
    running.push(h);
    const started = () => live.lines.filter((l) => l.msg === 'health probe agent started');
    // ready: a death before that is a failed start (backed off), not the one this test is about
    await waitFor(() => live.lines.some((l) => l.msg === 'health probe agent ready'), 'agent ready', 15_000);
    expect(started()).toHaveLength(1);
    const [agent, ...more] = await agentPids();
    expect(agent).toBeDefined();
    expect(more).toEqual([]);
    process.kill(agent!, 'SIGKILL');
    await waitFor(() => live.lines.some((l) => l.msg === 'health probe agent died; starting it again'), 'death noticed', 5000);
    await waitFor(() => started().length === 2, 'agent restarted', 10_000);
    const again = await agentPids();
    expect(again).toHaveLength(1);
    expect(again[0]).not.toBe(agent);
    // the agent's death is not the server's: even with retries=1 no probe failed, the restarted agent's included
    await sleep(1500); // at least one probe through the restarted agent (interval 1 s)
    expect(h.states()[0]).toMatchObject({ up: true, failures: 0 });
    expect(h.states()[0]!.lastError).toBeUndefined();
    expect(live.director.services.all[0]!.findDest(parseIpv4(RS)!, 8080)).toBeDefined();
    await h.stop();
    running.pop();
  }, 30_000);

  it('a namespace that does not exist makes its checks fail with the reason', async () => {
    const missing = uniqueName('nx');
    const live = makeLive(config(false, `
check tcp -t 10.0.0.100:80 -r ${RS}:8080 interval=200ms timeout=150ms retries=1 netns=${missing}
`));
    const events: HealthState[] = [];
    const h = startHealthChecks(live, live.cfg.healthChecks, { onTransition: (s) => events.push(s) });
    running.push(h);
    await waitFor(() => events.length === 1, 'down', 10_000);
    expect(events[0]!.lastError).toMatch(new RegExp(`probe agent in netns ${missing} (died|is down)`));
    expect(events[0]!.lastError).toMatch(/Cannot open network namespace/);
    await h.stop();
    running.pop();
  }, 20_000);
});
