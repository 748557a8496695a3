// End-to-end: LVS-TUN with GUE and GRE real servers (ipvsadm --tun-type gue --tun-port / gre),
// edited live into the TUN lab. The real servers decapsulate with the user-space helper
// (src/io/tun-decap.ts: this kernel has no fou / ip_gre), so every answer proves that tapvs's
// outer headers, UDP and GRE checksums included, are ones a receiver accepts; a capture on the
// real servers' LAN proves which encapsulation carried them. Root only.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2eLab, fileSha256, patternSha256, sleep, stillRunning, waitFor } from './lab.js';

const GUE_PORT = 6080;
const RS1 = '172.16.1.11'; // GUE
const RS2 = '172.16.1.12'; // GRE
const RS1_6 = '2001:db8:11::11'; // GUE over IPv6
const RS2_6 = '2001:db8:11::12'; // GRE over IPv6

describe('e2e tun: GUE and GRE real servers behind tapvs', () => {
  const lab = new E2eLab(`tve${process.pid % 1000}g`, 'tun');
  const capture = () => join(lab.dir, 'rsnet.pcap');
  let tcpdumpPid = 0;

  /**
   * Point both services' real servers at one encapsulation each, live, in both families. IPv6
   * GUE keeps --tun-csum: the kernel sends --tun-nocsum over IPv6 with a zero UDP checksum,
   * which a receiving socket drops unless it allows it (RFC 6936).
   */
  async function encapsulate(csum: '--tun-csum' | '--tun-nocsum'): Promise<void> {
    const gue = ['--tun-type', 'gue', '--tun-port', String(GUE_PORT)];
    for (const [svc, port] of [['-t', 80], ['-u', 7]] as const) {
      const edits: [string, string, string[], string][] = [
        [`${lab.vip}:${port}`, `${RS1}:${port}`, gue, csum],
        [`${lab.vip}:${port}`, `${RS2}:${port}`, ['--tun-type', 'gre'], csum],
        [`[${lab.vip6}]:${port}`, `[${RS1_6}]:${port}`, gue, '--tun-csum'],
        [`[${lab.vip6}]:${port}`, `[${RS2_6}]:${port}`, ['--tun-type', 'gre'], csum],
      ];
      for (const [vs, rs, type, c] of edits) {
        const r = await lab.ipvsadm('-e', svc, vs, '-r', rs, '-i', '-w', '1', ...type, c);
        expect(r.code, `${vs} ${rs}: ${r.stderr}`).toBe(0);
      }
    }
  }

  /** The decap helper's counters in real server NAME, from its "stats" line after SIGUSR1. */
  async function helperStats(name: string): Promise<Record<string, number>> {
    const log = join(lab.dir, `${name}-decap.log`);
    const before = readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('stats ')).length;
    const r = await lab.sh(`for p in $(ip netns pids "$LAB_ID-${name}"); do tr '\\0' ' ' </proc/$p/cmdline | grep -q tun-decap-main && kill -USR1 $p; done; :`);
    expect(r.code, r.stderr).toBe(0);
    let line = '';
    const waited = await waitFor(async () => {
      const lines = readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('stats '));
      line = lines.length > before ? lines[lines.length - 1]! : '';
      return line !== '';
    }, 5000);
    expect(waited, `no stats line in ${log}`).toBeGreaterThanOrEqual(0);
    return Object.fromEntries(line.slice(6).split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k!, Number(v)]));
  }

  /** Packets in the capture matching a tcpdump filter. */
  async function count(filter: string): Promise<number> {
    const r = await lab.sh(`tcpdump -nn -r '${capture()}' '${filter}' 2>/dev/null | wc -l`);
    return Number(r.stdout.trim());
  }

  /** `count` downloads of n bytes through the VIP (rr: one per real server), each byte-identical. */
  async function expectTransfers(n: number, count: number, v6: boolean): Promise<void> {
    const url = v6 ? `http://[${lab.vip6}]/bytes/${n}` : `http://${lab.vip}/bytes/${n}`;
    for (let i = 0; i < count; i++) {
      const file = join(lab.dir, `bytes${v6 ? '6' : ''}-${i}.bin`);
      const r = await lab.client('curl', [...(v6 ? ['-6'] : []), '-s', '--max-time', '40', '-o', file, '-w', '%{http_code}', url], 45_000);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('200');
      const got = fileSha256(file);
      expect(got.size).toBe(n);
      expect(got.sha).toBe(patternSha256(n));
    }
  }

  /** One UDP echo through the VIP per payload: the answers ("rsN:payload"). */
  async function echoes(payloads: string[], v6: boolean): Promise<string[]> {
    const answers: string[] = [];
    for (const payload of payloads) {
      const r = await lab.client('bash', ['-c', `printf '%s' ${payload} | socat -t1 - ${v6 ? `UDP6:[${lab.vip6}]` : `UDP:${lab.vip}`}:7`]);
      expect(r.code, r.stderr).toBe(0);
      answers.push(r.stdout);
    }
    return answers;
  }

  beforeAll(async () => {
    await lab.up({ sched: 'rr', env: { LAB_DECAP_ARGS: `--gre --gue-port ${GUE_PORT}` } });
    expect(lab.vip6, 'the TUN lab is dual-stack').not.toBe('');
    await encapsulate('--tun-csum');
    const r = await lab.sh(`source "$LAB_DIR/lab.env"
      ip netns exec "$LAB_ID-rsnet" tcpdump -i br0 --immediate-mode -U -s 128 -w '${capture()}' 'udp port ${GUE_PORT} or ip proto 47 or ip proto 4 or ip6 proto 47 or ip6 proto 41' >"$LAB_DIR/tcpdump.log" 2>&1 &
      echo $! >>"$LAB_DIR/pids"; echo $!`);
    tcpdumpPid = Number(r.stdout.trim());
    const waited = await waitFor(async () => /listening on/.test(readFileSync(join(lab.dir, 'tcpdump.log'), 'utf8')), 10_000);
    if (waited < 0) throw new Error(`tcpdump did not start: ${readFileSync(join(lab.dir, 'tcpdump.log'), 'utf8')}`);
  }, 180_000);

  afterAll(async () => {
    const pids = lab.recordedPids();
    await lab.down();
    expect(await lab.namespaces()).toEqual([]);
    expect(stillRunning(pids)).toEqual([]);
  });

  it('lists the tunnel of each real server as ipvsadm --tun-info does', async () => {
    const r = await lab.ipvsadm('-L', '-n', '-t', `${lab.vip}:80`, '--tun-info');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${RS1.replace(/\./g, '\\.')}:80\\s+Tunnel\\s+gue:${GUE_PORT}:\\+c`));
    expect(r.stdout).toMatch(new RegExp(`${RS2.replace(/\./g, '\\.')}:80\\s+Tunnel\\s+gre:\\+c`));
  });

  it('HTTP through the VIP reaches both real servers, in rr order', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push(await lab.whoAnswers());
    expect(seen).toEqual(['rs2', 'rs1', 'rs2', 'rs1']);
  });

  // the director carries only the client-to-server half (ACKs here): the replies go straight back
  it('a 4 MB transfer through each encapsulation arrives byte-identical', async () => {
    await expectTransfers(4 * 1024 * 1024, 2, false);
  });

  it('UDP echo through the VIP is answered over GRE and over GUE', async () => {
    expect(await echoes(['ping-a', 'ping-b'], false)).toEqual(['rs2:ping-a', 'rs1:ping-b']);
  });

  it('over IPv6 too: HTTP in rr order, a 1 MB transfer intact, UDP echo, through GUE and GRE', async () => {
    const r = await lab.ipvsadm('-L', '-n', '-t', `[${lab.vip6}]:80`, '--tun-info');
    expect(r.stdout).toMatch(new RegExp(`\\[${RS1_6}\\]:80\\s+Tunnel\\s+gue:${GUE_PORT}:\\+c`));
    expect(r.stdout).toMatch(new RegExp(`\\[${RS2_6}\\]:80\\s+Tunnel\\s+gre:\\+c`));
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push(await lab.whoAnswers6());
    expect(seen).toEqual(['rs2', 'rs1', 'rs2', 'rs1']);
    await expectTransfers(1024 * 1024, 2, true);
    expect(await echoes(['six-a', 'six-b'], true)).toEqual(['rs2:six-a', 'rs1:six-b']);
  });

  it('--tun-nocsum, edited live, still reaches both', async () => {
    await encapsulate('--tun-nocsum');
    const r = await lab.ipvsadm('-L', '-n', '-t', `${lab.vip}:80`, '--tun-info');
    expect(r.stdout).toMatch(new RegExp(`gue:${GUE_PORT}:-c`));
    expect(r.stdout).toMatch(/gre:-c/);
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) seen.add(await lab.whoAnswers());
    expect([...seen].sort()).toEqual(['rs1', 'rs2']);
  });

  it('the wire carried GUE to rs1 and GRE to rs2, never IPIP, with the checksum the option asks for', async () => {
    await sleep(300); // --immediate-mode -U: each packet is written as it comes; let the last ones land
    process.kill(tcpdumpPid, 'SIGINT');
    expect(await waitFor(async () => stillRunning([tcpdumpPid]).length === 0, 5000)).toBeGreaterThanOrEqual(0);
    expect(await count(`ip dst ${RS1} and udp dst port ${GUE_PORT}`)).toBeGreaterThan(20);
    expect(await count(`ip dst ${RS2} and ip proto 47`)).toBeGreaterThan(20);
    expect(await count(`ip dst ${RS1} and ip proto 47`)).toBe(0);
    expect(await count(`ip dst ${RS2} and udp port ${GUE_PORT}`)).toBe(0);
    expect(await count('ip proto 4')).toBe(0);
    // and over IPv6: GUE (next header 17) to rs1, GRE (47) to rs2, never IPv6-in-IPv6 (41)
    expect(await count(`ip6 dst ${RS1_6} and udp dst port ${GUE_PORT}`)).toBeGreaterThan(10);
    expect(await count(`ip6 dst ${RS2_6} and ip6 proto 47`)).toBeGreaterThan(10);
    expect(await count(`ip6 dst ${RS1_6} and ip6 proto 47`)).toBe(0);
    expect(await count('ip6 proto 41')).toBe(0);
    // GRE with C set (first word 0x8000) before the nocsum edit, 0x0000 after; same for a UDP checksum
    const greC = await count(`ip dst ${RS2} and ip proto 47 and ip[20:2] = 0x8000`);
    const greNoC = await count(`ip dst ${RS2} and ip proto 47 and ip[20:2] = 0`);
    expect(greC).toBeGreaterThan(20);
    expect(greNoC).toBeGreaterThan(0);
    expect(await count(`ip dst ${RS1} and udp dst port ${GUE_PORT} and udp[6:2] = 0`)).toBeGreaterThan(0);
    expect(await count(`ip dst ${RS1} and udp dst port ${GUE_PORT} and udp[6:2] != 0`)).toBeGreaterThan(20);
  });

  it('each helper decapsulated its own kind, with no bad checksum and nothing malformed', async () => {
    const s1 = await helperStats('rs1');
    const s2 = await helperStats('rs2');
    expect(s1.gue).toBeGreaterThan(20);
    expect(s1.gre).toBe(0);
    expect(s2.gre).toBeGreaterThan(20);
    expect(s2.gue).toBe(0);
    for (const s of [s1, s2]) {
      expect(s.bad_checksum).toBe(0);
      expect(s.malformed).toBe(0);
      expect(s.delivered).toBe(s.received);
    }
  });
});
