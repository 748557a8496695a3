// End to end through the netns labs: iperf3 from the client namespace to the
// VIP, through tapvs (NAT, DR, TUN) and through the kernel doing the same job
// (netns/kernel-peer.sh: nftables DNAT for NAT, plain forwarding for DR), in
// the same run, side by side.
//
//   TCP: one iperf3 stream for 3 s, receiver's Gb/s.
//   UDP: 64-byte payloads as fast as the client can send (-b 0) for 3 s;
//        "delivered" is what the real server's iperf3 received (its byte count
//        / 64) divided by the test time, so drops anywhere on the way count.
//   HTTP new connections/s (NAT, DR): wrk with `Connection: close` (one
//        request per connection) for 3 s against nginx on rs1 (port 8080,
//        a 3-byte body), through the VIP; both directors send it to rs1.
//   HTTP latency (NAT, DR): bench/latency-client.mjs, 8 keep-alive
//        connections, 1000 small GETs/s in all for 3 s (open loop), p50/p99.
//   TCP offload is on by default for TAP ports, so "TCP tapvs" is the default;
//   NAT and TUN TCP without offload: the same TCP run with `offload=none` on
//        tapvs's TAP ports (1500-byte frames instead of super-frames).
//
// Needs root and iperf3 (and nft for the kernel NAT peer); without them it
// returns a "skipped" line saying why. Each lab is built, measured and torn
// down in turn (teardown also on errors and Ctrl-C); about 90 s, never
// starting a lab after 240 s. Needs wrk and nginx for the HTTP figures.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './types.js';
import { measureCpu, type CpuUse } from './cpu-use.js';
import { labTapvsArgs, tapvsFlagsNote, labEnv as env, labDownSync, liveLabs, missingTools, ratio, sh, withLabs } from './lab-shell.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const labRoot = process.env.TAPVS_LAB_DIR ?? '/tmp/tapvs-lab';
const SECONDS = 3;
const UDP_PAYLOAD = 64;
/** No new lab is started after this long; each step also has its own timeout. */
const BUDGET_MS = 240_000;
const HTTP_PORT = 8080;
const LAT_RATE = 1000;
const LAT_CONNS = 8;
/** tapvs's /metrics in the labs (one lab at a time), for the writer thread's figures per phase. */
const METRICS_PORT = 19000 + (process.pid % 1000);

type Mode = 'nat' | 'dr' | 'tun';
type Director = 'tapvs' | 'kernel';

interface Figures {
  tcpGbps?: number;
  udpDelivered?: number;
  udpOffered?: number;
  /** Share of the UDP datagrams sent that the kernel dropped at tapvs's client-side TAP (queue full). */
  udpTapDropShare?: number;
  /** New HTTP connections per second (one request each), as wrk counted them. */
  cps?: number;
  /** wrk's socket errors during the CPS run (connect, read, write, timeout). */
  cpsErrors?: number;
  /** Latency of small requests on established connections at LAT_RATE, in microseconds. */
  latP50Us?: number;
  latP99Us?: number;
  /** Why the HTTP figures are missing. */
  httpMissing?: string;
  /** Why a figure is missing ("n/a (no ipip module)", an error). */
  missing?: string;
  /** CPU the machine (and tapvs's process) spent during the TCP and the UDP run. */
  tcpCpu?: CpuUse;
  udpCpu?: CpuUse;
  /** Seconds iperf3 counted for the TCP run (what the Gb/s are over). */
  tcpSeconds?: number;
  /** Datagrams the real server received in the UDP run. */
  udpCount?: number;
  /** What tapvs's writer thread did in each phase (from /metrics). */
  writer?: Partial<Record<Phase, WriterFigures>>;
}

type Phase = 'tcp' | 'udp' | 'cps' | 'lat';
interface WriterFigures { handed: number; probes: number; backoffs: number }

/** The writer thread's counters from tapvs's /metrics (undefined when it has none: --tx-thread off). */
async function writerNow(): Promise<WriterFigures | undefined> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${METRICS_PORT}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
    const get = (name: string) => Number(new RegExp(`^tapvs_tx_thread_${name}_total (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    const w = { handed: get('frames'), probes: get('probes'), backoffs: get('backoffs') };
    return Number.isNaN(w.handed) ? undefined : w;
  } catch {
    return undefined;
  }
}

/** Runs a phase and records what the writer did meanwhile (tapvs only). */
async function phase<T>(f: Figures, director: Director, name: Phase, body: () => Promise<T>): Promise<T> {
  const before = director === 'tapvs' ? await writerNow() : undefined;
  const out = await body();
  const after = before ? await writerNow() : undefined;
  if (before && after) {
    f.writer ??= {};
    f.writer[name] = { handed: after.handed - before.handed, probes: after.probes - before.probes, backoffs: after.backoffs - before.backoffs };
  }
  return out;
}

function writerNote(f: Figures, name: Phase): string {
  const w = f.writer?.[name];
  if (!w) return '';
  const k = w.handed >= 10_000 ? `${Math.round(w.handed / 1000)} k` : String(w.handed);
  return `; writer thread: ${k} frames handed` + (w.probes || w.backoffs ? `, ${w.probes} probe${w.probes === 1 ? '' : 's'}, ${w.backoffs} backoff${w.backoffs === 1 ? '' : 's'}` : '');
}

async function up(director: Director, mode: Mode, id: string, offloadOff = false): Promise<Record<string, string>> {
  liveLabs.add(id);
  if (director === 'kernel') {
    await sh('bash', [`${repo}/netns/kernel-peer.sh`, 'up', mode, id], 60000);
  } else {
    await sh('bash', [`${repo}/netns/lab.sh`, 'up', mode, id], 60000);
    const e = env(id);
    // the HTTP service of the CPS and latency runs, in the lab's mode, to rs1 only: the kernel
    // peer sends it to rs1 too, so both directors have the same web server behind them
    const flag = mode === 'nat' ? '-m' : mode === 'dr' ? '-g' : '-i';
    const rs1 = (e.LAB_RS_ADDRS ?? '').split(' ')[0];
    const web = [`-A -t ${e.LAB_VIP}:${HTTP_PORT} -s rr`, `-a -t ${e.LAB_VIP}:${HTTP_PORT} -r ${rs1}:${HTTP_PORT} ${flag} -w 1`];
    // lab_tapvs records tapvs's PID in the run, so lab_down stops it
    const off = offloadOff ? ` && sed -i 's/^port .*/& offload=none/' "$LAB_DIR/tapvs.conf"` : '';
    const metrics = ` && echo "option metrics_listen 127.0.0.1:${METRICS_PORT}" >>"$LAB_DIR/tapvs.conf"`;
    const start = `source netns/lib.sh; export LAB_ID=${id} LAB_DIR=${labRoot}/${id}; lab_conf rr "$@" >/dev/null${off}${metrics} && lab_tapvs${labTapvsArgs()}`;
    await sh('bash', ['-c', start, 'bash', ...web], 60000);
  }
  return env(id);
}

const hasHttpTools = (): string | undefined => {
  for (const tool of ['wrk', 'nginx']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `needs ${tool} (apt-get install ${tool}; scripts/setup.sh installs it)`;
    }
  }
  return undefined;
};

/**
 * nginx (one worker, no access log, a 3-byte body) on port HTTP_PORT in every
 * real server of the lab; its PIDs go into the run, so lab_down stops it.
 */
async function startNginx(id: string): Promise<void> {
  const script = `
source netns/lib.sh; export LAB_ID=${id} LAB_DIR=${labRoot}/${id}; source "$LAB_DIR/lab.env"
n=0
for a in $LAB_RS_ADDRS; do
  n=$((n + 1)); ns=$LAB_ID-rs$n; d=$LAB_DIR/nginx-rs$n; mkdir -p "$d"
  cat >"$d/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $d/cb; proxy_temp_path $d/pr; fastcgi_temp_path $d/fc; uwsgi_temp_path $d/uw; scgi_temp_path $d/sc;
  keepalive_requests 1000000;
  server { listen ${HTTP_PORT} backlog=4096; location / { return 200 "ok\\n"; } }
}
NGINX
  lab_sysctl "$ns" net.core.somaxconn 4096
  lab_sysctl "$ns" net.ipv4.tcp_max_syn_backlog 4096
  lab_spawn "$ns" "rs$n-nginx" nginx -c "$d/nginx.conf"
done
lab_sysctl "$LAB_CLIENT_NS" net.ipv4.ip_local_port_range "1024 65000"
lab_sysctl "$LAB_CLIENT_NS" net.ipv4.tcp_tw_reuse 1
for ((k = 1; k <= n; k++)); do
  for i in $(seq 50); do
    ip netns exec "$LAB_ID-rs$k" curl -s -o /dev/null --max-time 1 "http://127.0.0.1:${HTTP_PORT}/" && break
    sleep 0.1
  done
done`;
  await sh('bash', ['-c', script], 30000);
}

/** New connections per second: wrk, one request per connection, for SECONDS. */
async function cps(ns: string, vip: string): Promise<{ cps: number; errors: number }> {
  const out = await sh('ip', ['netns', 'exec', ns, 'wrk', '-t', '2', '-c', '64', '-d', `${SECONDS}s`, '--timeout', '2s', '-H', 'Connection: close', `http://${vip}:${HTTP_PORT}/`], (SECONDS + 20) * 1000);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!rps) throw new Error(`wrk: no Requests/sec in its report: ${out.slice(-200)}`);
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const errors = (errs ? errs.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  return { cps: Number(rps[1]), errors };
}

/** p50/p99 of small requests on LAT_CONNS established connections at LAT_RATE requests/s. */
async function latency(ns: string, vip: string): Promise<{ p50: number; p99: number }> {
  const out = await sh('ip', ['netns', 'exec', ns, process.execPath, `${repo}/bench/latency-client.mjs`, vip, String(HTTP_PORT), String(LAT_RATE), String(SECONDS), String(LAT_CONNS)], (SECONDS + 20) * 1000);
  const j = JSON.parse(out.trim().split('\n').pop()!) as { done: number; errors: number; p50Us: number; p99Us: number };
  if (j.errors > 0 || j.done === 0) throw new Error(`latency client: ${out.trim()}`);
  return { p50: j.p50Us, p99: j.p99Us };
}

interface IperfEnd {
  sum_sent?: { packets?: number; seconds?: number; bytes?: number };
  sum_received?: { bytes?: number; seconds?: number; bits_per_second?: number };
}

async function iperf(ns: string, vip: string, extra: string[]): Promise<IperfEnd> {
  const argv = ['netns', 'exec', ns, 'iperf3', '-c', vip, '-p', '5201', '-t', String(SECONDS), '-J', ...extra];
  // iperf3 -J reports its own failures as JSON on stdout (and exits 1)
  const out = await sh('ip', argv, (SECONDS + 15) * 1000).catch((err: Error & { stdout?: string }) => err.stdout || Promise.reject(err));
  let j: { end?: IperfEnd; error?: string };
  try {
    j = JSON.parse(out) as typeof j;
  } catch {
    throw new Error(`iperf3 ${extra.join(' ')}: no JSON report`);
  }
  if (j.error) throw new Error(`iperf3 ${extra.join(' ')}: ${j.error}`);
  return j.end ?? {};
}

/** Frames the kernel dropped because tapvs did not read its client-side TAP in time. */
async function tapQueueDrops(e: Record<string, string>): Promise<number> {
  const dev = e.LAB_PORT_OUTSIDE_DEV ?? e.LAB_PORT_LAN_DEV;
  const ns = e.LAB_PORT_OUTSIDE_NS ?? e.LAB_PORT_LAN_NS;
  if (!dev || !ns) return 0;
  const out = await sh('ip', ['-n', ns, '-s', '-j', 'link', 'show', 'dev', dev], 10000);
  const link = (JSON.parse(out) as Array<{ stats64?: { tx?: { dropped?: number } } }>)[0];
  return link?.stats64?.tx?.dropped ?? 0;
}

/** The PID lab_tapvs recorded for the lab's tapvs. */
function tapvsPid(id: string): number | undefined {
  try {
    const pid = Number(readFileSync(`${labRoot}/${id}/tapvs.pid`, 'latin1').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function measure(director: Director, mode: Mode, id: string, deadline: number): Promise<Figures> {
  if (performance.now() > deadline) return { missing: 'not run: the e2e time budget is spent' };
  if (director === 'kernel' && mode === 'tun') {
    try {
      await sh('bash', [`${repo}/netns/kernel-peer.sh`, 'can', 'tun'], 10000);
    } catch {
      return { missing: 'n/a (no ipip module)' };
    }
  }
  try {
    const e = await up(director, mode, id);
    const ns = e.LAB_CLIENT_NS!;
    const vip = e.LAB_VIP!;
    const f: Figures = {};
    const pid = director === 'tapvs' ? tapvsPid(id) : undefined;
    const tcpRun = await measureCpu(pid, () => phase(f, director, 'tcp', () => iperf(ns, vip, [])));
    const tcp = tcpRun.out;
    f.tcpCpu = tcpRun.cpu;
    f.tcpSeconds = tcp.sum_received?.seconds ?? SECONDS;
    await new Promise((r) => setTimeout(r, 300)); // let the server take the next test
    const drops0 = director === 'tapvs' ? await tapQueueDrops(e) : 0;
    const udpRun = await measureCpu(pid, () => phase(f, director, 'udp', () => iperf(ns, vip, ['-u', '-l', String(UDP_PAYLOAD), '-b', '0'])));
    const udp = udpRun.out;
    f.udpCpu = udpRun.cpu;
    const drops1 = director === 'tapvs' ? await tapQueueDrops(e) : 0;
    const rx = udp.sum_received ?? {};
    const secs = rx.seconds ?? SECONDS;
    const sent = udp.sum_sent?.packets ?? 0;
    f.tcpGbps = (tcp.sum_received?.bits_per_second ?? 0) / 1e9;
    f.udpDelivered = (rx.bytes ?? 0) / UDP_PAYLOAD / secs;
    f.udpCount = (rx.bytes ?? 0) / UDP_PAYLOAD;
    f.udpOffered = sent / (udp.sum_sent?.seconds ?? secs);
    f.udpTapDropShare = sent > 0 ? (drops1 - drops0) / sent : undefined;
    if (mode !== 'tun') {
      f.httpMissing = hasHttpTools();
      if (!f.httpMissing) {
        try {
          await startNginx(id);
          const c = await phase(f, director, 'cps', () => cps(ns, vip));
          f.cps = c.cps;
          f.cpsErrors = c.errors;
          // let the short connections' last packets drain before the latency run
          await new Promise((r) => setTimeout(r, 500));
          const l = await phase(f, director, 'lat', () => latency(ns, vip));
          f.latP50Us = l.p50;
          f.latP99Us = l.p99;
        } catch (err) {
          f.httpMissing = `failed: ${(err as Error).message.slice(0, 200)}`;
        }
      }
    }
    return f;
  } catch (err) {
    return { missing: `failed: ${(err as Error).message.slice(0, 200)}` };
  } finally {
    labDownSync(id);
  }
}

/** tapvs with offload=none on its TAP ports: the TCP run only. */
async function measureOffload(mode: Mode, id: string, deadline: number): Promise<Figures> {
  if (performance.now() > deadline) return { missing: 'not run: the e2e time budget is spent' };
  try {
    const e = await up('tapvs', mode, id, true);
    const tcp = await iperf(e.LAB_CLIENT_NS!, e.LAB_VIP!, []);
    return { tcpGbps: (tcp.sum_received?.bits_per_second ?? 0) / 1e9 };
  } catch (err) {
    return { missing: `failed: ${(err as Error).message.slice(0, 200)}` };
  } finally {
    labDownSync(id);
  }
}

function offloadRow(mode: Mode, o: Figures, t: Figures, k: Figures): BenchResult {
  const M = mode.toUpperCase();
  if (o.missing) return { name: `e2e ${M}: TCP tapvs offload=none`, value: 0, unit: '', note: o.missing };
  const vsDefault = t.tcpGbps !== undefined && o.tcpGbps! > 0 ? `; the default (offload on) is ${(t.tcpGbps / o.tcpGbps!).toFixed(1)}x this` : '';
  return { name: `e2e ${M}: TCP tapvs offload=none`, value: o.tcpGbps!, unit: 'Gb/s', note: `${ratio(o.tcpGbps, k.tcpGbps)}${vsDefault}` };
}

/** Busy CPU (all cores) per Gbit of the TCP run, ms. */
function msPerGbit(f: Figures): number | undefined {
  const c = f.tcpCpu;
  const gbit = (f.tcpGbps ?? 0) * (f.tcpSeconds ?? 0);
  return c && gbit > 0 ? (c.machineCores * c.seconds * 1000) / gbit : undefined;
}

/** Busy CPU (all cores) per datagram delivered in the UDP run, us. */
function usPerDatagram(f: Figures): number | undefined {
  const c = f.udpCpu;
  return c && f.udpCount ? (c.machineCores * c.seconds * 1e6) / f.udpCount : undefined;
}

function busyNote(c: CpuUse | undefined, who: string): string {
  if (!c) return '';
  const proc = c.procCores === undefined ? '' : `, tapvs's process ${c.procCores.toFixed(2)} of a core`;
  return `; ${who}machine ${((c.machineCores / c.cores) * 100).toFixed(0)}% busy${proc}`;
}

/** A cost of tapvs's against the kernel peer's, and what the machine was doing in each run. */
function costNote(tv: number, kv: number | undefined, shown: string, tc: CpuUse | undefined, kc: CpuUse | undefined): string {
  const vs = kv === undefined ? 'no kernel figure' : `${(tv / kv).toFixed(2)}x the kernel peer's ${shown}`;
  return vs + busyNote(tc, '') + (kv === undefined ? '' : busyNote(kc, 'kernel run: '));
}

/**
 * What each director's forwarding costs the machine: CPU per Gbit of TCP and
 * per UDP datagram delivered, and for TCP the most tapvs could move at its
 * cost per Gbit with every core busy, against the kernel peer's figure.
 */
function cpuRows(mode: Mode, t: Figures, k: Figures): BenchResult[] {
  if (t.missing) return [];
  const M = mode.toUpperCase();
  const out: BenchResult[] = [];
  const tg = msPerGbit(t);
  const kg = k.missing ? undefined : msPerGbit(k);
  if (tg !== undefined) {
    const cores = t.tcpCpu!.cores;
    const most = (cores * 1000) / tg;
    const ceiling = kg !== undefined && k.tcpGbps ? `; at this cost, ${cores} cores busy: at most ${most.toFixed(1)} Gb/s, ${(most / k.tcpGbps).toFixed(2)}x the kernel peer's run` : '';
    out.push({
      name: `e2e ${M}: TCP CPU per Gbit, tapvs`,
      value: Math.round(tg),
      unit: 'ms/Gbit',
      note: costNote(tg, kg, `${Math.round(kg ?? 0)} ms`, t.tcpCpu, k.tcpCpu) + ceiling,
    });
  }
  const tu = usPerDatagram(t);
  const ku = k.missing ? undefined : usPerDatagram(k);
  if (tu !== undefined) {
    out.push({
      name: `e2e ${M}: UDP CPU per datagram, tapvs`,
      value: Number(tu.toFixed(1)),
      unit: 'us',
      note: costNote(tu, ku, `${(ku ?? 0).toFixed(1)} us`, t.udpCpu, k.udpCpu) + '; what the client sent and was dropped counts too',
    });
  }
  return out;
}

function httpRows(mode: Mode, t: Figures, k: Figures): BenchResult[] {
  if (mode === 'tun') return [];
  const M = mode.toUpperCase();
  const out: BenchResult[] = [];
  for (const [who, f, other] of [['tapvs', t, k], ['kernel peer', k, undefined]] as const) {
    if (f.missing) continue;
    if (f.httpMissing || f.cps === undefined) {
      out.push({ name: `e2e ${M}: HTTP, ${who}`, value: 0, unit: '', note: f.httpMissing ?? 'not measured' });
      continue;
    }
    const errs = f.cpsErrors ? `; ${f.cpsErrors} wrk errors` : '';
    out.push({
      name: `e2e ${M}: HTTP new conns/s, ${who}`,
      value: Math.round(f.cps),
      unit: 'conn/s',
      note: other ? `${ratio(f.cps, other.cps)}${errs}${writerNote(f, 'cps')}` : `wrk -c64, Connection: close${errs}`,
    });
    out.push({
      name: `e2e ${M}: HTTP p99 latency, ${who}`,
      value: f.latP99Us!,
      unit: 'us',
      note: `p50 ${f.latP50Us} us` + (other
        ? (other.latP99Us ? `; p99 ${(f.latP99Us! / other.latP99Us).toFixed(2)}x kernel, p50 ${(f.latP50Us! / other.latP50Us!).toFixed(2)}x kernel` : '; no kernel figure') + writerNote(f, 'lat')
        : `; ${LAT_RATE}/s on ${LAT_CONNS} keep-alive conns`),
    });
  }
  return out;
}

function rows(mode: Mode, t: Figures, k: Figures): BenchResult[] {
  const M = mode.toUpperCase();
  const out: BenchResult[] = [];
  const kernelNote = k.missing ?? '';
  if (t.missing) {
    out.push({ name: `e2e ${M}: tapvs`, value: 0, unit: '', note: t.missing });
  } else {
    out.push({ name: `e2e ${M}: TCP tapvs`, value: t.tcpGbps!, unit: 'Gb/s', note: `${ratio(t.tcpGbps, k.tcpGbps)}${tapvsFlagsNote()}${writerNote(t, 'tcp')}` });
    out.push({
      name: `e2e ${M}: UDP 64 B delivered, tapvs`,
      value: Math.round(t.udpDelivered!),
      unit: 'packets/s',
      note: `${ratio(t.udpDelivered, k.udpDelivered)}; client offered ${Math.round(t.udpOffered! / 1000)} k/s` +
        (t.udpTapDropShare === undefined ? '' : `, ${(t.udpTapDropShare * 100).toFixed(0)}% dropped at the TAP queue`) + writerNote(t, 'udp'),
    });
  }
  if (k.missing) {
    out.push({ name: `e2e ${M}: kernel peer`, value: 0, unit: '', note: kernelNote });
  } else {
    out.push({ name: `e2e ${M}: TCP kernel peer`, value: k.tcpGbps!, unit: 'Gb/s', note: mode === 'nat' ? 'nftables DNAT' : 'kernel forwarding to rs1' });
    out.push({
      name: `e2e ${M}: UDP 64 B delivered, kernel peer`,
      value: Math.round(k.udpDelivered!),
      unit: 'packets/s',
      note: `client offered ${Math.round(k.udpOffered! / 1000)} k/s`,
    });
  }
  return out;
}

export async function benchE2e(modes: Mode[] = ['nat', 'dr', 'tun']): Promise<BenchResult[]> {
  const why = missingTools();
  if (why) return [{ name: 'e2e: skipped', value: 0, unit: '', note: why }];
  const tag = (process.pid % 10000).toString(36);
  // a normal run takes ~40 s; a lab that hangs in setup must not hold `make bench` for long
  const deadline = performance.now() + BUDGET_MS;
  return withLabs(async () => {
    const results: BenchResult[] = [];
    for (const mode of modes) {
      // the same lab, one after the other: tapvs, then the kernel
      const t = await measure('tapvs', mode, `eb${tag}${mode[0]}t`, deadline);
      const k = await measure('kernel', mode, `eb${tag}${mode[0]}k`, deadline);
      results.push(...rows(mode, t, k), ...cpuRows(mode, t, k), ...httpRows(mode, t, k));
      // what the default offload gives: NAT writes super-frames whole, TUN cuts its IPIP ones in software
      if (mode !== 'dr') results.push(offloadRow(mode, await measureOffload(mode, `eb${tag}${mode[0]}o`, deadline), t, k));
    }
    return results;
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const modes = process.argv.slice(2).filter((a): a is Mode => a === 'nat' || a === 'dr' || a === 'tun');
  for (const r of await benchE2e(modes.length > 0 ? modes : undefined)) {
    console.log(`${r.name.padEnd(44)} ${(Number.isInteger(r.value) ? String(r.value) : r.value.toFixed(2)).padStart(10)} ${r.unit.padEnd(10)} ${r.note ?? ''}`);
  }
}
