// Large control operations through a running director: a -R text too large
// to parse on the forwarding thread is parsed by the worker and applied in
// slices, all or nothing; reloads and requests queue one at a time; a
// command a health check made obsolete between two slices is left out and
// said, not thrown.
import { afterEach, describe, expect, it } from 'vitest';
import { applySteps, checkSteps } from '../../src/control/batch-apply.js';
import { sendControlRequest } from '../../src/control/control-socket.js';
import { parseIpv4, parseIpvsadmArgs, type IpvsadmCommand } from '../../src/control/ipvsadm-args.js';
import { execIpvsadm } from '../../src/control/ipvsadm-exec.js';
import { diffSteps } from '../../src/control/reload.js';
import { parseConfig } from '../../src/control/config.js';
import { drain } from '../../src/control/slices.js';
import { Director } from '../../src/director/director.js';
import { LiveRig, RS, RULES, VIP } from './server-rig.js';

let rig: LiveRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

const save = (r: LiveRig) => execIpvsadm(r.live, ['-S', '-n'], undefined, 0).stdout;
const cmd = (l: string): IpvsadmCommand => {
  const p = parseIpvsadmArgs(l.split(' '));
  if (!p.ok) throw new Error(p.error);
  return p.command;
};

/** `n` services on the VIP's ports 1000.., each with rs1 (and rs2 every other one). */
function rules(n: number): string {
  const l: string[] = [];
  for (let i = 0; i < n; i++) {
    l.push(`-A -t ${VIP}:${1000 + i} -s wlc`, `-a -t ${VIP}:${1000 + i} -r ${RS.rs1}:80 -m -w 2`);
    if (i % 2) l.push(`-a -t ${VIP}:${1000 + i} -r ${RS.rs2}:80 -m`);
  }
  return l.join('\n') + '\n';
}

describe('large batches', () => {
  it('a -R of thousands of lines (parsed in the worker) is applied whole', async () => {
    rig = await new LiveRig().start();
    const text = rules(3000);
    expect(text.length).toBeGreaterThan(64 << 10);
    const r = await sendControlRequest(rig.socketPath, { argv: ['-R'], stdin: text });
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(rig.director.services.all).toHaveLength(3001);
    const svc = rig.director.services.get(6, parseIpv4(VIP)!, 1999)!;
    expect(svc.dests.map((d) => d.weight).sort()).toEqual([1, 2]);
    const logged = rig.logs.find((l) => l.msg === 'ipvsadm: rules changed');
    expect(logged?.lines).toBe(3000 * 2 + 1500);
  });

  it('one bad line deep in a large -R changes nothing and is named by its line', async () => {
    rig = await new LiveRig().start();
    const before = save(rig);
    const lines = rules(3000).split('\n');
    const dup = [...lines];
    dup.splice(7000, 0, `-a -t ${VIP}:1000 -r ${RS.rs1}:80 -m`); // line 7001: added on line 2 already
    const r = await sendControlRequest(rig.socketPath, { argv: ['-R'], stdin: dup.join('\n') });
    expect(r.code).toBe(255);
    expect(r.stderr).toBe('line 7001: Destination already exists\nno rule was changed\n');
    const bad = [...lines];
    bad.splice(7000, 0, '-a -t nonsense');
    const r2 = await sendControlRequest(rig.socketPath, { argv: ['-R'], stdin: bad.join('\n') });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/^line 7001: .*\nno rule was changed\n$/);
    expect(save(rig)).toBe(before);
  });

  it('a -R that a reload is asked for during runs to its end first: the reload sees its result', async () => {
    rig = await new LiveRig().start();
    const big = sendControlRequest(rig.socketPath, { argv: ['-R'], stdin: rules(20000) });
    // once its slices have begun to change the table
    while (rig.director.services.all.length === 1) await new Promise((r) => setImmediate(r));
    // the file still has only RULES: the reload takes away what -R added, after -R
    const reload = rig.plane.reload();
    expect((await big).code).toBe(0);
    const res = await reload;
    expect(res.ok).toBe(true);
    if (res.ok) expect(res.summary).toBe('20000 delete-service');
    expect(rig.director.services.all).toHaveLength(1);
  });

  it('two reloads asked for while a third waits to start are one', async () => {
    rig = await new LiveRig().start();
    const a = rig.plane.handle({ argv: ['-L', '-n'] });
    const b = rig.plane.reload();
    const c = rig.plane.reload();
    expect(c).toBe(b);
    await a;
    expect((await b).ok).toBe(true);
  });

  it('the comparison of a reload is done in steps: at least one per service', () => {
    const parsed = parseConfig(`port a kind=memory mac=02:00:00:00:00:01 addr=10.0.0.1/24\nvip ${VIP} on a\n${rules(50).replaceAll(RS.rs1, '10.0.0.11').replaceAll(RS.rs2, '10.0.0.12')}`, 'x');
    if ('errors' in parsed) throw new Error(parsed.errors[0]!.message);
    const empty = parseConfig('port a kind=memory mac=02:00:00:00:00:01 addr=10.0.0.1/24', 'y');
    if ('errors' in empty) throw new Error('fixture');
    let steps = 0;
    const g = diffSteps(new Director(empty.config, { send() {} }), parsed.config, new Set());
    for (let r = g.next(); !r.done; r = g.next()) steps++;
    expect(steps).toBeGreaterThanOrEqual(50);
  });

  it('a command a health check made obsolete between two slices is left out and reported; the rest applies', async () => {
    rig = await new LiveRig(RULES).start();
    const d = rig.director;
    const cmds = [
      `-e -t ${VIP}:80 -r ${RS.rs1}:80 -m -w 5`,
      `-e -t ${VIP}:80 -r ${RS.rs2}:80 -m -w 6`,
      `-A -t ${VIP}:81 -s rr`,
    ].map(cmd);
    expect(await drain(checkSteps(d, rig.live.cfg, [cmds]))).toEqual([]);
    const steps = applySteps(d, [cmds], 0); // a slice per command
    steps.next(); // the chunk is taken
    steps.next(); // the first command is applied
    // a health check takes rs2 out before its turn
    const svc = d.services.get(6, parseIpv4(VIP)!, 80)!;
    d.mutate.removeDest(svc.findDest(parseIpv4(RS.rs2)!, 80)!);
    let r = steps.next();
    while (!r.done) r = steps.next();
    expect(r.value.skipped).toEqual([{ index: 1, message: 'No such destination' }]);
    expect(svc.dests.map((x) => x.weight)).toEqual([5]);
    expect(d.services.get(6, parseIpv4(VIP)!, 81)).toBeDefined();
  });
});
