// The high-availability pair as configured: VRRP instances (control/vrrp),
// IPVS sync daemons and their sysctls (control/sync). The config file's
// `vrrp` and `sync` lines and keepalived.conf's vrrp_instance and
// lvs_sync_daemon read into this (control/ha-config.ts, control/keepalived).

export interface VrrpInstanceConfig {
  name: string;
  /** Virtual router id, 1..255. */
  vrid: number;
  /** 1..255 (255: the address owner). */
  priority: number;
  /** 2 (IPv4 only) or 3. */
  version: 2 | 3;
  /** Advertisement interval, centiseconds (v2: whole seconds, so a multiple of 100). */
  intervalCs: number;
  /** Preempt_Mode: a higher-priority backup takes over from a lower-priority master. */
  preempt: boolean;
  /** Preemption waits this long after the first lower-priority advert (keepalived's preempt_delay); 0: at once. */
  preemptDelayMs: number;
  /** The port adverts go out of and come in on. */
  port: string;
  /** The addresses in the adverts (the VIPs this router moves). */
  addrs: number[];
  /** Moved with the others but not advertised (keepalived's virtual_ipaddress_excluded: a NAT gateway on another port). */
  excluded: number[];
  /** Gratuitous ARPs per address on becoming master, and the second round's delay (keepalived: 5 and 5 s). */
  garpRepeat: number;
  garpDelayMs: number;
  /** Where in the config it was set (for messages). */
  line?: number;
}

/** The sync sysctls (net.ipv4.vs.*). */
export interface SyncSettings {
  /** sync_threshold's first value: the packet count that syncs a conn. */
  syncThreshold: number;
  /** sync_threshold's second value (sync_period): sync again every this many packets (0: once). */
  syncPeriod: number;
  /** sync_refresh_period, seconds (0: off). */
  syncRefreshPeriod: number;
  /** sync_retries, 0..3. */
  syncRetries: number;
  /** sync_version: 1 (default) or 0. */
  syncVersion: 0 | 1;
  /** sync_persist_mode: conns under a persistence template are not sent (their template is). */
  syncPersistMode: boolean;
  /** backup_only: while a backup daemon runs, the director function is off. */
  backupOnly: boolean;
}

export type SyncState = 'master' | 'backup';

/** What `ipvsadm --start-daemon` gives (0 / undefined: the default). */
export interface SyncDaemonSpec {
  state: SyncState;
  /** --mcast-interface: the tapvs port (ipvsadm's default name is eth0). */
  mcastIfn: string;
  syncid?: number;
  syncMaxlen?: number;
  /** --mcast-group (IPv4; default 224.0.0.81). */
  mcastGroup?: number;
  mcastPort?: number;
  mcastTtl?: number;
}

export interface HaConfig {
  vrrp: VrrpInstanceConfig[];
  /** Daemons started with the director (`sync master|backup ...`, as ipvsadm --start-daemon). */
  sync: SyncDaemonSpec[];
  /**
   * keepalived's lvs_sync_daemon: the daemon follows a VRRP instance, master
   * while it is master and backup otherwise (syncid: the instance's VRID
   * unless given).
   */
  syncFollow?: { instance: string; spec: Omit<SyncDaemonSpec, 'state'>; line?: number };
  /** Sync sysctls set in the config (`option sync_threshold 3 50`, `option backup_only 1` ...). */
  syncSettings: Partial<SyncSettings>;
}

export function emptyHaConfig(): HaConfig {
  return { vrrp: [], sync: [], syncSettings: {} };
}
