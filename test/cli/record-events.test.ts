// A live director (memory ports, its real control plane and health checker)
// recorded with --record's Recorder while its rules change every way they
// can: ipvsadm over the control plane, a reload of the config file, a health
// check going down and up again. Replaying the recorded input with the
// recorded .events must send exactly the frames the live director sent; the
// same replay without the events must not (so the events are what makes it
// right, not luck).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Recorder } from '../../src/cli/recorder.js';
import { parseConfig } from '../../src/control/config.js';
import { parseEvents } from '../../src/control/rule-log.js';
import { startControlPlane } from '../../src/control/server.js';
import { MemoryPort } from '../../src/io/memory-port.js';
import { readCapture } from '../../src/io/pcap-file.js';
import { LiveDirector } from '../../src/runtime/live.js';
import { tcpFrame } from '../director/frames.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'tapvs.js');
const dir = mkdtempSync(join(tmpdir(), 'tapvs-recev-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const M = { lan: '02:00:00:00:01:01', router: '02:00:00:00:01:fe', rs1: '02:00:00:00:01:11', rs2: '02:00:00:00:01:12', rs3: '02:00:00:00:01:13' };
const UP = join(dir, 'rs1-up');

function config(rs1Weight: number, withRs3: boolean): string {
  return `port lan kind=memory mac=${M.lan} addr=10.1.0.2/24
vip 10.1.0.100 on lan
route default via 10.1.0.1
neigh 10.1.0.1 ${M.router}
neigh 10.1.0.11 ${M.rs1}
neigh 10.1.0.12 ${M.rs2}
neigh 10.1.0.13 ${M.rs3}
option control_socket ${join(dir, 'run', 'tapvs.sock')}
-A -t 10.1.0.100:80 -s rr
-a -t 10.1.0.100:80 -r 10.1.0.12:80 -g -w 1
-a -t 10.1.0.100:80 -r 10.1.0.11:80 -g -w ${rs1Weight}
${withRs3 ? '-a -t 10.1.0.100:80 -r 10.1.0.13:80 -g -w 1\n' : ''}check misc -t 10.1.0.100:80 -r 10.1.0.11:80 command="test -f ${UP}" interval=100ms timeout=100ms
`;
}

const frames = (path: string): string[] => {
  const c = readCapture(path);
  return c.frames.map((f) => `${c.interfaces[f.ifIndex]} ${Buffer.from(f.data).toString('hex')}`);
};
/** Where each SYN sent on went: the real server MAC, by the frame's destination MAC. */
const macOf: Record<string, string> = { [M.rs1.replaceAll(':', '')]: 'rs1', [M.rs2.replaceAll(':', '')]: 'rs2', [M.rs3.replaceAll(':', '')]: 'rs3' };

async function until(what: string, f: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('tapvs run --record with rule changes, replayed', () => {
  it('replays to the frames the live director sent, byte for byte, only with the recorded events', async () => {
    const conf = join(dir, 'tapvs.conf');
    writeFileSync(conf, config(1, false));
    writeFileSync(UP, '');
    const parsed = parseConfig(config(1, false), conf);
    if ('errors' in parsed) throw new Error(JSON.stringify(parsed.errors));
    const received = join(dir, 'case.in.pcapng');
    const sentPath = join(dir, 'sent.pcapng');
    const rec = new Recorder(['lan'], { received, sent: sentPath, events: join(dir, 'case.events') });
    const log = pino({ level: 'silent' });
    const live = new LiveDirector(parsed.config, log, { tap: rec, open: (p) => new MemoryPort({ name: p.name, mac: p.mac, mtu: p.mtu }) });
    live.start();
    const plane = await startControlPlane(live, conf, log, { signals: false, watch: rec.watch(live.director) });
    const lan = live.ports[0] as MemoryPort;
    let n = 0;
    const syn = (client: string, sport: number): string => {
      const before = lan.sent.length;
      lan.inject(tcpFrame({ smac: M.router, dmac: M.lan, src: client, dst: '10.1.0.100', sport, dport: 80, flags: 'S', seq: 1, id: ++n }));
      const out = lan.sent.slice(before).find((f) => f[12] === 8);
      return out ? macOf[Buffer.from(out.subarray(0, 6)).toString('hex')]! : 'none';
    };
    const ack = (sport: number): number => {
      const before = lan.sent.length;
      lan.inject(tcpFrame({ smac: M.router, dmac: M.lan, src: '203.0.113.7', dst: '10.1.0.100', sport, dport: 80, flags: 'A', seq: 2, ack: 2, id: ++n }));
      return lan.sent.length - before;
    };
    const dests = (): string[] => live.director.services.all[0]!.dests.map((d) => `${d.addr >>> 24 === 10 ? d.addr & 255 : d.addr}:${d.weight}`);
    try {
      await until('the first health verdict', () => live.director.services.all[0]!.dests.length === 2);
      await new Promise((r) => setTimeout(r, 150));
      expect(syn('203.0.113.7', 1000)).toBe('rs1'); // rs1 added last heads the list
      expect(syn('203.0.113.8', 1000)).toBe('rs2');
      // ipvsadm over the control plane: drain rs1; its connection goes on, new ones go to rs2
      expect((await plane.handle({ argv: ['-e', '-t', '10.1.0.100:80', '-r', '10.1.0.11:80', '-g', '-w', '0'] })).code).toBe(0);
      expect(syn('203.0.113.9', 1000)).toBe('rs2');
      expect(ack(1000)).toBe(1);
      // a reload: rs1 weight 2 again and a third server
      writeFileSync(conf, config(2, true));
      const r = await plane.reload();
      expect(r.ok).toBe(true);
      expect(dests()).toEqual(['13:1', '11:2', '12:1']);
      const afterReload = [syn('198.51.100.1', 1), syn('198.51.100.2', 2), syn('198.51.100.3', 3)];
      expect(afterReload.sort()).toEqual(['rs1', 'rs2', 'rs3']);
      // the health check of rs1 fails: removed; its connection's packets are dropped, new ones elsewhere
      unlinkSync(UP);
      await until('rs1 taken out by its check', () => !dests().some((d) => d.startsWith('11:')));
      expect(ack(1000)).toBe(0);
      expect(['rs2', 'rs3']).toContain(syn('198.51.100.4', 4));
      writeFileSync(UP, '');
      await until('rs1 put back', () => dests().some((d) => d.startsWith('11:')));
      syn('198.51.100.5', 5);
      syn('198.51.100.6', 6);
    } finally {
      await plane.stop();
      await live.stop();
    }

    const events = parseEvents(readFileSync(join(dir, 'case.events'), 'utf8'), 'case.events').map((e) => e.event);
    expect(events.map((e) => e.source)).toEqual(['ipvsadm', 'reload', 'health', 'health']);
    expect(events[0]!.ipvsadm).toEqual(['-e -t 10.1.0.100:80 -r 10.1.0.11:80 -g -w 0 -x 0 -y 0']);
    expect(events[0]!.after_frame).toBe(2);
    expect(events[1]!.ipvsadm).toEqual(['-e -t 10.1.0.100:80 -r 10.1.0.11:80 -g -w 2 -x 0 -y 0', '-a -t 10.1.0.100:80 -r 10.1.0.13:80 -g -w 1 -x 0 -y 0']);
    expect(events[2]!.ipvsadm).toEqual(['-d -t 10.1.0.100:80 -r 10.1.0.11:80']);
    expect(events[2]!.summary).toMatch(/misc check of 10\.1\.0\.11:80 \(-t 10\.1\.0\.100:80\) down/);
    expect(events[3]!.ipvsadm).toEqual(['-a -t 10.1.0.100:80 -r 10.1.0.11:80 -g -w 2 -x 0 -y 0']);

    // the replay starts from the config as it was started (the file has been reloaded since),
    // and picks up case.events beside case.in.pcapng by itself
    const start = join(dir, 'start.conf');
    writeFileSync(start, config(1, false));
    const out = join(dir, 'replayed.pcapng');
    const r1 = spawnSync(process.execPath, [BIN, 'replay', '--config', start, '--in', received, '--out', out], { encoding: 'utf8' });
    expect(r1.status, r1.stderr).toBe(0);
    expect(r1.stderr).toContain(`4 control events applied from ${join(dir, 'case.events')}`);
    const live1 = frames(sentPath);
    expect(live1.length).toBeGreaterThan(10);
    expect(frames(out)).toEqual(live1);
    // without the events the same replay goes wrong
    const noEv = join(dir, 'no-events.pcapng');
    const r2 = spawnSync(process.execPath, [BIN, 'replay', '--config', start, '--in', received, '--out', noEv, '--no-events'], { encoding: 'utf8' });
    expect(r2.status).toBe(0);
    expect(frames(noEv)).not.toEqual(live1);
    expect(existsSync(out)).toBe(true);
  });
});
