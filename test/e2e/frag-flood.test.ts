/**
 * A fragment flood in the live NAT lab: hping3 in the client namespace sends
 * first fragments (UDP, MF set) from random source addresses to the VIP,
 * bounded in rate and time — what `hping3 --udp -x --flood --rand-source`
 * does, which once took tapvs from 133 MB to 450 MB and kept it slow for
 * half a minute. Each one leaves a decision in the fragment table, which has
 * a fixed size: tapvs must stay within its memory, keep answering HTTP, and
 * still forward a legitimate fragmented datagram (a 4000-byte UDP echo, in
 * three fragments each way) during and after the flood.
 *
 * Everything runs inside the lab's own namespaces; the lab's teardown stops
 * the processes it recorded and removes the namespaces.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { E2eLab, REPO, sleep, stillRunning } from './lab.js';

/** The flood: at most this many first fragments, one every FLOOD_GAP_US µs, for at most FLOOD_S seconds. */
const FLOOD_COUNT = 300_000;
const FLOOD_GAP_US = 20;
const FLOOD_S = 8;

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

// One 4000-byte datagram to the VIP's UDP echo (it answers with the real server's name, 'rsN:', in front).
const ECHO = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
data = bytes((i * 7) & 0xff for i in range(4000))
s.sendto(data, (sys.argv[1], 7))
try:
    back, _ = s.recvfrom(65535)
    print(len(back), back.endswith(data))
except socket.timeout:
    print(0, False)
`;

describe('e2e: a fragment flood from random sources (hping3 -x) through the NAT lab', () => {
  const lab = new E2eLab(`tvf${process.pid % 10000}`, 'nat');
  let tapvsPid = 0;

  const get = async (): Promise<boolean> => {
    const r = await lab.client('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--connect-timeout', '3', '--max-time', '4', `http://${lab.vip}/`], 10_000);
    return r.code === 0 && r.stdout === '200';
  };
  const echo = async (): Promise<boolean> => {
    const r = await lab.client('python3', ['-c', ECHO, lab.vip], 10_000);
    return r.stdout.trim() === "4004 True";
  };

  /** The fragment table's figures from `tapvs sysctl --status`: decisions held, and its capacity. */
  const fragTable = (): Promise<{ size: number; cap: number }> => new Promise((done) => {
    execFile('node', ['bin/tapvs.js', 'sysctl', '--socket', join(lab.dir, 'tapvs.sock'), '--status'], { cwd: REPO, encoding: 'utf8' }, (_e, out) => {
      const m = /fragment table: (\d+) of (\d+) decisions/.exec(out ?? '');
      done({ size: Number(m?.[1] ?? NaN), cap: Number(m?.[2] ?? NaN) });
    });
  });

  beforeAll(async () => {
    await lab.up({ sched: 'rr' });
    tapvsPid = Number(readFileSync(join(lab.dir, 'tapvs.pid'), 'utf8').trim());
  }, 180_000);

  afterAll(async () => {
    const pids = lab.recordedPids();
    await lab.down();
    expect(await lab.namespaces()).toEqual([]);
    expect(stillRunning(pids)).toEqual([]);
  }, 90_000);

  it('stays within its memory and forwards HTTP and a fragmented datagram during and after the flood', async () => {
    expect(await get()).toBe(true);
    expect(await echo()).toBe(true);
    const rss0 = rssKb(tapvsPid);
    const start = Date.now();
    // first fragments to a VIP port with no service: each datagram's decision is kept (and routed nowhere)
    const flood = lab.spawnIn(lab.clientNs, 'timeout', [
      String(FLOOD_S), 'hping3', '-q', '--udp', '-x', '-p', '9', '-d', '120', '--rand-source',
      '-i', `u${FLOOD_GAP_US}`, '-c', String(FLOOD_COUNT), lab.vip,
    ]);
    let rssMax = rss0;
    const sampler = setInterval(() => { rssMax = Math.max(rssMax, rssKb(tapvsPid)); }, 100);
    try {
      await sleep(1500); // the table fills
      const during = { tried: 0, http: 0, echo: 0 };
      let peak = 0;
      while (Date.now() < start + FLOOD_S * 1000 - 1000) {
        during.tried++;
        if (await get()) during.http++;
        if (await echo()) during.echo++;
        peak = Math.max(peak, (await fragTable()).size);
      }
      await flood.exited;
      const afterHttp = [await get(), await get(), await get()].filter(Boolean).length;
      const afterEcho = [await echo(), await echo(), await echo()].filter(Boolean).length;
      expect(during.tried).toBeGreaterThanOrEqual(3);
      expect(during.http / during.tried, `${during.http}/${during.tried} HTTP during`).toBeGreaterThanOrEqual(0.9);
      expect(during.echo / during.tried, `${during.echo}/${during.tried} fragmented echoes during`).toBeGreaterThanOrEqual(0.9);
      expect([afterHttp, afterEcho]).toEqual([3, 3]);
      expect(stillRunning([tapvsPid])).toEqual([tapvsPid]);
      // more datagrams than the table holds came: it filled, and stayed at its size
      const table = await fragTable();
      expect(peak, `peak ${peak} of ${table.cap}`).toBeGreaterThan(table.cap * 0.9);
      expect(peak).toBeLessThanOrEqual(table.cap);
      // the fragment table is preallocated and fixed in size: nothing grows with the flood
      expect(rssMax - rss0, `RSS ${rss0} kB before, ${rssMax} kB at most`).toBeLessThan(48 * 1024);
      console.log(`fragment flood: ${during.http}/${during.tried} HTTP and ${during.echo}/${during.tried} fragmented echoes during, ` +
        `${afterHttp}/3 and ${afterEcho}/3 after; fragment table at most ${peak}; RSS ${(rss0 / 1024).toFixed(0)} -> max ${(rssMax / 1024).toFixed(0)} MB; ` +
        `${flood.stderr().trim().split('\n').slice(-2).join(' ')}`);
    } finally {
      clearInterval(sampler);
      flood.child.kill('SIGTERM');
    }
  }, 120_000);
});
