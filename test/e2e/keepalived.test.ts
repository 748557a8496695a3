// End-to-end: tapvs runs the NAT lab from a keepalived.conf
// (fixtures/keepalived-conf/lab.conf, which Debian's keepalived accepts with
// --config-test): a NAT virtual server with HTTP_GET (status range,
// virtualhost) and a sorry server, a DR one with TCP_CHECK (retry,
// delay_before_retry) and MISC_CHECK (misc_dynamic). The health transitions
// are measured against keepalived's counts and delays, and a node_exporter
// query on the metrics endpoint is checked during traffic.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2eLab, REPO, destsOf, sleep, stillRunning, waitFor } from './lab.js';

const KA = join(REPO, 'fixtures/keepalived-conf/lab.conf');
const MISC_STATUS = '/tmp/tapvs-ka-misc-status'; // what lab.conf's MISC_CHECK reads
const RS1 = '192.168.10.11';
const RS2 = '192.168.10.12';
const NAT_SVC = 'TCP 10.0.0.100:8080';
const DR_SVC = 'TCP 10.0.0.101:80';
// lab.conf: delay_loop 1, HTTP_GET retry 2 delay_before_retry 0.5, TCP_CHECK retry 3 delay_before_retry 0.4
const LOOP = 1000;
const HTTP_RETRY = 2;
const HTTP_DBR = 500;
const TCP_RETRY = 3;
const TCP_DBR = 400;
// timer jitter and probe round trips on a loaded 2-core machine
const JITTER = 250;

interface Req { t: number; line: string; host: string | null; ua: string | null; status: number }
interface LogLine { time: number; msg: string; [k: string]: unknown }

describe('e2e: tapvs --keepalived in the NAT lab', () => {
  const lab = new E2eLab(`tvk${process.pid % 1000}`, 'nat');
  const ctl = mkdtempSync(join(tmpdir(), 'tapvs-ka-ctl-'));
  const metricsPort = 19500 + (process.pid % 400);
  let target: ReturnType<E2eLab['spawnIn']>;

  const requests = (): Req[] => target.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Req);
  const log = (): LogLine[] => readFileSync(join(lab.dir, 'tapvs.log'), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as LogLine);
  const dests = async (svc: string): Promise<{ addr: string; fwd: string; weight: number; active: number }[]> => destsOf((await lab.ipvsadm('-Ln')).stdout, svc) ?? [];
  const nft = (...args: string[]): string => execFileSync('ip', ['netns', 'exec', `${lab.id}-rs1`, 'nft', ...args], { encoding: 'utf8' });
  const syns = (): number => Number(/packets (\d+)/.exec(nft('list', 'chain', 'inet', 'kat', 'in'))?.[1] ?? NaN);

  beforeAll(async () => {
    writeFileSync(join(ctl, 'status'), '200');
    writeFileSync(join(ctl, 'tcp'), 'open');
    writeFileSync(MISC_STATUS, '0');
    await lab.up({
      sched: 'rr',
      probeLeg: true,
      extra: ['vip 10.0.0.101 on outside', `option check_netns ${lab.id}-lan`, `option metrics_listen 127.0.0.1:${metricsPort}`],
      tapvsArgs: ['--keepalived', KA],
    });
    target = lab.spawnIn(`${lab.id}-rs1`, 'node', [join(REPO, 'test/e2e/ka-target.mjs'), '--name', 'rs1-8081', '--http', '8081', '--tcp', '8082', '--ctl', ctl]);
    expect(await waitFor(async () => target.stdout().includes('ready rs1-8081'), 10_000, 50)).toBeGreaterThanOrEqual(0);
    nft('add', 'table', 'inet', 'kat');
    nft('add', 'chain', 'inet', 'kat', 'in', '{ type filter hook input priority 0; }');
    nft('add', 'rule', 'inet', 'kat', 'in', 'tcp', 'dport', '8082', 'tcp', 'flags', 'syn', 'counter');
  }, 180_000);

  afterAll(async () => {
    const pids = lab.recordedPids();
    await lab.down();
    rmSync(ctl, { recursive: true, force: true });
    rmSync(MISC_STATUS, { force: true });
    expect(await lab.namespaces()).toEqual([]);
    expect(stillRunning(pids)).toEqual([]);
  });

  it('builds both virtual servers from keepalived.conf, and HTTP_GET asks as keepalived does', async () => {
    expect(await dests(NAT_SVC)).toMatchObject([{ addr: `${RS1}:8081`, fwd: 'Masq', weight: 1 }]);
    expect(await dests(DR_SVC)).toMatchObject([{ addr: `${RS1}:80`, fwd: 'Route', weight: 2 }, { addr: `${RS2}:80`, fwd: 'Route', weight: 1 }]);
    expect(await waitFor(async () => requests().length >= 2, 5_000, 50)).toBeGreaterThanOrEqual(0);
    const [a, b] = requests();
    expect({ line: a!.line, host: a!.host, ua: a!.ua }).toEqual({ line: 'GET /health HTTP/1.0', host: 'health.lab.example', ua: 'KeepAliveClient' });
    // once up, one probe per delay_loop
    expect(Math.abs(b!.t - a!.t - LOOP)).toBeLessThan(JITTER);
    expect((await lab.client('curl', ['-s', '--max-time', '5', 'http://10.0.0.100:8080/'])).stdout).toBe('rs1-8081\n');
  });

  it('HTTP_GET: down after retry+1 = 3 failures delay_before_retry apart, the sorry server serves; up after two successes a delay_loop apart', async () => {
    const before = requests().length;
    writeFileSync(join(ctl, 'status'), '503'); // outside status_code 200-299 302
    const took = await waitFor(async () => !(await dests(NAT_SVC)).some((d) => d.addr === `${RS1}:8081`), 10_000, 50);
    expect(took).toBeGreaterThanOrEqual(0);
    const down = log().find((l) => l.msg === 'real server check down' && l.service === '-t 10.0.0.100:8080')!;
    const failed = requests().slice(before).filter((r) => r.status === 503 && r.t <= down.time);
    expect(failed.length).toBe(HTTP_RETRY + 1);
    for (let i = 1; i < failed.length; i++) expect(Math.abs(failed[i]!.t - failed[i - 1]!.t - HTTP_DBR)).toBeLessThan(JITTER);
    expect(down.time - failed.at(-1)!.t).toBeLessThan(JITTER);
    // the sorry server (rs2's port 80) took the service
    expect((await dests(NAT_SVC)).map((d) => d.addr)).toEqual([`${RS2}:80`]);
    expect((await lab.client('curl', ['-s', '--max-time', '5', 'http://10.0.0.100:8080/'])).stdout).toBe('rs2\n');
    // while down, the failed url is probed every max(delay_before_retry, delay_loop)
    await waitFor(async () => requests().filter((r) => r.status === 503).length >= HTTP_RETRY + 3, 5_000, 50);
    const more = requests().filter((r) => r.status === 503 && r.t > down.time);
    expect(Math.abs(more[1]!.t - more[0]!.t - LOOP)).toBeLessThan(JITTER);

    const upFrom = requests().length;
    writeFileSync(join(ctl, 'status'), '302'); // in the range too
    const back = await waitFor(async () => (await dests(NAT_SVC)).some((d) => d.addr === `${RS1}:8081`), 10_000, 50);
    expect(back).toBeGreaterThanOrEqual(0);
    const up = log().filter((l) => l.msg === 'real server check up' && l.service === '-t 10.0.0.100:8080').at(-1)!;
    const ok = requests().slice(upFrom).filter((r) => r.status === 302 && r.t <= up.time);
    // keepalived: the failed url answering sends the checker back to the first url; all must pass once more
    expect(ok.length).toBe(2);
    expect(Math.abs(ok[1]!.t - ok[0]!.t - LOOP)).toBeLessThan(JITTER);
    expect((await dests(NAT_SVC)).map((d) => d.addr)).toEqual([`${RS1}:8081`]);
    expect((await lab.client('curl', ['-s', '--max-time', '5', 'http://10.0.0.100:8080/'])).stdout).toBe('rs1-8081\n');
  }, 60_000);

  it('TCP_CHECK: down on the retry+1 = 4th refused connect, retry*delay_before_retry after the first', async () => {
    // wait for a regular probe to have just passed, then close the port
    const s0 = syns();
    await waitFor(async () => syns() > s0, 3_000, 20);
    const closedAt = Date.now();
    const atClose = syns();
    writeFileSync(join(ctl, 'tcp'), 'closed');
    const took = await waitFor(async () => !(await dests(DR_SVC)).some((d) => d.addr === `${RS1}:80`), 10_000, 30);
    expect(took).toBeGreaterThanOrEqual(0);
    const down = log().find((l) => l.msg === 'real server check down' && l.service === '-t 10.0.0.101:80')!;
    expect(syns() - atClose).toBe(TCP_RETRY + 1);
    // first failure at the next delay_loop, then retry * delay_before_retry to the verdict
    const since = down.time - closedAt;
    expect(since).toBeGreaterThan(TCP_RETRY * TCP_DBR);
    expect(since).toBeLessThan(LOOP + TCP_RETRY * TCP_DBR + JITTER);
    expect((await dests(DR_SVC)).map((d) => d.addr)).toEqual([`${RS2}:80`]);
    writeFileSync(join(ctl, 'tcp'), 'open');
    expect(await waitFor(async () => (await dests(DR_SVC)).some((d) => d.addr === `${RS1}:80`), LOOP + 3 * TCP_DBR + 2_000, 50)).toBeGreaterThanOrEqual(0);
    expect((await dests(DR_SVC)).find((d) => d.addr === `${RS1}:80`)).toMatchObject({ fwd: 'Route', weight: 2 });
  }, 30_000);

  it('MISC_CHECK with misc_dynamic: exit 2..255 sets the weight to status - 2, exit 1 takes the server out, exit 0 gives its weight back', async () => {
    writeFileSync(MISC_STATUS, '12');
    expect(await waitFor(async () => (await dests(DR_SVC)).find((d) => d.addr === `${RS2}:80`)?.weight === 10, 4_000, 50)).toBeGreaterThanOrEqual(0);
    writeFileSync(MISC_STATUS, '1');
    // retry 0: the first failing run decides (runs start a delay_loop apart)
    expect(await waitFor(async () => !(await dests(DR_SVC)).some((d) => d.addr === `${RS2}:80`), LOOP + 2 * JITTER + 500, 50)).toBeGreaterThanOrEqual(0);
    writeFileSync(MISC_STATUS, '0');
    expect(await waitFor(async () => (await dests(DR_SVC)).find((d) => d.addr === `${RS2}:80`)?.weight === 1, 4_000, 50)).toBeGreaterThanOrEqual(0);
  }, 20_000);

  it('answers node_ipvs_backend_connections_active{local_address, local_port="80", proto="TCP"} with the live count during traffic', async () => {
    // two connections held open through the lab's TCP VIP:80 service (rr over rs1 and rs2)
    const hold = 'import socket,time,sys\ns=[socket.create_connection(("10.0.0.100",80)) for _ in range(2)]\nprint("open",flush=True)\ntime.sleep(8)';
    const h = lab.spawnIn(lab.clientNs, 'python3', ['-c', hold]);
    expect(await waitFor(async () => h.stdout().includes('open'), 5_000, 50)).toBeGreaterThanOrEqual(0);
    await sleep(200);
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const sel = /^node_ipvs_backend_connections_active\{([^}]*)\} (\S+)$/gm;
    const series = [...text.matchAll(sel)].map((m) => ({ labels: Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]])), value: Number(m[2]) }))
      .filter((s) => s.labels.local_address === '10.0.0.100' && s.labels.local_port === '80' && s.labels.proto === 'TCP');
    expect(series.map((s) => s.labels.remote_address).sort()).toEqual([RS1, RS2]);
    expect(series.reduce((n, s) => n + s.value, 0)).toBe(2);
    const listed = await dests('TCP 10.0.0.100:80');
    for (const s of series) expect(s.value).toBe(listed.find((d) => d.addr === `${s.labels.remote_address}:80`)!.active);
    h.child.kill();
  }, 20_000);
});
