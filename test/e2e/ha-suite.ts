/**
 * The HA pair end to end, per forwarding mode (NAT, DR): two tapvs
 * directors, a (priority 150, master) and b (priority 100), VRRPv3 with 1 s
 * adverts, the sync daemon following the VRRP instance. With 100 slow
 * downloads under way and a new request every 100 ms:
 *  1. kill -9 the master: the backup, which already lists the synced conns,
 *     takes the VIP over; >= 99 downloads complete with the right checksum;
 *     new requests are answered again within Master_Down_Interval (3 adverts
 *     and the skew) of the master's last advert;
 *  2. the old master comes back with preemption off: it stays backup, nothing
 *     is disturbed;
 *  3. it comes back with preemption on (after a 15 s preempt delay, so that
 *     the master's sync daemon has sent it every download first): it takes
 *     over, and the downloads survive that too.
 * The figures go to $TAPVS_HA_RESULTS (JSON lines) when set.
 */
import { appendFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConns, sleep, stillRunning, waitFor } from './lab.js';
import { HaLab, type LoadResult } from './ha-lab.js';

const N = 100;
const RATE = 30_000;

function record(o: object): void {
  const f = process.env.TAPVS_HA_RESULTS;
  if (f) appendFileSync(f, JSON.stringify(o) + '\n');
}

function summary(r: LoadResult, from: number, to = Infinity): { ok: number; failed: number; errors: string[]; reqOk: number; reqFailed: number } {
  const reqs = r.requests.filter((q) => q.t * 1000 >= from && q.t * 1000 < to);
  return {
    ok: r.downloads.filter((d) => d.ok).length,
    failed: r.downloads.filter((d) => !d.ok).length,
    errors: [...new Set(r.downloads.filter((d) => !d.ok).map((d) => d.error))].slice(0, 5),
    reqOk: reqs.filter((q) => q.ok).length,
    reqFailed: reqs.filter((q) => !q.ok).length,
  };
}

export function haSuite(mode: 'nat' | 'dr', tag: string): void {
  describe(`e2e HA pair, ${mode.toUpperCase()}: two tapvs directors, VRRP and connection sync`, () => {
    const lab = new HaLab(`tvha${process.pid % 1000}${tag}`, mode);

    beforeAll(async () => {
      await lab.up();
      await lab.conf('a', 150);
      await lab.conf('b', 100);
      await lab.start('a');
      // a alone: master after its Master_Down_Interval; then b joins as backup
      expect(await waitFor(async () => (await lab.state('a')) === 'master', 8000, 200)).toBeGreaterThanOrEqual(0);
      await lab.start('b');
      await sleep(1500);
      expect([await lab.state('a'), await lab.state('b')]).toEqual(['master', 'backup']);
    }, 180_000);

    afterAll(async () => {
      const pids = lab.recordedPids();
      await lab.down();
      expect(await lab.namespaces()).toEqual([]);
      expect(stillRunning(pids)).toEqual([]);
    }, 120_000);

    it('kill -9 the master: the backup takes over, the downloads it was sent carry on, new requests are answered again', async () => {
      const load = lab.load(N, 20 * RATE, RATE, 26);
      const ready = await load.ready;
      // the backup lists the downloads before the takeover: each was synced at its 3rd client packet and sent within 2 s
      await sleep(3500);
      const listed = parseConns((await lab.ipvsadm('b', '-Lnc')).stdout).filter((c) => c.state === 'ESTABLISHED' && c.virtual === `${lab.vip}:80`);
      expect(listed.length).toBeGreaterThanOrEqual(N);
      const killed = await lab.kill('a');
      expect(await waitFor(async () => (await lab.state('b')) === 'master', 8000, 100)).toBeGreaterThanOrEqual(0);
      const b = (await lab.vrrp('b')).vrrp[0]!;
      const r = await load.done;
      const s = summary(r, killed);
      const firstOk = r.requests.find((q) => q.t * 1000 > killed && q.ok)!;
      expect(firstOk).toBeDefined();
      const fromKill = firstOk.t * 1000 - killed;
      const fromLastAdvert = firstOk.t * 1000 - b.lastAdvertAt!;
      record({ mode, test: 'kill-master', listedOnBackup: listed.length, downloadsOk: s.ok, downloadsFailed: s.failed, errors: s.errors,
        takeoverFromKillMs: Math.round(fromKill), takeoverFromLastAdvertMs: Math.round(fromLastAdvert), masterDownMs: b.masterDownIntervalMs,
        readyToKillMs: Math.round(killed - ready), requestsAfterKill: { ok: s.reqOk, failed: s.reqFailed }, transition: b.lastTransition });
      expect(s.ok, JSON.stringify(s)).toBeGreaterThanOrEqual(N - 1);
      // VRRP declares the master down 3 adverts and the skew after its last one; the request loop adds its 100 ms
      expect(fromLastAdvert).toBeLessThanOrEqual(b.masterDownIntervalMs + 500);
      expect(fromKill).toBeLessThanOrEqual(3 * 1000 + (b.masterDownIntervalMs - 3000) + 500);
      expect(b.lastTransition!.reason).toMatch(/^master down: no advertisement for 3\.609 s/);
      // after the takeover the requests are answered
      const after = summary(r, firstOk.t * 1000);
      expect(after.reqFailed).toBeLessThanOrEqual(Math.ceil(after.reqOk * 0.03));
    }, 120_000);

    it('the old master comes back with preemption off: it stays backup, the downloads and requests are not disturbed', async () => {
      await lab.conf('a', 150, 'preempt=off');
      const load = lab.load(N, 20 * RATE, RATE, 24);
      const ready = await load.ready;
      await sleep(1000);
      await lab.start('a');
      await sleep(8000);
      expect([await lab.state('a'), await lab.state('b')]).toEqual(['backup', 'master']);
      const r = await load.done;
      const s = summary(r, ready);
      record({ mode, test: 'comeback-preempt-off', downloadsOk: s.ok, downloadsFailed: s.failed, errors: s.errors, requests: { ok: s.reqOk, failed: s.reqFailed } });
      expect(s.ok, JSON.stringify(s)).toBeGreaterThanOrEqual(N - 1);
      expect(s.reqFailed).toBe(0);
      // the returned director lists the downloads too: the master's daemon sends to it
      expect((await lab.vrrp('a')).sync.backup!.counters.created).toBeGreaterThanOrEqual(N);
      await lab.kill('a');
    }, 120_000);

    it('the old master comes back with preemption on (15 s delay): it takes over, the downloads survive that too', async () => {
      await lab.conf('a', 150, 'preempt=on preempt_delay=15s');
      const load = lab.load(N, 32 * RATE, RATE, 36);
      await load.ready;
      await sleep(1000);
      const back = Date.now();
      await lab.start('a');
      expect(await lab.state('a')).toBe('backup');
      expect(await waitFor(async () => (await lab.state('a')) === 'master', 25_000, 200)).toBeGreaterThanOrEqual(0);
      const a = (await lab.vrrp('a')).vrrp[0]!;
      const took = a.lastTransition!.at - back;
      expect(await lab.state('b')).toBe('backup');
      const synced = (await lab.vrrp('a')).sync;
      const r = await load.done;
      const s = summary(r, back);
      record({ mode, test: 'comeback-preempt-on', downloadsOk: s.ok, downloadsFailed: s.failed, errors: s.errors, takeoverAfterStartMs: Math.round(took),
        requests: { ok: s.reqOk, failed: s.reqFailed }, transition: a.lastTransition, synced });
      expect(took).toBeGreaterThanOrEqual(15_000);
      expect(s.ok, JSON.stringify(s)).toBeGreaterThanOrEqual(N - 1);
      expect(s.reqFailed).toBeLessThanOrEqual(2);
    }, 150_000);
  });
}
