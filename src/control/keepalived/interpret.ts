// The statements of a keepalived.conf read into the model (model.ts), with
// keepalived's keywords, value rules and messages' spirit. A keyword
// keepalived does not know is "Unknown keyword"; one keepalived knows but
// tapvs cannot honour is refused by name with the reason. Nothing is
// skipped silently.
import { isIPv4, isIPv6 } from 'node:net';
import { ip6ToString, parseIp6 } from '../../wire/addr6.js';
import type { LexError, Where, Word } from './lexer.js';
import type {
  KaAddr, KaChecker, KaCheckerCommon, KaFwd, KaGlobal, KaGroup, KaGroupEntry, KaLvsSyncDaemon, KaRawBlock, KaRawStmt, KaRealServer, KaTrackFile,
  KaTun, KaUrl, KaVip, KaVirtualServer, KaVrrpInstance, KeepalivedConf,
} from './model.js';
import type { Stmt } from './tree.js';
import { TUN_F_CSUM, TUN_F_NOCSUM, TUN_F_REMCSUM, TUN_GRE, TUN_GUE, TUN_IPIP } from '../../model/dest.js';

export interface Diagnostics {
  errors: LexError[];
  warnings: LexError[];
}

/** keepalived's schedulers (check_parser.c's list); tapvs has them all. */
const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'sh', 'mh', 'dh', 'fo', 'ovf', 'lblcr', 'sed', 'nq', 'twos'];
const WEIGHT_MAX = 2147483647;
const LVS_MAX_TIMEOUT = 86400 * 31;
const FWMARK_MAX = 4294967295;

const NO_SMTP = 'tapvs sends no e-mail alerts (it logs every transition)';
const NO_SNMP = 'tapvs has no SNMP agent';
const NO_BFD = 'tapvs has no BFD';
const NO_TRACK = "tapvs's VRRP tracks nothing (no scripts, processes, files, interfaces or BFD): an instance's priority is the one configured";
const NO_NOTIFY = 'tapvs runs no notify scripts (it logs every VRRP transition; `tapvs vrrp` and the metrics show the state)';
const VRRP_MCAST = 'tapvs sends VRRP adverts to 224.0.0.18, as RFC 5798 says';
const VRRP_PROCESS = 'a keepalived VRRP process setting with no counterpart in tapvs';
const NO_SYNC_GROUP = "tapvs's VRRP instances change state on their own: a sync group is not supported. One vrrp_instance with virtual_ipaddress_excluded moves the other side's addresses with it (the NAT gateway on the inside)";

/** vrrp_instance keywords keepalived knows and tapvs does not honour, with the reason. */
const VRRP_REFUSED: Record<string, string> = {
  authentication: 'VRRP authentication (RFC 3768 PASS/AH; RFC 5798 removed it) is not supported by tapvs',
  track_script: NO_TRACK, track_interface: NO_TRACK, track_file: NO_TRACK, track_process: NO_TRACK, track_bfd: NO_TRACK,
  track_src_ip: NO_TRACK, dont_track_primary: NO_TRACK, linkbeat_use_polling: NO_TRACK,
  notify: NO_NOTIFY, notify_master: NO_NOTIFY, notify_backup: NO_NOTIFY, notify_fault: NO_NOTIFY, notify_stop: NO_NOTIFY,
  notify_deleted: NO_NOTIFY, notify_master_rx_lower_pri: NO_NOTIFY, smtp_alert: NO_SMTP,
  unicast_peer: 'tapvs sends VRRP adverts by multicast only (no unicast peers)',
  unicast_src_ip: 'tapvs sends VRRP adverts by multicast from the port\'s own address',
  mcast_src_ip: "tapvs sends VRRP adverts from the port's own address",
  unicast_ttl: 'tapvs sends VRRP adverts by multicast only (no unicast peers)',
  use_vmac: "tapvs keeps its ports' own MAC addresses (no VRRP virtual MAC)", vmac_xmit_base: "tapvs keeps its ports' own MAC addresses (no VRRP virtual MAC)",
  native_ipv6: 'VRRP in tapvs moves IPv4 VIPs only',
  virtual_routes: "tapvs's routes are the config's 'route' lines", virtual_rules: 'tapvs has no policy routing rules',
  lvs_sync_daemon_interface: "deprecated in keepalived: give 'lvs_sync_daemon IF INSTANCE' in global_defs",
  accept: 'tapvs answers for a VIP only as the director it is (VRRP accept mode is not a setting)',
  no_accept: 'tapvs answers for a VIP only as the director it is (VRRP accept mode is not a setting)',
  strict_mode: VRRP_PROCESS, skip_check_adv_addr: VRRP_PROCESS, debug: VRRP_PROCESS, promote_secondaries: VRRP_PROCESS,
  garp_master_refresh: 'tapvs sends gratuitous ARP on becoming master only (no periodic refresh)',
  garp_master_refresh_repeat: 'tapvs sends gratuitous ARP on becoming master only (no periodic refresh)',
  garp_lower_prio_delay: 'tapvs does not send gratuitous ARP on a lower-priority advert',
  garp_lower_prio_repeat: 'tapvs does not send gratuitous ARP on a lower-priority advert',
  lower_prio_no_advert: VRRP_PROCESS, higher_prio_send_advert: VRRP_PROCESS, kernel_rx_buf_size: VRRP_PROCESS,
  old_unicast_checksum: 'tapvs sends VRRP adverts by multicast only (no unicast peers)',
};

/** Global keywords keepalived knows and tapvs does not act on, with the reason. */
const GLOBAL_REFUSED: Record<string, string> = {
  notification_email: NO_SMTP, notification_email_from: NO_SMTP, smtp_server: NO_SMTP, smtp_helo_name: NO_SMTP,
  smtp_connect_timeout: NO_SMTP, smtp_alert: NO_SMTP, smtp_alert_vrrp: NO_SMTP, smtp_alert_checker: NO_SMTP,
  no_email_faults: NO_SMTP, enable_traps: NO_SNMP, enable_snmp_vrrp: NO_SNMP, enable_snmp_checker: NO_SNMP,
  enable_snmp_rfc: NO_SNMP, enable_snmp_rfcv2: NO_SNMP, enable_snmp_rfcv3: NO_SNMP, snmp_socket: NO_SNMP,
  lvs_flush: 'tapvs starts from the rules its config gives (nothing else is in its table)',
  lvs_flush_onstop: 'tapvs leaves no rules behind when it stops',
  notify_fifo: 'tapvs has no notify FIFOs (it logs every transition)', lvs_notify_fifo: 'tapvs has no notify FIFOs (it logs every transition)',
  vrrp_notify_fifo: NO_NOTIFY, vrrp_mcast_group4: VRRP_MCAST, vrrp_mcast_group6: 'VRRP in tapvs moves IPv4 VIPs only',
  vrrp_strict: VRRP_PROCESS, vrrp_iptables: 'tapvs needs no firewall rules for its VIPs (it answers for them only as master)',
  vrrp_skip_check_adv_addr: VRRP_PROCESS, vrrp_priority: VRRP_PROCESS, vrrp_no_swap: VRRP_PROCESS,
  checker_priority: 'tapvs runs its checks in its own process', checker_no_swap: 'tapvs runs its checks in its own process',
  net_namespace: "tapvs's probes pick their namespace with option check_netns",
  rs_init_notifies: 'not supported by tapvs',
};

/** Other global_defs keywords of keepalived 2.2 (global_parser.c): known there, not acted on by tapvs. */
const GLOBAL_KNOWN = new Set('bfd_cpu_affinity bfd_no_swap bfd_priority bfd_process_name bfd_rlimit_rtime bfd_rlimit_rttime bfd_rt_priority checker_cpu_affinity checker_no_swap checker_priority checker_process_name checker_rlimit_rtime checker_rlimit_rttime checker_rt_priority config_save_dir data_use_instance dbus_service_name default_interface disable_local_igmp dynamic_interfaces enable_dbus enable_snmp_keepalived fifo_write_vrrp_states_on_reload include_check log_unknown_vrids lvs_flush_on_stop lvs_netlink_cmd_rcv_bufs lvs_netlink_cmd_rcv_bufs_force lvs_netlink_monitor_rcv_bufs lvs_netlink_monitor_rcv_bufs_force lvs_notify_fifo_script lvs_process_name max_auto_priority min_auto_priority_delay nftables nftables_counters nftables_ifindex nftables_ipvs nftables_ipvs_priority nftables_ipvs_start_fwmark nftables_priority no_checker_emails notify_fifo_script process_monitor_rcv_bufs process_monitor_rcv_bufs_force process_name process_names random_seed reload_check_config reload_file reload_repeat reload_time_file shutdown_script shutdown_script_timeout startup_script startup_script_timeout tmp_config_directory umask vmac_addr_prefix vmac_prefix'.split(' '));


export function interpret(stmts: readonly Stmt[]): { conf: KeepalivedConf; diag: Diagnostics } {
  const diag: Diagnostics = { errors: [], warnings: [] };
  const conf: KeepalivedConf = {
    global: { enableScriptSecurity: false, checkerLogAllFailures: false },
    virtualServers: [], groups: [], trackFiles: [], vrrpInstances: [], vrrpSyncGroups: [],
  };
  const r = new Reader(diag);
  for (const s of stmts) {
    switch (s.keyword) {
      case 'global_defs': r.globalDefs(s, conf.global); break;
      case 'virtual_server': { const vs = r.virtualServer(s); if (vs) conf.virtualServers.push(vs); break; }
      case 'virtual_server_group': { const g = r.group(s); if (g) conf.groups.push(g); break; }
      case 'track_file': { const t = r.trackFile(s); if (t) conf.trackFiles.push(t); break; }
      case 'vrrp_instance': {
        const v = r.vrrpInstance(s);
        if (!v) break;
        const prev = conf.vrrpInstances.find((x) => x.name === v.name);
        if (prev) r.err(s, `vrrp instance ${v.name} already defined (${prev.file}:${prev.line})`);
        else conf.vrrpInstances.push(v);
        break;
      }
      case 'vrrp_sync_group':
        conf.vrrpSyncGroups.push(r.raw(s));
        r.refuse(s, NO_SYNC_GROUP);
        break;
      case 'vrrp_script': case 'vrrp_track_process': case 'vrrp_track_file': case 'linkbeat_interfaces': r.refuse(s, NO_TRACK); break;
      case 'static_ipaddress': r.refuse(s, "tapvs's own addresses are its ports' (port ... addr=)"); break;
      case 'static_routes': r.refuse(s, "tapvs's routes are the config's 'route' lines"); break;
      case 'static_rules': r.refuse(s, 'tapvs has no policy routing rules'); break;
      case 'garp_group': r.refuse(s, 'tapvs paces gratuitous ARP per instance (garp_master_repeat, garp_master_delay)'); break;
      case 'SSL': r.err(s, 'SSL: client certificates for SSL_GET are not supported by tapvs (SSL_GET connects without them)'); break;
      case 'bfd_instance': r.err(s, `bfd_instance: ${NO_BFD}`); break;
      default: r.unknown(s);
    }
  }
  return { conf, diag };
}

class Reader {
  constructor(private readonly diag: Diagnostics) {}

  err(w: Where, message: string): void {
    this.diag.errors.push({ file: w.file, line: w.line, message });
  }

  warn(w: Where, message: string): void {
    this.diag.warnings.push({ file: w.file, line: w.line, message });
  }

  unknown(s: Stmt): void {
    this.err(s, `Unknown keyword '${s.keyword}'`);
  }

  refuse(s: Stmt, why: string): void {
    this.err(s, `'${s.keyword}' is not supported by tapvs: ${why}`);
  }

  // ------------------------------------------------------------ values

  private arg(s: Stmt, i = 0): Word | undefined {
    const w = s.args[i];
    if (!w) this.err(s, `${s.keyword}: missing value`);
    return w;
  }

  /** An unsigned whole number in [min, max] (keepalived's read_unsigned). */
  unsigned(s: Stmt, min: number, max: number, i = 0): number | undefined {
    const w = this.arg(s, i);
    if (!w) return undefined;
    if (!/^\d+$/.test(w.text) || Number(w.text) < min || Number(w.text) > max) {
      this.err(s, `${s.keyword} '${w.text}' must be a whole number in [${min}, ${max}]`);
      return undefined;
    }
    return Number(w.text);
  }

  /** Seconds, with a fraction allowed (keepalived's read_timer), to ms. */
  timer(s: Stmt, minS: number, maxS = Infinity): number | undefined {
    const w = this.arg(s);
    if (!w) return undefined;
    if (!/^\d+(\.\d{1,6})?$/.test(w.text) || Number(w.text) < minS || Number(w.text) > maxS) {
      this.err(s, `${s.keyword} '${w.text}' invalid (seconds${minS > 0 ? `, at least ${minS}` : ''})`);
      return undefined;
    }
    return Math.round(Number(w.text) * 1000);
  }

  /** keepalived's check_true_false: no value means true. */
  bool(s: Stmt): boolean | undefined {
    const w = s.args[0];
    if (!w) return true;
    const t = w.text.toLowerCase();
    if (['true', 'on', 'yes'].includes(t)) return true;
    if (['false', 'off', 'no'].includes(t)) return false;
    this.err(s, `Invalid ${s.keyword} parameter ${w.text}`);
    return undefined;
  }

  addr(s: Where, text: string, what: string): KaAddr | undefined {
    if (isIPv4(text)) return { family: 4, text };
    if (isIPv6(text)) return { family: 6, text };
    this.err(s, `Invalid ${what} address ${text} (a numeric address; names are not resolved)`);
    return undefined;
  }

  port(s: Where, text: string | undefined, what: string): number | undefined {
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text) || Number(text) > 65535) {
      this.err(s, `Invalid ${what} port ${text}`);
      return undefined;
    }
    return Number(text);
  }

  fwd(s: Stmt, what: string): KaFwd | undefined {
    const w = this.arg(s);
    if (!w) return undefined;
    if (w.text !== 'NAT' && w.text !== 'DR' && w.text !== 'TUN') {
      this.err(s, `PARSER : unknown [${w.text}] routing method for ${what} server.`);
      return undefined;
    }
    const rest = s.args.slice(1).map((a) => a.text);
    this.lastTun = undefined;
    if (rest.length > 0) {
      const tun = w.text === 'TUN' && rest[0] === 'type' ? tunnelOf(rest.slice(1), what) : `Invalid tunnel option ${rest.join(' ')} for ${what} server.`;
      if (typeof tun === 'string') {
        this.err(s, tun);
        return undefined;
      }
      if (tun.type !== TUN_IPIP) this.lastTun = tun;
      return 'TUN';
    }
    return w.text;
  }

  /** The tunnel the last fwd() read (gue or gre), for its caller to keep beside the method. */
  lastTun: KaTun | undefined;

  /** A script line: the command (quoted for arguments), then optionally a user and group. */
  script(s: Stmt): { argv: string[]; user?: { user: string; group?: string } } | undefined {
    const w = this.arg(s);
    if (!w) return undefined;
    const argv = splitCommand(w.text);
    if (typeof argv === 'string') {
      this.err(s, `${s.keyword}: ${argv}`);
      return undefined;
    }
    if (argv.length === 0) {
      this.err(s, `${s.keyword}: empty command`);
      return undefined;
    }
    const out: { argv: string[]; user?: { user: string; group?: string } } = { argv };
    if (s.args.length > 3) this.err(s, `${s.keyword}: too many words (quote the command with its arguments, then [USER [GROUP]])`);
    if (s.args[1]) out.user = s.args[2] ? { user: s.args[1].text, group: s.args[2].text } : { user: s.args[1].text };
    return out;
  }

  raw(s: Stmt): KaRawBlock {
    const conv = (x: Stmt): KaRawStmt => {
      const r: KaRawStmt = { keyword: x.keyword, args: x.args.map((a) => a.text), file: x.file, line: x.line };
      if (x.block) r.children = x.block.map(conv);
      return r;
    };
    return { keyword: s.keyword, args: s.args.map((a) => a.text), body: (s.block ?? []).map(conv), file: s.file, line: s.line };
  }

  // ------------------------------------------------------------ blocks

  globalDefs(s: Stmt, g: KaGlobal): void {
    for (const x of s.block ?? []) {
      switch (x.keyword) {
        case 'router_id': { const w = this.arg(x); if (w) g.routerId = w.text; break; }
        case 'script_user': { const w = this.arg(x); if (w) g.scriptUser = x.args[1] ? { user: w.text, group: x.args[1].text } : { user: w.text }; break; }
        case 'enable_script_security': g.enableScriptSecurity = true; break;
        // keepalived: interfaces may appear later; tapvs's interfaces are its config's ports, checked when it loads
        case 'dynamic_interfaces': break;
        case 'checker_log_all_failures': { const b = this.bool(x); if (b !== undefined) g.checkerLogAllFailures = b; break; }
        case 'lvs_timeouts': {
          const t: NonNullable<KaGlobal['lvsTimeouts']> = {};
          for (let i = 0; i < x.args.length; i += 2) {
            const k = x.args[i]!.text;
            const v = x.args[i + 1]?.text;
            if ((k !== 'tcp' && k !== 'tcpfin' && k !== 'udp') || v === undefined || !/^\d+$/.test(v) || Number(v) < 1 || Number(v) > LVS_MAX_TIMEOUT) {
              this.err(x, `Invalid lvs_timeouts ${k} ${v ?? ''} (tcp|tcpfin|udp SECONDS)`);
              continue;
            }
            t[k] = Number(v);
          }
          g.lvsTimeouts = t;
          break;
        }
        case 'lvs_sync_daemon': { const d = this.lvsSyncDaemon(x); if (d) g.lvsSyncDaemon = d; break; }
        case 'vrrp_version': { const n = this.unsigned(x, 2, 3); if (n !== undefined) g.vrrpVersion = n as 2 | 3; break; }
        case 'vrrp_garp_master_delay': { const n = this.unsigned(x, 0, 255); if (n !== undefined) g.vrrpGarpMasterDelayS = n; break; }
        case 'vrrp_garp_master_repeat': { const n = this.unsigned(x, 1, 255); if (n !== undefined) g.vrrpGarpMasterRepeat = n; break; }
        default:
          if (GLOBAL_REFUSED[x.keyword]) this.refuse(x, GLOBAL_REFUSED[x.keyword]!);
          else if (/^vrrp_/.test(x.keyword)) this.refuse(x, VRRP_PROCESS);
          else if (GLOBAL_KNOWN.has(x.keyword)) this.refuse(x, 'a keepalived process setting with no counterpart in tapvs');
          else this.err(x, `Unknown keyword '${x.keyword}'`);
      }
    }
  }

  trackFile(s: Stmt): KaTrackFile | undefined {
    const name = s.args[0]?.text;
    if (!name) {
      this.err(s, 'track_file needs a name');
      return undefined;
    }
    const t: KaTrackFile = { name, file: s.file, line: s.line };
    for (const x of s.block ?? []) {
      switch (x.keyword) {
        case 'file': { const w = this.arg(x); if (w) t.path = w.text; break; }
        case 'weight': {
          const w = x.args[0]?.text ?? '';
          if (!/^-?\d+$/.test(w)) this.err(x, `Invalid track_file weight ${w}`);
          else if (Number(w) !== 0) this.refuse(x, 'a track_file weight other than 0 (the file decides up/down only)');
          else t.weight = 0;
          if (x.args[1]) this.refuse(x, 'reverse');
          break;
        }
        case 'init_file': this.refuse(x, 'tapvs does not create the tracked file'); break;
        default: this.unknown(x);
      }
    }
    if (t.path === undefined) this.err(s, `track_file ${name} has no file`);
    return t;
  }

  group(s: Stmt): KaGroup | undefined {
    const name = s.args[0]?.text;
    if (!name) {
      this.err(s, 'virtual_server_group needs a name');
      return undefined;
    }
    const g: KaGroup = { name, entries: [], file: s.file, line: s.line };
    for (const x of s.block ?? []) {
      if (x.keyword === 'fwmark') {
        const m = this.unsigned(x, 0, FWMARK_MAX);
        const fam = x.args[1]?.text;
        if (fam !== undefined && fam !== 'inet' && fam !== 'inet6') {
          this.err(x, `(${name}): fwmark '${m ?? x.args[0]?.text ?? ''}' family ${fam} unknown`);
          continue;
        }
        if (m !== undefined) {
          g.entries.push({ kind: 'fwmark', mark: m, file: x.file, line: x.line, ...(fam ? { family: fam === 'inet6' ? 6 as const : 4 as const } : {}) });
        }
        continue;
      }
      // ADDR[-LAST] PORT, or ADDR/PREFIX PORT
      const text = x.keyword;
      const port = this.port(x, x.args[0]?.text ?? '0', 'virtual server group');
      if (port === undefined) continue;
      let e: KaGroupEntry | undefined;
      const range = /^([0-9.]+)-(\d+|[0-9.]+)$/.exec(text);
      // IPv6 as keepalived reads it: ADDR-HEX replaces the last 16-bit group; ADDR-ADDR is a whole end address
      const range6 = /^([0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)-([0-9A-Fa-f]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/.exec(text);
      const cidr = /^([0-9A-Fa-f.:]+)\/(\d+)$/.exec(text);
      if (range) {
        const first = this.addr(x, range[1]!, 'virtual server group');
        const lastText = range[2]!.includes('.') ? range[2]! : `${range[1]!.split('.').slice(0, 3).join('.')}.${range[2]}`;
        const last = first ? this.addr(x, lastText, 'virtual server group') : undefined;
        if (first && last) e = { kind: 'addr', first, last, port, file: x.file, line: x.line };
      } else if (range6) {
        const first = this.addr(x, range6[1]!, 'virtual server group');
        let last: KaAddr | undefined;
        if (first && range6[2]!.includes(':')) last = this.addr(x, range6[2]!, 'virtual server group');
        else if (first) {
          const end = parseInt(range6[2]!, 16);
          if (end > 0xffff) this.err(x, `Virtual server group range '${text}' end '${range6[2]}' too large`);
          else {
            const w = parseIp6(first.text);
            w[3] = ((w[3]! & 0xffff0000) | end) >>> 0;
            last = { family: 6, text: ip6ToString(w) };
          }
        }
        if (first && last) {
          if (first.family !== last.family) this.err(x, `Range address families do not match ${text}`);
          else e = { kind: 'addr', first, last, port, file: x.file, line: x.line };
        }
      } else if (cidr) {
        this.refuse(x, 'address/prefix entries in a virtual_server_group (write a range: A.B.C.D-E, or ADDR6-HEX)');
      } else {
        const a = this.addr(x, text, 'virtual server group');
        if (a) e = { kind: 'addr', first: a, last: a, port, file: x.file, line: x.line };
      }
      if (e) g.entries.push(e);
    }
    if (g.entries.length === 0) this.err(s, `virtual server group ${name} has no entries`);
    return g;
  }

  virtualServer(s: Stmt): KaVirtualServer | undefined {
    const a0 = s.args[0]?.text;
    const a1 = s.args[1]?.text;
    let key: KaVirtualServer['key'] | undefined;
    if (a0 === 'group') {
      if (!a1) this.err(s, 'virtual_server group needs a group name');
      else key = { kind: 'group', name: a1 };
    } else if (a0 === 'fwmark') {
      if (!a1 || !/^\d+$/.test(a1) || Number(a1) > FWMARK_MAX) this.err(s, `virtual server fwmark '${a1 ?? ''}' must be in [0, ${FWMARK_MAX}]`);
      else key = { kind: 'fwmark', mark: Number(a1) };
    } else if (a0) {
      const addr = this.addr(s, a0, 'virtual server IP');
      const port = a1 === undefined ? 0 : this.port(s, a1, 'virtual server');
      if (addr && port !== undefined) key = { kind: 'addr', addr, port };
    } else this.err(s, 'virtual_server needs ADDR PORT, fwmark N or group NAME');
    if (!key) return undefined;
    const vs: KaVirtualServer = { key, alpha: false, omega: false, inhibit: false, ops: false, schedFlags: [], realServers: [], file: s.file, line: s.line };
    if (!s.block) this.err(s, 'virtual_server has no block');
    for (const x of s.block ?? []) this.vsKeyword(vs, x);
    return vs;
  }

  private vsKeyword(vs: KaVirtualServer, x: Stmt): void {
    switch (x.keyword) {
      case 'real_server': { const rs = this.realServer(x); if (rs) vs.realServers.push(rs); return; }
      case 'ip_family': {
        const f = x.args[0]?.text;
        if (f === 'inet') vs.family = 4;
        else if (f === 'inet6') vs.family = 6;
        else return void this.err(x, `unknown address family ${f ?? ''}`);
        if (vs.key.kind === 'addr' && vs.key.addr.family !== vs.family) {
          this.err(x, `Virtual server specified family ${f} conflicts with server family`);
          vs.family = vs.key.addr.family;
        }
        return;
      }
      case 'delay_loop': { const t = this.timer(x, 0.000001); if (t !== undefined) vs.delayLoopMs = t; return; }
      case 'lb_algo': case 'lvs_sched': {
        const w = this.arg(x);
        if (!w) return;
        if (!SCHEDULERS.includes(w.text)) this.err(x, `Invalid lvs_scheduler '${w.text}'`);
        else vs.scheduler = w.text;
        return;
      }
      case 'lb_kind': case 'lvs_method': { const f = this.fwd(x, 'virtual'); if (f) { vs.fwd = f; vs.tun = this.lastTun; } return; }
      case 'protocol': {
        const p = x.args[0]?.text.toUpperCase();
        if (p === 'TCP' || p === 'UDP' || p === 'SCTP') vs.protocol = p;
        else this.err(x, `Unknown protocol ${x.args[0]?.text ?? ''}`);
        return;
      }
      case 'persistence_timeout': {
        if (x.args.length === 0) vs.persistenceTimeout = 360;
        else { const n = this.unsigned(x, 1, LVS_MAX_TIMEOUT); if (n !== undefined) vs.persistenceTimeout = n; }
        return;
      }
      case 'persistence_granularity': {
        const w = this.arg(x);
        if (!w) return;
        // keepalived: the service's family decides; unknown yet, a '.' means IPv4 (pgr_handler)
        const fam = vs.family ?? (vs.key.kind === 'addr' ? vs.key.addr.family : w.text.includes('.') ? 4 : 6);
        if (fam === 6) {
          if (!/^\d+$/.test(w.text) || Number(w.text) < 1 || Number(w.text) > 128) {
            this.err(x, `Invalid IPv6 persistence_granularity specified - ${w.text}`);
            return;
          }
          vs.persistencePrefix6 = Number(w.text);
        } else {
          if (!isIPv4(w.text)) {
            this.err(x, `Invalid IPv4 persistence_granularity specified - ${w.text}`);
            return;
          }
          vs.persistenceGranularity = w.text.split('.').reduce((a, b) => a * 256 + Number(b), 0) >>> 0;
        }
        if (vs.family === undefined && vs.key.kind !== 'addr') vs.family = fam;
        if (vs.persistenceTimeout === undefined) vs.persistenceTimeout = 360;
        return;
      }
      case 'virtualhost': { const w = this.arg(x); if (w) vs.virtualhost = w.text; return; }
      case 'alpha': vs.alpha = true; return;
      case 'omega': vs.omega = true; return;
      case 'quorum': { const n = this.unsigned(x, 1, 4294967295); vs.quorum = n ?? 1; return; }
      case 'hysteresis': { const n = this.unsigned(x, 0, 4294967295); if (n !== undefined) vs.hysteresis = n; return; }
      case 'quorum_up': { const sc = this.script(x); if (sc) vs.quorumUp = sc; return; }
      case 'quorum_down': { const sc = this.script(x); if (sc) vs.quorumDown = sc; return; }
      case 'inhibit_on_failure': vs.inhibit = true; return;
      case 'retry': { const n = this.unsigned(x, 1, 4294967295); if (n !== undefined) vs.retry = n; return; }
      case 'delay_before_retry': { const t = this.timer(x, 0); if (t !== undefined) vs.delayBeforeRetryMs = t; return; }
      case 'warmup': { const t = this.timer(x, 0); if (t !== undefined) vs.warmupMs = t; return; }
      case 'connect_timeout': { const t = this.timer(x, 0.000001); if (t !== undefined) vs.connectTimeoutMs = t; return; }
      case 'weight': { const n = this.unsigned(x, 1, WEIGHT_MAX); if (n !== undefined) vs.weight = n; return; }
      case 'ops': vs.ops = true; return;
      case 'hashed': return; // keepalived itself sets no flag for it
      case 'flag-1': case 'flag-2': case 'flag-3': case 'sh-port': case 'sh-fallback': case 'mh-port': case 'mh-fallback':
        vs.schedFlags.push(x.keyword);
        return;
      case 'sorry_server': {
        const a = x.args[0]?.text;
        const addr = a ? this.addr(x, a, 'sorry server IP') : undefined;
        if (!a) this.err(x, 'sorry_server needs ADDR [PORT]');
        const port = this.port(x, x.args[1]?.text, 'sorry server');
        if (addr) vs.sorry = { addr, inhibit: vs.sorry?.inhibit ?? false, file: x.file, line: x.line, ...(port ? { port } : {}) };
        return;
      }
      case 'sorry_server_inhibit':
        if (vs.sorry) vs.sorry.inhibit = true;
        else this.err(x, 'sorry_server_inhibit used before or without sorry_server');
        return;
      case 'sorry_server_lvs_method': {
        if (!vs.sorry) return void this.err(x, 'sorry_server forwarding used without sorry_server');
        const f = this.fwd(x, 'sorry');
        if (f) { vs.sorry.fwd = f; vs.sorry.tun = this.lastTun; }
        return;
      }
      case 'persistence_engine': this.refuse(x, 'persistence engines (--pe) are not supported by tapvs'); return;
      case 'ha_suspend': this.refuse(x, "tapvs's checks run on a backup director too (they do not follow the VIPs' presence)"); return;
      case 'smtp_alert': this.refuse(x, NO_SMTP); return;
      case 'snmp_name': this.refuse(x, NO_SNMP); return;
      default: this.unknown(x);
    }
  }

  realServer(s: Stmt): KaRealServer | undefined {
    const a = s.args[0]?.text;
    if (!a) {
      this.err(s, 'real_server needs ADDR [PORT]');
      return undefined;
    }
    const addr = this.addr(s, a, 'real server ip');
    const port = this.port(s, s.args[1]?.text, 'real server');
    if (!addr) return undefined;
    const rs: KaRealServer = { addr, checkers: [], file: s.file, line: s.line };
    if (port) rs.port = port;
    for (const x of s.block ?? []) {
      switch (x.keyword) {
        case 'weight': { const n = this.unsigned(x, 0, WEIGHT_MAX); if (n !== undefined) rs.weight = n; break; }
        case 'lvs_method': { const f = this.fwd(x, 'real'); if (f) { rs.fwd = f; rs.tun = this.lastTun; } break; }
        case 'uthreshold': { const n = this.unsigned(x, 0, 4294967295); if (n !== undefined) rs.uthreshold = n; break; }
        case 'lthreshold': { const n = this.unsigned(x, 0, 4294967295); if (n !== undefined) rs.lthreshold = n; break; }
        case 'inhibit_on_failure': { const b = this.bool(x); if (b !== undefined) rs.inhibit = b; break; }
        case 'notify_up': { if (rs.notifyUp) { this.err(x, 'notify_up script already specified'); break; } const sc = this.script(x); if (sc) rs.notifyUp = sc; break; }
        case 'notify_down': { if (rs.notifyDown) { this.err(x, 'notify_down script already specified'); break; } const sc = this.script(x); if (sc) rs.notifyDown = sc; break; }
        case 'alpha': { const b = this.bool(x); if (b !== undefined) rs.alpha = b; break; }
        case 'retry': { const n = this.unsigned(x, 1, 4294967295); if (n !== undefined) rs.retry = n; break; }
        case 'delay_before_retry': { const t = this.timer(x, 0); if (t !== undefined) rs.delayBeforeRetryMs = t; break; }
        case 'warmup': { const t = this.timer(x, 0); if (t !== undefined) rs.warmupMs = t; break; }
        case 'connect_timeout': { const t = this.timer(x, 0.000001); if (t !== undefined) rs.connectTimeoutMs = t; break; }
        case 'delay_loop': { const t = this.timer(x, 0.000001); if (t !== undefined) rs.delayLoopMs = t; break; }
        case 'virtualhost': { const w = this.arg(x); if (w) rs.virtualhost = w.text; break; }
        case 'smtp_alert': this.refuse(x, NO_SMTP); break;
        case 'snmp_name': this.refuse(x, NO_SNMP); break;
        case 'BFD_CHECK': this.refuse(x, NO_BFD); break;
        case 'TCP_CHECK': case 'HTTP_GET': case 'SSL_GET': case 'MISC_CHECK': case 'SMTP_CHECK': case 'DNS_CHECK':
        case 'UDP_CHECK': case 'PING_CHECK': case 'FILE_CHECK': {
          const c = this.checker(x);
          if (c) rs.checkers.push(c);
          break;
        }
        default: this.unknown(x);
      }
    }
    return rs;
  }

  /** The keywords every checker takes (install_checker_common_keywords); true when `x` was one. */
  private common(c: KaCheckerCommon, x: Stmt, connection: boolean): boolean {
    if (connection) {
      switch (x.keyword) {
        case 'connect_ip': { const w = this.arg(x); const a = w ? this.addr(x, w.text, 'connect_ip') : undefined; if (a) c.connectIp = a; return true; }
        case 'connect_port': { const n = this.unsigned(x, 1, 65535); if (n !== undefined) c.connectPort = n; return true; }
        case 'bindto': { const w = this.arg(x); const a = w ? this.addr(x, w.text, 'bindto') : undefined; if (a) c.bindto = a; return true; }
        case 'bind_port': { const n = this.unsigned(x, 1, 65535); if (n !== undefined) c.bindPort = n; return true; }
        case 'connect_timeout': { const t = this.timer(x, 0.000001); if (t !== undefined) c.connectTimeoutMs = t; return true; }
        case 'bind_if': this.refuse(x, 'bind_if (the interface of a link-local connect_ip) is not supported by tapvs; give a global IPv6 address'); return true;
        case 'fwmark': this.refuse(x, 'marking probe packets (SO_MARK) is not supported by tapvs'); return true;
      }
    }
    switch (x.keyword) {
      case 'retry': { const n = this.unsigned(x, 0, 4294967295); if (n !== undefined) c.retry = n; return true; }
      case 'delay_before_retry': { const t = this.timer(x, 0); if (t !== undefined) c.delayBeforeRetryMs = t; return true; }
      case 'warmup': { const t = this.timer(x, 0); if (t !== undefined) c.warmupMs = t; return true; }
      case 'delay_loop': { const t = this.timer(x, 0.000001); if (t !== undefined) c.delayLoopMs = t; return true; }
      case 'alpha': { const b = this.bool(x); if (b !== undefined) c.alpha = b; return true; }
      case 'log_all_failures': { const b = this.bool(x); if (b !== undefined) c.logAllFailures = b; return true; }
    }
    return false;
  }

  checker(s: Stmt): KaChecker | undefined {
    const where = { file: s.file, line: s.line };
    const body = s.block ?? [];
    switch (s.keyword) {
      case 'TCP_CHECK': case 'PING_CHECK': {
        const c: KaChecker = { kind: s.keyword, ...where };
        for (const x of body) if (!this.common(c, x, true)) this.unknown(x);
        return c;
      }
      case 'HTTP_GET': case 'SSL_GET': {
        const c: KaChecker = { kind: s.keyword, urls: [], ...where };
        for (const x of body) {
          if (this.common(c, x, true)) continue;
          switch (x.keyword) {
            case 'nb_get_retry': {
              this.warn(x, "nb_get_retry is deprecated - please use 'retry'");
              const n = this.unsigned(x, 0, 4294967295);
              if (n !== undefined) c.retry = n;
              break;
            }
            case 'virtualhost': { const w = this.arg(x); if (w) c.virtualhost = w.text; break; }
            case 'http_protocol': {
              const v = x.args[0]?.text;
              if (v === '1.0' || v === '1.1') c.httpProtocol = v;
              else if (v === '1.0C' || v === '1.0c') c.httpProtocol = '1.0C';
              else this.err(x, `Invalid http_protocol version ${v ?? ''}`);
              break;
            }
            case 'enable_sni': { const b = this.bool(x); if (b !== undefined) c.sni = b; break; }
            case 'fast_recovery': this.refuse(x, 'fast_recovery (tapvs keeps the delay_loop between checks of a server that is down)'); break;
            case 'url': { const u = this.url(x); if (u) c.urls.push(u); break; }
            default: this.unknown(x);
          }
        }
        if (c.urls.length === 0) this.err(s, 'HTTP/SSL_GET checker has no urls specified');
        return c;
      }
      case 'MISC_CHECK': {
        const c: KaChecker = { kind: 'MISC_CHECK', dynamic: false, ...where };
        for (const x of body) {
          if (this.common(c, x, false)) continue;
          switch (x.keyword) {
            case 'misc_path': {
              if (x.args.length > 1) this.err(x, 'misc_path: quote the command with its arguments ("/path/script arg ...")');
              const sc = this.script(x);
              if (sc) c.argv = sc.argv;
              break;
            }
            case 'misc_timeout': { const n = this.unsigned(x, 0, 4294967); if (n !== undefined) c.timeoutS = n; break; }
            case 'misc_dynamic': c.dynamic = true; break;
            case 'user': {
              const w = this.arg(x);
              if (w) c.user = x.args[1] ? { user: w.text, group: x.args[1].text } : { user: w.text };
              break;
            }
            default: this.unknown(x);
          }
        }
        if (!c.argv) this.err(s, 'No script path has been specified for MISC_CHECKER');
        return c;
      }
      case 'SMTP_CHECK': {
        const c: KaChecker = { kind: 'SMTP_CHECK', ...where };
        for (const x of body) {
          if (this.common(c, x, true)) continue;
          if (x.keyword === 'helo_name') { const w = this.arg(x); if (w) c.heloName = w.text; } else if (x.keyword === 'host') this.refuse(x, "SMTP_CHECK's host blocks (deprecated in keepalived): give one SMTP_CHECK per address with connect_ip");
          else this.unknown(x);
        }
        return c;
      }
      case 'DNS_CHECK': {
        const c: KaChecker = { kind: 'DNS_CHECK', ...where };
        const types: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, MX: 15, TXT: 16, AAAA: 28, RRSIG: 46, DNSKEY: 48 };
        for (const x of body) {
          if (this.common(c, x, true)) continue;
          if (x.keyword === 'type') {
            const t = x.args[0]?.text.toUpperCase() ?? '';
            if (types[t] === undefined) this.err(x, `unknown DNS check type '${x.args[0]?.text ?? ''}'`);
            else c.type = types[t];
          } else if (x.keyword === 'name') { const w = this.arg(x); if (w) c.name = w.text; } else this.unknown(x);
        }
        return c;
      }
      case 'UDP_CHECK': {
        const c: KaChecker = { kind: 'UDP_CHECK', ...where };
        for (const x of body) {
          if (this.common(c, x, true)) continue;
          switch (x.keyword) {
            case 'payload': {
              const hex = readHex(x.args.map((a) => a.text).join(' '));
              if (!hex || hex.mask) this.err(x, 'Invalid hex string for UDP_CHECK payload');
              else c.payload = hex.data;
              break;
            }
            case 'require_reply': {
              c.requireReply = true;
              if (x.args.length === 0) break;
              const hex = readHex(x.args.map((a) => a.text).join(' '));
              if (!hex) this.err(x, 'Invalid hex string for UDP_CHECK reply');
              else {
                c.reply = hex.data;
                if (hex.mask) c.replyMask = hex.mask;
              }
              break;
            }
            case 'min_reply_length': { const n = this.unsigned(x, 0, 65535); if (n !== undefined) c.minReply = n; break; }
            case 'max_reply_length': { const n = this.unsigned(x, 0, 65535); if (n !== undefined) c.maxReply = n; break; }
            default: this.unknown(x);
          }
        }
        return c;
      }
      case 'FILE_CHECK': {
        const c: KaChecker = { kind: 'FILE_CHECK', ...where };
        for (const x of body) {
          if (x.keyword === 'track_file') { const w = this.arg(x); if (w) c.trackFile = w.text; } else if (x.keyword === 'weight') {
            const w = x.args[0]?.text ?? '';
            if (w !== '0') this.refuse(x, 'a FILE_CHECK weight other than 0 (the file decides up/down only)');
          } else this.unknown(x);
        }
        if (!c.trackFile) this.err(s, 'FILE_CHECK needs track_file NAME');
        return c;
      }
    }
    return undefined;
  }

  private url(s: Stmt): KaUrl | undefined {
    const u: KaUrl = { status: [], file: s.file, line: s.line };
    const pcreFlags: Record<string, string> = { caseless: 'i', multiline: 'm', dotall: 's', utf: 'u' };
    for (const x of s.block ?? []) {
      switch (x.keyword) {
        case 'path': { const w = this.arg(x); if (w) u.path = w.text; break; }
        case 'digest': {
          const w = this.arg(x);
          if (!w) break;
          if (u.digest) this.err(x, `Digest '${w.text}' is a duplicate`);
          else if (!/^[0-9a-fA-F]{32}$/.test(w.text)) this.err(x, `digest '${w.text}' character length should be 32 rather than ${w.text.length}`);
          else u.digest = w.text.toLowerCase();
          break;
        }
        case 'status_code':
          for (const w of x.args) {
            const m = /^(\d+)(?:-(\d+))?$/.exec(w.text);
            const lo = m ? Number(m[1]) : NaN;
            const hi = m ? Number(m[2] ?? m[1]) : NaN;
            if (!m || lo < 100 || hi > 999 || lo > hi) this.err(x, `Invalid HTTP_GET status code '${w.text}'`);
            else u.status.push([lo, hi]);
          }
          break;
        case 'virtualhost': { const w = this.arg(x); if (w) u.virtualhost = w.text; break; }
        case 'regex': {
          const w = this.arg(x);
          if (!w) break;
          try {
            new RegExp(w.text);
            u.regex = w.text;
          } catch (e) {
            this.err(x, `Invalid regex: '${w.text}': ${(e as Error).message} (tapvs reads regexes as JavaScript regular expressions)`);
          }
          break;
        }
        case 'regex_no_match': u.regexNoMatch = true; break;
        case 'regex_options':
          for (const w of x.args) {
            const f = pcreFlags[w.text];
            if (f) u.regexFlags = (u.regexFlags ?? '') + f;
            else this.refuse(x, `regex option '${w.text}' (tapvs takes caseless, multiline, dotall, utf)`);
          }
          break;
        case 'regex_min_offset': { const n = this.unsigned(x, 0, 2 ** 31); if (n !== undefined) u.regexMinOffset = n; break; }
        case 'regex_max_offset': { const n = this.unsigned(x, 0, 2 ** 31); if (n !== undefined) u.regexMaxOffset = n; break; }
        case 'regex_stack': this.refuse(x, "it sizes PCRE2's JIT stack, which tapvs's JavaScript regexes do not have"); break;
        default: this.unknown(x);
      }
    }
    if (!u.path) {
      this.err(s, 'HTTP/SSL_GET checker url has no path');
      return undefined;
    }
    if ((u.regexNoMatch || u.regexFlags || u.regexMinOffset !== undefined || u.regexMaxOffset !== undefined) && !u.regex) {
      this.err(s, 'regex parameters specified without regex');
    }
    if (u.status.length === 0) u.status.push([200, 299]);
    return u;
  }

  /** global_defs lvs_sync_daemon IF INSTANCE [id N] [maxlen N] [port N] [ttl N] [group ADDR] (global_parser.c). */
  lvsSyncDaemon(x: Stmt): KaLvsSyncDaemon | undefined {
    const [ifn, inst, ...rest] = x.args.map((a) => a.text);
    if (!ifn || !inst) {
      this.err(x, 'lvs_sync_daemon needs an interface and a vrrp instance: lvs_sync_daemon IF INSTANCE [id N] [maxlen N] [port N] [ttl N] [group ADDR]');
      return undefined;
    }
    const d: KaLvsSyncDaemon = { interface: ifn, instance: inst, file: x.file, line: x.line };
    const ranges: Record<string, [number, number]> = { id: [0, 255], maxlen: [1, 65535 - 20 - 8], port: [1, 65535], ttl: [1, 255] };
    for (let i = 0; i < rest.length; i += 2) {
      const k = rest[i]!;
      const v = rest[i + 1];
      if (v === undefined) {
        this.err(x, `lvs_sync_daemon: ${k} needs a value`);
        return undefined;
      }
      if (k === 'group') {
        if (isIPv6(v)) this.refuse(x, `an IPv6 sync group (${v}): tapvs sends sync messages over IPv4`);
        else if (!isIPv4(v) || (Number(v.split('.')[0]) & 0xf0) !== 0xe0) this.err(x, `lvs_sync_daemon: group ${v} is not an IPv4 multicast address`);
        else d.group = v;
        continue;
      }
      const r = ranges[k];
      if (!r) {
        this.err(x, `Unknown option '${k}' for lvs_sync_daemon (id, maxlen, port, ttl, group)`);
        continue;
      }
      if (!/^\d+$/.test(v) || Number(v) < r[0] || Number(v) > r[1]) {
        this.err(x, `lvs_sync_daemon ${k} '${v}' must be a whole number in [${r[0]}, ${r[1]}]`);
        continue;
      }
      d[k as 'id' | 'maxlen' | 'port' | 'ttl'] = Number(v);
    }
    return d;
  }

  /** A virtual_ipaddress(_excluded) block: ADDR[/LEN] [dev IF] [brd ADDR] [scope S] [label L] per line. */
  private vipBlock(x: Stmt, name: string, out: KaVip[], texts?: string[]): void {
    for (const e of x.block ?? []) {
      const m = /^([^/]+)(?:\/(\d+))?$/.exec(e.keyword);
      texts?.push(e.keyword);
      const text = m?.[1] ?? e.keyword;
      if (isIPv6(text)) {
        this.err(e, `'${e.keyword}' is not supported by tapvs: (${name}) an IPv6 virtual address: VRRP in tapvs moves IPv4 VIPs only`);
        continue;
      }
      if (!m || !isIPv4(text) || (m[2] !== undefined && Number(m[2]) > 32)) {
        this.err(e, `(${name}) Invalid virtual address ${e.keyword}`);
        continue;
      }
      const vip: KaVip = { addr: { family: 4, text }, file: e.file, line: e.line };
      if (m[2] !== undefined) vip.prefix = Number(m[2]);
      const words = e.args.map((a) => a.text);
      for (let i = 0; i < words.length; i++) {
        const w = words[i]!;
        if ((w === 'dev' || w === 'brd' || w === 'broadcast' || w === 'scope' || w === 'label') && words[i + 1] === undefined) {
          this.err(e, `(${name}) ${w} needs a value in virtual address ${e.keyword}`);
          break;
        }
        if (w === 'dev') vip.dev = words[++i]!;
        else if (w === 'brd' || w === 'broadcast' || w === 'scope' || w === 'label') {
          this.warn(e, `(${name}) ${w} ${words[++i]} of ${e.keyword}: not used by tapvs (a VIP is answered for as one address on its port)`);
        } else {
          this.err(e, `'${w}' is not supported by tapvs: (${name}) a virtual address option with no counterpart in tapvs (it takes ADDR[/LEN] [dev IF])`);
          break;
        }
      }
      out.push(vip);
    }
  }

  /** vrrp_instance NAME { ... } (vrrp_parser.c): what tapvs honours, and the rest refused by name. */
  vrrpInstance(s: Stmt): KaVrrpInstance | undefined {
    const name = s.args[0]?.text;
    if (!name || s.args.length !== 1) {
      this.err(s, 'vrrp_instance must have a name');
      return undefined;
    }
    const v: KaVrrpInstance = { ...this.raw(s), name, virtualIpaddress: [], vips: [], excluded: [] };
    for (const x of s.block ?? []) {
      const a = x.args[0]?.text;
      switch (x.keyword) {
        case 'state':
          if (a === 'MASTER' || a === 'BACKUP') {
            if (v.state === 'MASTER' && a === 'BACKUP') this.warn(x, `(${name}) state previously set as MASTER - ignoring BACKUP`);
            else v.state = a;
          } else {
            this.warn(x, `(${name}) unknown state '${a ?? ''}', defaulting to BACKUP`);
            v.state = 'BACKUP';
          }
          break;
        case 'interface': { const w = this.arg(x); if (w) { v.interface = w.text; v.interfaceAt = { file: x.file, line: x.line }; } break; }
        case 'virtual_router_id': { const n = this.unsigned(x, 1, 255); if (n !== undefined) v.virtualRouterId = n; break; }
        case 'priority': { const n = this.unsigned(x, 1, 255); if (n !== undefined) v.priority = n; break; }
        case 'advert_int': { const t = this.timer(x, 0.01, 255); if (t !== undefined) v.advertIntS = t / 1000; break; }
        case 'version': { const n = this.unsigned(x, 2, 3); if (n !== undefined) v.version = n as 2 | 3; break; }
        case 'nopreempt': v.nopreempt = true; break;
        case 'preempt': v.nopreempt = false; break;
        case 'preempt_delay': { const t = this.timer(x, 0, 1000); if (t !== undefined) v.preemptDelayS = t / 1000; break; }
        case 'garp_master_delay': { const n = this.unsigned(x, 0, 255); if (n !== undefined) v.garpMasterDelayS = n; break; }
        case 'garp_master_repeat': { const n = this.unsigned(x, 1, 255); if (n !== undefined) v.garpMasterRepeat = n; break; }
        case 'virtual_ipaddress': this.vipBlock(x, name, v.vips, v.virtualIpaddress); break;
        case 'virtual_ipaddress_excluded': this.vipBlock(x, name, v.excluded); break;
        default:
          if (VRRP_REFUSED[x.keyword]) this.refuse(x, VRRP_REFUSED[x.keyword]!);
          else this.unknown(x);
      }
    }
    return v;
  }
}

/**
 * keepalived's hex strings (read_hex_str): bytes of one or two hex digits,
 * blanks between bytes allowed, 'x' for a don't-care nibble (its bits set in
 * the mask). Returned as even-length hex text.
 */
export function readHex(text: string): { data: string; mask?: string } | null {
  const bytes: string[] = [];
  const masks: string[] = [];
  let i = 0;
  const nib = (c: string): string | null => (/[0-9a-fA-F]/.test(c) ? c.toLowerCase() : /[xX]/.test(c) ? 'x' : null);
  while (i < text.length) {
    if (text[i] === ' ' || text[i] === '\t') {
      i++;
      continue;
    }
    const a = nib(text[i++]!);
    if (a === null) return null;
    let pair = [a];
    if (i < text.length && text[i] !== ' ' && text[i] !== '\t') {
      const b = nib(text[i++]!);
      if (b === null) return null;
      pair = [a, b];
    } else pair = ['0', a];
    bytes.push(pair.map((c) => (c === 'x' ? '0' : c)).join(''));
    masks.push(pair.map((c) => (c === 'x' ? 'f' : '0')).join(''));
  }
  if (bytes.length === 0) return null;
  const mask = masks.join('');
  return /f/.test(mask) ? { data: bytes.join(''), mask } : { data: bytes.join('') };
}

/** A command line as keepalived's script keywords take it: words, with '...', "..." and \ escapes. */
export function splitCommand(text: string): string[] | string {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\' && i + 1 < text.length) {
      cur += text[++i];
      inWord = true;
    } else if (ch === '"' || ch === "'") {
      const end = text.indexOf(ch, i + 1);
      if (end < 0) return `unterminated ${ch} in '${text}'`;
      cur += text.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (ch === ' ' || ch === '\t') {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

/**
 * keepalived's tunnel words after `lb_kind TUN type`: `ipip`; `gue port N`;
 * `gre`; then checksum words (`nocsum`, `csum`, and for gue `remcsum`; the
 * last one counts, as keepalived takes them). A string: keepalived's message
 * for what it refuses (`what`: virtual, real, sorry).
 */
function tunnelOf(w: readonly string[], what: string): KaTun | string {
  const type = w[0] === 'ipip' ? TUN_IPIP : w[0] === 'gue' ? TUN_GUE : w[0] === 'gre' ? TUN_GRE : -1;
  if (type < 0) return `Unknown tunnel type ${w[0] ?? ''} for ${what} server.`;
  let i = 1;
  let port = 0;
  if (w[i] === 'port') {
    if (type !== TUN_GUE) return 'gue tunnels require port, otherwise cannot have port.';
    const t = w[i + 1] ?? '';
    port = /^\d+$/.test(t) ? Number(t) : -1;
    if (port < 1 || port > 65535) return `Invalid gue tunnel port ${t} for ${what} server.`;
    i += 2;
  } else if (type === TUN_GUE) return 'gue tunnels require port, otherwise cannot have port.';
  let flags = TUN_F_NOCSUM;
  for (; i < w.length; i++) {
    const x = w[i];
    if (type === TUN_IPIP) return `Invalid tunnel option ${w.join(' ')} for ${what} server.`;
    if (x === 'nocsum') flags = TUN_F_NOCSUM;
    else if (x === 'csum') flags = TUN_F_CSUM;
    else if (x === 'remcsum') {
      if (type === TUN_GRE) return 'gre tunnels do not support remote checksum option.';
      flags = TUN_F_REMCSUM;
    } else return `Invalid tunnel option ${w.join(' ')} for ${what} server.`;
  }
  return { type, port, flags };
}
