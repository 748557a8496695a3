// Prometheus metrics in the text exposition format 0.0.4, written by hand:
// a family is `# HELP`, `# TYPE`, then `name{label="value",...} number`
// lines. Two sets side by side: node_exporter's `node_ipvs_*` (its IPVS
// collector's names and labels, for existing dashboards) and tapvs's own
// `tapvs_*`. Counters are the director's own (they restart from 0 after
// `ipvsadm -Z`, which Prometheus reads as a counter reset); rates come from
// the Stats estimators, as `ipvsadm -L --rate` shows them.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dest } from '../model/dest.js';
import { protoName } from '../model/proto.js';
import type { Service } from '../model/service.js';
import type { Stats } from '../model/stats.js';
import type { Director } from '../director/director.js';
import { DROP_REASONS } from '../model/verdict.js';
import type { PortCounters } from '../io/port.js';
import type { TxThreadCounters } from '../io/tx-thread.js';
import { formatAddrPort, formatIpv4 } from './ipvsadm-args.js';
import { sortDests, sortServices } from './ipvsadm-format.js';
import { AF_INET6 } from '../model/proto.js';
import type { HaRuntime } from './ha/runtime.js';

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A real server's health as the health checker reports it. */
export interface HealthStateLike {
  service: string;
  dest: string;
  kind: string;
  up: boolean;
}

export interface MetricsSource {
  readonly director: Director;
  readonly ports: readonly { readonly name: string; readonly counters: PortCounters }[];
  /** Health states, when health checks run. */
  health?: () => readonly HealthStateLike[];
  /** The HA pair (VRRP instances, sync daemons). */
  ha?: HaRuntime;
  /** The writer thread, when on (io/tx-thread.ts). */
  writer?: { readonly active: boolean; readonly counters: Readonly<TxThreadCounters> };
}

const VRRP_STATES = ['init', 'backup', 'master', 'fault'] as const;

/** The VRRP instances and sync daemons (control/ha). */
function haMetrics(x: Exposition, ha: HaRuntime): void {
  for (const s of ha.vrrpStatus()) {
    const labels = { instance: s.name, vrid: String(s.vrid), port: s.port };
    for (const st of VRRP_STATES) {
      x.add('tapvs_vrrp_state', 'gauge', 'VRRP instance state: 1 for the state it is in (init, backup, master, fault).', { ...labels, state: st }, s.state === st ? 1 : 0);
    }
    x.add('tapvs_vrrp_priority', 'gauge', 'VRRP priority of the instance.', labels, s.priority);
    x.add('tapvs_vrrp_master_priority', 'gauge', 'Priority of the master as last heard (ours when master).', labels, s.masterPriority);
    if (s.master !== null) {
      x.add('tapvs_vrrp_master_info', 'gauge', 'Who is master as last heard (its primary address; ours when master): always 1.', { ...labels, master: s.master }, 1);
    }
    if (s.lastTransition) {
      x.add('tapvs_vrrp_last_transition_timestamp_seconds', 'gauge', 'When the instance last changed state (Unix time).', labels, Math.round(s.lastTransition.at) / 1000);
    }
    const c = s.counters;
    x.add('tapvs_vrrp_adverts_sent_total', 'counter', 'VRRP advertisements sent.', labels, c.advertsSent);
    x.add('tapvs_vrrp_adverts_received_total', 'counter', 'VRRP advertisements received and taken.', labels, c.advertsReceived);
    let refused = 0;
    for (const n of Object.values(c.refused)) refused += n;
    x.add('tapvs_vrrp_adverts_refused_total', 'counter', 'VRRP advertisements refused (version, interval, addresses, checksum...).', labels, refused);
    x.add('tapvs_vrrp_became_master_total', 'counter', 'Transitions to master.', labels, c.becameMaster);
    x.add('tapvs_vrrp_became_backup_total', 'counter', 'Transitions to backup.', labels, c.becameBackup);
    x.add('tapvs_vrrp_became_fault_total', 'counter', 'Transitions to fault.', labels, c.becameFault);
  }
  for (const [state, c] of [['master', ha.sync.masterCounters], ['backup', ha.sync.backupCounters]] as const) {
    x.add('tapvs_sync_daemon_running', 'gauge', 'IPVS sync daemon running (1), by state.', { state }, c ? 1 : 0);
    if (!c) continue;
    x.add('tapvs_sync_messages_total', 'counter', 'IPVS sync messages sent (master) or taken (backup).', { state }, c.messages);
    x.add('tapvs_sync_conns_total', 'counter', 'Connection records sent (master) or read (backup).', { state }, c.conns);
    if (state === 'backup') {
      x.add('tapvs_sync_conns_created_total', 'counter', 'Connections the backup created from sync records.', {}, c.created);
      x.add('tapvs_sync_conns_updated_total', 'counter', 'Connections the backup updated from sync records.', {}, c.updated);
      x.add('tapvs_sync_records_unused_total', 'counter', 'Sync records not used, by reason.', { reason: 'no-real-server' }, c.noDest);
      x.add('tapvs_sync_records_unused_total', 'counter', '', { reason: 'protocol-or-state' }, c.skippedProto + c.skippedState);
      x.add('tapvs_sync_records_unused_total', 'counter', '', { reason: 'table-full' }, c.tableFull);
      x.add('tapvs_sync_messages_dropped_total', 'counter', 'Sync messages dropped whole (syncid, size, version).', {}, c.dropped);
    }
  }
  x.add('tapvs_vips_held_back', 'gauge', 'VIPs a VRRP backup holds back (not answered for).', {}, ha.vipsHeldBack);
}

type Labels = Record<string, string>;
type Kind = 'counter' | 'gauge';

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

/** Families in the order first added; samples of a family stay together, as the format requires. */
class Exposition {
  private readonly families = new Map<string, { kind: Kind; help: string; lines: string[] }>();

  add(name: string, kind: Kind, help: string, labels: Labels, value: number): void {
    let f = this.families.get(name);
    if (!f) {
      f = { kind, help, lines: [] };
      this.families.set(name, f);
    }
    const l = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
    f.lines.push(`${name}${l ? `{${l}}` : ''} ${formatValue(value)}`);
  }

  /** Declares a family even when it has no samples yet, so dashboards see it exists. */
  declare(name: string, kind: Kind, help: string): void {
    if (!this.families.has(name)) this.families.set(name, { kind, help, lines: [] });
  }

  text(): string {
    let out = '';
    for (const [name, f] of this.families) {
      out += `# HELP ${name} ${f.help}\n# TYPE ${name} ${f.kind}\n`;
      for (const l of f.lines) out += l + '\n';
    }
    return out;
  }
}

/**
 * `TCP 10.0.0.100:80`, `UDP 10.0.0.100:53`, `FWM 1`, `TCP [2001:db8::100]:80`,
 * `FWM 1 IPv6`: the service label (ipvsadm's names).
 */
export function serviceLabel(svc: Pick<Service, 'proto' | 'addr' | 'port' | 'fwmark'> & Partial<Pick<Service, 'af' | 'addr6'>>): string {
  const v6 = svc.af === AF_INET6;
  if (svc.fwmark) return v6 ? `FWM ${svc.fwmark} IPv6` : `FWM ${svc.fwmark}`;
  return `${protoName(svc.proto)} ${formatAddrPort(svc.addr, v6 ? svc.addr6 : undefined, svc.port)}`;
}

/** The same label from ipvsadm's service words ("-t 10.0.0.100:80", "-f 1", "-f 1 -6"), as health checks name services. */
export function serviceLabelFromKey(key: string): string {
  const m = /^(-[tuf]|--sctp-service)\s+(.+?)(\s+-6)?$/.exec(key.trim());
  if (!m) return key;
  return `${m[1] === '-t' ? 'TCP' : m[1] === '-u' ? 'UDP' : m[1] === '-f' ? 'FWM' : 'SCTP'} ${m[2]}${m[3] ? ' IPv6' : ''}`;
}

/** `192.168.10.11:80`, `[2001:db8::11]:80`. */
export function realServerLabel(d: Pick<Dest, 'addr' | 'port'> & Partial<Pick<Dest, 'af' | 'addr6'>>): string {
  return formatAddrPort(d.addr, d.af === AF_INET6 ? d.addr6 : undefined, d.port);
}

/**
 * An address as node_exporter labels it: Go's net.IP.String() of what
 * procfs parsed from /proc/net/ip_vs. IPv6 as RFC 5952 (lower case, the
 * longest run of two or more zero groups as '::', the first of equal runs),
 * never with a dotted tail, except that an IPv4-mapped address prints as
 * the IPv4 address alone.
 */
export function goIpString(addr: number, addr6?: Uint32Array): string {
  if (!addr6) return formatIpv4(addr);
  const w = addr6;
  if (w[0] === 0 && w[1] === 0 && w[2] === 0xffff) return formatIpv4(w[3]!);
  const g: number[] = [];
  for (let i = 0; i < 4; i++) g.push(w[i]! >>> 16, w[i]! & 0xffff);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (a: number[]): string => a.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

function traffic(x: Exposition, prefix: string, what: string, labels: Labels, s: Stats): void {
  x.add(`${prefix}_connections_total`, 'counter', `Connections scheduled to the ${what}.`, labels, s.conns);
  x.add(`${prefix}_in_packets_total`, 'counter', `Packets from clients to the ${what}.`, labels, s.inpkts);
  x.add(`${prefix}_out_packets_total`, 'counter', `Packets from the ${what} to clients.`, labels, s.outpkts);
  x.add(`${prefix}_in_bytes_total`, 'counter', `Bytes from clients to the ${what}.`, labels, s.inbytes);
  x.add(`${prefix}_out_bytes_total`, 'counter', `Bytes from the ${what} to clients.`, labels, s.outbytes);
}

function rates(x: Exposition, prefix: string, what: string, labels: Labels, s: Stats): void {
  x.add(`${prefix}_connections_per_second`, 'gauge', `New connections per second to the ${what} (smoothed, as ipvsadm --rate).`, labels, s.cps);
  x.add(`${prefix}_in_packets_per_second`, 'gauge', `Packets per second from clients to the ${what} (smoothed).`, labels, s.inpps);
  x.add(`${prefix}_out_packets_per_second`, 'gauge', `Packets per second from the ${what} to clients (smoothed).`, labels, s.outpps);
  x.add(`${prefix}_in_bytes_per_second`, 'gauge', `Bytes per second from clients to the ${what} (smoothed).`, labels, s.inbps);
  x.add(`${prefix}_out_bytes_per_second`, 'gauge', `Bytes per second from the ${what} to clients (smoothed).`, labels, s.outbps);
}

function conns(x: Exposition, prefix: string, what: string, labels: Labels, active: number, inact: number, persist: number): void {
  x.add(`${prefix}_active_connections`, 'gauge', `Connections of the ${what} in an active state (ActiveConn).`, labels, active);
  x.add(`${prefix}_inactive_connections`, 'gauge', `Connections of the ${what} in any other state (InActConn).`, labels, inact);
  x.add(`${prefix}_persistent_connections`, 'gauge', `Persistence templates pointing at the ${what} (PersistConn).`, labels, persist);
}

/** "%08X" of a firewall mark, as /proc/net/ip_vs prints it and node_exporter labels it (local_mark). */
export const markLabel = (mark: number): string => (mark >>> 0).toString(16).toUpperCase().padStart(8, '0');

/**
 * node_exporter's IPVS collector (collector/ipvs_linux.go) over tapvs's
 * tables: the global totals of /proc/net/ip_vs_stats and one sample per
 * virtual/real server pair of /proc/net/ip_vs, with its names, help texts,
 * labels (sorted by name, as client_golang writes them) and values, so that
 * dashboards and alerts written for node_exporter read tapvs unchanged.
 * A fwmark service has local_address "", local_port "0", proto "FWM" and its
 * mark as local_mark; others have local_mark "". Samples with the same
 * labels are summed, as the collector sums them.
 */
function nodeIpvs(x: Exposition, d: Director): void {
  type Sum = { labels: Labels; active: number; inact: number; weight: number };
  const sums = new Map<string, Sum>();
  for (const { svc, dests } of sortedServices(d)) {
    for (const dest of dests) {
      const labels: Labels = {
        local_address: svc.fwmark ? '' : goIpString(svc.addr, svc.af === AF_INET6 ? svc.addr6 : undefined),
        local_mark: svc.fwmark ? markLabel(svc.fwmark) : '',
        local_port: svc.fwmark ? '0' : String(svc.port),
        proto: svc.fwmark ? 'FWM' : protoName(svc.proto),
        remote_address: goIpString(dest.addr, dest.af === AF_INET6 ? dest.addr6 : undefined),
        remote_port: String(dest.port),
      };
      const key = Object.values(labels).join('-');
      const s = sums.get(key) ?? { labels, active: 0, inact: 0, weight: 0 };
      s.active += dest.activeConns;
      s.inact += dest.inactConns;
      s.weight += dest.weight;
      sums.set(key, s);
    }
  }
  const backends = [...sums.values()];
  x.declare('node_ipvs_backend_connections_active', 'gauge', 'The current active connections by local and remote address.');
  for (const b of backends) x.add('node_ipvs_backend_connections_active', 'gauge', '', b.labels, b.active);
  x.declare('node_ipvs_backend_connections_inactive', 'gauge', 'The current inactive connections by local and remote address.');
  for (const b of backends) x.add('node_ipvs_backend_connections_inactive', 'gauge', '', b.labels, b.inact);
  x.declare('node_ipvs_backend_weight', 'gauge', 'The current backend weight by local and remote address.');
  for (const b of backends) x.add('node_ipvs_backend_weight', 'gauge', '', b.labels, b.weight);
  const t = d.totals;
  x.add('node_ipvs_connections_total', 'counter', 'The total number of connections made.', {}, t.conns);
  x.add('node_ipvs_incoming_bytes_total', 'counter', 'The total amount of incoming data.', {}, t.inbytes);
  x.add('node_ipvs_incoming_packets_total', 'counter', 'The total number of incoming packets.', {}, t.inpkts);
  x.add('node_ipvs_outgoing_bytes_total', 'counter', 'The total amount of outgoing data.', {}, t.outbytes);
  x.add('node_ipvs_outgoing_packets_total', 'counter', 'The total number of outgoing packets.', {}, t.outpkts);
}

/** Services in ipvsadm's order (fwmark, family, protocol, address, port), real servers by address and port. */
function sortedServices(d: Director): { svc: Service; dests: readonly Dest[] }[] {
  return sortServices(d.services.all).map((svc) => ({ svc, dests: sortDests(svc.dests) }));
}

/** The whole exposition, read from the live tables (control plane: allocates freely). */
export function renderMetrics(src: MetricsSource): string {
  const x = new Exposition();
  const d = src.director;
  nodeIpvs(x, d);
  const services = [...d.services.all].sort((a, b) => serviceLabel(a).localeCompare(serviceLabel(b)));
  for (const svc of services) {
    const labels = { service: serviceLabel(svc) };
    let a = 0, i = 0, p = 0;
    for (const dest of svc.dests) {
      a += dest.activeConns;
      i += dest.inactConns;
      p += dest.persistConns;
    }
    traffic(x, 'tapvs_service', 'virtual service', labels, svc.stats);
    conns(x, 'tapvs_service', 'virtual service', labels, a, i, p);
    rates(x, 'tapvs_service', 'virtual service', labels, svc.stats);
  }
  for (const svc of services) {
    const service = serviceLabel(svc);
    const dests = sortDests(svc.dests);
    for (const dest of dests) {
      const labels = { service, real_server: realServerLabel(dest) };
      traffic(x, 'tapvs_real_server', 'real server', labels, dest.stats);
      conns(x, 'tapvs_real_server', 'real server', labels, dest.activeConns, dest.inactConns, dest.persistConns);
      rates(x, 'tapvs_real_server', 'real server', labels, dest.stats);
      x.add('tapvs_real_server_weight', 'gauge', 'Scheduling weight of the real server (0: quiesced).', labels, dest.weight);
    }
  }
  const health = src.health?.();
  if (health) {
    x.declare('tapvs_real_server_up', 'gauge', 'Health check result per real server and check kind: 1 up, 0 down.');
    for (const h of health) {
      x.add('tapvs_real_server_up', 'gauge', '', { service: serviceLabelFromKey(h.service), real_server: h.dest, check: h.kind }, h.up ? 1 : 0);
    }
  }

  if (src.ha) haMetrics(x, src.ha);

  x.add('tapvs_conn_table_entries', 'gauge', 'Connections and persistence templates in the connection table.', {}, d.conns.size);
  x.add('tapvs_conn_table_max', 'gauge', 'Capacity of the connection table (option max_conns).', {}, d.conns.max);
  const cc = d.conns.counters;
  x.add('tapvs_conns_created_total', 'counter', 'Connections created (templates not included).', {}, cc.conns);
  x.add('tapvs_templates_created_total', 'counter', 'Persistence templates created.', {}, cc.templates);
  x.add('tapvs_conns_expired_total', 'counter', 'Connection table entries reaped after their timeout.', {}, cc.expired);
  x.add('tapvs_conns_expired_early_total', 'counter', 'Connection table entries ended before their timeout (dest removed, rescheduled).', {}, cc.expiredEarly);

  DROP_REASONS.forEach((reason, idx) => {
    x.add('tapvs_drops_total', 'counter', 'Frames dropped by the director, by reason.', { reason }, d.drops.counts[idx]!);
  });
  x.add('tapvs_frames_received_total', 'counter', 'Frames handed to the director by its ports.', {}, d.counters.framesIn);
  x.add('tapvs_frames_sent_total', 'counter', 'Frames the director sent out of its ports.', {}, d.counters.framesOut);
  x.add('tapvs_frames_forwarded_total', 'counter', 'Frames forwarded through a connection or a route.', {}, d.counters.forwarded);
  x.add('tapvs_icmp_sent_total', 'counter', 'ICMP messages the director sent (errors and echo replies).', {}, d.counters.icmpSent);
  x.add('tapvs_icmp_rate_limited_total', 'counter', 'ICMP errors not sent because of the rate limit (1000/s, burst 50).', {}, d.counters.icmpRateLimited);

  for (const p of src.ports) {
    const labels = { port: p.name };
    x.add('tapvs_port_rx_frames_total', 'counter', 'Frames received on the port.', labels, p.counters.rxFrames);
    x.add('tapvs_port_tx_frames_total', 'counter', 'Frames sent on the port.', labels, p.counters.txFrames);
    x.add('tapvs_port_rx_dropped_total', 'counter', 'Frames received on the port but not handed to the director.', labels, p.counters.rxDropped + p.counters.rxTooBig);
    x.add('tapvs_port_tx_errors_total', 'counter', 'Frames the port failed to send.', labels, p.counters.txErrors);
    const off = (p as { offloadCounters?: Record<string, number> }).offloadCounters;
    if (off) {
      x.add('tapvs_port_rx_gso_frames_total', 'counter', 'TCP super-frames received (offload=tso).', labels, off.rxGso ?? 0);
      x.add('tapvs_port_tx_gso_frames_total', 'counter', 'TCP super-frames sent whole (offload=tso).', labels, off.txGso ?? 0);
      x.add('tapvs_port_tx_segmented_frames_total', 'counter', 'Super-frames cut into segments in software.', labels, off.txSegmented ?? 0);
    }
  }
  const w = src.writer;
  if (w) {
    x.add('tapvs_tx_thread_active', 'gauge', 'Whether TAP writes are being handed to the writer thread now (1) or written inline (0).', {}, w.active ? 1 : 0);
    x.add('tapvs_tx_thread_frames_total', 'counter', 'Frames handed to the writer thread.', {}, w.counters.handed);
    x.add('tapvs_tx_thread_ring_full_total', 'counter', "Frames refused because the writer thread's ring was full (also in the port's tx errors).", {}, w.counters.ringFull);
    x.add('tapvs_tx_thread_handoffs_total', 'counter', 'Hand-off periods begun (writes held the forwarding thread, or a probe found handing off paid).', {}, w.counters.handOffs);
    x.add('tapvs_tx_thread_probes_total', 'counter', 'Inline probes made to see whether handing off pays.', {}, w.counters.probes);
    x.add('tapvs_tx_thread_backoffs_total', 'counter', 'Probes after which hand-offs stopped for 10 s or until the writes went quiet (handing off did not write more frames per ms, or the machine had no idle CPU).', {}, w.counters.backoffs);
  }
  return x.text();
}

export interface MetricsServer {
  /** Where it listens (the port is the real one when 0 was asked for). */
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

/** Splits "ADDR:PORT" (numeric IPv4, as the config checks it). */
export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const port = Number(listen.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`metrics_listen '${listen}' is not ADDR:PORT`);
  const host = listen.slice(0, i);
  // [ADDR6]:PORT, as ipvsadm writes IPv6 addresses with a port
  return { host: host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host, port };
}

/** Serves GET /metrics on `listen` ("127.0.0.1:9107", "[::1]:9107"). */
export async function startMetricsServer(listen: string, render: () => string): Promise<MetricsServer> {
  const { host, port } = parseListen(listen);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('tapvs: metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    let body: string;
    try {
      body = render();
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`tapvs: ${(e as Error).message}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    // name the option, so that "address in use" says which setting to change
    const fail = (e: NodeJS.ErrnoException): void => reject(new Error(`option metrics_listen ${listen}: ${e.code === 'EADDRINUSE' ? 'address already in use' : e.message}`));
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return {
    address: { host: a.address, port: a.port },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
