// The writer thread on real TAPs: a saturating burst of writes is handed off
// and arrives whole and in order, the port's counters include what the worker
// wrote or failed to write, and an idle port goes back to writing inline.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { openTap, type TapPort } from '../../src/io/tap.js';
import { IDLE_PERIOD_MS, MachineIdle } from '../../src/io/machine-idle.js';
import { TxThread } from '../../src/io/tx-thread.js';
import { QUIET_MS, type IdleSource } from '../../src/io/tx-policy.js';
import { ipv4, udpFrame } from '../netns-helpers/frames.js';
import { addNetns, delNetns, run, uniqueName } from '../netns-helpers/ns.js';

const FRAMES = 20_000;
const PORT = 9099;

// counts the datagrams and checks their sequence numbers only ever rise
const RECEIVER = `
import socket, struct, sys, json
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 32 << 20)  # SO_RCVBUFFORCE
s.bind(('0.0.0.0', ${PORT}))
print('ready', flush=True)
s.settimeout(5.0)
n, last, ordered = 0, -1, True
try:
    while True:
        b = s.recv(64)
        seq = struct.unpack('!I', b[:4])[0]
        if seq <= last: ordered = False
        last = seq
        n += 1
        s.settimeout(1.0)
except socket.timeout:
    pass
print(json.dumps({'n': n, 'ordered': ordered, 'last': last}), flush=True)
`;

function receiver(ns: string): { ready: Promise<void>; result: Promise<{ n: number; ordered: boolean; last: number }> } {
  const child = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', RECEIVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ready')) onReady();
  });
  // killed before it printed (the test failed first): n -1
  const result = new Promise<{ n: number; ordered: boolean; last: number }>((resolve) => {
    child.on('exit', () => {
      const line = out.trim().split('\n').pop() ?? '';
      try { resolve(JSON.parse(line)); } catch { resolve({ n: -1, ordered: false, last: -1 }); }
    });
  });
  return { ready, result };
}

async function kernelMac(ns: string, device: string): Promise<number> {
  const j = JSON.parse((await run('ip', ['-n', ns, '-j', 'link', 'show', 'dev', device])).stdout) as { address: string }[];
  return Number.parseInt(j[0]!.address.replaceAll(':', ''), 16);
}

/** A machine that always has (or never has) a core to spare. */
const fixedIdle = (share: number): IdleSource => ({ share: () => share, restart: () => undefined, close: () => undefined });

describe('writer thread (TAP writes handed off while the thread is saturated)', () => {
  const namespaces: string[] = [];
  const ports: TapPort[] = [];
  const writers: TxThread[] = [];
  afterAll(async () => {
    for (const p of ports) await p.close();
    for (const w of writers) await w.stop();
    delNetns(...namespaces);
  });

  it('hands off a saturating burst, delivers every frame in order, counts them on the port, and goes back inline when idle', async () => {
    const ns = uniqueName('w');
    namespaces.push(ns);
    addNetns(ns);
    const writer = new TxThread({ idle: fixedIdle(0.5) });
    writers.push(writer);
    const device = `tv${process.pid % 100000}x`;
    const port = openTap({ name: 'x', device, netns: ns, addrs: ['10.78.0.2/24'], writer });
    ports.push(port);
    const rx = receiver(ns);
    await rx.ready;
    const dmac = await kernelMac(ns, device);
    const frame = udpFrame({ dmac, smac: 0x020000780001, src: ipv4('10.78.0.1'), dst: ipv4('10.78.0.2'), sport: 4000, dport: PORT, payload: new Uint8Array(18) });
    const seqAt = frame.length - 18;
    const udpSumAt = seqAt - 2;
    frame[udpSumAt] = 0; // no UDP checksum: the sequence number can change without one
    frame[udpSumAt + 1] = 0;

    // one synchronous loop of writes: the thread does nothing else
    for (let i = 0; i < FRAMES; i++) {
      new DataView(frame.buffer).setUint32(seqAt, i);
      port.send(frame, 0, frame.length);
    }
    expect(writer.active).toBe(true);
    expect(writer.counters.handOffs).toBeGreaterThanOrEqual(1);
    expect(writer.counters.handed).toBeGreaterThan(FRAMES / 2);
    expect(writer.counters.ringFull).toBe(0);
    expect(await writer.drain()).toBe(true);
    expect(port.counters.txFrames).toBe(FRAMES);
    expect(port.counters.txErrors).toBe(0);

    // idle: the first write decides over a window in which the worker was still draining the
    // burst, so it may still be handed off; once the worker has been quiet for QUIET_MS, inline
    await new Promise((r) => setTimeout(r, QUIET_MS + 10));
    new DataView(frame.buffer).setUint32(seqAt, FRAMES);
    port.send(frame, 0, frame.length);
    await new Promise((r) => setTimeout(r, QUIET_MS + 10));
    const handed = writer.counters.handed;
    new DataView(frame.buffer).setUint32(seqAt, FRAMES + 1);
    port.send(frame, 0, frame.length);
    expect(writer.active).toBe(false);
    expect(writer.counters.handed).toBe(handed);
    expect(await writer.drain()).toBe(true);
    expect(port.counters.txFrames).toBe(FRAMES + 2);

    // the kernel took every write; the namespace's stack got them in the order sent
    const rxPackets = Number((await run('cat', [`/sys/class/net/${device}/statistics/rx_packets`], ns)).stdout.trim());
    expect(rxPackets).toBe(FRAMES + 2);
    const got = await rx.result;
    expect(got.ordered).toBe(true);
    expect(got.last).toBe(FRAMES + 1);
    expect(got.n).toBeGreaterThan(FRAMES * 0.9);
  });

  /** A writer and a TAP whose link is down (every write fails with EIO, inline or on the worker), after a burst of `len`-byte frames. */
  function downBurst(suffix: string, idle: number, len: number): { writer: TxThread; port: TapPort; device: string } {
    const writer = new TxThread({ idle: fixedIdle(idle) });
    writers.push(writer);
    const device = `tv${process.pid % 100000}${suffix}`;
    const port = openTap({ name: suffix, device, up: false, mtu: 9000, writer });
    ports.push(port);
    const frame = new Uint8Array(len);
    for (let i = 0; i < FRAMES; i++) port.send(frame, 0, frame.length);
    return { writer, port, device };
  }

  it("counts the worker's failed writes as the port's transmit errors", async () => {
    const { writer, port, device } = downBurst('y', 0.5, 60);
    expect(writer.counters.handed).toBeGreaterThan(0);
    expect(await writer.drain()).toBe(true);
    expect(port.counters.txErrors).toBe(FRAMES);
    expect(port.counters.txFrames).toBe(0);
    await port.close();
    expect(readFileSync('/proc/net/dev', 'utf8')).not.toContain(`${device}:`);
  });

  it('keeps writing inline when the machine has no idle CPU to give the worker', () => {
    const { writer, port } = downBurst('z', 0.01, 60);
    expect(writer.counters.handOffs).toBe(0);
    expect(writer.counters.handed).toBe(0);
    expect(port.counters.txErrors).toBe(FRAMES);
  });

  it('does not start handing off for large frames, which it would write inline anyway', () => {
    const { writer, port } = downBurst('b', 0.5, 4000);
    expect(writer.counters.handOffs).toBe(0);
    expect(port.counters.txErrors).toBe(FRAMES);
  });

  it('writes a super-frame inline while the ring is empty, and behind the ring while it is not', async () => {
    const ns = uniqueName('s');
    namespaces.push(ns);
    addNetns(ns);
    const writer = new TxThread({ idle: fixedIdle(0.5) });
    writers.push(writer);
    const device = `tv${process.pid % 100000}s`;
    const port = openTap({ name: 's', device, netns: ns, addrs: ['10.79.0.2/24'], mtu: 9000, offload: 'none', writer });
    ports.push(port);
    const dmac = await kernelMac(ns, device);
    const small = udpFrame({ dmac, smac: 0x020000790001, src: ipv4('10.79.0.1'), dst: ipv4('10.79.0.2'), sport: 4000, dport: PORT, payload: new Uint8Array(18) });
    const big = udpFrame({ dmac, smac: 0x020000790001, src: ipv4('10.79.0.1'), dst: ipv4('10.79.0.2'), sport: 4000, dport: PORT, payload: new Uint8Array(4000) });
    for (let i = 0; i < FRAMES; i++) port.send(small, 0, small.length);
    expect(writer.active).toBe(true);
    // the ring still holds small frames: the big one queues behind them
    const before = writer.counters.handed;
    port.send(big, 0, big.length);
    expect(writer.counters.handed).toBe(before + 1);
    expect(await writer.drain()).toBe(true);
    // drained, still handing off: big frames now go straight out, small ones to the worker
    port.send(big, 0, big.length);
    expect(writer.counters.handed).toBe(before + 1);
    expect(await writer.drain()).toBe(true);
    expect(port.counters.txFrames).toBe(FRAMES + 2);
  });
});

describe('machine idle share (/proc/stat)', () => {
  it('gives the idle + iowait share of the ticks between two samples, none before a period is complete', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const dir = mkdtempSync('/tmp/tapvs-idle-');
    const file = `${dir}/stat`;
    const line = (user: number, idle: number, iowait: number) => `cpu  ${user} 0 100 ${idle} ${iowait} 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n`;
    writeFileSync(file, line(1000, 5000, 0));
    const m = new MachineIdle(file);
    expect(m.share(0)).toBe(-1); // the first ask starts a period
    writeFileSync(file, line(1300, 5080, 20));
    expect(m.share(IDLE_PERIOD_MS - 1)).toBe(-1); // under IDLE_PERIOD_MS: still none
    expect(m.share(IDLE_PERIOD_MS + 5)).toBeCloseTo(100 / 400, 6);
    writeFileSync(file, line(1300, 5180, 20));
    expect(m.share(2 * IDLE_PERIOD_MS + 10)).toBeCloseTo(1, 6);
    m.restart(2 * IDLE_PERIOD_MS + 20);
    expect(m.share(2 * IDLE_PERIOD_MS + 21)).toBe(-1);
    writeFileSync(file, line(1400, 5180, 20));
    expect(m.share(20 * IDLE_PERIOD_MS)).toBe(-1); // nobody asked for too long: stale, a new period
    m.close();
    expect(new MachineIdle(`${dir}/missing`).share(0)).toBe(1);
  });

  it('reads the real /proc/stat', async () => {
    const m = new MachineIdle();
    m.share(0);
    await new Promise((r) => setTimeout(r, IDLE_PERIOD_MS + 50)); // 15+ clock ticks per CPU
    const s = m.share(IDLE_PERIOD_MS + 50);
    expect(s).toBeGreaterThanOrEqual(0);
    expect(s).toBeLessThanOrEqual(1);
    m.close();
  });
});
