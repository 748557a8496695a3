// keepalived's VRRP half: vrrp_instance and global_defs lvs_sync_daemon
// become tapvs's vrrp and `sync follow` lines with keepalived's defaults
// (fixtures/keepalived-conf/ha-master.conf and ha-backup.conf, a pair that
// Debian's keepalived --config-test accepts), a director started from the
// master's config runs the instance and the daemon that follows it, and
// what tapvs cannot honour is refused by name at its file:line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKeepalived } from '../../../src/control/keepalived/index.js';
import { parseIpv4 } from '../../../src/control/ipvsadm-args.js';
import { MemoryPort } from '../../../src/io/memory-port.js';
import { LiveDirector } from '../../../src/runtime/live.js';

const FIX = join(__dirname, '../../../fixtures/keepalived-conf');
const ip = (s: string): number => parseIpv4(s)!;
const dir = mkdtempSync(join(tmpdir(), 'tapvs-kaha-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text: string, name = `h${n++}.conf`): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
/** The tapvs side: two memory ports, no vip lines (the keepalived file's VIPs become them). */
const PORTS = file(`port outside kind=memory mac=02:00:00:00:0a:01 addr=10.0.0.1/24
port inside kind=memory mac=02:00:00:00:0a:02 addr=192.168.10.1/24
route default via 10.0.0.254
`, 'ports.conf');

function keepalivedTest(path: string): { code: number; out: string } {
  try {
    const out = execFileSync('keepalived', ['--config-test', '-f', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, out };
  } catch (e) {
    const x = e as { status: number; stderr: string; stdout: string };
    return { code: x.status, out: `${x.stdout}${x.stderr}` };
  }
}

describe('keepalived.conf HA pair: vrrp_instance and lvs_sync_daemon as tapvs lines', () => {
  it.each(['ha-master.conf', 'ha-backup.conf'])('%s passes Debian keepalived --config-test', (f) => {
    expect(keepalivedTest(join(FIX, f))).toEqual({ code: 0, out: '' });
  });

  it('the master: vrrp_version 3, garp_master_* given, VIPs with dev; the sync daemon follows VI_1 (syncid: the vrid)', () => {
    const r = loadKeepalived(join(FIX, 'ha-master.conf'), PORTS);
    expect(r.ok, r.ok ? '' : r.errors.join('\n')).toBe(true);
    if (!r.ok) return;
    expect(r.warnings).toEqual([]);
    expect(r.ha).toEqual([
      'vrrp VI_1 port=outside vrid=51 priority=150 version=3 advert=1000ms preempt=on preempt_delay=0ms garp_repeat=3 garp_delay=2000ms vip=10.0.0.100 excluded=192.168.10.254',
      'sync follow VI_1 port=inside maxlen=1200',
    ]);
    expect(r.config.ha!.vrrp).toEqual([{
      name: 'VI_1', vrid: 51, priority: 150, version: 3, intervalCs: 100, preempt: true, preemptDelayMs: 0, port: 'outside',
      addrs: [ip('10.0.0.100')], excluded: [ip('192.168.10.254')], garpRepeat: 3, garpDelayMs: 2000, line: 12,
    }]);
    expect(r.config.ha!.syncFollow).toEqual({ instance: 'VI_1', spec: { mcastIfn: 'inside', syncMaxlen: 1200 }, line: 9 });
    expect(r.config.ha!.sync).toEqual([]);
    // the VIPs are answered on their dev's port
    expect(r.config.vips).toEqual([{ addr: ip('10.0.0.100'), port: 'outside' }, { addr: ip('192.168.10.254'), port: 'inside' }]);
    expect(r.config.services.map((s) => s.addr)).toEqual([ip('10.0.0.100')]);
  });

  it("the backup: keepalived's defaults (VRRPv2, garp 5 x 5 s), nopreempt, the daemon's id, port, ttl and group", () => {
    const r = loadKeepalived(join(FIX, 'ha-backup.conf'), PORTS);
    expect(r.ok, r.ok ? '' : r.errors.join('\n')).toBe(true);
    if (!r.ok) return;
    expect(r.warnings).toEqual([]);
    expect(r.ha).toEqual([
      'vrrp VI_1 port=outside vrid=51 priority=100 version=2 advert=2000ms preempt=off preempt_delay=0ms garp_repeat=5 garp_delay=5000ms vip=10.0.0.100 excluded=192.168.10.254',
      'sync follow VI_1 port=inside syncid=7 mcast_port=8849 ttl=2 group=239.1.2.3',
    ]);
    expect(r.config.ha!.vrrp[0]).toMatchObject({ version: 2, intervalCs: 200, preempt: false, priority: 100, garpRepeat: 5, garpDelayMs: 5000 });
    expect(r.config.ha!.syncFollow!.spec).toEqual({ mcastIfn: 'inside', syncid: 7, mcastPort: 8849, mcastTtl: 2, mcastGroup: ip('239.1.2.3') });
    // no dev on 10.0.0.100: the instance's interface
    expect(r.config.vips).toEqual([{ addr: ip('10.0.0.100'), port: 'outside' }, { addr: ip('192.168.10.254'), port: 'inside' }]);
  });

  it.each([
    ['ha-master.conf', /^VI_1: BACKUP vrid 51 on outside \(10\.0\.0\.1\), priority 150, VRRPv3, advert 1 s, preempt on$/m,
      /^sync: backup sync daemon \(mcast=inside, syncid=51, maxlen=1200, group=224\.0\.0\.81, port=8848, ttl=1\)$/m],
    ['ha-backup.conf', /^VI_1: BACKUP vrid 51 on outside \(10\.0\.0\.1\), priority 100, VRRPv2, advert 2 s, preempt off$/m,
      /^sync: backup sync daemon \(mcast=inside, syncid=7, maxlen=1472, group=239\.1\.2\.3, port=8849, ttl=2\)$/m],
  ])('a director started from %s runs VI_1 (as backup first, whatever state says) and a backup sync daemon following it', async (f, vrrpLine, syncLine) => {
    const r = loadKeepalived(join(FIX, f), PORTS);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const log = pino({ level: 'silent' });
    const live = new LiveDirector(r.config, log, { open: (p) => new MemoryPort({ name: p.name, mac: p.mac, mtu: p.mtu }) });
    live.start();
    try {
      const text = live.ha.describe();
      expect(text).toMatch(vrrpLine);
      expect(text).toMatch(/addresses: 10\.0\.0\.100, 192\.168\.10\.254 \(not advertised\)/);
      expect(text).toMatch(syncLine);
      expect(text).toMatch(/sync daemon follows VI_1/);
      // a backup does not answer for the VIPs
      expect(live.ha.vipsHeldBack).toBe(2);
    } finally {
      await live.stop();
    }
  });
});

describe('keepalived.conf HA: refusals and keepalived\'s own corrections, with file:line', () => {
  const inst = (body: string, head = ''): string =>
    `${head}vrrp_instance VI_1 {\n interface outside\n virtual_router_id 51\n${body}\n virtual_ipaddress {\n  10.0.0.100\n }\n}\n`;
  const load = (text: string, ports: string | undefined = PORTS) => {
    const r = loadKeepalived(file(text, 'e.conf'), ports);
    const strip = (l: string[]) => l.map((e) => e.replace(`${dir}/`, ''));
    return r.ok ? { errors: [], warnings: strip(r.warnings), r } : { errors: strip(r.errors), warnings: strip(r.warnings), r };
  };
  it.each([
    [inst(' authentication {\n  auth_type PASS\n  auth_pass x\n }'), /^e\.conf:4: 'authentication' is not supported by tapvs: VRRP authentication/],
    [inst(' notify_master "/bin/true"'), /^e\.conf:4: 'notify_master' is not supported by tapvs: tapvs runs no notify scripts/],
    [inst(' unicast_peer {\n  10.0.0.2\n }'), /^e\.conf:4: 'unicast_peer' is not supported by tapvs: .*multicast only/],
    [inst(' use_vmac'), /^e\.conf:4: 'use_vmac' is not supported by tapvs: .*virtual MAC/],
    [inst(' track_interface {\n  outside\n }'), /^e\.conf:4: 'track_interface' is not supported by tapvs: tapvs's VRRP tracks nothing/],
    [inst(' no_such_thing 1'), "e.conf:4: Unknown keyword 'no_such_thing'"],
    [inst(' virtual_ipaddress_excluded {\n  2001:db8::1\n }'), /^e\.conf:5: '2001:db8::1' is not supported by tapvs: \(VI_1\) an IPv6 virtual address: VRRP in tapvs moves IPv4 VIPs only/],
    [inst(' virtual_ipaddress_excluded {\n  10.0.0.101 peer 10.0.0.9\n }'), /^e\.conf:5: 'peer' is not supported by tapvs/],
    ['vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n  10.0.0.100\n }\n}\n',
      "e.conf:2: interface of vrrp_instance VI_1: 'eth0' is no tapvs port (" + PORTS + ' has outside, inside): name the tapvs port the adverts and VIPs use'],
    [inst(' virtual_ipaddress_excluded {\n  192.168.10.254 dev eth1\n }'), /^e\.conf:5: dev of 192\.168\.10\.254: 'eth1' is no tapvs port/],
    ['vrrp_instance VI_1 {\n interface outside\n virtual_ipaddress {\n  10.0.0.100\n }\n}\n', 'e.conf:1: (VI_1) the virtual router id must be set'],
    [inst('', 'global_defs {\n lvs_sync_daemon eth1 VI_1\n}\n'), /^e\.conf:2: lvs_sync_daemon interface: 'eth1' is no tapvs port/],
    [inst('', 'global_defs {\n lvs_sync_daemon inside VI_1 group 10.1.1.1\n}\n'), 'e.conf:2: lvs_sync_daemon: group 10.1.1.1 is not an IPv4 multicast address'],
    [inst(' priority 256'), "e.conf:4: priority '256' must be a whole number in [1, 255]"],
    [inst(' advert_int 0.005'), "e.conf:4: advert_int '0.005' invalid (seconds, at least 0.01)"],
    [inst(' version 3\n advert_int 0.015'), /^e\.conf:1: vrrp VI_1: a VRRPv3 advert interval is 10ms\.\.40\.95s in steps of 10ms/],
    [inst('') + 'vrrp_instance VI_2 {\n interface outside\n virtual_router_id 51\n virtual_ipaddress {\n  10.0.0.100\n }\n}\n', /^e\.conf:9: vrrp VI_2: vrid 51 on outside is already VI_1's/],
    [inst(''), 'e.conf:1: ' + PORTS + ' has vrrp/sync lines of its own: give the HA pair in one of the two files', 'vrrp'],
  ] as [string, string | RegExp, string?][])('%#', (text, want, portsKind) => {
    const ports = portsKind === 'vrrp'
      ? file('port outside kind=memory mac=02:00:00:00:0a:01 addr=10.0.0.1/24\nvip 10.0.0.50 on outside\nvrrp V port=outside vrid=9 vip=10.0.0.50\n', 'pv.conf')
      : PORTS;
    const { errors } = load(text, ports);
    const exp = typeof want === 'string' ? want.replace(PORTS, ports) : want;
    if (typeof exp === 'string') expect(errors).toContain(exp);
    else expect(errors.some((e) => exp.test(e)), errors.join('\n')).toBe(true);
  });

  it('vrrp_sync_group is refused by name', () => {
    const { errors } = load(`${inst('')}vrrp_sync_group G {\n group {\n  VI_1\n }\n}\n`);
    expect(errors).toEqual([expect.stringMatching(/^e\.conf:9: 'vrrp_sync_group' is not supported by tapvs: .*virtual_ipaddress_excluded/)]);
  });

  it("keepalived's corrections as warnings: nopreempt with state MASTER cleared, preempt_delay with nopreempt reset, a VRRPv2 advert rounded", () => {
    const a = load(inst(' state MASTER\n nopreempt\n advert_int 1.5'));
    expect(a.errors).toEqual([]);
    expect(a.warnings).toEqual([
      'e.conf:1: (VI_1) Warning - nopreempt will not work with initial state MASTER - clearing',
      'e.conf:1: (VI_1) VRRPv2 advertisement interval 1.5s must be an integer. rounding',
    ]);
    expect(a.r.ok && a.r.ha[0]).toMatch(/ version=2 advert=2000ms preempt=on /);
    const b = load(inst(' nopreempt\n preempt_delay 10'));
    expect(b.warnings).toEqual(['e.conf:1: (VI_1) preempt_delay is incompatible with nopreempt mode - resetting']);
    expect(b.r.ok && b.r.ha[0]).toMatch(/ preempt=off preempt_delay=0ms /);
    // VRRPv3 takes fractions: 0.25 s is 25 centiseconds, and a label is only warned about
    const c = load(inst(' version 3\n advert_int 0.25\n preempt_delay 2.5\n virtual_ipaddress_excluded {\n  10.0.0.101/24 dev outside label outside:1\n }'));
    expect(c.errors).toEqual([]);
    expect(c.warnings).toEqual(['e.conf:8: (VI_1) label outside:1 of 10.0.0.101/24: not used by tapvs (a VIP is answered for as one address on its port)']);
    expect(c.r.ok && c.r.config.ha!.vrrp[0]).toMatchObject({ version: 3, intervalCs: 25, preemptDelayMs: 2500, excluded: [ip('10.0.0.101')] });
  });

  it('without --config the lines are still made (the ports are checked when a tapvs config is given)', () => {
    const r = loadKeepalived(join(FIX, 'ha-master.conf'));
    expect(r.ok).toBe(true);
    expect(r.ok && r.ha.length).toBe(2);
  });
});
