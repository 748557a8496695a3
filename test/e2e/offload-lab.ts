/**
 * A netns lab whose tapvs config gets per-port `offload=` keys (lab_conf
 * writes the port lines; this appends the key), plus the counters the
 * offload tests read: the TAP netdevs' own frame counts (one per frame,
 * whatever its size) and the real servers' TCP checksum errors. E2eLab.up
 * cannot edit the config between lab_conf and lab_tapvs, so the run is built
 * here, and taken down here through lab_down.
 */
import { execFile } from 'node:child_process';
import { expect } from 'vitest';
import { E2eLab, REPO, type CmdResult, type Mode } from './lab.js';

export function exec(bin: string, args: string[], timeoutMs: number): Promise<CmdResult> {
  return new Promise((done) => {
    execFile(bin, args, { cwd: REPO, timeout: timeoutMs, encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

export interface TapStats { txPackets: number; txBytes: number; rxPackets: number; rxBytes: number }

export class OffloadLab {
  readonly lab: E2eLab;
  private started = false;

  /**
   * `ports`: port name -> the value of its offload= key (a port not named keeps the default, offload on).
   * `prepare`: bash lines run after lab_conf and before tapvs starts (lab.env sourced; edit the config there).
   */
  constructor(id: string, mode: Mode, private readonly ports: Record<string, string>, private readonly prepare = '') {
    this.lab = new E2eLab(id, mode);
  }

  async up(): Promise<void> {
    this.started = true;
    const edits = Object.entries(this.ports).map(([p, v]) => `-e 's/^port ${p} .*/& offload=${v}/'`).join(' ');
    const script = [
      'set -e',
      'source netns/lib.sh',
      `lab_init ${this.lab.id}`,
      `lab_${this.lab.mode} >/dev/null`,
      'lab_conf rr >/dev/null',
      edits ? `sed -i ${edits} "$LAB_DIR/tapvs.conf"` : ':',
      'source "$LAB_DIR/lab.env"',
      this.prepare || ':',
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

  /** tapvs's log so far (the port-open lines say how each port runs offload). */
  async log(): Promise<string> {
    return (await this.lab.sh('cat "$LAB_DIR/tapvs.log"')).stdout;
  }

  /** Kernel counters of a tapvs TAP: tx = frames the kernel handed tapvs, rx = frames tapvs wrote. */
  async tapStats(which: 'OUTSIDE' | 'INSIDE' | 'LAN'): Promise<TapStats> {
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

  async allCsumErrors(): Promise<number> {
    return (await this.csumErrors('rs1')) + (await this.csumErrors('rs2'));
  }
}

export const avg = (bytes: number, packets: number): number => (packets > 0 ? bytes / packets : 0);

export async function iperf(lab: E2eLab, seconds: number): Promise<{ bytes: number; gbps: number }> {
  const r = await lab.client('iperf3', ['-c', lab.vip, '-p', '5201', '-t', String(seconds), '-J'], (seconds + 20) * 1000);
  const report = JSON.parse(r.stdout) as { error?: string; end?: { sum_received?: { bytes: number; bits_per_second: number } } };
  expect(report.error).toBeUndefined();
  expect(r.code).toBe(0);
  return { bytes: report.end?.sum_received?.bytes ?? 0, gbps: (report.end?.sum_received?.bits_per_second ?? 0) / 1e9 };
}
