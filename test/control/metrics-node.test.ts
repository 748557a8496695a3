// node_exporter's IPVS metrics, as tapvs exports them, checked three ways:
// against the collector's definition (names, help, types, label names, from
// node_exporter's collector/ipvs_linux.go), with Prometheus's own text parser
// (the python3-prometheus-client package) and promtool's linter, and against
// the real prometheus-node-exporter reading the same tables written in the
// kernel's /proc/net/ip_vs and ip_vs_stats layout.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { execIpvsadm } from '../../src/control/ipvsadm-exec.js';
import { renderMetrics } from '../../src/control/metrics.js';
import type { Director } from '../../src/director/director.js';
import { FWD_MASQ, FWD_TUN, FWD_DR } from '../../src/model/dest.js';
import { IPPROTO_UDP } from '../../src/model/proto.js';
import { LiveRig, RS, VIP, clientSegment, serverSegment } from './server-rig.js';

let rig: LiveRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});
const tmp = mkdtempSync(join(tmpdir(), 'tapvs-nodeipvs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const BACKEND = ['local_address', 'local_port', 'remote_address', 'remote_port', 'proto', 'local_mark'];
/** node_exporter's collector/ipvs_linux.go: every family it defines. */
const DEFINITION: Record<string, { type: 'counter' | 'gauge'; help: string; labels: string[] }> = {
  node_ipvs_connections_total: { type: 'counter', help: 'The total number of connections made.', labels: [] },
  node_ipvs_incoming_packets_total: { type: 'counter', help: 'The total number of incoming packets.', labels: [] },
  node_ipvs_outgoing_packets_total: { type: 'counter', help: 'The total number of outgoing packets.', labels: [] },
  node_ipvs_incoming_bytes_total: { type: 'counter', help: 'The total amount of incoming data.', labels: [] },
  node_ipvs_outgoing_bytes_total: { type: 'counter', help: 'The total amount of outgoing data.', labels: [] },
  node_ipvs_backend_connections_active: { type: 'gauge', help: 'The current active connections by local and remote address.', labels: BACKEND },
  node_ipvs_backend_connections_inactive: { type: 'gauge', help: 'The current inactive connections by local and remote address.', labels: BACKEND },
  node_ipvs_backend_weight: { type: 'gauge', help: 'The current backend weight by local and remote address.', labels: BACKEND },
};

interface Sample { name: string; labels: Record<string, string>; value: number }
interface Family { name: string; type: string; help: string; samples: Sample[] }

/** Prometheus's Python client parses the text (text_string_to_metric_families). */
function promParse(text: string): Family[] {
  const py = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "help": f.documentation,
                "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]})
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', py], { input: text, encoding: 'utf8' })) as Family[];
}

/** promtool check metrics: its lint findings (empty when clean). */
function promtool(text: string): string {
  try {
    execFileSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    return '';
  } catch (e) {
    const x = e as { stdout: string; stderr: string };
    return `${x.stdout}${x.stderr}`;
  }
}

const hex = (n: number, w: number): string => (n >>> 0).toString(16).toUpperCase().padStart(w, '0');
const FORWARD: Record<number, string> = { [FWD_MASQ]: 'Masq', [FWD_TUN]: 'Tunnel', [FWD_DR]: 'Route' };

/** The director's tables in the kernel's /proc/net/ip_vs and ip_vs_stats layouts (ip_vs_ctl.c). */
function writeProc(dir: string, d: Director): void {
  mkdirSync(join(dir, 'net'), { recursive: true });
  let s = 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n';
  for (const svc of d.services.all) {
    s += svc.fwmark ? `FWM  ${hex(svc.fwmark, 8)} ${svc.sched.name} \n` : `${svc.proto === IPPROTO_UDP ? 'UDP' : 'TCP'}  ${hex(svc.addr, 8)}:${hex(svc.port, 4)} ${svc.sched.name} \n`;
    for (const dest of svc.dests) {
      s += `  -> ${hex(dest.addr, 8)}:${hex(dest.port, 4)}      ${FORWARD[dest.fwd]!.padEnd(7)} ${String(dest.weight).padEnd(6)} ${String(dest.activeConns).padEnd(10)} ${String(dest.inactConns).padEnd(10)}\n`;
    }
  }
  writeFileSync(join(dir, 'net/ip_vs'), s);
  const t = d.totals;
  writeFileSync(join(dir, 'net/ip_vs_stats'),
    '   Total Incoming Outgoing         Incoming         Outgoing\n   Conns  Packets  Packets            Bytes            Bytes\n' +
    ` ${hex(t.conns, 8)} ${hex(t.inpkts, 8)} ${hex(t.outpkts, 8)} ${hex(t.inbytes, 16)} ${hex(t.outbytes, 16)}\n\n` +
    ' Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s\n        0        0        0                0                0\n');
}

/** Runs the real prometheus-node-exporter (ipvs collector only) over `procDir` and scrapes it once. */
async function nodeExporter(procDir: string): Promise<string> {
  const port = 19000 + (process.pid % 900) + Math.floor(Math.random() * 90);
  const child = spawn('prometheus-node-exporter', [`--path.procfs=${procDir}`, '--collector.disable-defaults', '--collector.ipvs', `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100; i++) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/metrics`);
        if (r.ok) return await r.text();
      } catch { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('prometheus-node-exporter did not answer');
  } finally {
    child.kill('SIGTERM');
  }
}

const ipvsOnly = (fams: Family[]): Family[] => fams.filter((f) => f.name.startsWith('node_ipvs_')).sort((a, b) => a.name.localeCompare(b.name));
const sortSamples = (f: Family): Sample[] => [...f.samples].sort((a, b) => JSON.stringify([a.name, a.labels]).localeCompare(JSON.stringify([b.name, b.labels])));

async function rigWithTraffic(): Promise<LiveRig> {
  const r = rig = await new LiveRig().start();
  // a fwmark service and a UDP one beside the rig's TCP VIP:80 (rs1, rs2 by NAT)
  for (const line of [['-A', '-f', '7', '-s', 'rr'], ['-a', '-f', '7', '-r', RS.rs3, '-m', '-w', '4'], ['-A', '-u', `${VIP}:53`, '-s', 'rr'], ['-a', '-u', `${VIP}:53`, '-r', `${RS.rs1}:5353`, '-m', '-w', '2']]) {
    expect(execIpvsadm(r.live, line, undefined, 0).code).toBe(0);
  }
  const a = clientSegment(r, 41001, 'S');
  clientSegment(r, 41002, 'S');
  serverSegment(r, a[0]!.dst, 41001, 'SA');
  clientSegment(r, 41001, 'A', 'hello');
  return r;
}

describe("node_exporter's IPVS metrics", () => {
  it("has every family of node_exporter's collector, with its help, type and label names, in Prometheus's parser", async () => {
    const r = await rigWithTraffic();
    const text = renderMetrics({ director: r.director, ports: r.live.ports });
    const fams = ipvsOnly(promParse(text));
    // prometheus_client names a counter family without _total
    const byName = new Map(fams.map((f) => [f.type === 'counter' ? `${f.name}_total` : f.name, f]));
    expect([...byName.keys()].sort()).toEqual(Object.keys(DEFINITION).sort());
    for (const [name, def] of Object.entries(DEFINITION)) {
      const f = byName.get(name)!;
      expect({ name, type: f.type, help: f.help }).toEqual({ name, type: def.type, help: def.help });
      for (const s of f.samples) expect(Object.keys(s.labels).sort()).toEqual([...def.labels].sort());
    }
    const active = byName.get('node_ipvs_backend_connections_active')!.samples;
    // one sample per virtual/real server pair; fwmark services as node_exporter labels them
    expect(active.map((s) => s.labels).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)))).toEqual([
      { local_address: '', local_mark: '00000007', local_port: '0', proto: 'FWM', remote_address: RS.rs3, remote_port: '0' },
      { local_address: VIP, local_mark: '', local_port: '53', proto: 'UDP', remote_address: RS.rs1, remote_port: '5353' },
      { local_address: VIP, local_mark: '', local_port: '80', proto: 'TCP', remote_address: RS.rs1, remote_port: '80' },
      { local_address: VIP, local_mark: '', local_port: '80', proto: 'TCP', remote_address: RS.rs2, remote_port: '80' },
    ]);
    // the two SYNs made one active connection on each TCP real server; the totals count every packet
    expect(active.filter((s) => s.labels.proto === 'TCP').map((s) => s.value)).toEqual([1, 1]);
    const total = (n: string): number => byName.get(n)!.samples.find((s) => s.name === n)!.value;
    expect([total('node_ipvs_connections_total'), total('node_ipvs_incoming_packets_total'), total('node_ipvs_outgoing_packets_total'),
      total('node_ipvs_incoming_bytes_total'), total('node_ipvs_outgoing_bytes_total')]).toEqual([2, 3, 1, 125, 40]);
    expect(byName.get('node_ipvs_backend_weight')!.samples.find((s) => s.labels.proto === 'FWM')!.value).toBe(4);
    // tapvs's own families stay beside them
    expect(text).toMatch(/^tapvs_service_connections_total\{service="TCP 10\.0\.0\.100:80"\} 2$/m);
  });

  it('is clean for promtool check metrics', async () => {
    const r = await rigWithTraffic();
    expect(promtool(renderMetrics({ director: r.director, ports: r.live.ports }))).toBe('');
  });

  it('gives exactly the samples the real node_exporter gives for the same tables', async () => {
    const r = await rigWithTraffic();
    const procDir = join(tmp, 'proc');
    writeProc(procDir, r.director);
    const theirs = ipvsOnly(promParse(await nodeExporter(procDir)));
    const ours = ipvsOnly(promParse(renderMetrics({ director: r.director, ports: r.live.ports })));
    expect(theirs.map((f) => f.name)).toEqual(ours.map((f) => f.name));
    for (let i = 0; i < ours.length; i++) {
      expect({ name: ours[i]!.name, help: ours[i]!.help, type: ours[i]!.type, samples: sortSamples(ours[i]!) })
        .toEqual({ name: theirs[i]!.name, help: theirs[i]!.help, type: theirs[i]!.type, samples: sortSamples(theirs[i]!) });
    }
    expect(ours.find((f) => f.name === 'node_ipvs_backend_weight')!.samples).toHaveLength(4);
  });
});
