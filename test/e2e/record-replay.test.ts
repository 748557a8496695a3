/**
 * A live session replays to the same bytes: tapvs runs in a lab with
 * `--record` (every frame it receives, per port) and `--record-sent` (every
 * frame it sends); real clients use the VIP; then `tapvs replay` runs the
 * recorded input through the same config, and what it sends must be, frame
 * for frame and byte for byte, what the live director sent. This is what
 * makes a recorded session a regression test.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/io/pcap-file.js';
import { E2eLab, fileSha256, parseConns, patternSha256, REPO, sizeOf, stillRunning, waitFor, type Mode } from './lab.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { parseEvents } from '../../src/control/rule-log.js';

function frames(path: string): string[] {
  return readCapture(path).frames.map((f) => `${f.ifIndex} ${Buffer.from(f.data).toString('hex')}`);
}

function recordReplay(mode: Mode, tag: string): void {
  describe(`record a live ${mode} session, replay it`, () => {
    const lab = new E2eLab(`tve${process.pid % 1000}${tag}`, mode);
    let pids: number[] = [];

    beforeAll(async () => {
      await lab.up({ sched: 'rr', tapvsArgs: ['--record', '$LAB_DIR/in.pcapng', '--record-sent', '$LAB_DIR/sent.pcapng'] });
    });

    afterAll(async () => {
      pids = lab.recordedPids();
      await lab.down();
      expect(await lab.namespaces()).toEqual([]);
      expect(stillRunning(pids)).toEqual([]);
    });

    it('the replayed output equals what the live director sent', async () => {
      const answers: string[] = [];
      for (let i = 0; i < 4; i++) answers.push(await lab.whoAnswers());
      expect(answers).toEqual(['rs2', 'rs1', 'rs2', 'rs1']);
      const udp = await lab.client('bash', ['-c', `printf hi | socat -t1 - UDP:${lab.vip}:7`]);
      expect(udp.stdout).toBe('rs2:hi');

      // stop the director so both recordings are complete
      const pid = Number(readFileSync(join(lab.dir, 'tapvs.pid'), 'utf8'));
      process.kill(pid, 'SIGTERM');
      await waitFor(async () => stillRunning([pid]).length === 0, 10_000);

      const out = join(lab.dir, 'replayed.pcapng');
      execFileSync('node', ['bin/tapvs.js', 'replay', '--config', join(lab.dir, 'tapvs.conf'), '--in', join(lab.dir, 'in.pcapng'), '--out', out], { cwd: REPO });
      const live = frames(join(lab.dir, 'sent.pcapng'));
      const replayed = frames(out);
      // a real session: 4 HTTP exchanges and a datagram crossed the director
      expect(live.length).toBeGreaterThan(20);
      expect(replayed).toEqual(live);
    });
  });
}

recordReplay('nat', 'rn');
recordReplay('tun', 'rt');

// A live NAT session with a control event in it: rs2 (rr's first pick) is drained while it serves a slow
// transfer; the transfer completes, new requests go to rs1. The recording (frames and case.events) is a
// regression case: `tapvs test` on it passes, the replay sends the live frames byte for byte, and it does
// so because of the recorded event (the same replay without it differs).
describe('record a live NAT session with a drain during a transfer, replay it', () => {
  const lab = new E2eLab(`tve${process.pid % 1000}rd`, 'nat');
  let pids: number[] = [];

  beforeAll(async () => {
    await lab.up({ sched: 'rr', tapvsArgs: ['--record', '$LAB_DIR/case.in.pcapng', '--record-sent', '$LAB_DIR/sent.pcapng'] });
  });

  afterAll(async () => {
    pids = lab.recordedPids();
    await lab.down();
    expect(await lab.namespaces()).toEqual([]);
    expect(stillRunning(pids)).toEqual([]);
  });

  it('replays byte-identically with its recorded event, and is a passing tapvs test case', async () => {
    const rs2 = lab.rsAddrs[1]!;
    const n = 1_200_000;
    const port = 40_021;
    const file = join(lab.dir, 'slow.bin');
    const slow = lab.spawnIn(lab.clientNs, 'python3', [join(REPO, 'test/e2e/slow-get.py'), lab.vip, '80', `/bytes/${n}`, String(port), file, '250000']);
    let dest = '';
    await waitFor(async () => {
      dest = parseConns((await lab.ipvsadm('-Lnc')).stdout).find((e) => e.source === `${lab.env.LAB_CLIENT_ADDR}:${port}`)?.destination ?? '';
      return dest !== '';
    }, 5_000);
    expect(dest).toBe(`${rs2}:80`); // rs2 was added last: rr's first
    await waitFor(async () => sizeOf(file) > 100_000, 5_000);
    const drain = await lab.ipvsadm('-e', '-t', `${lab.vip}:80`, '-r', `${rs2}:80`, '-m', '-w', '0');
    expect(drain.code, drain.stderr).toBe(0);
    expect(slow.child.exitCode).toBeNull(); // drained in the middle of it
    expect(sizeOf(file)).toBeLessThan(n);
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) seen.push(await lab.whoAnswers());
    expect(seen).toEqual(['rs1', 'rs1', 'rs1']);
    expect(await slow.exited, slow.stderr()).toBe(0);
    expect(fileSha256(file)).toEqual({ sha: patternSha256(n), size: n });

    const pid = Number(readFileSync(join(lab.dir, 'tapvs.pid'), 'utf8'));
    process.kill(pid, 'SIGTERM');
    await waitFor(async () => stillRunning([pid]).length === 0, 10_000);

    const events = parseEvents(readFileSync(join(lab.dir, 'case.events'), 'utf8'), 'case.events').map((e) => e.event);
    const drains = events.filter((e) => e.source === 'ipvsadm');
    expect(drains.map((e) => e.ipvsadm)).toEqual([[`-e -t ${lab.vip}:80 -r ${rs2}:80 -m -w 0 -x 0 -y 0`]]);
    expect(drains[0]!.after_frame).toBeGreaterThan(50);

    const conf = join(lab.dir, 'tapvs.conf');
    const input = join(lab.dir, 'case.in.pcapng');
    const out = join(lab.dir, 'replayed.pcapng');
    execFileSync('node', ['bin/tapvs.js', 'replay', '--config', conf, '--in', input, '--out', out], { cwd: REPO });
    const live = frames(join(lab.dir, 'sent.pcapng'));
    // the transfer crossed the director: its bytes went out (in super-frames with offload, so count bytes, not frames)
    const sentBytes = live.reduce((sum, f) => sum + (f.length - f.indexOf(' ') - 1) / 2, 0);
    expect(sentBytes).toBeGreaterThan(n);
    expect(frames(out)).toEqual(live);
    const noEvents = join(lab.dir, 'replayed-no-events.pcapng');
    execFileSync('node', ['bin/tapvs.js', 'replay', '--config', conf, '--in', input, '--out', noEvents, '--no-events'], { cwd: REPO });
    expect(frames(noEvents)).not.toEqual(live);

    // the recording as a case: case.conf, case.in.pcapng, case.events, case.expected.pcapng
    execFileSync('cp', [conf, join(lab.dir, 'case.conf')]);
    execFileSync('cp', [join(lab.dir, 'sent.pcapng'), join(lab.dir, 'case.expected.pcapng')]);
    const t = spawnSync('node', ['bin/tapvs.js', 'test', lab.dir, '-k', 'case'], { cwd: REPO, encoding: 'utf8' });
    expect(t.stdout).toMatch(/^ok {3}case \(\d+ frames in, \d+ out, \d+ control events\)\n1 passed, 0 failed\n$/);
    expect(t.status).toBe(0);
  });
});
