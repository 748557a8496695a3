import type { DestSpec } from './dest.js';
import type { HaConfig } from './ha.js';
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
  /**
   * Static neighbours (like `ip neigh add ... nud permanent`): no ARP (or,
   * for an IPv6 `addr6`, no neighbour discovery) needed for them.
   */
  neighbours?: { addr: number; mac: number; addr6?: Uint32Array; line?: number }[];
  /** The high-availability pair: VRRP instances, sync daemons and their sysctls (model/ha.ts); absent: none. */
  ha?: HaConfig;
}

export interface PortConfig {
  name: string;
  /** tap: create/attach a TAP; pcap: attach to an existing interface; memory: tests/replay only. */
  kind: 'tap' | 'pcap' | 'memory';
  /** Kernel interface name (TAP name or NIC to attach to); defaults to `name`. */
  device?: string;
  mac: number;
  addrs: { addr: number; prefix: number }[];
  /**
   * IPv6 addresses with their prefix lengths (each prefix a connected
   * network). Every port also has a link-local address, fe80::/64 with the
   * EUI-64 interface id of its MAC, whether or not any is given here.
   */
  addrs6?: { addr: Uint32Array; prefix: number }[];
  mtu: number;
  /** Move the TAP netdev into this network namespace after creating it. */
  netns?: string;
  /** Enslave the TAP netdev to this bridge (in `netns` when given), e.g. a lab LAN. */
  bridge?: string;
  /**
   * TAP ports: 'tso' or absent (the default) — the TAP exchanges TCP
   * super-frames (up to 64 KB) and partial checksums with the kernel
   * (IFF_VNET_HDR, TUNSETOFFLOAD); 'none' (`offload=none` or `off`): plain
   * frames, every checksum finished.
   */
  offload?: 'tso' | 'none';
  /** Line in the config file, for error messages. */
  line?: number;
}

export interface VipConfig {
  addr: number;
  /** An IPv6 VIP (then `addr` is unused, 0): answered with neighbour discovery and ICMPv6 echo. */
  addr6?: Uint32Array;
  port: string; // the director port on which the VIP is answered for (ARP / ND, ICMP echo)
  line?: number;
}

export interface RouteConfig {
  dst: number;
  /** 0..32, or 0..128 for an IPv6 route. */
  prefix: number;
  via: number;
  /** An IPv6 route (then dst and via are unused, 0): to dst6/prefix through the gateway via6. */
  dst6?: Uint32Array;
  /** The IPv6 gateway; a link-local one (fe80::/10) needs `port`, as `ip -6 route ... via fe80::1 dev X`. */
  via6?: Uint32Array;
  port?: string;
  line?: number;
}

export interface ServiceConfig extends ServiceSpec {
  dests: DestSpec[];
  /** keepalived's sorry_server: put in while no real server has weight > 0 (health checks do it). */
  sorry?: DestSpec;
  /** keepalived's virtual-server health settings (quorum, hysteresis, scripts); absent: quorum 1, no scripts. */
  pool?: PoolHealthConfig;
  line?: number;
}

/** keepalived's pool rules for one virtual server (ipwrapper.c's quorum handling). */
export interface PoolHealthConfig {
  /** Sum of alive real servers' weights needed (default 1). */
  quorum: number;
  hysteresis: number;
  /** Commands run (argv, no shell) when the quorum is gained / lost. */
  quorumUp?: string[];
  quorumDown?: string[];
  /** omega: run quorum_down and the real servers' notify_down when tapvs stops. */
  omega: boolean;
  /** sorry_server_inhibit: the sorry server stays in the service with weight 0 while unused. */
  sorryInhibit: boolean;
  /** Who scripts run as (keepalived's script_user; absent: tapvs's own user). */
  scriptUser?: { uid: number; gid: number };
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
  /** IPVS drop_entry, drop_packet, secure_tcp (0..3), amemthresh (free slots), am_droprate; absent: the kernel's defaults (conn/defense.ts). */
  dropEntry?: number;
  dropPacket?: number;
  secureTcp?: number;
  amemthresh?: number;
  amDroprate?: number;
  /** A full table gives the oldest embryonic TCP conn's slot to a new conn (tapvs's SYN-flood defence); absent: on. */
  evictEmbryonic?: boolean;
  /** TCP ports whose NAT conns get the FTP helper (ip_vs_ftp's `ports`; option ftp_ports); absent: [21], empty: none. */
  ftpPorts?: readonly number[];
  /** The other IPVS sysctls (control/sysctl.ts, conn/table.ts ConnSettings); absent: the kernel's defaults. */
  connReuseMode?: number;
  sloppyTcp?: boolean;
  sloppySctp?: boolean;
  scheduleIcmp?: boolean;
  natIcmpSend?: boolean;
  pmtuDisc?: boolean;
  ignoreTunneled?: boolean;
  cacheBypass?: boolean;
  runEstimation?: boolean;
  /** lblc_expiration / lblcr_expiration, seconds. */
  lblcExpiration?: number;
  lblcrExpiration?: number;
}

export interface HealthCheckConfig {
  /** Which real server: the service key and the dest addr:port. */
  service: string; // e.g. "-t 10.0.0.100:80", "-t [2001:db8::100]:80", "-f 1" or "-f 1 -6"
  /** The real server; an IPv6 one has addr 0 and its address in addr6. */
  dest: { addr: number; port: number; addr6?: Uint32Array };
  kind: 'tcp' | 'http' | 'icmp' | 'misc' | 'ssl' | 'smtp' | 'dns' | 'udp' | 'file';
  /** keepalived's delay_loop: time between checks once a verdict is reached. */
  intervalMs: number;
  /** keepalived's connect_timeout (misc: misc_timeout). */
  timeoutMs: number;
  /** Failures in a row that take the server down (`check` lines); the checker uses `retry` when set. */
  retries: number;
  /**
   * keepalived's retry: after a failure while up, probe again `retry` times
   * `delayBeforeRetryMs` apart; the server goes down on the retry+1-th
   * failure in a row. Absent: retries - 1, `intervalMs` apart.
   */
  retry?: number;
  delayBeforeRetryMs?: number;
  /** keepalived's warmup: the first probe goes out at a random time within this (absent: at once). */
  warmupMs?: number;
  /** Fixed delay before the first probe (keepalived waits 1 s at start). */
  startDelayMs?: number;
  /** keepalived's alpha: the check starts failed (the server is out until a probe succeeds). */
  alpha?: boolean;
  /** The probe's own settings beyond the `check` line's (keepalived's checkers). */
  probe?: ProbeOptions;
  /** Commands (argv, no shell) run when the real server goes up / down (keepalived's notify_up / notify_down). */
  notifyUp?: string[];
  notifyDown?: string[];
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

/** Probe settings of keepalived's checkers (all optional; the probe's defaults are keepalived's). */
export interface ProbeOptions {
  /** connect_ip: probe this address instead of the real server's (numeric text, IPv4 or IPv6). */
  connectIp?: string;
  /** bindto / bind_port: the probe's source. */
  bindto?: string;
  bindPort?: number;
  /** HTTP_GET / SSL_GET: the urls, checked in turn. */
  urls?: HttpUrlCheck[];
  /** http_protocol: 1.0 (default), 1.1 (adds Connection: close), 1.0C (1.0 with Connection: close). */
  httpProtocol?: '1.0' | '1.1' | '1.0C';
  /** SSL_GET's enable_sni (server name = the virtualhost). */
  sni?: boolean;
  /** MISC_CHECK: argv (no shell); misc_dynamic: exit 2..255 sets the weight to status - 2. */
  argv?: string[];
  miscDynamic?: boolean;
  /** MISC_CHECK user: uid/gid the command runs as. */
  uid?: number;
  gid?: number;
  /** DNS_CHECK type (number) and name. */
  dnsType?: number;
  dnsName?: string;
  /** UDP_CHECK: payload to send, reply wanted (bytes with a mask of don't-care bits), lengths. */
  udpPayload?: string; // hex
  udpRequireReply?: boolean;
  udpReply?: string; // hex
  udpReplyMask?: string; // hex
  udpMinReply?: number;
  udpMaxReply?: number;
  /** SMTP_CHECK helo_name. */
  heloName?: string;
  /** FILE_CHECK: the file whose number decides (0: up). */
  file?: string;
}

/** One url of an HTTP_GET / SSL_GET. */
export interface HttpUrlCheck {
  path: string;
  /** Lower-case MD5 hex of the body. */
  digest?: string;
  /** Accepted status codes as inclusive ranges (default 200-299). */
  status: [number, number][];
  virtualhost?: string;
  /** A JavaScript regular expression the body must (or, with regexNoMatch, must not) match. */
  regex?: string;
  regexFlags?: string;
  regexNoMatch?: boolean;
  regexMinOffset?: number;
  regexMaxOffset?: number;
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
