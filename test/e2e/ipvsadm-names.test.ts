/**
 * `tapvs ipvsadm` with the real resolver: a namespace whose own hosts file
 * names the VIP and the real servers and whose resolv.conf is empty (`ip
 * netns exec` bind-mounts /etc/netns/NS/hosts and resolv.conf over
 * /etc/hosts and /etc/resolv.conf, so nothing but that file answers and an
 * unknown name fails fast), a real `tapvs run` in it (a pcap port on a
 * veth: no TAP), and the binary run there as a user runs it: names are
 * taken by -A and -a, -L prints them, -Ln the numbers, -S the names, an
 * unknown name is refused with ipvsadm's message. /etc/services is the
 * system's (http is 80/tcp there as everywhere).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNetns, delNetns, run, uniqueName } from '../netns-helpers/ns.js';
import { REPO } from './lab.js';

const BIN = join(REPO, 'bin', 'tapvs.js');
const NS = uniqueName('nm');
const ETC_NETNS = '/etc/netns';
const madeEtcNetns = !existsSync(ETC_NETNS);
const dir = mkdtempSync(join(tmpdir(), 'tapvs-names-'));
const sock = join(dir, 'run', 'tapvs.sock');
let director: ChildProcess | undefined;
let directorErr = '';

const HOSTS = `127.0.0.1 localhost
10.77.0.100 www.lab www
10.77.0.11 rs1.lab
10.77.0.12 rs2.lab
`;
const CONF = `port lan kind=pcap device=v0 mac=02:00:00:00:77:01 addr=10.77.0.1/24
vip 10.77.0.100 on lan
option control_socket ${sock}
`;

const ipvsadm = (...args: string[]) => run(process.execPath, [BIN, 'ipvsadm', '--socket', sock, ...args], NS, 30_000);

async function until(what: string, f: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; director stderr: ${directorErr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('tapvs ipvsadm names through the real resolver (netns hosts file)', () => {
  beforeAll(async () => {
    addNetns(NS);
    const links = [['link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'], ['link', 'set', 'v0', 'up'], ['link', 'set', 'v1', 'up']];
    for (const l of links) {
      const r = await run('ip', ['-n', NS, ...l]);
      if (r.code !== 0) throw new Error(`ip ${l.join(' ')}: ${r.stderr}`);
    }
    mkdirSync(join(ETC_NETNS, NS), { recursive: true });
    writeFileSync(join(ETC_NETNS, NS, 'hosts'), HOSTS);
    writeFileSync(join(ETC_NETNS, NS, 'resolv.conf'), '');
    writeFileSync(join(dir, 'tapvs.conf'), CONF);
    director = spawn('ip', ['netns', 'exec', NS, process.execPath, BIN, 'run', '--config', join(dir, 'tapvs.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    director.stderr!.on('data', (b: Buffer) => { directorErr = (directorErr + b.toString()).slice(-8000); });
    await until('the control socket', () => existsSync(sock) || director!.exitCode !== null, 30_000);
    if (director.exitCode !== null) throw new Error(`tapvs run exited ${director.exitCode}: ${directorErr}`);
  });

  afterAll(async () => {
    const pid = director?.pid;
    if (pid !== undefined && director!.exitCode === null) {
      const gone = new Promise<void>((r) => director!.once('exit', () => r()));
      process.kill(pid, 'SIGTERM');
      const t = setTimeout(() => { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
      await gone;
      clearTimeout(t);
    }
    delNetns(NS);
    rmSync(join(ETC_NETNS, NS), { recursive: true, force: true });
    if (madeEtcNetns && existsSync(ETC_NETNS) && readdirSync(ETC_NETNS).length === 0) rmdirSync(ETC_NETNS);
    rmSync(dir, { recursive: true, force: true });
    expect((await run('ip', ['netns', 'list'])).stdout).not.toContain(NS);
  });

  it('-A and -a take host and service names', async () => {
    expect(await ipvsadm('-A', '-t', 'www.lab:http', '-s', 'rr')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await ipvsadm('-a', '-t', 'www.lab:http', '-r', 'rs1.lab:http', '-m')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(await ipvsadm('-a', '-t', 'www:http', '-r', 'rs2.lab', '-m', '-w', '2')).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('-L prints the names, -Ln the numbers, -S the names', async () => {
    expect(await ipvsadm('-L')).toEqual({
      code: 0, stderr: '',
      stdout: [
        'IP Virtual Server version 1.2.1 (size=1048576)',
        'Prot LocalAddress:Port Scheduler Flags',
        '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
        'TCP  www.lab:http rr',
        '  -> rs1.lab:http                 Masq    1      0          0         ',
        '  -> rs2.lab:http                 Masq    2      0          0         ',
        '',
      ].join('\n'),
    });
    expect((await ipvsadm('-Ln')).stdout.split('\n').slice(3)).toEqual([
      'TCP  10.77.0.100:80 rr',
      '  -> 10.77.0.11:80                Masq    1      0          0         ',
      '  -> 10.77.0.12:80                Masq    2      0          0         ',
      '',
    ]);
    expect((await ipvsadm('-S')).stdout).toBe('-A -t www.lab:http -s rr\n-a -t www.lab:http -r rs1.lab:http -m -w 1\n-a -t www.lab:http -r rs2.lab:http -m -w 2\n');
    expect((await ipvsadm('-S', '-n')).stdout).toBe('-A -t 10.77.0.100:80 -s rr\n-a -t 10.77.0.100:80 -r 10.77.0.11:80 -m -w 1\n-a -t 10.77.0.100:80 -r 10.77.0.12:80 -m -w 2\n');
  });

  it("an unknown name is refused with ipvsadm's message, at once", async () => {
    const t0 = Date.now();
    expect(await ipvsadm('-A', '-t', 'nowhere.lab:http')).toEqual({ code: 2, stdout: '', stderr: 'illegal virtual server address[:port] specified\n' });
    expect(await ipvsadm('-a', '-t', 'www.lab:http', '-r', 'rs1.lab:nosuchservice', '-m')).toEqual({ code: 2, stdout: '', stderr: 'illegal real server address[:port] specified\n' });
    expect(Date.now() - t0).toBeLessThan(15_000);
  });
});
