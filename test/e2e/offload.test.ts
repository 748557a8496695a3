/**
 * TAP offload (on by default; `port ... offload=none` turns it off) end to end
 * in the NAT lab: the kernel hands tapvs TCP super-frames and takes them back
 * whole. Checked: the same results as without offload (rr order, a
 * byte-identical 10 MB download, iperf3), and that super-frames really crossed
 * tapvs, read from the TAP netdevs' own counters (one count per frame,
 * whatever its size). A second lab turns offload off on the real servers' side
 * (`offload=none` on the inside port), so uploads are cut into segments in
 * software on the way to the real servers.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSha256, patternSha256, stillRunning } from './lab.js';
import { OffloadLab, avg, iperf, type TapStats } from './offload-lab.js';

describe('e2e NAT with offload as it is by default (no offload= key) on both TAP ports', () => {
  const ol = new OffloadLab(`tvo${process.pid % 1000}b`, 'nat', {});
  const lab = ol.lab;

  beforeAll(async () => {
    await ol.up();
  });

  afterAll(async () => {
    const pids = await ol.down();
    expect(await lab.namespaces()).toEqual([]);
    expect(stillRunning(pids)).toEqual([]);
  });

  it('the config sets no offload key, and tapvs logs both ports with offload on', async () => {
    const ports = (await ol.conf()).split('\n').filter((l) => l.startsWith('port '));
    expect(ports).toHaveLength(2);
    expect(ports.filter((l) => l.includes('offload='))).toEqual([]);
    const opened = (await ol.log()).split('\n').filter((l) => l.includes('"port open"'));
    expect(opened.map((l) => (JSON.parse(l) as { offload?: string }).offload)).toEqual(['tso', 'tso']);
  });

  it('HTTP through the VIP alternates over the real servers in rr order, as without offload', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await lab.whoAnswers());
    expect(seen).toEqual(['rs2', 'rs1', 'rs2', 'rs1', 'rs2', 'rs1']);
  });

  it('a 10 MB download arrives byte-identical, carried in super-frames both into and out of tapvs', async () => {
    const n = 10 * 1024 * 1024;
    const file = join(lab.dir, 'bytes-10m.bin');
    const in0 = await ol.tapStats('INSIDE');
    const out0 = await ol.tapStats('OUTSIDE');
    const r = await lab.client('curl', ['-s', '--max-time', '40', '-o', file, '-w', '%{http_code}', `http://${lab.vip}/bytes/${n}`], 45_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('200');
    const got = fileSha256(file);
    expect(got.size).toBe(n);
    expect(got.sha).toBe(patternSha256(n));
    const in1 = await ol.tapStats('INSIDE');
    const out1 = await ol.tapStats('OUTSIDE');
    // without offload every frame is at most 1514 bytes; 10 MB in super-frames averages far above that
    const fromServers = avg(in1.txBytes - in0.txBytes, in1.txPackets - in0.txPackets);
    const toClient = avg(out1.rxBytes - out0.rxBytes, out1.rxPackets - out0.rxPackets);
    expect(fromServers).toBeGreaterThan(4 * 1514);
    expect(toClient).toBeGreaterThan(4 * 1514);
    expect(out1.rxBytes - out0.rxBytes).toBeGreaterThan(n);
  });

  it('a 3 s iperf3 TCP upload completes through super-frames, with no checksum errors at the real servers', async () => {
    const out0: TapStats = await ol.tapStats('OUTSIDE');
    const in0: TapStats = await ol.tapStats('INSIDE');
    const errs0 = await ol.allCsumErrors();
    const r = await iperf(lab, 3);
    expect(r.bytes).toBeGreaterThan(0);
    const out1 = await ol.tapStats('OUTSIDE');
    const in1 = await ol.tapStats('INSIDE');
    expect(avg(out1.txBytes - out0.txBytes, out1.txPackets - out0.txPackets)).toBeGreaterThan(4 * 1514);
    expect(avg(in1.rxBytes - in0.rxBytes, in1.rxPackets - in0.rxPackets)).toBeGreaterThan(4 * 1514);
    expect(await ol.allCsumErrors()).toBe(errs0);
  });
});

describe('e2e NAT with offload on the client-side port only (offload=none on the inside port)', () => {
  const ol = new OffloadLab(`tvo${process.pid % 1000}m`, 'nat', { inside: 'none' });
  const lab = ol.lab;

  beforeAll(async () => {
    await ol.up();
  });

  afterAll(async () => {
    const pids = await ol.down();
    expect(await lab.namespaces()).toEqual([]);
    expect(stillRunning(pids)).toEqual([]);
  });

  it('tapvs logs the inside port with offload off and the reason', async () => {
    const opened = (await ol.log()).split('\n').filter((l) => l.includes('"port open"')).map((l) => JSON.parse(l) as { port: string; offload: string; offloadOff?: string });
    expect(opened.map((l) => [l.port, l.offload])).toEqual([['outside', 'tso'], ['inside', 'off']]);
    expect(opened[1]!.offloadOff).toMatch(/^offload=none in the config/);
  });

  it('uploads arrive in super-frames and leave as MTU-sized segments cut in software, checksums intact', async () => {
    const out0 = await ol.tapStats('OUTSIDE');
    const in0 = await ol.tapStats('INSIDE');
    const errs0 = await ol.allCsumErrors();
    const r = await iperf(lab, 2);
    expect(r.bytes).toBeGreaterThan(1_000_000);
    const out1 = await ol.tapStats('OUTSIDE');
    const in1 = await ol.tapStats('INSIDE');
    expect(avg(out1.txBytes - out0.txBytes, out1.txPackets - out0.txPackets)).toBeGreaterThan(4 * 1514);
    // every frame written to the plain TAP fits its 1500-byte MTU
    const written = avg(in1.rxBytes - in0.rxBytes, in1.rxPackets - in0.rxPackets);
    expect(written).toBeGreaterThan(1000);
    expect(written).toBeLessThanOrEqual(1514);
    expect(await ol.allCsumErrors()).toBe(errs0);
  });

  it('a 10 MB download through the plain inside port arrives byte-identical', async () => {
    const n = 10 * 1024 * 1024;
    const file = join(lab.dir, 'bytes-10m.bin');
    const r = await lab.client('curl', ['-s', '--max-time', '40', '-o', file, '-w', '%{http_code}', `http://${lab.vip}/bytes/${n}`], 45_000);
    expect(r.code, r.stderr).toBe(0);
    const got = fileSha256(file);
    expect(got.size).toBe(n);
    expect(got.sha).toBe(patternSha256(n));
  });
});
