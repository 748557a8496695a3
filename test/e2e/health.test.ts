// End-to-end: a keepalived-style HTTP check takes a dead real server out of
// the NAT lab's service and puts it back once it answers again. Probes run
// from the lab's `lan` namespace, which gets its own leg on the real servers'
// LAN (lab_probe_leg), because tapvs's addresses live in user space.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2eLab, destsOf, stillRunning, waitFor } from './lab.js';

const INTERVAL_MS = 200;
const TIMEOUT_MS = 200;
const RETRIES = 1;
// docs/config.md: down within about retries x interval + timeout, up within interval + timeout;
// the slack covers polling through the control socket on a loaded 2-core machine
const SLACK_MS = 2_000;

describe('e2e health checks (NAT lab, HTTP check every 200 ms)', () => {
  const lab = new E2eLab(`tve${process.pid % 1000}h`, 'nat');
  const rs1 = '192.168.10.11';
  const rs2 = '192.168.10.12';
  const vip = '10.0.0.100';

  beforeAll(async () => {
    await lab.up({
      sched: 'rr',
      probeLeg: true,
      extra: [
        `option check_netns ${lab.id}-lan`,
        `check http -t ${vip}:80 -r ${rs1}:80 path=/ status=200 interval=${INTERVAL_MS}ms timeout=${TIMEOUT_MS}ms retries=${RETRIES}`,
      ],
    });
  });

  afterAll(async () => {
    const pids = lab.recordedPids();
    await lab.down();
    expect(await lab.namespaces()).toEqual([]);
    expect(stillRunning(pids)).toEqual([]);
  });

  const tcp80 = async (): Promise<string[]> =>
    (destsOf((await lab.ipvsadm('-Ln')).stdout, `TCP ${vip}:80`) ?? []).map((d) => d.addr);

  it('both real servers serve while rs1 is healthy', async () => {
    expect(lab.env.LAB_PROBE_NS).toBe(`${lab.id}-lan`);
    // the probe namespace really reaches rs1 over its new leg
    const direct = await lab.inNs(`${lab.id}-lan`, 'curl', ['-s', '--max-time', '2', `http://${rs1}/`]);
    expect(direct.stdout).toBe('rs1\n');
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(await lab.whoAnswers());
    expect([...seen].sort()).toEqual(['rs1', 'rs2']);
  });

  it('a dead rs1 is taken out in time and gets no new connections', async () => {
    const pid = await lab.sh('lab_rs_pid rs1');
    expect(pid.code, pid.stderr).toBe(0);
    process.kill(Number(pid.stdout.trim()), 'SIGTERM');

    const took = await waitFor(async () => !(await tcp80()).includes(`${rs1}:80`), RETRIES * INTERVAL_MS + TIMEOUT_MS + SLACK_MS, 50);
    expect(took, 'rs1 was not taken out of TCP 10.0.0.100:80').toBeGreaterThanOrEqual(0);
    expect(await tcp80()).toEqual([`${rs2}:80`]);
    // the UDP service has no check: rs1 stays there
    expect((destsOf((await lab.ipvsadm('-Ln')).stdout, `UDP ${vip}:7`) ?? []).map((d) => d.addr)).toContain(`${rs1}:7`);

    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await lab.whoAnswers());
    expect(seen).toEqual(Array(6).fill('rs2'));
  });

  it('rs1 comes back once its HTTP server answers again', async () => {
    const start = await lab.sh('lab_rs_start rs1');
    expect(start.code, start.stderr).toBe(0);

    const took = await waitFor(async () => (await tcp80()).includes(`${rs1}:80`), INTERVAL_MS + TIMEOUT_MS + SLACK_MS, 50);
    expect(took, 'rs1 was not put back').toBeGreaterThanOrEqual(0);
    // restored as it was configured: masquerading, weight 1
    const back = destsOf((await lab.ipvsadm('-Ln')).stdout, `TCP ${vip}:80`)?.find((d) => d.addr === `${rs1}:80`);
    expect(back).toMatchObject({ fwd: 'Masq', weight: 1 });

    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push(await lab.whoAnswers());
    expect(seen.filter((s) => s === 'rs1')).toHaveLength(2);
    expect(seen.filter((s) => s === 'rs2')).toHaveLength(2);
  });
});
