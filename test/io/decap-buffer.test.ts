// The TUN decapsulation helper's raw sockets: a receive buffer raised past
// the default (SO_RCVBUFFORCE, else SO_RCVBUF), and the kernel's drops on
// them read back from /proc/net/raw, so the helper counts its own losses.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { DECAP_RCVBUF, rawSocketDrops, sizeReceiveBuffer } from '../../src/io/tun-decap.js';

describe('sizeReceiveBuffer', () => {
  it('asks for SO_RCVBUFFORCE (33) at SOL_SOCKET, 8 MiB', () => {
    const calls: number[][] = [];
    expect(sizeReceiveBuffer({ setOption: (l, o, v) => { calls.push([l, o, v]); } })).toBe('SO_RCVBUFFORCE');
    expect(calls).toEqual([[1, 33, DECAP_RCVBUF]]);
    expect(DECAP_RCVBUF).toBe(8 * 1024 * 1024);
  });

  it('falls back to SO_RCVBUF (8) without the capability, and says when neither takes', () => {
    const calls: number[] = [];
    expect(sizeReceiveBuffer({ setOption: (_l, o) => { calls.push(o); if (o === 33) throw new Error('EPERM'); } })).toBe('SO_RCVBUF');
    expect(calls).toEqual([33, 8]);
    expect(sizeReceiveBuffer({ setOption: () => { throw new Error('EBADF'); } })).toBe(null);
  });

  it('takes on a real raw IPIP socket when run as root', () => {
    const raw = createRequire(import.meta.url)('raw-socket') as { createSocket(o: { protocol: number }): { setOption(l: number, o: number, v: number): void; close(): void } };
    let s;
    try {
      s = raw.createSocket({ protocol: 4 });
    } catch {
      return; // not root: nothing to check here (the lab runs as root)
    }
    try {
      expect(sizeReceiveBuffer(s)).toBe('SO_RCVBUFFORCE');
    } finally {
      s.close();
    }
  });
});

describe('rawSocketDrops', () => {
  const proc = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
    '    4: 00000000:0004 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 51021 2 0000000000000000 18797',
    '   17: 00000000:0011 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 51022 2 0000000000000000 5',
    '    4: 0100007F:0004 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 51023 2 0000000000000000 3',
    '',
  ].join('\n');
  it('sums the drops column of the sockets of one protocol (the local port field)', () => {
    expect(rawSocketDrops(proc, 4)).toBe(18800);
    expect(rawSocketDrops(proc, 17)).toBe(5);
    expect(rawSocketDrops(proc, 41)).toBe(0);
    expect(rawSocketDrops('', 4)).toBe(0);
  });
});
