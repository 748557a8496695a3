// `tapvs run --record/--record-sent` files hold other people's traffic: they
// must be readable by their owner only, whatever the umask, and also when the
// file was there before with wider permissions. And what is recorded reads
// back as the frames given, on their ports, at their instants.
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Recorder } from '../../src/cli/recorder.js';
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
