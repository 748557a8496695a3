// keepalived.conf as read: the blocks tapvs understands, with what was
// written (undefined: left out, so keepalived's defaults and inheritance
// can be applied in one place, translate.ts). Addresses are kept as text
// with their family (translate.ts turns them into IPv4 or IPv6 services).
import type { Where } from './lexer.js';

export interface KaAddr {
  family: 4 | 6;
  text: string;
}

export type KaFwd = 'NAT' | 'DR' | 'TUN';
/** `lb_kind TUN type gue port N [nocsum|csum|remcsum]` / `type gre [nocsum|csum]`: the tunnel (model/dest.ts TUN_*, TUN_F_*). */
export interface KaTun { type: number; port: number; flags: number }

export interface KaCheckerCommon {
  connectIp?: KaAddr;
  connectPort?: number;
  bindto?: KaAddr;
  bindPort?: number;
  connectTimeoutMs?: number;
  retry?: number;
  delayBeforeRetryMs?: number;
  warmupMs?: number;
  delayLoopMs?: number;
  alpha?: boolean;
  logAllFailures?: boolean;
}

export interface KaUrl extends Where {
  path?: string;
  digest?: string;
  status: [number, number][];
  virtualhost?: string;
  regex?: string;
  regexFlags?: string;
  regexNoMatch?: boolean;
  regexMinOffset?: number;
  regexMaxOffset?: number;
}

export type KaChecker = Where & KaCheckerCommon & (
  | { kind: 'TCP_CHECK' }
  | { kind: 'HTTP_GET' | 'SSL_GET'; urls: KaUrl[]; virtualhost?: string; httpProtocol?: '1.0' | '1.1' | '1.0C'; sni?: boolean; fastRecovery?: boolean }
  | { kind: 'MISC_CHECK'; argv?: string[]; timeoutS?: number; dynamic: boolean; user?: { user: string; group?: string } }
  | { kind: 'SMTP_CHECK'; heloName?: string }
  | { kind: 'DNS_CHECK'; type?: number; name?: string }
  | { kind: 'UDP_CHECK'; payload?: string; requireReply?: boolean; reply?: string; replyMask?: string; minReply?: number; maxReply?: number }
  | { kind: 'PING_CHECK' }
  | { kind: 'FILE_CHECK'; trackFile?: string }
);

export interface KaRealServer extends Where {
  addr: KaAddr;
  port?: number;
  weight?: number;
  fwd?: KaFwd;
  tun?: KaTun;
  uthreshold?: number;
  lthreshold?: number;
  inhibit?: boolean;
  notifyUp?: { argv: string[]; user?: { user: string; group?: string } };
  notifyDown?: { argv: string[]; user?: { user: string; group?: string } };
  alpha?: boolean;
  retry?: number;
  delayBeforeRetryMs?: number;
  warmupMs?: number;
  connectTimeoutMs?: number;
  delayLoopMs?: number;
  virtualhost?: string;
  checkers: KaChecker[];
}

export interface KaVirtualServer extends Where {
  key: { kind: 'addr'; addr: KaAddr; port: number } | { kind: 'fwmark'; mark: number } | { kind: 'group'; name: string };
  family?: 4 | 6;
  delayLoopMs?: number;
  scheduler?: string;
  fwd?: KaFwd;
  tun?: KaTun;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  persistenceTimeout?: number;
  persistenceGranularity?: number;
  /** persistence_granularity of an IPv6 service: a prefix length (1..128). */
  persistencePrefix6?: number;
  virtualhost?: string;
  alpha: boolean;
  omega: boolean;
  quorum?: number;
  hysteresis?: number;
  quorumUp?: { argv: string[]; user?: { user: string; group?: string } };
  quorumDown?: { argv: string[]; user?: { user: string; group?: string } };
  inhibit: boolean;
  retry?: number;
  delayBeforeRetryMs?: number;
  warmupMs?: number;
  connectTimeoutMs?: number;
  weight?: number;
  ops: boolean;
  schedFlags: string[];
  sorry?: Where & { addr: KaAddr; port?: number; fwd?: KaFwd; tun?: KaTun; inhibit: boolean };
  realServers: KaRealServer[];
}

/** A virtual_server_group entry: an address (range) with a port, or a fwmark. */
export type KaGroupEntry = Where & ({ kind: 'addr'; first: KaAddr; last: KaAddr; port: number } | { kind: 'fwmark'; mark: number; family?: 4 | 6 });

export interface KaGroup extends Where {
  name: string;
  entries: KaGroupEntry[];
}

/** A block as written, whole (vrrp_instance's base, vrrp_sync_group). */
export interface KaRawBlock extends Where {
  keyword: string;
  args: string[];
  /** keyword -> argument words, one entry per statement, nested blocks as `children`. */
  body: KaRawStmt[];
}
export interface KaRawStmt extends Where {
  keyword: string;
  args: string[];
  children?: KaRawStmt[];
}

/** A virtual_ipaddress(_excluded) entry: ADDR[/LEN] [dev IF] (brd/scope/label are read and do not matter to tapvs). */
export interface KaVip extends Where {
  addr: KaAddr;
  prefix?: number;
  dev?: string;
}

export interface KaVrrpInstance extends KaRawBlock {
  name: string;
  state?: 'MASTER' | 'BACKUP';
  interface?: string;
  /** Where `interface` was written. */
  interfaceAt?: Where;
  virtualRouterId?: number;
  priority?: number;
  advertIntS?: number;
  version?: 2 | 3;
  nopreempt?: boolean;
  preemptDelayS?: number;
  garpMasterDelayS?: number;
  garpMasterRepeat?: number;
  /** The addresses as written (kept for messages and the earlier tests). */
  virtualIpaddress: string[];
  vips: KaVip[];
  excluded: KaVip[];
}

/** global_defs lvs_sync_daemon IF INSTANCE [id N] [maxlen N] [port N] [ttl N] [group ADDR]. */
export interface KaLvsSyncDaemon extends Where {
  interface: string;
  instance: string;
  id?: number;
  maxlen?: number;
  port?: number;
  ttl?: number;
  group?: string;
}

export interface KaGlobal {
  routerId?: string;
  scriptUser?: { user: string; group?: string };
  enableScriptSecurity: boolean;
  lvsTimeouts?: { tcp?: number; tcpfin?: number; udp?: number };
  checkerLogAllFailures: boolean;
  lvsSyncDaemon?: KaLvsSyncDaemon;
  vrrpVersion?: 2 | 3;
  vrrpGarpMasterDelayS?: number;
  vrrpGarpMasterRepeat?: number;
}

export interface KaTrackFile extends Where {
  name: string;
  /** The tracked file's path. */
  path?: string;
  weight?: number;
}

export interface KeepalivedConf {
  global: KaGlobal;
  virtualServers: KaVirtualServer[];
  groups: KaGroup[];
  trackFiles: KaTrackFile[];
  vrrpInstances: KaVrrpInstance[];
  vrrpSyncGroups: KaRawBlock[];
}
