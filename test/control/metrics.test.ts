// The metrics endpoint: the text parses as exposition format 0.0.4 line by
// line, and the values follow traffic pushed through the director.
import { afterEach, describe, expect, it } from 'vitest';
import { execIpvsadm } from '../../src/control/ipvsadm-exec.js';
import { CONTENT_TYPE, renderMetrics, serviceLabelFromKey } from '../../src/control/metrics.js';
import { portNow } from '../../src/io/port.js';
import { tcpFrame } from '../director/frames.js';
import { CLIENT, LiveRig, OUT_MAC, ROUTER_MAC, RS, VIP, clientSegment, serverSegment } from './server-rig.js';

let rig: LiveRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = `([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`;
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(${LABEL}(?:,${LABEL})*)\\})? (NaN|[+-]Inf|-?[0-9]+(?:\\.[0-9]+)?(?:e[+-]?[0-9]+)?)$`);

/** Parses the exposition strictly: every line is HELP, TYPE or a sample of a declared family, families contiguous, no duplicate series. */
function parseExposition(text: string): Sample[] {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const seen = new Set<string>();
  const closed = new Set<string>();
  let current = '';
  const samples: Sample[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    let m = /^# HELP (\S+) (.+)$/.exec(line);
    if (m) {
      expect(helps.has(m[1]!), `second HELP for ${m[1]}`).toBe(false);
      helps.add(m[1]!);
      continue;
    }
    m = /^# TYPE (\S+) (counter|gauge)$/.exec(line);
    if (m) {
      expect(types.has(m[1]!), `second TYPE for ${m[1]}`).toBe(false);
      types.set(m[1]!, m[2]!);
      if (current) closed.add(current);
      current = m[1]!;
      continue;
    }
    m = SAMPLE.exec(line);
    expect(m, `not a sample line: ${JSON.stringify(line)}`).not.toBeNull();
    const name = m![1]!;
    expect(types.has(name), `${name} has no TYPE`).toBe(true);
    expect(name, `${name} is outside its family's block`).toBe(current);
    expect(closed.has(name)).toBe(false);
    if (types.get(name) === 'counter') expect(name.endsWith('_total'), `counter ${name} should end in _total`).toBe(true);
    const labels: Record<string, string> = {};
    for (const lm of (m![2] ?? '').matchAll(new RegExp(LABEL, 'g'))) {
      labels[lm[1]!] = lm[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)); // one pass: \\n is not a newline
    }
    const series = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    expect(seen.has(series), `duplicate series ${series}`).toBe(false);
    seen.add(series);
    samples.push({ name, labels, value: Number(m![m!.length - 1]) });
  }
  return samples;
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  return samples.find((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want)?.value;
}

async function scrape(r: LiveRig): Promise<{ samples: Sample[]; text: string }> {
  const a = r.plane.metrics!.address;
  const res = await fetch(`http://${a.host}:${a.port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe(CONTENT_TYPE);
  const text = await res.text();
  return { samples: parseExposition(text), text };
}

const SVC = { service: `TCP ${VIP}:80` };
const rsLabels = (rs: string) => ({ service: `TCP ${VIP}:80`, real_server: `${rs}:80` });

describe('metrics', () => {
  it('serves a well-formed exposition whose values follow the traffic', async () => {
    const r = rig = await new LiveRig().start({ metrics: true });
    const t0 = await scrape(r);
    expect(value(t0.samples, 'tapvs_service_connections_total', SVC)).toBe(0);
    expect(value(t0.samples, 'tapvs_conn_table_max')).toBe(1048576);
    expect(value(t0.samples, 'tapvs_drops_total', { reason: 'no-service' })).toBe(0);
    expect(value(t0.samples, 'tapvs_real_server_weight', rsLabels(RS.rs1))).toBe(1);
    const insideTx0 = value(t0.samples, 'tapvs_port_tx_frames_total', { port: 'inside' })!;
    const outsideRx0 = value(t0.samples, 'tapvs_port_rx_frames_total', { port: 'outside' })!;

    // baseline for the rate estimators, then traffic, then one 2 s estimation step
    execIpvsadm(r.live, ['-Z'], undefined, 0);
    const T = Date.now() + 60_000; // after anything the run loop's estimator timer could feed
    const all = () => r.director.services.all.flatMap((s) => [s.stats, ...s.dests.map((d) => d.stats)]);
    for (const s of all()) s.estimate(T);

    const a = clientSegment(r, 40001, 'S'); // 40 bytes of IP
    const b = clientSegment(r, 40002, 'S');
    const rsA = a[0]!.dst;
    const rsB = b[0]!.dst;
    expect(new Set([rsA, rsB])).toEqual(new Set([RS.rs1, RS.rs2]));
    expect(serverSegment(r, rsA, 40001, 'SA').length).toBe(1); // 40 bytes out
    const data = clientSegment(r, 40001, 'A', 'hello'); // 45 bytes in; SYN_RECV -> ESTABLISHED
    expect(data.length).toBe(1);
    // one frame for a port without a service
    r.port('outside').inject(tcpFrame({ smac: ROUTER_MAC, dmac: OUT_MAC, src: CLIENT, dst: VIP, sport: 40003, dport: 81, flags: 'S' }), portNow());
    for (const s of all()) s.estimate(T + 2000);

    const { samples } = await scrape(r);
    const v = (n: string, l: Record<string, string> = {}) => value(samples, n, l);
    expect([v('tapvs_service_connections_total', SVC), v('tapvs_service_in_packets_total', SVC), v('tapvs_service_in_bytes_total', SVC),
      v('tapvs_service_out_packets_total', SVC), v('tapvs_service_out_bytes_total', SVC)]).toEqual([2, 3, 125, 1, 40]);
    expect([v('tapvs_service_active_connections', SVC), v('tapvs_service_inactive_connections', SVC),
      v('tapvs_service_persistent_connections', SVC)]).toEqual([2, 0, 0]); // SYN_RECV counts as active (Linux >= 4.7)
    expect([v('tapvs_real_server_connections_total', rsLabels(rsA)), v('tapvs_real_server_in_packets_total', rsLabels(rsA)),
      v('tapvs_real_server_in_bytes_total', rsLabels(rsA)), v('tapvs_real_server_out_bytes_total', rsLabels(rsA)),
      v('tapvs_real_server_active_connections', rsLabels(rsA))]).toEqual([1, 2, 85, 40, 1]);
    expect([v('tapvs_real_server_in_packets_total', rsLabels(rsB)), v('tapvs_real_server_active_connections', rsLabels(rsB))]).toEqual([1, 1]);
    // estimator: 2 conns in 2 s = 1/s, smoothed by 1/4; 3 packets = 1.5/s -> 0.375; 125 bytes -> 15.625
    expect([v('tapvs_service_connections_per_second', SVC), v('tapvs_service_in_packets_per_second', SVC),
      v('tapvs_service_in_bytes_per_second', SVC)]).toEqual([0.25, 0.375, 15.625]);
    expect(v('tapvs_conn_table_entries')).toBe(2);
    expect(v('tapvs_drops_total', { reason: 'no-service' })).toBe(1);
    expect(v('tapvs_port_rx_frames_total', { port: 'outside' })! - outsideRx0).toBe(4);
    expect(v('tapvs_port_tx_frames_total', { port: 'inside' })! - insideTx0).toBe(3);

    // a live weight change shows at the next scrape
    expect(execIpvsadm(r.live, ['-e', '-t', `${VIP}:80`, '-r', `${RS.rs2}:80`, '-m', '-w', '7'], undefined, 0).code).toBe(0);
    expect(value((await scrape(r)).samples, 'tapvs_real_server_weight', rsLabels(RS.rs2))).toBe(7);
  });

  it('answers only /metrics', async () => {
    const r = rig = await new LiveRig().start({ metrics: true });
    const a = r.plane.metrics!.address;
    expect((await fetch(`http://${a.host}:${a.port}/`)).status).toBe(404);
    expect((await fetch(`http://${a.host}:${a.port}/metrics`, { method: 'POST' })).status).toBe(405);
    const head = await fetch(`http://${a.host}:${a.port}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('is off without metrics_listen', async () => {
    const r = rig = await new LiveRig().start();
    expect(r.plane.metrics).toBeUndefined();
  });

  it('shows health per real server and check, 1 up / 0 down, with escaped labels', async () => {
    const r = rig = await new LiveRig().start();
    const text = renderMetrics({
      director: r.director,
      ports: r.live.ports,
      health: () => [
        { service: `-t ${VIP}:80`, dest: `${RS.rs1}:80`, kind: 'http', up: false },
        { service: `-t ${VIP}:80`, dest: `${RS.rs2}:80`, kind: 'tcp', up: true },
        { service: '-f 3', dest: 'odd"\\name\n', kind: 'misc', up: true },
      ],
    });
    const samples = parseExposition(text);
    expect(value(samples, 'tapvs_real_server_up', { ...rsLabels(RS.rs1), check: 'http' })).toBe(0);
    expect(value(samples, 'tapvs_real_server_up', { ...rsLabels(RS.rs2), check: 'tcp' })).toBe(1);
    expect(value(samples, 'tapvs_real_server_up', { service: 'FWM 3', real_server: 'odd"\\name\n', check: 'misc' })).toBe(1);
    expect(text).toContain('real_server="odd\\"\\\\name\\n"');
    expect(serviceLabelFromKey('-u 10.0.0.100:53')).toBe('UDP 10.0.0.100:53');
  });

  it('shows the offload counters of ports that have them, and only those', async () => {
    const r = rig = await new LiveRig().start();
    const [first, ...rest] = r.live.ports;
    const tso = Object.assign(Object.create(first!), { offloadCounters: { rxGso: 7, txGso: 5, txSegmented: 2 } });
    const samples = parseExposition(renderMetrics({ director: r.director, ports: [tso, ...rest] }));
    expect(value(samples, 'tapvs_port_rx_gso_frames_total', { port: first!.name })).toBe(7);
    expect(value(samples, 'tapvs_port_tx_gso_frames_total', { port: first!.name })).toBe(5);
    expect(value(samples, 'tapvs_port_tx_segmented_frames_total', { port: first!.name })).toBe(2);
    expect(samples.filter((x) => x.name === 'tapvs_port_rx_gso_frames_total')).toHaveLength(1);
  });

  it("shows the writer thread's figures when it runs, and none without it", async () => {
    const r = rig = await new LiveRig().start();
    const writer = { active: true, counters: { handed: 1234, ringFull: 5, handOffs: 3, probes: 2, backoffs: 1 } };
    const samples = parseExposition(renderMetrics({ director: r.director, ports: r.live.ports, writer }));
    expect(value(samples, 'tapvs_tx_thread_active')).toBe(1);
    expect(value(samples, 'tapvs_tx_thread_frames_total')).toBe(1234);
    expect(value(samples, 'tapvs_tx_thread_ring_full_total')).toBe(5);
    expect(value(samples, 'tapvs_tx_thread_handoffs_total')).toBe(3);
    expect(value(samples, 'tapvs_tx_thread_probes_total')).toBe(2);
    expect(value(samples, 'tapvs_tx_thread_backoffs_total')).toBe(1);
    const none = parseExposition(renderMetrics({ director: r.director, ports: r.live.ports }));
    expect(none.some((x) => x.name.startsWith('tapvs_tx_thread_'))).toBe(false);
  });
});

describe('metrics endpoint start', () => {
  it('names metrics_listen when its address is in use', async () => {
    const { startMetricsServer } = await import('../../src/control/metrics.js');
    const first = await startMetricsServer('127.0.0.1:0', () => '');
    const taken = `127.0.0.1:${first.address.port}`;
    await expect(startMetricsServer(taken, () => '')).rejects.toThrow(`option metrics_listen ${taken}: address already in use`);
    await first.close();
  });
});

describe('metrics endpoint on IPv6', () => {
  it('option metrics_listen takes [ADDR6]:PORT and the endpoint serves on it', async () => {
    const { parseConfig, formatConfigError } = await import('../../src/control/config.js');
    const r = parseConfig('option metrics_listen [::1]:9107\n', 'm.conf');
    expect('config' in r && r.config.options.metricsListen).toBe('[::1]:9107');
    const bad = parseConfig('option metrics_listen ::1:9107\n', 'm.conf');
    expect('errors' in bad && bad.errors.map(formatConfigError)).toEqual([
      "m.conf:1: option metrics_listen: '::1:9107' is not ADDR:PORT (numeric, e.g. 127.0.0.1:9107 or [::1]:9107)",
    ]);
    const { startMetricsServer } = await import('../../src/control/metrics.js');
    const srv = await startMetricsServer('[::1]:0', () => 'tapvs_up 1\n');
    try {
      expect(srv.address.host).toBe('::1');
      const res = await fetch(`http://[::1]:${srv.address.port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('tapvs_up 1\n');
    } finally {
      await srv.close();
    }
  });
});
