/**
 * The end-to-end checks every forwarding mode must pass, run against a real
 * lab: client namespace -> tapvs on TAP devices -> real-server namespaces
 * running rs-server.mjs and iperf3. The tests of one file share one lab and
 * run in order: the round-robin test relies on a fresh director.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DIRECTOR_MAC, E2eLab, REPO, FWD_FLAG, destsOf, fileSha256, parseConns, patternSha256, sizeOf, sleep, stillRunning, waitFor, type Mode,
} from './lab.js';

/** Where the director's client-facing ARP (and neighbour discovery) happens: the namespace and interface that resolve the VIP. */
function arpSide(lab: E2eLab): { ns: string; dev: string } {
  return lab.mode === 'nat' ? { ns: lab.clientNs, dev: 'br0' } : { ns: lab.env.LAB_ROUTER_NS!, dev: 'eth1' };
}

export function modeSuite(mode: Mode, tag: string): void {
  describe(`e2e ${mode}: tapvs on TAP devices in a netns lab`, () => {
    const lab = new E2eLab(`tve${process.pid % 1000}${tag}`, mode);
    let pids: number[] = [];

    beforeAll(async () => {
      await lab.up({ sched: 'rr' });
    });

    afterAll(async () => {
      pids = lab.recordedPids();
      await lab.down();
      // nothing of the run is left: namespaces and every process it recorded
      expect(await lab.namespaces()).toEqual([]);
      expect(stillRunning(pids)).toEqual([]);
    });

    it('HTTP through the VIP alternates over the real servers in rr order', async () => {
      // lab_conf adds rs1 then rs2; like the kernel, tapvs keeps a service's real
      // servers newest first (rs2, rs1), and rr starts at the head: rs2 comes first.
      const seen: string[] = [];
      for (let i = 0; i < 6; i++) seen.push(await lab.whoAnswers());
      expect(seen).toEqual(['rs2', 'rs1', 'rs2', 'rs1', 'rs2', 'rs1']);
    });

    it('UDP echo through the VIP is answered by a real server, in rr order', async () => {
      // each socat uses a new source port, so each datagram is a new connection
      const answers: string[] = [];
      for (const payload of ['ping-a', 'ping-b']) {
        const r = await lab.client('bash', ['-c', `printf '%s' ${payload} | socat -t1 - UDP:${lab.vip}:7`]);
        expect(r.code, r.stderr).toBe(0);
        answers.push(r.stdout);
      }
      expect(answers).toEqual(['rs2:ping-a', 'rs1:ping-b']);
    });

    it('a 10 MB transfer arrives byte-identical', async () => {
      const n = 10 * 1024 * 1024;
      const file = join(lab.dir, 'bytes-10m.bin');
      const r = await lab.client('curl', ['-s', '--max-time', '40', '-o', file, '-w', '%{http_code}', `http://${lab.vip}/bytes/${n}`], 45_000);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('200');
      const got = fileSha256(file);
      expect(got.size).toBe(n);
      expect(got.sha).toBe(patternSha256(n));
    });

    it('a 3 s iperf3 TCP run completes', async () => {
      const r = await lab.client('iperf3', ['-c', lab.vip, '-p', '5201', '-t', '3', '-J'], 30_000);
      const report = JSON.parse(r.stdout) as { error?: string; end?: { sum_received?: { bytes: number } } };
      expect(report.error).toBeUndefined();
      expect(r.code).toBe(0);
      expect(report.end?.sum_received?.bytes ?? 0).toBeGreaterThan(0);
    });

    it('only tapvs answers ARP for the VIP on the client side', async () => {
      const { ns, dev } = arpSide(lab);
      const rsMacs: string[] = [];
      for (let k = 1; k <= lab.rsAddrs.length; k++) {
        const link = await lab.inNs(`${lab.id}-rs${k}`, 'ip', ['-br', 'link', 'show', 'dev', 'eth0']);
        rsMacs.push(link.stdout.trim().split(/\s+/)[2]!);
      }
      expect(rsMacs.every((m) => /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(m))).toBe(true);

      const cap = lab.spawnIn(ns, 'tcpdump', ['-n', '-e', '-l', '-i', dev, 'arp']);
      expect(await waitFor(async () => cap.stderr().includes('listening on'), 10_000, 50)).toBeGreaterThanOrEqual(0);
      for (let round = 0; round < 3; round++) {
        // forget the VIP's MAC, then make the kernel ask for it again
        await lab.inNs(ns, 'ip', ['neigh', 'flush', 'to', lab.vip, 'dev', dev]);
        await lab.inNs(ns, 'ping', ['-c1', '-W1', lab.vip]);
      }
      await sleep(300);
      cap.child.kill('SIGTERM');
      await cap.exited;

      const replies = cap.stdout().split('\n')
        .map((l) => /^\S+ (\S+) > \S+, ethertype ARP .*: Reply (\S+) is-at (\S+),/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null && m[2] === lab.vip)
        .map((m) => ({ ethSrc: m[1]!, isAt: m[3]! }));
      expect(replies.length).toBeGreaterThanOrEqual(3);
      for (const r of replies) expect(r).toEqual({ ethSrc: DIRECTOR_MAC, isAt: DIRECTOR_MAC });
      expect(replies.filter((r) => rsMacs.includes(r.ethSrc) || rsMacs.includes(r.isAt))).toEqual([]);
    });

    it('the persistent fwmark service (TCP 5201) keeps the client on one real server', async () => {
      for (let i = 0; i < 4; i++) {
        const r = await lab.client('nc', ['-z', '-w', '2', lab.vip, '5201']);
        expect(r.code, r.stderr).toBe(0);
      }
      const listing = await lab.ipvsadm('-Lnc');
      expect(listing.code, listing.stderr).toBe(0);
      const conns = parseConns(listing.stdout);
      const to5201 = conns.filter((c) => c.proto === 'TCP' && c.virtual === `${lab.vip}:5201`);
      // our four connects (CLOSE entries live 10 s), plus the iperf3 run's while they last
      expect(to5201.length).toBeGreaterThanOrEqual(4);
      const servers = new Set(to5201.map((c) => c.destination.split(':')[0]));
      expect(servers.size).toBe(1);
      // and the persistence template (fwmark 2 shows as 0.0.0.2:0) names that server
      const template = conns.filter((c) => c.virtual === '0.0.0.2:0');
      expect(template).toHaveLength(1);
      expect(template[0]!.destination.split(':')[0]).toBe([...servers][0]);
    });

    it('a weight-0 real server gets no new connections while its open one completes', async () => {
      const [rs1, rs2] = lab.rsAddrs as [string, string];
      const n = 1_500_000;
      // a slow download (~6 s: tiny receive window, read at 250 kB/s; see slow-get.py) from a known
      // client port, so the connection table says where it went; rr decides which server gets it,
      // so start a second one if the first lands on rs2
      type Slow = { port: number; file: string; hdr: string; run: ReturnType<E2eLab['spawnIn']> };
      const slows: Slow[] = [];
      let onRs1: Slow | undefined;
      for (let attempt = 0; attempt < 2 && !onRs1; attempt++) {
        const port = 40_011 + attempt;
        const file = join(lab.dir, `slow-${port}.bin`);
        const hdr = `${file}.hdr`;
        const run = lab.spawnIn(lab.clientNs, 'python3', [join(REPO, 'test/e2e/slow-get.py'), lab.vip, '80', `/bytes/${n}`, String(port), file, '250000']);
        const slow = { port, file, hdr, run };
        slows.push(slow);
        let dest = '';
        await waitFor(async () => {
          const c = parseConns((await lab.ipvsadm('-Lnc')).stdout).find((e) => e.source === `${lab.env.LAB_CLIENT_ADDR}:${port}`);
          dest = c?.destination ?? '';
          return dest !== '';
        }, 5_000);
        if (dest === `${rs1}:80`) onRs1 = slow;
        else expect(dest).toBe(`${rs2}:80`);
      }
      expect(onRs1, 'no slow transfer landed on rs1').toBeDefined();

      const edit = await lab.ipvsadm('-e', '-t', `${lab.vip}:80`, '-r', `${rs1}:80`, FWD_FLAG[mode], '-w', '0');
      expect(edit.code, edit.stderr).toBe(0);
      // the change must have hit an open transfer for the test to mean anything
      expect(onRs1!.run.child.exitCode).toBeNull();
      expect(sizeOf(onRs1!.file)).toBeLessThan(n);
      const listed = destsOf((await lab.ipvsadm('-Ln')).stdout, `TCP ${lab.vip}:80`);
      // weight 0, and the open transfer still counts as its active connection
      expect(listed?.find((d) => d.addr === `${rs1}:80`)).toMatchObject({ weight: 0, active: 1 });

      const seen: string[] = [];
      for (let i = 0; i < 6; i++) seen.push(await lab.whoAnswers());
      expect(seen).toEqual(Array(6).fill('rs2'));
      // the rs1 transfer was still open while the new requests went elsewhere
      expect(onRs1!.run.child.exitCode).toBeNull();

      for (const s of slows) {
        expect(await s.run.exited, s.run.stderr()).toBe(0);
        const got = fileSha256(s.file);
        expect(got.size).toBe(n);
        expect(got.sha).toBe(patternSha256(n));
      }
      expect(readFileSync(onRs1!.hdr, 'utf8')).toMatch(/^x-real-server: rs1\r?$/m);
    });

    // IPv6: the same lab is dual-stack and its config has the same services on the IPv6 VIP
    // (netns/lib.sh lab_conf); these run last, after the IPv4 checks above.

    it('IPv6: HTTP (curl -6) through the VIP reaches both real servers in rr order, over their IPv6 addresses', async () => {
      expect(lab.vip6).toMatch(/^2001:db8:/);
      const seen: string[] = [];
      for (let i = 0; i < 4; i++) seen.push(await lab.whoAnswers6());
      // the IPv6 service has its own rr position: rs2 first, as for IPv4
      expect(seen).toEqual(['rs2', 'rs1', 'rs2', 'rs1']);
      const conns = parseConns((await lab.ipvsadm('-Lnc')).stdout)
        .filter((c) => c.proto === 'TCP' && c.virtual === `[${lab.vip6}]:80`);
      expect(conns.length).toBeGreaterThanOrEqual(4);
      expect(conns.every((c) => c.source.startsWith(`[${lab.env.LAB_CLIENT_ADDR6}]:`))).toBe(true);
      expect(new Set(conns.map((c) => c.destination))).toEqual(new Set(lab.rsAddrs6.map((a) => `[${a}]:80`)));
    });

    it('IPv6: UDP echo through the VIP is answered by a real server, in rr order', async () => {
      const answers: string[] = [];
      for (const payload of ['ping6-a', 'ping6-b']) {
        const r = await lab.client('bash', ['-c', `printf '%s' ${payload} | socat -t1 - 'UDP6:[${lab.vip6}]:7'`]);
        expect(r.code, r.stderr).toBe(0);
        answers.push(r.stdout);
      }
      expect(answers).toEqual(['rs2:ping6-a', 'rs1:ping6-b']);
    });

    it('IPv6: a 10 MB download arrives byte-identical, and a 2 s iperf3 -6 TCP run completes', async () => {
      const n = 10 * 1024 * 1024;
      const file = join(lab.dir, 'bytes6-10m.bin');
      const r = await lab.client('curl', ['-6', '-s', '--max-time', '40', '-o', file, '-w', '%{http_code}', `http://[${lab.vip6}]/bytes/${n}`], 45_000);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('200');
      const got = fileSha256(file);
      expect(got.size).toBe(n);
      expect(got.sha).toBe(patternSha256(n));
      // client to real server: in TUN every data segment is tunnelled (and too big at first: packet too big)
      const ip = await lab.client('iperf3', ['-6', '-c', lab.vip6, '-p', '5201', '-t', '2', '-J'], 30_000);
      const report = JSON.parse(ip.stdout) as { error?: string; end?: { sum_received?: { bytes: number } } };
      expect(report.error).toBeUndefined();
      expect(ip.code).toBe(0);
      expect(report.end?.sum_received?.bytes ?? 0).toBeGreaterThan(0);
      // the persistent IPv6 fwmark service (mark 6) took it: its template names one real server
      const template = parseConns((await lab.ipvsadm('-Lnc')).stdout).filter((c) => c.virtual === '[0:6::]:0');
      expect(template).toHaveLength(1);
      expect(lab.rsAddrs6.map((a) => `[${a}]:0`)).toContain(template[0]!.destination);
    });

    it('IPv6: only tapvs answers neighbour solicitations for the VIP on the client side', async () => {
      const { ns, dev } = arpSide(lab);
      const cap = lab.spawnIn(ns, 'tcpdump', ['-n', '-e', '-l', '-i', dev, 'icmp6 and ip6[40] == 136']);
      expect(await waitFor(async () => cap.stderr().includes('listening on'), 10_000, 50)).toBeGreaterThanOrEqual(0);
      for (let round = 0; round < 3; round++) {
        await lab.inNs(ns, 'ip', ['-6', 'neigh', 'flush', 'to', lab.vip6, 'dev', dev]);
        await lab.inNs(ns, 'ping', ['-6', '-c1', '-W1', lab.vip6]);
      }
      await sleep(300);
      cap.child.kill('SIGTERM');
      await cap.exited;
      // e.g. "02:00:00:00:00:01 > 0a:..., ethertype IPv6 (0x86dd), ...: ICMP6, neighbor advertisement, tgt is 2001:db8::100, length 32"
      const adverts = cap.stdout().split('\n')
        .map((l) => /^\S+ (\S+) > \S+, ethertype IPv6 .*neighbor advertisement, tgt is (\S+?),/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null && m[2] === lab.vip6)
        .map((m) => m[1]!);
      expect(adverts.length).toBeGreaterThanOrEqual(3);
      expect(new Set(adverts)).toEqual(new Set([DIRECTOR_MAC]));
    });
  });
}
