import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from './ns.js';

const ids: string[] = [];
const labId = (tag: string): string => {
  const id = `tl${process.pid % 100000}${tag}`;
  ids.push(id);
  return id;
};
const lab = (...args: string[]) => run('bash', ['netns/lab.sh', ...args], undefined, 90_000);
const namespacesOf = async (id: string): Promise<string[]> =>
  (await run('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(`${id}-`));

describe('netns lab topologies', () => {
  afterAll(async () => {
    for (const id of ids) await lab('down', id);
  });

  it('NAT: real servers answer with their names on the inside LAN; teardown leaves nothing', async () => {
    const id = labId('n');
    const up = await lab('up', 'nat', id);
    expect(up.code, up.stderr).toBe(0);
    const cfg = JSON.parse(readFileSync(`${up.stdout.trim()}/lab.json`, 'utf8'));
    expect(cfg.ports.map((p: { name: string }) => p.name)).toEqual(['outside', 'inside']);
    const http = await run('curl', ['-s', '--max-time', '3', 'http://192.168.10.12/'], `${id}-rs1`);
    expect(http.stdout).toBe('rs2\n');
    const udp = await run('bash', ['-c', 'echo hi | socat -t1 - UDP:192.168.10.11:7'], `${id}-rs2`);
    expect(udp.stdout).toBe('rs1:hi\n');
    expect((await run('ip', ['route', 'show', 'default'], `${id}-rs1`)).stdout).toMatch(/via 192\.168\.10\.1 /);
    // dual-stack: the same services on the real servers' IPv6 addresses, IPv6 default route to the director
    expect((await run('curl', ['-6', '-s', '--max-time', '3', 'http://[2001:db8:10::12]/'], `${id}-rs1`)).stdout).toBe('rs2\n');
    expect((await run('bash', ['-c', "echo hi6 | socat -t1 - 'UDP6:[2001:db8:10::11]:7'"], `${id}-rs2`)).stdout).toBe('rs1:hi6\n');
    expect((await run('ip', ['-6', 'route', 'show', 'default'], `${id}-rs1`)).stdout).toMatch(/via 2001:db8:10::1 /);
    expect(await namespacesOf(id)).toHaveLength(4);
    // the LAN bridge switches without running frames through the IP firewall hooks
    for (const k of ['iptables', 'ip6tables', 'arptables']) {
      expect((await run('sysctl', ['-n', `net.bridge.bridge-nf-call-${k}`], `${id}-lan`)).stdout.trim()).toBe('0');
    }
    expect((await lab('down', id)).code).toBe(0);
    expect(await namespacesOf(id)).toEqual([]);
  });

  it('DR: the router reaches the real servers, and they keep quiet about the VIP in ARP', async () => {
    const id = labId('d');
    const up = await lab('up', 'dr', id);
    expect(up.code, up.stderr).toBe(0);
    expect((await run('curl', ['-s', '--max-time', '3', 'http://172.16.0.11/'], `${id}-router`)).stdout).toBe('rs1\n');
    expect((await run('ping', ['-c1', '-W2', '10.0.0.1'], `${id}-client`)).code).toBe(0);
    // the VIP is on the real servers' lo, yet with no director nobody may answer for it
    expect((await run('ip', ['-br', 'addr', 'show', 'dev', 'lo'], `${id}-rs2`)).stdout).toMatch(/172\.16\.0\.100\/32/);
    expect((await run('ping', ['-c1', '-W1', '172.16.0.100'], `${id}-router`)).code).not.toBe(0);
    // IPv6: the router reaches rs1 over IPv6; the IPv6 VIP sits on lo and nobody answers for it either
    expect((await run('curl', ['-6', '-s', '--max-time', '3', 'http://[2001:db8:10::11]/'], `${id}-router`)).stdout).toBe('rs1\n');
    expect((await run('ip', ['-br', '-6', 'addr', 'show', 'dev', 'lo'], `${id}-rs2`)).stdout).toMatch(/2001:db8:10::100\/128/);
    expect((await run('ping', ['-6', '-c1', '-W1', '2001:db8:10::100'], `${id}-router`)).code).not.toBe(0);
    expect((await lab('down', id)).code).toBe(0);
    expect(await namespacesOf(id)).toEqual([]);
  });

  it('TUN: real servers on another subnet run a decapsulator and are routed', async () => {
    const id = labId('t');
    const up = await lab('up', 'tun', id);
    expect(up.code, up.stderr).toBe(0);
    const cfg = JSON.parse(readFileSync(`${up.stdout.trim()}/lab.json`, 'utf8'));
    expect(cfg.realServers.map((r: { decap: string }) => r.decap)).toEqual(expect.arrayContaining([expect.stringMatching(/^(kernel|helper)$/)]));
    expect((await run('curl', ['-s', '--max-time', '3', 'http://172.16.1.12/'], `${id}-client`)).stdout).toBe('rs2\n');
    expect((await run('curl', ['-6', '-s', '--max-time', '3', 'http://[2001:db8:11::12]/'], `${id}-client`)).stdout).toBe('rs2\n');
    const pids = readFileSync(`${up.stdout.trim()}/pids`, 'utf8').split('\n').filter(Boolean).map(Number);
    // per real server: its service, its iperf3 servers (bound to the IPv4 VIP and to the IPv6 VIP),
    // its decapsulator (IPIP and IPv6-in-IPv6 in one process)
    expect(pids.length).toBe(8);
    expect((await lab('down', id)).code).toBe(0);
    expect(await namespacesOf(id)).toEqual([]);
    // every process the lab started is gone
    const alive = pids.filter((pid) => {
      try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
    });
    expect(alive).toEqual([]);
  });

  it('tears a lab down when its script is interrupted', async () => {
    const id = labId('i');
    const script = `source netns/lib.sh; lab_init ${id}; lab_trap; lab_nat >/dev/null; echo up; sleep 20 & echo $! >>"$LAB_DIR/pids"; wait`;
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('up')) resolve(); }));
    expect(await namespacesOf(id)).toHaveLength(4);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
    expect(await namespacesOf(id)).toEqual([]);
  });
});
