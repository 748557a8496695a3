// The control socket end to end: real Unix sockets, a LiveDirector on memory
// ports, ipvsadm command lines in, ipvsadm's text and exit codes out.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ipvsadmCommand, type CliIo } from '../../src/cli/ipvsadm.js';
import { LiveDirector } from '../../src/runtime/live.js';
import { sendControlRequest } from '../../src/control/control-socket.js';
import { startControlPlane } from '../../src/control/server.js';
import { MemoryPort } from '../../src/io/memory-port.js';
import { CLIENT, LiveRig, RS, VIP, clientSegment, serverSegment } from './server-rig.js';

let rig: LiveRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

async function startRig(rules?: string, extra?: string): Promise<LiveRig> {
  rig = await new LiveRig(rules, extra).start();
  return rig;
}

/** Runs `tapvs ipvsadm --socket PATH ...args` in-process, capturing its output. */
async function cli(r: LiveRig, args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    readStdin: async () => stdin,
  };
  const code = await ipvsadmCommand(['--socket', r.socketPath, ...args], io);
  return { code, stdout, stderr };
}

const HEAD = 'IP Virtual Server version 1.2.1 (size=1048576)\n' +
  'Prot LocalAddress:Port Scheduler Flags\n' +
  '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';
/** One real-server line as ipvsadm prints it: %-28s %-7s %-6d %-10d %-10d. */
const rsLine = (ap: string, fwd: string, w: number, active = 0, inact = 0) =>
  `  -> ${ap.padEnd(28)} ${fwd.padEnd(7)} ${String(w).padEnd(6)} ${String(active).padEnd(10)} ${String(inact).padEnd(10)}\n`;

describe('control socket: ipvsadm round trips', () => {
  it('-A/-a change the table and -L -n prints it exactly as ipvsadm', async () => {
    const r = await startRig();
    expect(await cli(r, ['-A', '-t', `${VIP}:443`, '-s', 'wlc'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await cli(r, ['-a', '-t', `${VIP}:443`, '-r', `${RS.rs3}:443`, '-m', '-w', '3'])).code).toBe(0);
    const l = await cli(r, ['-L', '-n']);
    expect(l.code).toBe(0);
    expect(l.stdout).toBe(
      HEAD +
        `TCP  ${VIP}:80 rr\n` + rsLine(`${RS.rs1}:80`, 'Masq', 1) + rsLine(`${RS.rs2}:80`, 'Masq', 1) +
        `TCP  ${VIP}:443 wlc\n` + rsLine(`${RS.rs3}:443`, 'Masq', 3),
    );
    // and the data path sees the new service at once
    expect(r.director.services.find(6, 0x0a000064, 443)?.dests.map((d) => d.weight)).toEqual([3]);
  });

  it('-S, -C, -R, -S gives back the same rules, and -C really empties the table', async () => {
    const r = await startRig();
    await cli(r, ['-A', '-u', `${VIP}:53`, '-s', 'sh', '-b', 'sh-port']);
    await cli(r, ['-a', '-u', `${VIP}:53`, '-r', `${RS.rs3}:53`, '-m', '-w', '5', '-x', '100', '-y', '10']);
    await cli(r, ['-E', '-t', `${VIP}:80`, '-s', 'wrr', '-p', '600']);
    const saved = await cli(r, ['-S', '-n']);
    expect(saved.stdout).toBe(
      `-A -t ${VIP}:80 -s wrr -p 600\n` +
        `-a -t ${VIP}:80 -r ${RS.rs1}:80 -m -w 1\n` +
        `-a -t ${VIP}:80 -r ${RS.rs2}:80 -m -w 1\n` +
        `-A -u ${VIP}:53 -s sh -b sh-port\n` +
        `-a -u ${VIP}:53 -r ${RS.rs3}:53 -m -w 5 -x 100 -y 10\n`,
    );
    expect((await cli(r, ['-C'])).code).toBe(0);
    expect((await cli(r, ['-L', '-n'])).stdout).toBe(HEAD);
    expect(r.director.services.all).toEqual([]);
    const restored = await cli(r, ['-R'], saved.stdout);
    expect(restored).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await cli(r, ['-S', '-n'])).stdout).toBe(saved.stdout);
  });

  it('an invalid -R batch changes nothing and names the failing line', async () => {
    const r = await startRig();
    const before = (await cli(r, ['-S'])).stdout;
    const batch = `-D -t ${VIP}:80\n-A -t ${VIP}:8080 -s rr\n-a -t ${VIP}:9090 -r ${RS.rs3}:9090 -m\n`;
    const res = await cli(r, ['-R'], batch);
    expect(res.code).toBe(255);
    expect(res.stderr).toBe('line 3: Service not defined\nno rule was changed\n');
    expect((await cli(r, ['-S'])).stdout).toBe(before);
    expect(r.director.services.get(6, 0x0a000064, 8080)).toBeUndefined();
  });

  it('refuses bad command lines (exit 2) and refused changes (exit 255) with ipvsadm-style messages', async () => {
    const r = await startRig();
    const before = (await cli(r, ['-S'])).stdout;
    expect(await cli(r, ['-a', '-t', `${VIP}:80`, '-r', RS.rs3, '-w', '70000'])).toEqual({
      code: 2, stdout: '', stderr: 'illegal weight specified\n',
    });
    const sched = await cli(r, ['-A', '-t', `${VIP}:81`, '-s', 'nosuch']);
    expect(sched.code).toBe(255);
    expect(sched.stderr).toMatch(/^Scheduler or persistence engine not found: unknown scheduler 'nosuch'/);
    expect(await cli(r, ['-a', '-t', `${VIP}:80`, '-r', `${RS.rs1}:80`, '-m'])).toEqual({
      code: 255, stdout: '', stderr: 'Destination already exists\n',
    });
    expect(await cli(r, ['-L', '-t', `${VIP}:99`])).toEqual({ code: 1, stdout: '', stderr: 'No such service\n' });
    expect((await cli(r, ['-S'])).stdout).toBe(before);
  });

  it('refuses a DR real server off the connected networks, saying why', async () => {
    const r = await startRig();
    const res = await cli(r, ['-a', '-t', `${VIP}:80`, '-r', '172.31.0.5', '-g']);
    expect(res.code).toBe(255);
    expect(res.stderr).toContain('real server 172.31.0.5 uses direct routing (-g) but is on no network directly connected to the director');
    expect(r.director.services.get(6, 0x0a000064, 80)!.dests.length).toBe(2);
    // a DR server on the inside LAN is fine
    expect((await cli(r, ['-a', '-t', `${VIP}:80`, '-r', RS.rs3, '-g'])).code).toBe(0);
    // and -e that turns a NAT server into DR is checked too (the route covers everything, so TUN is fine)
    await cli(r, ['-a', '-t', `${VIP}:80`, '-r', '172.31.0.6:80', '-i']);
    const edit = await cli(r, ['-e', '-t', `${VIP}:80`, '-r', '172.31.0.6', '-g']);
    expect(edit.code).toBe(255);
    expect(r.director.services.get(6, 0x0a000064, 80)!.findDest(0xac1f0006, 80)!.fwd).toBe(2);
  });

  it('--set changes the conn timeouts; -L --timeout shows them', async () => {
    const r = await startRig();
    expect((await cli(r, ['--set', '600', '0', '45'])).code).toBe(0);
    expect((await cli(r, ['-L', '--timeout'])).stdout).toBe('Timeout (tcp tcpfin udp): 600 120 45\n');
    expect(r.director.conns.timeouts.get()).toEqual({ tcp: 600, tcpfin: 120, udp: 45 });
  });

  it('the socket is owner-only (0600) in a directory it created', async () => {
    const r = await startRig();
    const st = statSync(r.socketPath);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
  });

  it('answers a malformed request with an error instead of dying', async () => {
    const r = await startRig();
    const reply = await sendControlRequest(r.socketPath, { argv: 'nope' } as unknown as { argv: string[] });
    expect(reply.code).toBe(2);
    expect(reply.stderr).toBe("bad request: 'argv' must be an array of strings\n");
    expect((await sendControlRequest(r.socketPath, { argv: ['-L', '--timeout'] })).code).toBe(0);
  });
});

describe('control socket: lifecycle', () => {
  it('says clearly when no director is running', async () => {
    let stderr = '';
    const io: CliIo = { stdout: { write: () => 0 }, stderr: { write: (s: string) => (stderr += s) }, readStdin: async () => '' };
    const code = await ipvsadmCommand(['--socket', '/nonexistent-tapvs/tapvs.sock', '-L', '-n'], io);
    expect(code).toBe(2);
    expect(stderr).toBe('tapvs ipvsadm: cannot reach tapvs at /nonexistent-tapvs/tapvs.sock: is `tapvs run` running? (ENOENT)\n');
  });

  it('refuses to start beside a live director, replaces a stale socket, never replaces a non-socket', async () => {
    const r = await startRig();
    const log = pino({ level: 'silent' });
    const mem = (p: { name: string; mac: number; mtu: number }) => new MemoryPort({ name: p.name, mac: p.mac, mtu: p.mtu });
    const second = new LiveDirector(r.live.cfg, log, { open: mem });
    try {
      await expect(startControlPlane(second, r.configPath, log, { signals: false }))
        .rejects.toThrow(`control socket ${r.socketPath}: another tapvs director is running and answers on it`);
      // the first one still answers
      expect((await sendControlRequest(r.socketPath, { argv: ['-L', '--timeout'] })).code).toBe(0);

      // a socket file nobody listens on (a director that was killed) is replaced
      const stale = join(r.dir, 'stale', 'tapvs.sock');
      mkdirSync(join(r.dir, 'stale'));
      execFileSync('python3', ['-c', 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])', stale]);
      expect(statSync(stale).isSocket()).toBe(true);
      const cfg2 = { ...r.live.cfg, options: { ...r.live.cfg.options, controlSocket: stale } };
      const third = new LiveDirector(cfg2, log, { open: mem });
      const plane = await startControlPlane(third, r.configPath, log, { signals: false });
      expect((await sendControlRequest(stale, { argv: ['-L', '--timeout'] })).stdout).toBe('Timeout (tcp tcpfin udp): 900 120 300\n');
      await plane.stop();
      await third.stop();

      const file = join(r.dir, 'not-a-socket');
      writeFileSync(file, 'precious');
      const cfg3 = { ...r.live.cfg, options: { ...r.live.cfg.options, controlSocket: file } };
      await expect(startControlPlane(new LiveDirector(cfg3, log, { open: mem }), r.configPath, log, { signals: false }))
        .rejects.toThrow('exists and is not a socket');
      expect(statSync(file).isFile()).toBe(true);
    } finally {
      await second.stop();
    }
  });

  it('removes its socket on stop', async () => {
    const r = await startRig();
    await r.plane.stop();
    expect(() => statSync(r.socketPath)).toThrow(/ENOENT/);
  });
});

describe('live changes and connections', () => {
  /** Opens conns from successive client ports until one lands on each wanted real server. */
  function connsTo(r: LiveRig, want: string[]): Map<string, number> {
    const found = new Map<string, number>();
    for (let cport = 40001; cport < 40020 && found.size < want.length; cport++) {
      const out = clientSegment(r, cport, 'S');
      expect(out.length).toBe(1);
      if (want.includes(out[0]!.dst) && !found.has(out[0]!.dst)) found.set(out[0]!.dst, cport);
    }
    expect([...found.keys()].sort()).toEqual([...want].sort());
    return found;
  }

  it('an established conn to rs2 keeps forwarding through -d rs1 and -a rs3; rs1 conns are dropped, not moved', async () => {
    const r = await startRig();
    const c = connsTo(r, [RS.rs1, RS.rs2]);
    const c2 = c.get(RS.rs2)!;
    const c1 = c.get(RS.rs1)!;
    expect(serverSegment(r, RS.rs2, c2, 'SA').map((s) => [s.src, s.dst, s.sport])).toEqual([[VIP, CLIENT, 80]]);
    expect(clientSegment(r, c2, 'A').map((s) => s.dst)).toEqual([RS.rs2]);

    expect((await cli(r, ['-d', '-t', `${VIP}:80`, '-r', `${RS.rs1}:80`])).code).toBe(0);
    expect((await cli(r, ['-a', '-t', `${VIP}:80`, '-r', `${RS.rs3}:80`, '-m'])).code).toBe(0);

    // the rs2 conn is untouched, both ways
    const fwd = clientSegment(r, c2, 'PA', 'GET / HTTP/1.0\r\n\r\n');
    expect(fwd.map((s) => [s.src, s.dst, s.sport, s.dport])).toEqual([[CLIENT, RS.rs2, c2, 80]]);
    expect(serverSegment(r, RS.rs2, c2, 'PA', 'hello').map((s) => [s.src, s.dst])).toEqual([[VIP, CLIENT]]);
    // the rs1 conn is not rescheduled: its packets are dropped (expire_nodest_conn off) and it stays listed
    const dropped = r.director.drops.get('dest-removed');
    expect(clientSegment(r, c1, 'A')).toEqual([]);
    expect(r.director.drops.get('dest-removed')).toBe(dropped + 1);
    const conns = (await cli(r, ['-L', '-c', '-n'])).stdout;
    expect(conns).toContain(`${RS.rs1}:80`);
    expect(conns).toMatch(new RegExp(`TCP +\\d\\d:\\d\\d +ESTABLISHED ${CLIENT}:${c2} +${VIP}:80 +${RS.rs2}:80`));
    // new conns go to rs2 and rs3 only
    const fresh = new Set<string>();
    for (let cport = 41000; cport < 41006; cport++) fresh.add(clientSegment(r, cport, 'S')[0]!.dst);
    expect([...fresh].sort()).toEqual([RS.rs2, RS.rs3]);
  });

  it('with expire_nodest_conn, -d ends the removed server\'s conns at once and leaves the others', async () => {
    const r = await startRig(undefined, 'option expire_nodest_conn 1\n');
    const c = connsTo(r, [RS.rs1, RS.rs2]);
    const sizeBefore = r.director.conns.size;
    expect((await cli(r, ['-d', '-t', `${VIP}:80`, '-r', `${RS.rs1}:80`])).code).toBe(0);
    expect(r.director.conns.size).toBe(sizeBefore - [...c.keys()].filter((k) => k === RS.rs1).length);
    const listing = (await cli(r, ['-L', '-c', '-n'])).stdout;
    expect(listing).not.toContain(`${RS.rs1}:80`);
    expect(listing).toContain(`${CLIENT}:${c.get(RS.rs2)} `);
    expect(clientSegment(r, c.get(RS.rs2)!, 'A').map((s) => s.dst)).toEqual([RS.rs2]);
  });

  it('-D removes a service and its real servers; -Z zeroes the counters --stats shows', async () => {
    const r = await startRig(undefined, 'option expire_nodest_conn 1\n');
    connsTo(r, [RS.rs1, RS.rs2]);
    const stats = (await cli(r, ['-L', '-n', '--stats', '--exact'])).stdout;
    const svcLine = stats.split('\n').find((l) => l.startsWith('TCP'))!;
    expect(svcLine.split(/\s+/).slice(2, 4).map(Number)).toEqual([r.director.services.all[0]!.stats.conns, r.director.services.all[0]!.stats.inpkts]);
    expect(Number(svcLine.split(/\s+/)[2])).toBeGreaterThanOrEqual(2);
    expect((await cli(r, ['-Z'])).code).toBe(0);
    const zeroed = (await cli(r, ['-L', '-n', '--stats'])).stdout.split('\n').find((l) => l.startsWith('TCP'))!;
    expect(zeroed.split(/\s+/).slice(2).map(Number)).toEqual([0, 0, 0, 0, 0]);

    expect((await cli(r, ['-D', '-t', `${VIP}:80`])).code).toBe(0);
    expect(r.director.conns.size).toBe(0);
    expect(clientSegment(r, 42000, 'S')).toEqual([]);
    expect(r.director.drops.get('no-service')).toBeGreaterThanOrEqual(1);
  });
});
