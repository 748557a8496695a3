/**
 * A SYN flood in the live NAT lab: hping3 in the client namespace sends SYNs
 * to the VIP from random source addresses, bounded in rate and time, while
 * curl keeps asking for a page. The connection table is small (16384
 * slots), so the flood fills it within a second and keeps it full, as a flood
 * of max_conns / 60 SYNs a second would keep a table of any size full.
 * tapvs must stay up, within its memory, and serve the legitimate requests
 * during and right after the flood (evict_embryonic, on by default); with
 * the defence switched off at run time (`tapvs sysctl evict_embryonic=0`)
 * the same full table refuses them, which shows the defence is what served
 * them; switched on again, they are served at once.
 *
 * Everything runs inside the lab's own namespaces; the lab's teardown stops
 * the processes it recorded (hping3 included) and removes the namespaces.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2eLab, REPO, sleep, stillRunning, type CmdResult } from './lab.js';
import { execFile } from 'node:child_process';

const MAX_CONNS = 16384;
/** The flood: at most this many SYNs, one every FLOOD_GAP_US µs, for at most FLOOD_S seconds. */
const FLOOD_COUNT = 200_000;
const FLOOD_GAP_US = 20;
const FLOOD_S = 6;

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

function run(bin: string, args: string[], timeoutMs = 20_000): Promise<CmdResult> {
  return new Promise((done) => {
    execFile(bin, args, { cwd: REPO, timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

describe('e2e: a SYN flood from random sources (hping3) through the NAT lab', () => {
  const lab = new E2eLab(`tvs${process.pid % 10000}`, 'nat');
  let tapvsPid = 0;

  const sysctl = (...args: string[]) => run('node', ['bin/tapvs.js', 'sysctl', '--socket', join(lab.dir, 'tapvs.sock'), ...args]);
  const status = async (): Promise<Record<string, number>> => {
    const out = (await sysctl('--status')).stdout;
    const n = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
    return {
      used: n(/(\d+) used/), evicted: n(/(\d+) evicted/), refused: n(/(\d+) refused \(table full\)/),
    };
  };
  /** `count` GETs through the VIP one after another; how many were answered by a real server. */
  const requests = async (count: number): Promise<number> => {
    let ok = 0;
    for (let i = 0; i < count; i++) {
      const r = await lab.client('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--connect-timeout', '3', '--max-time', '4', `http://${lab.vip}/`], 10_000);
      if (r.code === 0 && r.stdout === '200') ok++;
    }
    return ok;
  };

  beforeAll(async () => {
    await lab.up({ sched: 'rr', extra: [`option max_conns ${MAX_CONNS}`] });
    tapvsPid = Number(readFileSync(join(lab.dir, 'tapvs.pid'), 'utf8').trim());
    const which = await run('bash', ['-c', 'command -v hping3']);
    if (which.code !== 0) throw new Error('hping3 is not installed (scripts/setup.sh installs it)');
  }, 180_000);

  afterAll(async () => {
    const pids = lab.recordedPids();
    await lab.down();
    expect(await lab.namespaces()).toEqual([]);
    expect(stillRunning(pids)).toEqual([]);
  }, 90_000);

  it('tapvs stays up within its memory and serves legitimate requests during and after the flood', async () => {
    expect(await requests(3)).toBe(3);
    const rss0 = rssKb(tapvsPid);
    const floodStart = Date.now();
    const flood = lab.spawnIn(lab.clientNs, 'timeout', [
      String(FLOOD_S), 'hping3', '-q', '-S', '-p', '80', '--rand-source',
      '-i', `u${FLOOD_GAP_US}`, '-c', String(FLOOD_COUNT), lab.vip,
    ]);
    let rssMax = rss0;
    const sampler = setInterval(() => { rssMax = Math.max(rssMax, rssKb(tapvsPid)); }, 100);
    try {
      // the table fills within a second or two
      let full = await status();
      while (full.used < MAX_CONNS - 64 && Date.now() - floodStart < 3500) {
        await sleep(200);
        full = await status();
      }
      // legitimate clients while the flood goes on
      const during = { tried: 0, ok: 0 };
      const until = floodStart + FLOOD_S * 1000 - 700;
      while (Date.now() < until) {
        during.ok += await requests(1);
        during.tried++;
      }
      await flood.exited;
      const after = await requests(10);
      const end = await status();
      // the flood filled the table, and new connections took half-open flood entries' slots
      expect(full.used, JSON.stringify(full)).toBeGreaterThanOrEqual(MAX_CONNS - 64);
      expect(end.evicted).toBeGreaterThan(MAX_CONNS);
      expect(end.refused).toBe(0);
      expect(during.tried).toBeGreaterThanOrEqual(5);
      expect(during.ok / during.tried, `${during.ok} of ${during.tried} during the flood`).toBeGreaterThanOrEqual(0.9);
      expect(after).toBe(10);
      // up, and answering its control socket
      expect(stillRunning([tapvsPid])).toEqual([tapvsPid]);
      // the table is preallocated: the flood may touch its pages (16384 slots: a few MB) but grows nothing
      expect(rssMax - rss0, `RSS ${rss0} kB before, ${rssMax} kB at most`).toBeLessThan(64 * 1024);
      console.log(`syn flood: ${during.ok}/${during.tried} requests served during, ${after}/10 after; ` +
        `${end.evicted} evicted; RSS ${(rss0 / 1024).toFixed(0)} -> max ${(rssMax / 1024).toFixed(0)} MB; ${flood.stderr().trim().split('\n').slice(-2).join(' ')}`);
    } finally {
      clearInterval(sampler);
      flood.child.kill('SIGTERM');
    }
  }, 120_000);

  it('the table the flood left full refuses new clients without evict_embryonic, and serves them again with it', async () => {
    // the flood's half-open entries live 60 s (SYN_RECV): the table is still full of them
    expect((await status()).used).toBeGreaterThanOrEqual(MAX_CONNS - 64);
    expect((await sysctl('evict_embryonic=0')).stdout).toBe('evict_embryonic = 0\n');
    const before = (await status()).refused;
    const off = await requests(3);
    expect(off).toBe(0);
    expect((await status()).refused).toBeGreaterThan(before);
    expect((await sysctl('evict_embryonic=1')).stdout).toBe('evict_embryonic = 1\n');
    expect(await requests(3)).toBe(3);
  }, 120_000);
});
