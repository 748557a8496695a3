// `tapvs run --record/--record-sent` files hold other people's traffic: they
// must be readable by their owner only, whatever the umask, and also when the
// file was there before with wider permissions. And what is recorded reads
// back as the frames given, on their ports, at their instants.
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { liveRecording, Recorder } from '../../src/cli/recorder.js';
import { parseConfig } from '../../src/control/config.js';
import { startControlPlane } from '../../src/control/server.js';
import { MemoryPort } from '../../src/io/memory-port.js';
import { LiveDirector } from '../../src/runtime/live.js';
import { tcpFrame } from '../director/frames.js';
import { readCapture } from '../../src/io/pcap-file.js';

const tmp = mkdtempSync(join(tmpdir(), 'tapvs-recorder-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const modeOf = (path: string): number => statSync(path).mode & 0o777;

function withUmask<T>(mask: number, fn: () => T): T {
  const old = process.umask(mask);
  try {
    return fn();
  } finally {
    process.umask(old);
  }
}

describe('Recorder files', () => {
  for (const mask of [0o022, 0o000, 0o077]) {
    it(`are created with mode 0600 under umask ${mask.toString(8).padStart(3, '0')}`, () => {
      const received = join(tmp, `rx-${mask}.pcapng`);
      const sent = join(tmp, `tx-${mask}.pcapng`);
      const rec = withUmask(mask, () => new Recorder(['outside', 'inside'], { received, sent }));
      rec.close();
      expect([modeOf(received), modeOf(sent)]).toEqual([0o600, 0o600]);
    });
  }

  it('take mode 0600 when the file existed before, world-readable', () => {
    const received = join(tmp, 'old.pcapng');
    writeFileSync(received, 'old contents');
    chmodSync(received, 0o644);
    new Recorder(['outside'], { received }).close();
    expect(modeOf(received)).toBe(0o600);
    expect(readCapture(received).frames).toHaveLength(0);
  });

  it('keep each frame on its port, at its instant (to the microsecond), sent ones stamped with the frame being handled', () => {
    const received = join(tmp, 'rt-rx.pcapng');
    const sent = join(tmp, 'rt-tx.pcapng');
    const rec = new Recorder(['outside', 'inside'], { received, sent });
    const buf = new Uint8Array(200).map((_, i) => i);
    rec.received(1, buf, 10, 60, 1700000000123.4564);
    rec.sent(0, buf, 20, 70);
    rec.close();
    const rx = readCapture(received);
    const tx = readCapture(sent);
    expect(rx.interfaces).toEqual(['outside', 'inside']);
    expect(rx.frames.map((f) => [f.ifIndex, f.timeNs, Buffer.from(f.data).equals(Buffer.from(buf.subarray(10, 70)))])).toEqual([
      [1, 1700000000123456000n, true],
    ]);
    expect(tx.frames.map((f) => [f.ifIndex, f.timeNs, f.data.length, f.data[0]])).toEqual([[0, 1700000000123456000n, 70, 20]]);
  });
});

describe('tapvs run --decisions (with --record)', () => {
  it('logs each received frame and each rule change of a live director, beside the recording', async () => {
    const text = `port lan kind=memory mac=02:00:00:00:01:01 addr=10.1.0.2/24
vip 10.1.0.100 on lan
neigh 10.1.0.11 02:00:00:00:01:11
neigh 10.1.0.12 02:00:00:00:01:12
route default via 10.1.0.1
option control_socket ${join(tmp, 'dec', 'sock')}
-A -t 10.1.0.100:80 -s rr
-a -t 10.1.0.100:80 -r 10.1.0.11:80 -g -w 1
`;
    const parsed = parseConfig(text, 'dec.conf');
    if ('errors' in parsed) throw new Error('config');
    const decisions = join(tmp, 'dec.jsonl');
    const received = join(tmp, 'dec.in.pcapng');
    const rec = liveRecording(['lan'], { received, decisions });
    const log = pino({ level: 'silent' });
    const live = new LiveDirector(parsed.config, log, { tap: rec.tap, trace: rec.trace, open: (p) => new MemoryPort({ name: p.name, mac: p.mac, mtu: p.mtu }) });
    live.start();
    const plane = await startControlPlane(live, 'dec.conf', log, { signals: false, health: false, watch: rec.watch!(live.director) });
    const lan = live.ports[0] as MemoryPort;
    const syn = (sport: number) => tcpFrame({ smac: '02:00:00:00:01:fe', dmac: '02:00:00:00:01:01', src: '203.0.113.7', dst: '10.1.0.100', sport, dport: 80, flags: 'S' });
    try {
      lan.inject(syn(1000));
      expect((await plane.handle({ argv: ['-a', '-t', '10.1.0.100:80', '-r', '10.1.0.12:80', '-g'] })).code).toBe(0);
      lan.inject(syn(1001));
    } finally {
      await plane.stop();
      await live.stop();
    }
    const recs = readFileSync(decisions, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const kinds = recs.map((r) => `${r.type}${r.frame ? ` ${r.frame}` : ''}`);
    expect(kinds).toEqual(['timer', 'frame 1', 'control', 'frame 2']);
    expect(recs[1]).toMatchObject({ verdict: 'forwarded', conn: 'new', real_server: '10.1.0.11:80', mode: 'DR' });
    expect(recs[2]).toMatchObject({ summary: 'ipvsadm: ipvsadm -a -t 10.1.0.100:80 -r 10.1.0.12:80 -g', notes: ['-a -t 10.1.0.100:80 -r 10.1.0.12:80 -g -w 1 -x 0 -y 0'] });
    expect(recs[3]).toMatchObject({ verdict: 'forwarded', real_server: '10.1.0.12:80' });
    // the decision log is private like the recording, and the events went beside it
    expect(modeOf(decisions)).toBe(0o600);
    expect(readCapture(received).frames).toHaveLength(2);
    const ev = readFileSync(join(tmp, 'dec.events'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(ev).toMatchObject([{ source: 'ipvsadm', after_frame: 1, ipvsadm: ['-a -t 10.1.0.100:80 -r 10.1.0.12:80 -g -w 1 -x 0 -y 0'] }]);
  });
});
