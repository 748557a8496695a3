// The flood defences as a user sets them: `option NAME VALUE` in the config,
// `tapvs sysctl` over the control socket, and reload.
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/control/config.js';
import { execSysctl } from '../../src/control/sysctl.js';
import { sysctlCommand } from '../../src/cli/sysctl.js';
import { applyEvent, parseEvents, RuleRecorder, type RuleEvent } from '../../src/control/rule-log.js';
import { Rig } from '../director/harness.js';
import { NAT, natConfig } from '../director/topo.js';
import { LiveRig, TOPOLOGY } from './server-rig.js';

let rig: LiveRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

function options(lines: string) {
  const r = parseConfig(`${TOPOLOGY}${lines}`, 'test.conf');
  if ('errors' in r) throw new Error(r.errors.map((e) => `${e.line}: ${e.message}`).join('\n'));
  return r.config.options;
}

function errors(lines: string): string[] {
  const r = parseConfig(`${TOPOLOGY}${lines}`, 'test.conf');
  return 'errors' in r ? r.errors.map((e) => e.message) : [];
}

describe('config: option drop_entry / drop_packet / secure_tcp / amemthresh / am_droprate / evict_embryonic', () => {
  it('reads each as the sysctl reads it', () => {
    const o = options('option secure_tcp 1\noption drop_entry 3\noption drop_packet 2\noption amemthresh 4096\noption am_droprate 5\noption evict_embryonic off\n');
    expect(o).toMatchObject({ secureTcp: 1, dropEntry: 3, dropPacket: 2, amemthresh: 4096, amDroprate: 5, evictEmbryonic: false });
  });

  it('refuses values outside the modes, and names the option', () => {
    expect(errors('option secure_tcp 4\n')).toEqual([expect.stringMatching(/^option secure_tcp: '4' is not a mode 0\.\.3/)]);
    expect(errors('option drop_entry on\n')).toEqual([expect.stringMatching(/^option drop_entry: 'on' is not a mode/)]);
    expect(errors('option amemthresh -1\n')).toEqual([expect.stringMatching(/^option amemthresh: '-1' is not a whole number/)]);
    expect(errors('option evict_embryonic 2\n')).toEqual([expect.stringMatching(/^option evict_embryonic: '2' is not a boolean/)]);
    expect(errors('option secure_tcp 1\noption secure_tcp 2\n')).toEqual([expect.stringMatching(/already set/)]);
  });

  it('a director started from the config runs with them', async () => {
    const r = rig = await new LiveRig(undefined, 'option secure_tcp 3\noption drop_packet 3\noption am_droprate 7\noption evict_embryonic 0\n').start();
    const t = r.director.conns;
    expect([t.secureTcpOn, t.dropRate, t.settings.evictEmbryonic]).toEqual([true, 7, false]);
  });
});

describe('config: the other IPVS sysctls as options', () => {
  it('every one parses, with the kernel\'s reading of its value', () => {
    const o = options([
      'option conn_reuse_mode 0', 'option secure_tcp 1', 'option sloppy_tcp 1', 'option sloppy_sctp yes', 'option schedule_icmp 1',
      'option nat_icmp_send on', 'option pmtu_disc 0', 'option ignore_tunneled 1', 'option cache_bypass 1', 'option run_estimation 0',
      'option lblc_expiration 60', 'option lblcr_expiration 120', '',
    ].join('\n'));
    expect(o).toMatchObject({
      connReuseMode: 0, secureTcp: 1, sloppyTcp: true, sloppySctp: true, scheduleIcmp: true, natIcmpSend: true, pmtuDisc: false,
      ignoreTunneled: true, cacheBypass: true, runEstimation: false, lblcExpiration: 60, lblcrExpiration: 120,
    });
  });

  it('a bad value is refused with the file and line', () => {
    const r = parseConfig(`${TOPOLOGY}option conn_reuse_mode 4\noption pmtu_disc 2\noption lblc_expiration 0\n`, 'test.conf');
    expect('errors' in r && r.errors.map((e) => [e.line - TOPOLOGY.split('\n').length + 1, e.message])).toEqual([
      [1, expect.stringMatching(/^option conn_reuse_mode: '4' is not 0\.\.3/)],
      [2, expect.stringMatching(/^option pmtu_disc: '2' is not a boolean/)],
      [3, expect.stringMatching(/^option lblc_expiration: '0' is not a whole number of seconds in 1\.\.2147483/)],
    ]);
  });

  it('a director started from the config runs with them; a reload with a bad one changes nothing', async () => {
    const r = rig = await new LiveRig(undefined, 'option conn_reuse_mode 0\noption sloppy_tcp 1\noption lblcr_expiration 300\n').start();
    const s = r.director.conns.settings;
    expect([s.connReuseMode, s.sloppyTcp, s.lblcrExpiration]).toEqual([0, true, 300]);
    r.writeConfig(r.text(undefined, 'option conn_reuse_mode 9\n'));
    const res = await r.plane.reload();
    expect(res.ok).toBe(false);
    expect([s.connReuseMode, s.sloppyTcp, s.lblcrExpiration]).toEqual([0, true, 300]);
    r.writeConfig(r.text(undefined, 'option cache_bypass 1\n'));
    expect((await r.plane.reload()).ok).toBe(true);
    expect([s.connReuseMode, s.sloppyTcp, s.cacheBypass, s.lblcrExpiration]).toEqual([1, false, true, 86400]);
  });
});

describe('tapvs sysctl', () => {
  it('sets the other sysctls live and refuses their bad values', async () => {
    const r = rig = await new LiveRig().start();
    expect(execSysctl(r.director, ['sloppy_tcp=1', 'net.ipv4.vs.conn_reuse_mode=2', 'lblc_expiration', '30']).stdout)
      .toBe('sloppy_tcp = 1\nconn_reuse_mode = 2\nlblc_expiration = 30\n');
    const s = r.director.conns.settings;
    expect([s.sloppyTcp, s.connReuseMode, s.lblcExpiration]).toEqual([true, 2, 30]);
    const bad = execSysctl(r.director, ['run_estimation=0', 'schedule_icmp=5']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/schedule_icmp: '5' is not a boolean/);
    expect(s.runEstimation).toBe(true);
  });

  it('lists every setting as sysctl(8) prints them, defaults included', async () => {
    const r = rig = await new LiveRig().start();
    expect(execSysctl(r.director, [])).toEqual({
      code: 0,
      stderr: '',
      stdout: 'am_droprate = 10\namemthresh = 1024\ncache_bypass = 0\nconn_reuse_mode = 1\ndrop_entry = 0\ndrop_packet = 0\nevict_embryonic = 1\n' +
        'expire_nodest_conn = 0\nexpire_quiescent_template = 0\nignore_tunneled = 0\nlblc_expiration = 86400\nlblcr_expiration = 86400\n' +
        'nat_icmp_send = 0\npmtu_disc = 1\nrun_estimation = 1\nschedule_icmp = 0\nsecure_tcp = 0\nsloppy_sctp = 0\nsloppy_tcp = 0\n',
    });
  });

  it('sets NAME=VALUE and NAME VALUE (kernel names too), live, and prints them back; an automatic mode reads 2 when it came on', async () => {
    const r = rig = await new LiveRig(undefined, 'option max_conns 100\n').start();
    const set = execSysctl(r.director, ['net.ipv4.vs.secure_tcp=3', 'drop_packet', '1', 'amemthresh=200']);
    // 100 slots, all free, are below amemthresh 200: drop_packet's automatic mode is on at once
    expect(set).toEqual({ code: 0, stderr: '', stdout: 'secure_tcp = 3\ndrop_packet = 2\namemthresh = 200\n' });
    expect([r.director.conns.secureTcpOn, r.director.conns.dropRate]).toEqual([true, 2]); // 200 / (200 - 100)
    expect(execSysctl(r.director, ['drop_packet']).stdout).toBe('drop_packet = 2\n');
    expect(execSysctl(r.director, ['amemthresh=10']).stdout).toBe('amemthresh = 10\n');
    expect(execSysctl(r.director, ['drop_packet']).stdout).toBe('drop_packet = 1\n');
    expect(r.director.conns.dropRate).toBe(0);
  });

  it('refuses an unknown name or a bad value and then changes nothing at all', async () => {
    const r = rig = await new LiveRig().start();
    const bad = execSysctl(r.director, ['drop_entry=1', 'secure_tcp=9']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^tapvs sysctl: secure_tcp: '9' is not a mode 0\.\.3/);
    expect(r.director.conns.settings.dropEntry).toBe(0);
    const unknown = execSysctl(r.director, ['syn_cookies=1']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown setting 'syn_cookies' \(known: am_droprate, amemthresh, cache_bypass, conn_reuse_mode, drop_entry/);
  });

  it('--status tells the table\'s figures behind the defences', async () => {
    const r = rig = await new LiveRig(undefined, 'option max_conns 64\n').start();
    const out = execSysctl(r.director, ['--status', 'evict_embryonic']).stdout;
    expect(out).toMatch(/^evict_embryonic = 1\nconnection table: 64 slots, 0 used, 64 free \(amemthresh 1024: low\)\n/);
    expect(out).toMatch(/in force: drop_entry no, drop_packet no, secure_tcp no\n/);
    expect(out).toMatch(/since start: 0 evicted, 0 dropped by drop_entry, 0 dropped by drop_packet, 0 refused \(table full\)\n/);
    expect(out).toMatch(/fragment table: 0 of 65536 decisions, 0 early fragments held\n$/);
  });

  it('goes over the control socket (tapvs sysctl), is logged, and a director that is not there is exit 2', async () => {
    const r = rig = await new LiveRig().start();
    let out = '';
    let err = '';
    const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } };
    expect(await sysctlCommand(['--socket', r.socketPath, 'drop_entry=3'], io)).toBe(0);
    expect(out).toBe('drop_entry = 3\n');
    expect(r.director.conns.dropEntryOn).toBe(true);
    expect(r.logs.some((l) => l.msg === 'sysctl: settings changed')).toBe(true);
    expect(await sysctlCommand(['--socket', r.socketPath, 'drop_entry=x'], io)).toBe(1);
    expect(err).toMatch(/drop_entry: 'x' is not a mode/);
    expect(await sysctlCommand(['--socket', `${r.dir}/none.sock`], io)).toBe(2);
  });
});

describe('reload', () => {
  it('applies changed defence options live; an option taken out returns to its default', async () => {
    const r = rig = await new LiveRig(undefined, 'option drop_entry 3\n').start();
    expect(r.director.conns.dropEntryOn).toBe(true);
    r.writeConfig(r.text(undefined, 'option secure_tcp 3\noption evict_embryonic 0\n'));
    const res = await r.plane.reload();
    expect(res.ok).toBe(true);
    const t = r.director.conns;
    expect([t.settings.dropEntry, t.dropEntryOn, t.secureTcpOn, t.settings.evictEmbryonic]).toEqual([0, false, true, false]);
  });

  it('an automatic mode that reads 2 (on) is the same setting as the config\'s 1: nothing to change', async () => {
    const r = rig = await new LiveRig(undefined, 'option max_conns 100\noption drop_entry 1\n').start();
    expect(r.director.conns.settings.dropEntry).toBe(2); // 100 free < amemthresh 1024
    const res = await r.plane.reload();
    expect(res.ok && res.summary).toBe('no change');
  });
});

describe('recorded sessions (control/rule-log.ts)', () => {
  it('a defence change made with tapvs sysctl is recorded as a set event that a replay applies; automatic 1/2 is one setting', async () => {
    const r = rig = await new LiveRig(undefined, 'option max_conns 100\n').start();
    const events: RuleEvent[] = [];
    const rec = new RuleRecorder(r.director, (ev) => events.push(ev), () => 1_700_000_000_000);
    rec.changing('sysctl');
    execSysctl(r.director, ['drop_entry=1', 'evict_embryonic=0', 'am_droprate=3']);
    rec.changed('sysctl', 'sysctl drop_entry=1 evict_embryonic=0 am_droprate=3');
    expect(r.director.conns.settings.dropEntry).toBe(2); // on at once: 100 free < 1024
    expect(events.map((e) => e.set)).toEqual([{ drop_entry: 1, evict_embryonic: 0, am_droprate: 3 }]);
    // the automatic mode moving between 1 and 2 on its own is no event
    execSysctl(r.director, ['amemthresh=10']);
    rec.onTick();
    expect(events.map((e) => e.set)).toEqual([{ drop_entry: 1, evict_embryonic: 0, am_droprate: 3 }, { amemthresh: 10 }]);
    // replayed onto a fresh director
    const other = new Rig(natConfig({ services: [{ port: 80, dests: [{ addr: NAT.rs1, port: 8080 }] }] }));
    const loaded = parseEvents(events.map((e) => JSON.stringify(e)).join('\n'), 'x.events');
    for (const ev of loaded) applyEvent(other.d, natConfig({ services: [] }), ev, 'x.events');
    const s = other.d.conns.settings;
    expect([s.dropEntry, s.evictEmbryonic, s.amDroprate, s.amemthresh]).toEqual([1, false, 3, 10]);
  });

  it('a set event with a value the sysctl refuses is an error naming the line', () => {
    expect(() => parseEvents('{"time":"1700000000.000000","ipvsadm":[],"set":{"secure_tcp":7}}', 'x.events'))
      .toThrow(/^x\.events:1: "set": secure_tcp: '7' is not a mode 0\.\.3/);
    expect(() => parseEvents('{"time":"1700000000.000000","ipvsadm":[],"set":{"syn_cookies":1}}', 'x.events'))
      .toThrow(/unknown setting 'syn_cookies' \(expire_nodest_conn, expire_quiescent_template, drop_entry/);
  });
});
