/**
 * TAP offload (`port ... offload=tso`) end to end in the NAT lab: the kernel
 * hands tapvs TCP super-frames and takes them back whole. Checked: the same
 * results as without offload (rr order, a byte-identical 10 MB download,
 * iperf3), and that super-frames really crossed tapvs, read from the TAP
 * netdevs' own counters (one count per frame, whatever its size). A second
 * lab has offload on the client-side port only, so uploads are cut into
 * segments in software on the way to the real servers.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2eLab, REPO, fileSha256, patternSha256, stillRunning, type CmdResult } from './lab.js';

function exec(bin: string, args: string[], timeoutMs: number): Promise<CmdResult> {
  return new Promise((done) => {
    execFile(bin, args, { cwd: REPO, timeout: timeoutMs, encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/**
 * An NAT lab whose tapvs config gets `offload=tso` on the named ports
 * (lab_conf writes the port lines; this appends the key). E2eLab.up cannot
 * edit the config between lab_conf and lab_tapvs, so the run is built here,
 * and taken down here through lab_down.
 */
class OffloadLab {
  readonly lab: E2eLab;
  private started = false;

  constructor(id: string, private readonly ports: string[]) {
    this.lab = new E2eLab(id, 'nat');
  }

  async up(): Promise<void> {
    this.started = true;
    const edits = this.ports.map((p) => `-e 's/^port ${p} .*/& offload=tso/'`).join(' ');
    const script = [
      'set -e',
      'source netns/lib.sh',
      `lab_init ${this.lab.id}`,
      'lab_nat >/dev/null',
      'lab_conf rr >/dev/null',
      `sed -i ${edits} "$LAB_DIR/tapvs.conf"`,
      'lab_tapvs',
    ].join('\n');
    const r = await exec('bash', ['-c', script], 120_000);
    if (r.code !== 0) throw new Error(`offload lab ${this.lab.id} failed to start (exit ${r.code}):\n${r.stderr}`);
    const env = await this.lab.sh('source "$LAB_DIR/lab.env"; for k in ${!LAB_@}; do printf "%s=%s\\n" "$k" "${!k}"; done');
    for (const line of env.stdout.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) this.lab.env[line.slice(0, i)] = line.slice(i + 1);
    }
  }

  async down(): Promise<number[]> {
    if (!this.started) return [];
    const pids = this.lab.recordedPids();
    await exec('bash', ['-c', 'source netns/lib.sh; lab_down "$1"', 'bash', this.lab.id], 60_000);
    return pids;
  }

  /** The director's config as written (to check the offload keys went in). */
  async conf(): Promise<string> {
    return (await this.lab.sh('cat "$LAB_DIR/tapvs.conf"')).stdout;
  }

  /** Kernel counters of a tapvs TAP: tx = frames the kernel handed tapvs, rx = frames tapvs wrote. */
  async tapStats(which: 'OUTSIDE' | 'INSIDE'): Promise<{ txPackets: number; txBytes: number; rxPackets: number; rxBytes: number }> {
    const e = this.lab.env;
    const r = await exec('ip', ['-n', e[`LAB_PORT_${which}_NS`]!, '-s', '-j', 'link', 'show', 'dev', e[`LAB_PORT_${which}_DEV`]!], 10_000);
    const s = (JSON.parse(r.stdout) as Array<{ stats64: { rx: { bytes: number; packets: number }; tx: { bytes: number; packets: number } } }>)[0]!.stats64;
    return { txPackets: s.tx.packets, txBytes: s.tx.bytes, rxPackets: s.rx.packets, rxBytes: s.rx.bytes };
  }

  /** TCP segments with a bad checksum that a real server's kernel has received so far. */
  async csumErrors(rs: string): Promise<number> {
    const r = await this.lab.inNs(`${this.lab.id}-${rs}`, 'nstat', ['-az', 'TcpInCsumErrors']);
    const m = /TcpInCsumErrors\s+(\d+)/.exec(r.stdout);
    return m ? Number(m[1]) : 0;
  }
}

type Stats = Awaited<ReturnType<OffloadLab['tapStats']>>;
const avg = (bytes: number, packets: number): number => (packets > 0 ? bytes / packets : 0);

async function iperf(lab: E2eLab, seconds: number): Promise<{ bytes: number; gbps: number }> {
  const r = await lab.client('iperf3', ['-c', lab.vip, '-p', '5201', '-t', String(seconds), '-J'], (seconds + 20) * 1000);
  const report = JSON.parse(r.stdout) as { error?: string; end?: { sum_received?: { bytes: number; bits_per_second: number } } };
  expect(report.error).toBeUndefined();
  expect(r.code).toBe(0);
  return { bytes: report.end?.sum_received?.bytes ?? 0, gbps: (report.end?.sum_received?.bits_per_second ?? 0) / 1e9 };
}

describe('e2e NAT with offload=tso on both TAP ports', () => {
  const ol = new OffloadLab(`tvo${process.pid % 1000}b`, ['outside', 'inside']);
  const lab = ol.lab;

  beforeAll(async () => {
    await ol.up();
  });

  afterAll(async () => {
    const pids = await ol.down();
    expect(await lab.namespaces()).toEqual([]);
    expect(stillRunning(pids)).toEqual([]);
  });

  it('the config has offload on both ports', async () => {
    expect((await ol.conf()).split('\n').filter((l) => l.startsWith('port ') && l.endsWith(' offload=tso'))).toHaveLength(2);
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
    const out0: Stats = await ol.tapStats('OUTSIDE');
    const in0: Stats = await ol.tapStats('INSIDE');
    const errs0 = (await ol.csumErrors('rs1')) + (await ol.csumErrors('rs2'));
    const r = await iperf(lab, 3);
    expect(r.bytes).toBeGreaterThan(0);
    const out1 = await ol.tapStats('OUTSIDE');
    const in1 = await ol.tapStats('INSIDE');
    expect(avg(out1.txBytes - out0.txBytes, out1.txPackets - out0.txPackets)).toBeGreaterThan(4 * 1514);
    expect(avg(in1.rxBytes - in0.rxBytes, in1.rxPackets - in0.rxPackets)).toBeGreaterThan(4 * 1514);
    expect((await ol.csumErrors('rs1')) + (await ol.csumErrors('rs2'))).toBe(errs0);
  });
});

describe('e2e NAT with offload=tso on the client-side port only', () => {
  const ol = new OffloadLab(`tvo${process.pid % 1000}m`, ['outside']);
  const lab = ol.lab;

  beforeAll(async () => {
    await ol.up();
  });

  afterAll(async () => {
    const pids = await ol.down();
    expect(await lab.namespaces()).toEqual([]);
    expect(stillRunning(pids)).toEqual([]);
  });

  it('uploads arrive in super-frames and leave as MTU-sized segments cut in software, checksums intact', async () => {
    const out0 = await ol.tapStats('OUTSIDE');
    const in0 = await ol.tapStats('INSIDE');
    const errs0 = (await ol.csumErrors('rs1')) + (await ol.csumErrors('rs2'));
    const r = await iperf(lab, 2);
    expect(r.bytes).toBeGreaterThan(1_000_000);
    const out1 = await ol.tapStats('OUTSIDE');
    const in1 = await ol.tapStats('INSIDE');
    expect(avg(out1.txBytes - out0.txBytes, out1.txPackets - out0.txPackets)).toBeGreaterThan(4 * 1514);
    // every frame written to the plain TAP fits its 1500-byte MTU
    const written = avg(in1.rxBytes - in0.rxBytes, in1.rxPackets - in0.rxPackets);
    expect(written).toBeGreaterThan(1000);
    expect(written).toBeLessThanOrEqual(1514);
    expect((await ol.csumErrors('rs1')) + (await ol.csumErrors('rs2'))).toBe(errs0);
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
