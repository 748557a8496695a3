/**
 * End to end: tapvs's VRRP against Debian's keepalived (2.2.7, VRRP only:
 * `keepalived -P`, no IPVS) on the NAT HA lab's outside LAN, one tapvs
 * director (a) and keepalived in a namespace of its own, same VRID 51, same
 * VIP, 1 s adverts. Both directions of the election:
 *  1. VRRPv3, keepalived higher (150) than tapvs (100): tapvs, master alone,
 *     is preempted by keepalived and follows it as backup; keepalived stopped
 *     (it sends priority 0) -> tapvs master, the VIP answered by tapvs again;
 *  2. VRRPv2, tapvs higher (150) than keepalived (100): keepalived stays
 *     backup behind tapvs; kill -9 tapvs -> keepalived master with the VIP;
 *     tapvs back -> it preempts keepalived, which goes back to backup.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, stillRunning, waitFor } from './lab.js';
import { HaLab } from './ha-lab.js';

const lab = new HaLab(`tvhak${process.pid % 1000}`, 'nat');
const metricsPort = 19900 + (process.pid % 90);
const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();

/** An HTTP request through the VIP from the client: the real server's name, or null. */
async function viaVip(): Promise<string | null> {
  const r = await lab.sh(`ip netns exec "${lab.clientNs}" curl -s -m 2 http://${lab.vip}/`, 10_000);
  return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : null;
}

const kaEntered = (name: string, state: 'MASTER' | 'BACKUP'): number =>
  lab.log(name).split('\n').filter((l) => l.includes(`(VI_1) Entering ${state} STATE`)).length;

describe('e2e VRRP interop: tapvs and keepalived elect each other', () => {
  beforeAll(async () => {
    await lab.up();
  }, 120_000);

  afterAll(async () => {
    const pids = lab.recordedPids();
    await lab.down();
    expect(await lab.namespaces()).toEqual([]);
    expect(stillRunning(pids)).toEqual([]);
  }, 120_000);

  it('VRRPv3: keepalived with the higher priority preempts tapvs; stopped, tapvs takes over (priority 0) and serves the VIP', async () => {
    await lab.conf('a', 100, '', [`option metrics_listen 127.0.0.1:${metricsPort}`]);
    await lab.start('a');
    expect(await waitFor(async () => (await lab.state('a')) === 'master', 10_000, 200)).toBeGreaterThanOrEqual(0);
    expect(await viaVip()).toMatch(/^rs\d$/);

    await lab.keepalived('ka1', 150, 3, '10.0.0.9/24');
    // keepalived discards tapvs's lower adverts, its master-down timer runs out: master; tapvs hears priority 150
    expect(await waitFor(async () => kaEntered('ka1', 'MASTER') === 1 && (await lab.state('a')) === 'backup', 15_000, 200), lab.log('ka1')).toBeGreaterThanOrEqual(0);
    const a = (await lab.vrrp('a')).vrrp[0]!;
    expect([a.state, a.master, a.masterPriority]).toEqual(['backup', '10.0.0.9', 150]);
    expect(a.lastTransition!.reason).toBe('advertisement from 10.0.0.9 with higher priority 150 (ours 100)');
    expect(await lab.keepalivedHasVip('ka1')).toBe(true);
    // the same in the metrics and the log: state, priorities, who is master, the transition with its reason
    const m = await metrics();
    const labels = 'instance="VI_1",vrid="51",port="outside"';
    for (const line of [`tapvs_vrrp_state{${labels},state="backup"} 1`, `tapvs_vrrp_state{${labels},state="master"} 0`, `tapvs_vrrp_priority{${labels}} 100`,
      `tapvs_vrrp_master_priority{${labels}} 150`, `tapvs_vrrp_master_info{${labels},master="10.0.0.9"} 1`, `tapvs_vrrp_became_backup_total{${labels}} 2`]) {
      expect(m.split('\n'), line).toContain(line);
    }
    expect(lab.log('tapvs-a')).toContain('vrrp VI_1: MASTER -> BACKUP (advertisement from 10.0.0.9 with higher priority 150 (ours 100))');
    // it stays so: tapvs follows keepalived's adverts (nothing refused), keepalived stays master
    await sleep(4000);
    const a2 = (await lab.vrrp('a')).vrrp[0]!;
    expect([a2.state, a2.counters.advertsReceived - a.counters.advertsReceived >= 3, kaEntered('ka1', 'MASTER'), kaEntered('ka1', 'BACKUP')])
      .toEqual(['backup', true, 1, 1]);
    expect(a2.counters.refused).toEqual({});

    const stopped = Date.now();
    await lab.keepalivedStop('ka1');
    expect(await waitFor(async () => (await lab.state('a')) === 'master', 8000, 100)).toBeGreaterThanOrEqual(0);
    const a3 = (await lab.vrrp('a')).vrrp[0]!;
    expect(a3.lastTransition!.reason).toBe('10.0.0.9 gave up being master (priority 0), taken over after the skew time 0.609 s');
    // priority 0 makes it the skew time, not the Master_Down_Interval
    expect(a3.lastTransition!.at - stopped).toBeLessThan(a3.masterDownIntervalMs);
    expect(await lab.keepalivedHasVip('ka1')).toBe(false);
    expect(await waitFor(async () => (await viaVip()) !== null, 10_000, 200)).toBeGreaterThanOrEqual(0);
    await lab.kill('a');
  }, 120_000);

  it('VRRPv2: keepalived stays backup behind tapvs; kill -9 tapvs and keepalived takes the VIP; tapvs back preempts it', async () => {
    await lab.conf('a', 150, 'version=2');
    await lab.start('a');
    expect(await waitFor(async () => (await lab.state('a')) === 'master', 10_000, 200)).toBeGreaterThanOrEqual(0);
    await lab.keepalived('ka2', 100, 2, '10.0.0.8/24');
    // longer than keepalived's Master_Down_Interval (3.609 s): it would have become master by now
    await sleep(5000);
    expect([kaEntered('ka2', 'BACKUP'), kaEntered('ka2', 'MASTER')], lab.log('ka2')).toEqual([1, 0]);
    expect(await lab.keepalivedHasVip('ka2')).toBe(false);
    expect(await lab.state('a')).toBe('master');
    expect(await viaVip()).toMatch(/^rs\d$/);

    await lab.kill('a');
    expect(await waitFor(async () => kaEntered('ka2', 'MASTER') === 1, 10_000, 200), lab.log('ka2')).toBeGreaterThanOrEqual(0);
    expect(await waitFor(() => lab.keepalivedHasVip('ka2'), 5000, 200)).toBeGreaterThanOrEqual(0);

    // tapvs back with the higher priority: keepalived's adverts are discarded, tapvs takes over, keepalived follows
    await lab.start('a');
    expect(await waitFor(async () => (await lab.state('a')) === 'master', 15_000, 200)).toBeGreaterThanOrEqual(0);
    expect((await lab.vrrp('a')).vrrp[0]!.lastTransition!.reason).toBe('preempting 10.0.0.8: its priority 100 is lower than ours 150');
    expect(await waitFor(async () => kaEntered('ka2', 'BACKUP') === 2 && !(await lab.keepalivedHasVip('ka2')), 10_000, 200), lab.log('ka2'))
      .toBeGreaterThanOrEqual(0);
    expect(await waitFor(async () => (await viaVip()) !== null, 10_000, 200)).toBeGreaterThanOrEqual(0);
  }, 120_000);
});
