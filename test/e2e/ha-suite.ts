/**
 * The HA pair end to end, per forwarding mode (NAT, DR): two tapvs
 * directors, a (priority 150, master) and b (priority 100), VRRPv3 with 1 s
 * adverts, the sync daemon following the VRRP instance. With 100 slow
 * downloads under way (12 s each) and a new request every 100 ms:
 *  1. kill -9 the master: the backup, which already lists the synced conns,
 *     takes the VIP over; >= 99 downloads complete with the right checksum;
 *     new requests are answered again within VRRP's Master_Down_Interval
 *     (3 advert intervals and the skew time, 3.609 s for priority 100) of
 *     the kill, with 1 s for the client and a loaded machine;
 *  2. tshark decodes what was captured meanwhile: VRRPv3 adverts of both
 *     directors and IPVS sync v1 messages with every download in them, no
 *     malformed packet, no bad checksum;
 *  3. the old master comes back with preemption off: it stays backup, it is
 *     sent the downloads, nothing is disturbed;
 *  4. it comes back with preemption on (after a 10 s preempt delay, so that
 *     the master's sync daemon has sent it every download first): it takes
 *     over, and the downloads survive that too.
 * The figures go to $TAPVS_HA_RESULTS (JSON lines) when set.
 */
import { appendFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConns, stillRunning, waitFor } from './lab.js';
import { HaLab, tsharkFields, type LoadResult } from './ha-lab.js';

const N = 100;
const RATE = 30_000;
const ADVERT_MS = 1000;
/** A load: N downloads of `seconds` at RATE, the request loop for `loop` seconds. */
const load = (lab: HaLab, seconds: number, loop: number) => lab.load(N, seconds * RATE, RATE, loop);

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
    const pcaps: { vrrp: string; sync: string } = { vrrp: '', sync: '' };

    beforeAll(async () => {
      await lab.up();
      await lab.conf('a', 150);
      await lab.conf('b', 100);
      await lab.start('a');
      // a alone: master after its Master_Down_Interval; then b joins as backup and hears a
      expect(await waitFor(async () => (await lab.state('a')) === 'master', 10_000, 200)).toBeGreaterThanOrEqual(0);
      await lab.start('b');
      expect(await waitFor(async () => (await lab.vrrp('b')).vrrp[0]!.master !== null, 10_000, 200)).toBeGreaterThanOrEqual(0);
      expect([await lab.state('a'), await lab.state('b')]).toEqual(['master', 'backup']);
    }, 180_000);

    afterAll(async () => {
      const pids = lab.recordedPids();
      await lab.down();
      expect(await lab.namespaces()).toEqual([]);
      expect(stillRunning(pids)).toEqual([]);
    }, 120_000);

    it('kill -9 the master: the backup takes over, the downloads it was sent carry on, new requests are answered again', async () => {
      // the adverts' LAN and the sync LAN (NAT: outside and inside; DR: one LAN)
      const lan = lab.env.LAB_LAN_NS!;
      const caps = [await lab.capture(lab.env.LAB_VRRP_NS!, 'br0', 'vrrp.pcap', mode === 'nat' ? 'vrrp' : 'vrrp or udp port 8848')];
      if (mode === 'nat') caps.push(await lab.capture(lan, 'br0', 'sync.pcap', 'udp port 8848'));
      pcaps.vrrp = caps[0]!.path;
      pcaps.sync = caps.at(-1)!.path;

      const run = load(lab, 12, 13);
      const ready = await run.ready;
      // the backup lists the downloads before the takeover: each is synced at its 3rd client packet, sent within 2 s
      let listed = 0;
      const waited = await waitFor(async () => {
        const c = parseConns((await lab.ipvsadm('b', '-Lnc')).stdout).filter((x) => x.state === 'ESTABLISHED' && x.virtual === `${lab.vip}:80`);
        listed = c.length;
        return listed >= N;
      }, 8000, 250);
      expect(waited, `the backup listed ${listed} of ${N} downloads`).toBeGreaterThanOrEqual(0);
      const killed = await lab.kill('a');
      expect(await waitFor(async () => (await lab.state('b')) === 'master', 10_000, 100)).toBeGreaterThanOrEqual(0);
      const b = (await lab.vrrp('b')).vrrp[0]!;
      const r = await run.done;
      for (const c of caps) await c.stop();

      const s = summary(r, killed);
      // the first new request (started after the kill) answered: when the VIP works again
      const answered = r.requests.filter((q) => q.t * 1000 > killed && q.ok).map((q) => q.e * 1000);
      expect(answered.length).toBeGreaterThan(0);
      const firstAnswer = Math.min(...answered);
      const takeover = firstAnswer - killed;
      const lastAdvert = b.lastAdvertAt!; // b heard nobody since: a's last advert
      record({ mode, test: 'kill-master', listedOnBackup: listed, downloadsOk: s.ok, downloadsFailed: s.failed, errors: s.errors,
        takeoverFromKillMs: Math.round(takeover), backupMasterFromKillMs: Math.round(b.lastTransition!.at - killed),
        lastAdvertBeforeKillMs: Math.round(killed - lastAdvert), answeredFromLastAdvertMs: Math.round(firstAnswer - lastAdvert),
        masterDownMs: b.masterDownIntervalMs, readyToKillMs: Math.round(killed - ready), requestsAfterKill: { ok: s.reqOk, failed: s.reqFailed },
        transition: b.lastTransition });
      expect(s.ok, JSON.stringify(s)).toBeGreaterThanOrEqual(N - 1);
      expect(b.lastTransition!.reason).toBe(`master down: no advertisement for 3.609 s (none from ${mode === 'nat' ? '10.0.0.1' : '172.16.0.2'})`);
      // VRRP: the backup declares the master down 3 adverts and the skew after the last one it heard (its own clock) ...
      expect(b.masterDownIntervalMs).toBe(3 * ADVERT_MS + (256 - 100) * ADVERT_MS / 256);
      expect(b.lastTransition!.at - lastAdvert).toBeGreaterThanOrEqual(b.masterDownIntervalMs - 20);
      expect(b.lastTransition!.at - lastAdvert).toBeLessThanOrEqual(b.masterDownIntervalMs + 1000);
      // ... so new requests are answered again at most that after the kill, with 1 s for gratuitous ARP, the client and a loaded machine
      expect(takeover, `answered again ${Math.round(takeover)} ms after the kill`).toBeLessThanOrEqual(b.masterDownIntervalMs + 1000);
      // after the takeover the requests are answered
      const after = summary(r, firstAnswer);
      expect(after.reqFailed).toBeLessThanOrEqual(Math.ceil(after.reqOk * 0.03));
    }, 120_000);

    it('tshark decodes the VRRP and IPVS sync traffic: well-formed, both directors advertising, every download synced', async () => {
      const checks = ['-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'];
      for (const f of new Set([pcaps.vrrp, pcaps.sync])) {
        expect(await tsharkFields(f, '_ws.malformed || _ws.expert.severity == error', ['frame.number', '_ws.expert.message'], checks)).toEqual([]);
      }
      const ads = await tsharkFields(pcaps.vrrp, 'vrrp', ['ip.src', 'ip.ttl', 'vrrp.version', 'vrrp.virt_rtr_id', 'vrrp.prio', 'vrrp.ip_addr', 'vrrp.checksum.status']);
      const [srcA, srcB] = mode === 'nat' ? ['10.0.0.1', '10.0.0.3'] : ['172.16.0.2', '172.16.0.4'];
      const kinds = new Set(ads.map((a) => a.join(' ')));
      // a advertised as master, then b (after the takeover); nothing else: checksums good, TTL 255, v3, VRID 51, the VIP only
      expect([...kinds].sort()).toEqual([`${srcA} 255 3 51 150 ${lab.vip} 1`, `${srcB} 255 3 51 100 ${lab.vip} 1`]);
      const sync = await tsharkFields(pcaps.sync, 'ipvs', ['ip.src', 'ip.dst', 'ip.ttl', 'udp.dstport', 'ipvs.version', 'ipvs.syncid', 'ipvs.conncount',
        'ipvs.proto', 'ipvs.caddr', 'ipvs.vaddr', 'ipvs.vport', 'ipvs.daddr', 'ipvs.cport', 'udp.checksum.status'], checks);
      expect(sync.length).toBeGreaterThan(0);
      const cports = new Set<string>();
      const daddrs = new Set<string>();
      const syncSrc = mode === 'nat' ? '192.168.10.1' : '172.16.0.2';
      for (const [src, dst, ttl, dport, version, syncid, count, proto, caddr, vaddr, vport, daddr, cport, csum] of sync) {
        // a's messages until the kill, then b's (the downloads it carries on)
        expect([dst, ttl, dport, version, syncid, csum]).toEqual(['224.0.0.81', '1', '8848', '1', '51', '1']);
        const n = Number(count);
        expect(proto!.split(',').map(Number)).toEqual(Array(n).fill(6));
        expect(new Set(caddr!.split(','))).toEqual(new Set(['10.0.0.2']));
        expect(new Set(vaddr!.split(','))).toEqual(new Set([lab.vip]));
        expect(new Set(vport!.split(','))).toEqual(new Set(['80']));
        if (src === syncSrc) for (const p of cport!.split(',')) cports.add(p);
        for (const d of daddr!.split(',')) daddrs.add(d);
      }
      expect(cports.size).toBeGreaterThanOrEqual(N);
      expect([...daddrs].sort()).toEqual(lab.env.LAB_RS_ADDRS!.split(' ').sort());
      record({ mode, test: 'tshark', vrrpAdverts: ads.length, vrrpKinds: [...kinds], syncMessages: sync.length,
        syncRecords: sync.reduce((n, m) => n + Number(m[6]), 0), syncedClientPorts: cports.size });
    }, 60_000);

    it('the old master comes back with preemption off: it stays backup, the downloads and requests are not disturbed', async () => {
      await lab.conf('a', 150, 'preempt=off');
      const run = load(lab, 12, 12);
      const ready = await run.ready;
      await lab.start('a');
      // past its own Master_Down_Interval (it would have preempted by then) and sent every download by b
      expect(await waitFor(async () => {
        const v = await lab.vrrp('a');
        return v.vrrp[0]!.counters.advertsReceived >= 5 && (v.sync.backup?.counters.created ?? 0) >= N;
      }, 15_000, 250)).toBeGreaterThanOrEqual(0);
      expect([await lab.state('a'), await lab.state('b')]).toEqual(['backup', 'master']);
      const r = await run.done;
      const s = summary(r, ready);
      record({ mode, test: 'comeback-preempt-off', downloadsOk: s.ok, downloadsFailed: s.failed, errors: s.errors, requests: { ok: s.reqOk, failed: s.reqFailed } });
      expect(s.ok, JSON.stringify(s)).toBeGreaterThanOrEqual(N - 1);
      expect(s.reqFailed).toBeLessThanOrEqual(2); // a 0.5 s timeout on a loaded machine; a backup answering for the VIP would fail many
      expect([await lab.state('a'), await lab.state('b')]).toEqual(['backup', 'master']);
      await lab.kill('a');
    }, 120_000);

    it('the old master comes back with preemption on (10 s delay): it takes over, the downloads survive that too', async () => {
      await lab.conf('a', 150, 'preempt=on preempt_delay=10s');
      const run = load(lab, 20, 20);
      await run.ready;
      const back = Date.now();
      await lab.start('a');
      expect(await lab.state('a')).toBe('backup');
      expect(await waitFor(async () => (await lab.state('a')) === 'master', 25_000, 200)).toBeGreaterThanOrEqual(0);
      const a = (await lab.vrrp('a')).vrrp[0]!;
      const took = a.lastTransition!.at - back;
      expect(await lab.state('b')).toBe('backup');
      const bv = (await lab.vrrp('b')).vrrp[0]!;
      const r = await run.done;
      const s = summary(r, back);
      record({ mode, test: 'comeback-preempt-on', downloadsOk: s.ok, downloadsFailed: s.failed, errors: s.errors, takeoverAfterStartMs: Math.round(took),
        requests: { ok: s.reqOk, failed: s.reqFailed }, transition: a.lastTransition, backupTransition: bv.lastTransition });
      expect(took).toBeGreaterThanOrEqual(10_000);
      expect(a.lastTransition!.reason).toBe(`preempting ${mode === 'nat' ? '10.0.0.3' : '172.16.0.4'}: its priority 100 is lower than ours 150, after the preempt delay of 10 s`);
      expect(bv.lastTransition!.reason).toMatch(/with higher priority 150 \(ours 100\)$/);
      expect(s.ok, JSON.stringify(s)).toBeGreaterThanOrEqual(N - 1);
      expect(s.reqFailed).toBeLessThanOrEqual(2);
    }, 150_000);
  });
}
