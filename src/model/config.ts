import type { DestSpec } from './dest.js';
import type { ServiceSpec } from './service.js';
import type { MarkRule } from './services.js';

/**
 * The parsed form of a tapvs config file: what `tapvs run` and `tapvs replay`
 * start a director from. Addresses are uint32, MACs are 48-bit numbers.
 */
export interface DirectorConfig {
  ports: PortConfig[];
  vips: VipConfig[];
  routes: RouteConfig[];
  marks: MarkRule[];
  services: ServiceConfig[];
  timeouts: { tcp: number; tcpfin: number; udp: number }; // seconds, as ipvsadm --set
  options: DirectorOptions;
  healthChecks: HealthCheckConfig[];
  /** Static neighbours (like `ip neigh add ... nud permanent`): no ARP needed for them. */
  neighbours?: { addr: number; mac: number; line?: number }[];
}

export interface PortConfig {
  name: string;
  /** tap: create/attach a TAP; pcap: attach to an existing interface; memory: tests/replay only. */
  kind: 'tap' | 'pcap' | 'memory';
  /** Kernel interface name (TAP name or NIC to attach to); defaults to `name`. */
  device?: string;
  mac: number;
  addrs: { addr: number; prefix: number }[];
  mtu: number;
  /** Move the TAP netdev into this network namespace after creating it. */
  netns?: string;
  /** Enslave the TAP netdev to this bridge (in `netns` when given), e.g. a lab LAN. */
  bridge?: string;
  /**
   * 'tso': the TAP exchanges TCP super-frames (up to 64 KB) and unfinished
   * checksums with the kernel (IFF_VNET_HDR, TUNSETOFFLOAD). Absent: plain frames.
   */
  offload?: 'tso';
  /** Line in the config file, for error messages. */
  line?: number;
}

export interface VipConfig {
  addr: number;
  port: string; // the director port on which the VIP is answered for (ARP, ICMP echo)
  line?: number;
}

export interface RouteConfig {
  dst: number;
  prefix: number;
  via: number;
  port?: string;
  line?: number;
}

export interface ServiceConfig extends ServiceSpec {
  dests: DestSpec[];
  /** keepalived's sorry_server: put in while no real server has weight > 0 (health checks do it). */
  sorry?: DestSpec;
  line?: number;
}

export interface DirectorOptions {
  maxConns: number;
  /** IPVS expire_nodest_conn. */
  expireNodestConn: boolean;
  /** IPVS expire_quiescent_template. */
  expireQuiescentTemplate: boolean;
  /** What to do with packets from real servers that match no connection. */
  unmatchedFromRealServer: 'route' | 'drop';
  /** Fragments: see the README (reassemble or follow the first fragment). */
  neighbourQueue: number; // frames held per unresolved next hop
  arpRetries: number;
  arpRetryMs: number;
  controlSocket?: string;
  metricsListen?: string; // e.g. "127.0.0.1:9107"
  /** Run health checks inside this network namespace (through a probe agent), unless a check names its own. */
  checkNetns?: string;
}

export interface HealthCheckConfig {
  /** Which real server: the service key and the dest addr:port. */
  service: string; // e.g. "-t 10.0.0.100:80" or "-f 1"
  dest: { addr: number; port: number };
  kind: 'tcp' | 'http' | 'icmp' | 'misc';
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  /** http */
  path?: string;
  expectStatus?: number;
  digest?: string;
  /** misc */
  command?: string;
  /** tcp/http: port to connect to, defaults to the dest port */
  connectPort?: number;
  /** inhibit_on_failure: set weight 0 instead of removing */
  inhibitOnFailure: boolean;
  /** Probe from inside this network namespace (overrides option check_netns). */
  netns?: string;
  line?: number;
}

export const DEFAULT_OPTIONS: DirectorOptions = {
  maxConns: 1 << 20,
  expireNodestConn: false,
  expireQuiescentTemplate: false,
  unmatchedFromRealServer: 'route',
  neighbourQueue: 16,
  arpRetries: 3,
  arpRetryMs: 1000,
};
