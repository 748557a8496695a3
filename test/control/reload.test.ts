// Config reload (what SIGHUP does), called directly on a running director.
import { afterEach, describe, expect, it } from 'vitest';
import { LiveRig, RS, VIP, TOPOLOGY, clientSegment, serverSegment } from './server-rig.js';
import { execIpvsadm } from '../../src/control/ipvsadm-exec.js';
import { reloadConfig } from '../../src/control/reload.js';

let rig: LiveRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

const save = (r: LiveRig) => execIpvsadm(r.live, ['-S', '-n'], undefined, 0).stdout;

describe('reload', () => {
  it('applies a good config by changing only what differs: kept services and real servers keep their conns and stats', async () => {
    const r = rig = await new LiveRig().start();
    // conns on both real servers
    const byRs = new Map<string, number>();
    for (let cport = 40001; byRs.size < 2; cport++) byRs.set(clientSegment(r, cport, 'S')[0]!.dst, cport);
    const svc = r.director.services.all[0]!;
    const rs1 = svc.findDest(0xc0a80a0b, 80)!;
    const rs1Conns = rs1.stats.conns;
    expect(rs1Conns).toBe(1);

    r.writeConfig(r.text(
      `-A -t ${VIP}:80 -s rr\n` +
        `-a -t ${VIP}:80 -r ${RS.rs1}:80 -m -w 1\n` + // unchanged
        `-a -t ${VIP}:80 -r ${RS.rs3}:80 -m -w 4\n` + // new; rs2 removed
        `-A -u ${VIP}:53 -s wlc -o\n` +
        `-a -u ${VIP}:53 -r ${RS.rs2}:53 -m\n`,
      'set timeout tcp 600 tcpfin 60 udp 30\n',
    ));
    const res = await r.plane.reload();
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.commands.map((c) => c.cmd)).toEqual(['delete-server', 'add-server', 'add-service', 'add-server', 'set']);
    expect(save(r)).toBe(
      `-A -t ${VIP}:80 -s rr\n` +
        `-a -t ${VIP}:80 -r ${RS.rs1}:80 -m -w 1\n` +
        `-a -t ${VIP}:80 -r ${RS.rs3}:80 -m -w 4\n` +
        `-A -u ${VIP}:53 -s wlc -o\n` +
        `-a -u ${VIP}:53 -r ${RS.rs2}:53 -m -w 1\n`,
    );
    expect(r.director.conns.timeouts.get()).toEqual({ tcp: 600, tcpfin: 60, udp: 30 });
    // same objects, same counters
    expect(r.director.services.get(6, 0x0a000064, 80)).toBe(svc);
    expect(svc.findDest(0xc0a80a0b, 80)).toBe(rs1);
    expect(rs1.stats.conns).toBe(rs1Conns);
    // the rs1 conn still forwards; the removed rs2's conn is dropped (expire_nodest_conn off)
    expect(serverSegment(r, RS.rs1, byRs.get(RS.rs1)!, 'SA').length).toBe(1);
    expect(clientSegment(r, byRs.get(RS.rs1)!, 'A').map((s) => s.dst)).toEqual([RS.rs1]);
    expect(clientSegment(r, byRs.get(RS.rs2)!, 'A')).toEqual([]);
    expect(r.logs.some((l) => l.msg === 'config reloaded')).toBe(true);
  });

  it('a reload of the same file changes nothing at all', async () => {
    const r = rig = await new LiveRig().start();
    const svc = r.director.services.all[0]!;
    const dests = [...svc.dests];
    const res = await r.plane.reload();
    expect(res.ok && res.summary).toBe('no change');
    expect(r.director.services.all[0]).toBe(svc);
    expect(svc.dests).toEqual(dests);
    expect(svc.dests[0]).toBe(dests[0]);
  });

  it('edits a changed service and a changed real server in place', async () => {
    const r = rig = await new LiveRig().start();
    const svc = r.director.services.all[0]!;
    const rs2 = svc.findDest(0xc0a80a0c, 80)!;
    r.writeConfig(r.text(
      `-A -t ${VIP}:80 -s wlc -p 120\n-a -t ${VIP}:80 -r ${RS.rs1}:80 -m -w 1\n-a -t ${VIP}:80 -r ${RS.rs2}:80 -m -w 0\n`,
      'option expire_nodest_conn 1\n',
    ));
    const res = await r.plane.reload();
    expect(res.ok && res.commands.map((c) => c.cmd)).toEqual(['edit-service', 'edit-server']);
    expect(r.director.services.all[0]).toBe(svc);
    expect([svc.sched.name, svc.timeout, rs2.weight]).toEqual(['wlc', 120, 0]);
    expect(svc.findDest(0xc0a80a0c, 80)).toBe(rs2);
    expect(r.director.conns.settings.expireNodestConn).toBe(true);
  });

  it('a bad file keeps the running rules and reports every error with file:line', async () => {
    const r = rig = await new LiveRig().start();
    const before = save(r);
    const text = r.text(`-A -t ${VIP}:80 -s rrr\n-a -t ${VIP}:80 -r ${RS.rs1}:80 -m\n`);
    r.writeConfig(text);
    const schedLine = text.split('\n').findIndex((l) => l.includes('-s rrr')) + 1;
    const res = await r.plane.reload();
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.errors[0]).toMatch(new RegExp(`^${r.configPath}:${schedLine}: unknown scheduler 'rrr' \\(known: `));
    expect(res.errors[1]).toBe(`${r.configPath}:${schedLine + 1}: Service not defined: -t ${VIP}:80 (a real server line must come after its service's -A line)`);
    expect(save(r)).toBe(before);
    const logged = r.logs.filter((l) => l.level === 50).map((l) => l.msg);
    expect(logged).toEqual(res.errors.map((e) => `reload failed, old config kept: ${e}`));
  });

  it('a DR real server off the director\'s networks fails the reload with its line', async () => {
    const r = rig = await new LiveRig().start();
    const before = save(r);
    const text = r.text(`${r.rules}-a -t ${VIP}:80 -r 172.31.0.5:80 -g\n`);
    r.writeConfig(text);
    const res = await r.plane.reload();
    const line = text.split('\n').findIndex((l) => l.includes('172.31.0.5')) + 1;
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.errors[0]).toMatch(new RegExp(`^${r.configPath}:${line}: real server 172\\.31\\.0\\.5 uses direct routing`));
    expect(save(r)).toBe(before);
  });

  it('refuses the whole reload when ports, VIPs or routes change: a restart is needed', async () => {
    const r = rig = await new LiveRig().start();
    const before = save(r);
    // the rule change alone would be fine; the topology change makes the whole reload wrong
    const text = TOPOLOGY.replace('addr=192.168.10.1/24', 'addr=192.168.10.1/24 addr=192.168.20.1/24')
      .replace('route default via 10.0.0.254', 'route default via 10.0.0.253') +
      `option control_socket ${r.socketPath}\nvip 10.0.0.101 on outside\n` +
      `-A -t ${VIP}:80 -s rr\n-a -t ${VIP}:80 -r ${RS.rs1}:80 -m -w 9\n`;
    r.writeConfig(text);
    const res = await r.plane.reload();
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.errors).toEqual([
        `${r.configPath}: restart needed, reload refused (nothing was changed): ` +
          "port 'inside' changed; vip 10.0.0.101 added; route 0.0.0.0/0 changed",
      ]);
    }
    expect(save(r)).toBe(before);
  });

  it('refuses option changes that need a restart, and applies mark rules live', async () => {
    const r = rig = await new LiveRig().start();
    r.writeConfig(r.text(undefined, 'option max_conns 1000\n'));
    const res = await r.plane.reload();
    expect(res.ok ? [] : res.errors).toEqual([`${r.configPath}: restart needed, reload refused (nothing was changed): option max_conns changed`]);

    r.writeConfig(r.text(`${r.rules}-A -f 7 -s rr\n-a -f 7 -r ${RS.rs3}:0 -m\n`, `mark 7 tcp ${VIP} ports 8080\n`));
    expect(r.director.services.classify(6, 0x0a000064, 8080)).toBe(0);
    const ok = await r.plane.reload();
    expect(ok.ok).toBe(true);
    expect(r.director.services.classify(6, 0x0a000064, 8080)).toBe(7);
    // packets to the marked port now find the fwmark service
    expect(r.director.services.find(6, 0x0a000064, 8080)?.fwmark).toBe(7);
  });
});

describe('reload beside the health checker', () => {
  it('reloads the checks first and leaves real servers the checker holds out as they are', async () => {
    const r = rig = await new LiveRig().start();
    const svc = r.director.services.all[0]!;
    // the checker took rs2 out (removed) earlier
    svc.removeDest(svc.findDest(0xc0a80a0c, 80)!);
    const calls: string[] = [];
    const health = {
      reload: (checks: { dest: { addr: number } }[]) => { calls.push(`reload ${checks.length} (rules: ${save(r).split('\n').length - 1} lines)`); },
      states: () => [{ service: `-t ${VIP}:80`, dest: `${RS.rs2}:80`, up: false }, { service: `-t ${VIP}:80`, dest: `${RS.rs1}:80`, up: true }],
    };
    const text = r.text(
      `-A -t ${VIP}:80 -s rr\n-a -t ${VIP}:80 -r ${RS.rs1}:80 -m -w 2\n-a -t ${VIP}:80 -r ${RS.rs2}:80 -m -w 3\n` +
        `check tcp -t ${VIP}:80 -r ${RS.rs2}:80\ncheck tcp -t ${VIP}:80 -r ${RS.rs1}:80\n`,
    );
    r.writeConfig(text);
    const res = reloadConfig(r.live, r.configPath, undefined, health);
    expect(res.ok).toBe(true);
    // checks were reloaded before any rule changed; rs2 stays out, rs1 gets its new weight
    expect(calls).toEqual(['reload 2 (rules: 2 lines)']);
    expect(save(r)).toBe(`-A -t ${VIP}:80 -s rr\n-a -t ${VIP}:80 -r ${RS.rs1}:80 -m -w 2\n`);
    expect(r.live.cfg).toBe(res.ok ? res.config : undefined);
  });
});
