// The HA pair as users drive it: the config's vrrp and sync lines (and what
// they refuse), ipvsadm --start-daemon / --stop-daemon / -L --daemon with
// ipvsadm 1.31's options, ranges, messages and listing, `tapvs vrrp`, the
// metrics, and a running director whose VRRP instance starts as backup.
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/control/config.js';
import { parseIpvsadmArgs } from '../../src/control/ipvsadm-args.js';
import { renderMetrics } from '../../src/control/metrics.js';
import { ip } from '../director/topo.js';
import { eth } from '../../src/wire/builder.js';
import { portNow } from '../../src/io/port.js';
import { LiveRig, ROUTER_MAC, TOPOLOGY, VIP } from './server-rig.js';

const conf = (extra: string) => parseConfig(`${TOPOLOGY}vip 192.168.10.254 on inside\n${extra}`, 'tapvs.conf');
const errors = (extra: string) => {
  const r = conf(extra);
  return 'errors' in r ? r.errors.map((e) => e.message) : [];
};

describe('config: vrrp and sync lines', () => {
  it('reads an instance, the daemons and the sync options, with their defaults', () => {
    const r = conf([
      `vrrp VI_1 port=outside vrid=51 priority=150 vip=${VIP} excluded=192.168.10.254 advert=500ms preempt_delay=10s`,
      'vrrp VI_2 port=inside vrid=52 version=2 advert=2s preempt=off vip=192.168.10.254',
      'sync master port=inside syncid=9 maxlen=1200',
      'sync backup port=inside group=239.1.2.3 mcast_port=9000 ttl=2',
      'option sync_threshold 2',
      'option sync_period 20',
      'option backup_only 1',
      '',
    ].join('\n'));
    expect('errors' in r ? r.errors : []).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/an address of VI_1 .* again/) }),
    ]);
    const ok = conf([
      `vrrp VI_1 port=outside vrid=51 priority=150 vip=${VIP} excluded=192.168.10.254 advert=500ms preempt_delay=10s`,
      'sync master port=inside syncid=9 maxlen=1200',
      'sync backup port=inside group=239.1.2.3 mcast_port=9000 ttl=2',
      'option sync_threshold 2', 'option sync_period 20', 'option backup_only 1', '',
    ].join('\n'));
    if ('errors' in ok) throw new Error(JSON.stringify(ok.errors));
    const ha = ok.config.ha!;
    expect(ha.vrrp).toEqual([expect.objectContaining({
      name: 'VI_1', vrid: 51, priority: 150, version: 3, intervalCs: 50, preempt: true, preemptDelayMs: 10_000, port: 'outside',
      addrs: [ip(VIP)], excluded: [ip('192.168.10.254')], garpRepeat: 5, garpDelayMs: 5000,
    })]);
    expect(ha.sync).toEqual([
      { state: 'master', mcastIfn: 'inside', syncid: 9, syncMaxlen: 1200 },
      { state: 'backup', mcastIfn: 'inside', mcastGroup: ip('239.1.2.3'), mcastPort: 9000, mcastTtl: 2 },
    ]);
    expect(ha.syncSettings).toEqual({ syncThreshold: 2, syncPeriod: 20, backupOnly: true });
    // none of it: no ha at all
    const none = conf('');
    expect('config' in none && none.config.ha).toBe(undefined);
  });

  it('refuses what cannot work, by line', () => {
    expect(errors('vrrp VI_1 port=outside vrid=51 vip=10.0.0.99\n')).toEqual([
      "vrrp VI_1: 10.0.0.99 is not a VIP: add 'vip ADDR on PORT' for it"]);
    expect(errors(`vrrp VI_1 port=outside vrid=0 vip=${VIP}\n`)).toEqual(['vrrp VI_1: vrid must be 1..255']);
    expect(errors(`vrrp VI_1 port=outside vrid=1 version=2 advert=1500ms vip=${VIP}\n`)).toEqual(['vrrp VI_1: a VRRPv2 advert interval is whole seconds, 1s..255s']);
    expect(errors(`vrrp VI_1 port=lan vrid=1 vip=${VIP}\n`)).toEqual(["vrrp VI_1: no port 'lan'"]);
    expect(errors(`vrrp A port=outside vrid=1 vip=${VIP}\nvrrp B port=outside vrid=1 vip=192.168.10.254\n`)).toEqual(["vrrp B: vrid 1 on outside is already A's"]);
    expect(errors(`vrrp VI_1 port=outside vrid=1 vip=${VIP}\nsync follow VI_9 port=inside\n`)).toEqual(["sync follow: no vrrp instance 'VI_9'"]);
    expect(errors('sync master port=inside group=10.1.1.1\n')).toEqual(['sync: group 10.1.1.1 is not a multicast address']);
    expect(errors('option sync_threshold 50\n')).toEqual(['option sync_threshold 50 must be below sync_period 50 (the kernel refuses it)']);
    expect(errors('option sync_retries 4\n')).toEqual(["option sync_retries: '4' is not 0..3"]);
  });
});

describe('ipvsadm: the sync daemon commands', () => {
  const p = (line: string) => parseIpvsadmArgs(line.split(' '));
  it('parses --start-daemon and --stop-daemon with every daemon option, ipvsadm\'s default interface eth0', () => {
    expect(p('--start-daemon master --mcast-interface inside --syncid 5 --sync-maxlen 1000 --mcast-group 239.1.1.1 --mcast-port 9000 --mcast-ttl 2'))
      .toEqual({ ok: true, command: { cmd: 'start-daemon', daemon: { state: 'master', mcastIfn: 'inside', syncid: 5, syncMaxlen: 1000, mcastGroup: ip('239.1.1.1'), mcastPort: 9000, mcastTtl: 2 } } });
    expect(p('--start-daemon backup')).toEqual({ ok: true, command: { cmd: 'start-daemon', daemon: { state: 'backup', mcastIfn: 'eth0' } } });
    expect(p('--stop-daemon backup')).toEqual({ ok: true, command: { cmd: 'stop-daemon', state: 'backup' } });
  });

  it('refuses as ipvsadm 1.31 does', () => {
    const err = (line: string) => { const r = p(line); return r.ok ? 'ok' : r.error; };
    expect(err('--start-daemon primary')).toBe('illegal start-daemon parameter specified');
    expect(err('--stop-daemon all')).toBe('illegal start_daemon specified');
    expect(err('--start-daemon master --syncid 256')).toBe('illegal syncid specified');
    expect(err('--start-daemon master --mcast-port 0')).toBe('illegal mcast-port specified');
    expect(err('--start-daemon master --mcast-ttl 256')).toBe('illegal mcast-ttl specified');
    expect(err('--start-daemon master --sync-maxlen 65508')).toBe('illegal sync-maxlen specified');
    expect(err('--start-daemon master --mcast-group 10.0.0.1')).toBe("invalid IPv4 mcast-group `10.0.0.1'");
    expect(err('--start-daemon master --mcast-group 2001:db8::1')).toBe("invalid IPv6 mcast-group `2001:db8::1'");
    expect(err('--start-daemon master --mcast-group ff02::81')).toMatch(/IPv6 mcast-group is not supported by tapvs/);
    expect(err('--stop-daemon master --mcast-interface inside')).toBe("Illegal 'mcast-interface' option with the 'stop-daemon' command");
    expect(err('-A -t 10.0.0.1:80 --syncid 3')).toBe("Illegal 'syncid' option with the 'add-service' command");
  });
});

describe('a running director', () => {
  let rig: LiveRig | undefined;
  afterEach(async () => { await rig?.stop(); rig = undefined; });

  it('starts and stops sync daemons with ipvsadm, lists them as ipvsadm -L --daemon does, refuses twice / none / an unknown port', async () => {
    rig = await new LiveRig().start({ metrics: false });
    const run = async (...argv: string[]) => rig!.plane.handle({ argv });
    expect(await run('-L', '--daemon')).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await run('--start-daemon', 'master', '--mcast-interface', 'inside', '--syncid', '7')).code).toBe(0);
    expect(await run('--start-daemon', 'master', '--mcast-interface', 'inside')).toEqual({ code: 255, stdout: '', stderr: 'Daemon has already run\n' });
    expect((await run('--start-daemon', 'backup', '--mcast-interface', 'inside', '--mcast-port', '9000')).code).toBe(0);
    expect((await run('-L', '-n', '--daemon')).stdout).toBe(
      'master sync daemon (mcast=inside, syncid=7, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n' +
      'backup sync daemon (mcast=inside, syncid=0, maxlen=1472, group=224.0.0.81, port=9000, ttl=1)\n');
    expect((await run('--stop-daemon', 'master')).code).toBe(0);
    expect(await run('--stop-daemon', 'master')).toEqual({ code: 255, stdout: '', stderr: 'No daemon is running\n' });
    expect((await run('-L', '--daemon')).stdout).toBe('backup sync daemon (mcast=inside, syncid=0, maxlen=1472, group=224.0.0.81, port=9000, ttl=1)\n');
    expect(await run('--start-daemon', 'master')).toEqual({ code: 255, stdout: '', stderr: 'No such device\n' });
    expect(rig.logs.some((l) => /sync daemon started: state = MASTER/.test(l.msg))).toBe(true);
  });

  it('a VRRP instance starts as backup: its VIP is not answered for; tapvs vrrp and the metrics say so', async () => {
    rig = await new LiveRig(undefined, `vrrp VI_1 port=outside vrid=51 priority=120 advert=1s vip=${VIP}\nsync follow VI_1 port=inside\n`).start();
    const arp = eth({ src: ROUTER_MAC, dst: 'ff:ff:ff:ff:ff:ff' }).arp({ op: 1, sha: ROUTER_MAC, spa: '10.0.0.254', tpa: VIP }).build();
    const out = rig.port('outside');
    const before = out.sent.length;
    out.inject(arp, portNow());
    expect(out.sent.slice(before).filter((f) => f[13] === 6 && f[21] === 2)).toEqual([]);
    const text = (await rig.plane.handle({ verb: 'vrrp', argv: [] } as never)).stdout;
    expect(text).toMatch(/^VI_1: BACKUP vrid 51 on outside \(10\.0\.0\.1\), priority 120, VRRPv3, advert 1 s, preempt on$/m);
    expect(text).toMatch(/master: unknown; master down after 3\.531 s/);
    expect(text).toMatch(/last transition .* INIT -> BACKUP \(startup\)/);
    // lvs_sync_daemon's rule: the daemon follows the instance, syncid its vrid
    expect(text).toMatch(/^sync: backup sync daemon \(mcast=inside, syncid=51, maxlen=1472, group=224\.0\.0\.81, port=8848, ttl=1\)$/m);
    const json = JSON.parse((await rig.plane.handle({ verb: 'vrrp', argv: ['--json'] } as never)).stdout) as { vrrp: { state: string }[]; vipsHeldBack: number };
    expect([json.vrrp[0]!.state, json.vipsHeldBack]).toEqual(['backup', 1]);
    const m = renderMetrics({ director: rig.director, ports: rig.live.ports, ha: rig.live.ha });
    expect(m).toMatch(/^tapvs_vrrp_state\{instance="VI_1",vrid="51",port="outside",state="backup"\} 1$/m);
    expect(m).toMatch(/^tapvs_vrrp_state\{instance="VI_1",vrid="51",port="outside",state="master"\} 0$/m);
    // no master heard yet: no master_info line; the startup transition has its time
    expect(m).not.toMatch(/^tapvs_vrrp_master_info/m);
    expect(m).toMatch(/^tapvs_vrrp_last_transition_timestamp_seconds\{instance="VI_1",vrid="51",port="outside"\} \d{10}(\.\d+)?$/m);
    expect(m).toMatch(/^tapvs_sync_daemon_running\{state="backup"\} 1$/m);
    expect(m).toMatch(/^tapvs_vips_held_back 1$/m);
  });
});
