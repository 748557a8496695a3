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
import { E2eLab, REPO, stillRunning, waitFor, type Mode } from './lab.js';
import { execFileSync } from 'node:child_process';

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
