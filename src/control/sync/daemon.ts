// The IPVS connection synchronisation daemons, as Linux's ip_vs_sync.c runs
// them, on tapvs ports: a master daemon that sends the state of the
// connections this director forwards (IPVS sync protocol v1, or v0 with the
// sync_version sysctl) to a multicast group out of one port, and a backup
// daemon that receives them there (v0 and v1) and keeps the connections in
// its table, so that it forwards them the moment it takes the VIPs over.
//
// When a conn is synced (ip_vs_sync_conn_needed): a TCP conn only in
// ESTABLISHED, FIN_WAIT, CLOSE, CLOSE_WAIT or TIME_WAIT (SCTP likewise),
// at once when its state changed to one of those other than ESTABLISHED;
// otherwise on the client packet whose count modulo sync_period equals
// sync_threshold (3 and 50: packets 3, 53, 103...), or with sync_period 0
// only at the sync_threshold-th packet; with sync_refresh_period set, not
// before the conn's expiry moved that much (or half its timeout, at least
// 10 s) since it was last sent, with sync_retries more tries refresh/8
// apart. A conn's template (persistence) is sent after it, counted by its
// own packets. One-packet conns are never sent. Messages fill up to
// sync_maxlen and go out when full, or 2 s after their first record.
//
// The backup (ip_vs_proc_conn) drops a message whose size field is not its
// length or whose syncid is not its own (unless its own is 0), takes each
// record's flags through the kernel's masks (IP_VS_CONN_F_BACKUP_MASK on
// v1), skips records of a protocol or state it does not know, and for each
// other one updates the conn it has (state, activity, timeout) or creates
// it bound to its own real server of that address and port in the matching
// service; the forwarding method is the local real server's, as the kernel
// binds it. A conn the backup has with another real server is ended when
// the record says active (the master rescheduled it), left alone when it
// says inactive. The timeout is the one the master sent (v1); v0 carries
// none: the backup's own for the state, 3 minutes for a template.
import type { Director } from '../../director/director.js';
import type { SyncHook } from '../../director/ha.js';
import type { SyncDaemonSpec, SyncSettings, SyncState } from '../../model/ha.js';
import type { Service } from '../../model/service.js';

export type { SyncDaemonSpec, SyncSettings, SyncState };
import { AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP } from '../../model/proto.js';
import { protoOps } from '../../conn/proto/index.js';
import { CONN_F_APP, CONN_F_ONE_PACKET, CONN_F_TEMPLATE } from '../../conn/flags.js';
import { SEQ_IN, SEQ_OUT } from '../../conn/app.js';
import { TCP_S_CLOSE, TCP_S_CLOSE_WAIT, TCP_S_ESTABLISHED, TCP_S_FIN_WAIT, TCP_S_TIME_WAIT } from '../../conn/tcp-states.js';
import type { Packet } from '../../net/packet.js';
import type { DirectorPort } from '../../net/port.js';
import { ipToString } from '../../wire/addr.js';
import { IPVS_SYNC_FULL, WIRE_OK } from '../../wire/errors.js';
import { IPPROTO_UDP } from '../../wire/ipproto.js';
import {
  AF_INET6_SYNC, AF_INET_SYNC, IPVS_SYNC_DEFAULT_PERIOD, IPVS_SYNC_DEFAULT_THRESHOLD, IPVS_SYNC_FLUSH_MS,
  IPVS_SYNC_GROUP, IP_VS_CONN_F_FWD_MASK, IP_VS_CONN_F_MASQ, IPVS_SYNC_PORT, IPVS_SYNC_TTL, IP_VS_CONN_F_BACKUP_MASK, IP_VS_CONN_F_HASHED,
  IP_VS_CONN_F_INACTIVE, IP_VS_CONN_F_IN_SEQ, IP_VS_CONN_F_OUT_SEQ, IP_VS_CONN_F_TEMPLATE, IP_VS_CTPL_S_LAST, IP_VS_SCTP_S_CLOSED, IP_VS_SCTP_S_ESTABLISHED,
  IP_VS_SCTP_S_SHUTDOWN_ACK_SENT, IP_VS_SCTP_S_SHUTDOWN_RECEIVED, IP_VS_SCTP_S_SHUTDOWN_SENT, IpvsSyncReader,
  IpvsSyncWriter, ipvsSyncMaxlen, ipvsSyncStateCount, newIpvsSyncConn, type IpvsSyncConn,
} from '../../wire/ipvs-sync.js';
import { connFlagsToSync, connStateToSync, syncStateToConn } from '../../wire/ipvs-sync-map.js';

/** The sync sysctls with the kernel's defaults. */
export const DEFAULT_SYNC_SETTINGS: Readonly<SyncSettings> = {
  syncThreshold: IPVS_SYNC_DEFAULT_THRESHOLD, syncPeriod: IPVS_SYNC_DEFAULT_PERIOD, syncRefreshPeriod: 0,
  syncRetries: 0, syncVersion: 1, syncPersistMode: false, backupOnly: false,
};

/** A daemon as it runs: the spec with the kernel's defaults filled in (what -L --daemon shows). */
export interface SyncDaemonConfig {
  state: SyncState;
  mcastIfn: string;
  syncid: number;
  syncMaxlen: number;
  mcastGroup: number;
  mcastPort: number;
  mcastTtl: number;
}

export interface SyncCounters {
  /** Master: messages and records sent. Backup: messages and records taken. */
  messages: number;
  conns: number;
  /** Backup: conns created and updated from records. */
  created: number;
  updated: number;
  /** Backup: records not used, by why. */
  skippedProto: number;
  skippedState: number;
  noDest: number;
  tableFull: number;
  /** A conn of another real server kept (an inactive record about it) / ended (an active one). */
  replacedIgnored: number;
  replaced: number;
  /** Backup: messages dropped whole (syncid, size, version) and cut short (a bad record: the ones before it were used). */
  dropped: number;
  truncated: number;
}

function newCounters(): SyncCounters {
  return {
    messages: 0, conns: 0, created: 0, updated: 0, skippedProto: 0, skippedState: 0, noDest: 0, tableFull: 0,
    replacedIgnored: 0, replaced: 0, dropped: 0, truncated: 0,
  };
}

/** errno texts ipvsadm prints for what the kernel refuses (libipvs's ipvs_strerror). */
export const SYNC_EEXIST = 'Daemon has already run';
export const SYNC_ESRCH = 'No daemon is running';
export const SYNC_ENODEV = 'No such device';

interface Master {
  cfg: SyncDaemonConfig;
  port: DirectorPort;
  src: number;
  sport: number;
  writer: IpvsSyncWriter;
  /** When the message being filled got its first record. */
  firstUse: number;
  counters: SyncCounters;
}

interface Backup {
  cfg: SyncDaemonConfig;
  port: DirectorPort;
  counters: SyncCounters;
  listener: (pkt: Packet, sport: number, off: number, len: number) => void;
}

/** TCP states a conn is synced in (ip_vs_sync_conn_needed). */
const TCP_SYNC_STATES = (1 << TCP_S_ESTABLISHED) | (1 << TCP_S_FIN_WAIT) | (1 << TCP_S_CLOSE) | (1 << TCP_S_CLOSE_WAIT) | (1 << TCP_S_TIME_WAIT);
const SCTP_SYNC_STATES = (1 << IP_VS_SCTP_S_ESTABLISHED) | (1 << IP_VS_SCTP_S_SHUTDOWN_SENT) | (1 << IP_VS_SCTP_S_SHUTDOWN_RECEIVED) |
  (1 << IP_VS_SCTP_S_SHUTDOWN_ACK_SENT) | (1 << IP_VS_SCTP_S_CLOSED);
/** A v0 template's timeout (the kernel cannot recover it: 3 minutes). */
const V0_TEMPLATE_TIMEOUT_MS = 180_000;
/** The kernel's cap on a received timeout (MAX_SCHEDULE_TIMEOUT / HZ is far beyond; keep it finite here: 31 days). */
const MAX_SYNC_TIMEOUT_S = 86400 * 31;

/** The effective config of a daemon (start_sync_thread's defaults), or an error. */
export function syncConfigOf(spec: SyncDaemonSpec, port: DirectorPort | undefined): SyncDaemonConfig | string {
  if (port === undefined) return SYNC_ENODEV;
  return {
    state: spec.state,
    mcastIfn: spec.mcastIfn,
    syncid: spec.syncid ?? 0,
    syncMaxlen: ipvsSyncMaxlen({ family: 4, backup: spec.state === 'backup', mtu: port.mtu, syncMaxlen: spec.syncMaxlen ?? 0 }),
    mcastGroup: (spec.mcastGroup ?? 0) !== 0 ? spec.mcastGroup! >>> 0 : IPVS_SYNC_GROUP,
    mcastPort: (spec.mcastPort ?? 0) !== 0 ? spec.mcastPort! : IPVS_SYNC_PORT,
    mcastTtl: (spec.mcastTtl ?? 0) !== 0 ? spec.mcastTtl! : IPVS_SYNC_TTL,
  };
}

/** One line of `ipvsadm -L --daemon` (ipvsadm 1.31 over a kernel that reports every attribute). */
export function formatDaemonLine(c: SyncDaemonConfig): string {
  return `${c.state} sync daemon (mcast=${c.mcastIfn}, syncid=${c.syncid}, maxlen=${c.syncMaxlen}, group=${ipToString(c.mcastGroup)}, ` +
    `port=${c.mcastPort}, ttl=${c.mcastTtl})\n`;
}

export interface SyncLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * The master and backup sync daemons of one director (either, both, or
 * none, as the kernel allows). start()/stop() are what ipvsadm's
 * --start-daemon/--stop-daemon do; tick() sends a message that has waited
 * its 2 s. Holds the director's sync hook while a master runs.
 */
export class SyncDaemons implements SyncHook {
  readonly settings: SyncSettings;
  private master: Master | null = null;
  private backup: Backup | null = null;
  private readonly rec: IpvsSyncConn = newIpvsSyncConn();
  private readonly reader = new IpvsSyncReader();
  /** The port the next master binds as its source (the kernel takes an ephemeral one). */
  private nextSport = 40000 + Math.floor(Math.random() * 20000);

  constructor(private readonly d: Director, settings: Partial<SyncSettings> = {}, private readonly log?: SyncLog) {
    this.settings = { ...DEFAULT_SYNC_SETTINGS, ...settings };
  }

  get masterConfig(): SyncDaemonConfig | null {
    return this.master?.cfg ?? null;
  }

  get backupConfig(): SyncDaemonConfig | null {
    return this.backup?.cfg ?? null;
  }

  get masterCounters(): SyncCounters | null {
    return this.master?.counters ?? null;
  }

  get backupCounters(): SyncCounters | null {
    return this.backup?.counters ?? null;
  }

  /** `ipvsadm -L --daemon`: the master line, then the backup line; nothing when none runs. */
  listing(): string {
    return (this.master ? formatDaemonLine(this.master.cfg) : '') + (this.backup ? formatDaemonLine(this.backup.cfg) : '');
  }

  /** --start-daemon: null, or the error ipvsadm prints. */
  start(spec: SyncDaemonSpec): string | null {
    if ((spec.state === 'master' ? this.master : this.backup) !== null) return SYNC_EEXIST;
    const port = this.d.portByName.get(spec.mcastIfn);
    const cfg = syncConfigOf(spec, port);
    if (typeof cfg === 'string') return cfg;
    if (port!.addrs.length === 0) return `port ${port!.name} has no IPv4 address to send sync messages from`;
    this.d.conns.enableSync();
    const host = this.d.host;
    if (cfg.state === 'master') {
      this.master = {
        cfg, port: port!, src: port!.addrs[0]!.addr, sport: this.nextSport,
        writer: this.newWriter(cfg), firstUse: 0, counters: newCounters(),
      };
      this.nextSport = this.nextSport >= 60999 ? 40000 : this.nextSport + 1;
      this.d.sync = this;
    } else {
      const b: Backup = {
        cfg, port: port!, counters: newCounters(),
        listener: (pkt, _sport, off, len) => this.receive(pkt, off, len),
      };
      const local = host.localIo();
      try {
        local.listenUdp(cfg.mcastPort, b.listener);
      } catch (e) {
        return (e as Error).message;
      }
      local.join(port!.index, cfg.mcastGroup);
      this.backup = b;
      this.backupOnlyChanged();
    }
    this.log?.info({ state: cfg.state, mcast_ifn: cfg.mcastIfn, syncid: cfg.syncid, maxlen: cfg.syncMaxlen, group: ipToString(cfg.mcastGroup), port: cfg.mcastPort, ttl: cfg.mcastTtl },
      `sync daemon started: state = ${cfg.state.toUpperCase()}`);
    return null;
  }

  /** --stop-daemon: null, or the error ipvsadm prints. Messages not yet sent are dropped, as the kernel drops its queue. */
  stop(state: SyncState): string | null {
    if (state === 'master') {
      if (!this.master) return SYNC_ESRCH;
      this.master = null;
      if (this.d.sync === this) this.d.sync = null;
    } else {
      const b = this.backup;
      if (!b) return SYNC_ESRCH;
      const local = this.d.host.localIo();
      local.unlistenUdp(b.cfg.mcastPort, b.listener);
      local.leave(b.port.index, b.cfg.mcastGroup);
      this.backup = null;
      this.backupOnlyChanged();
    }
    this.log?.info({ state }, `sync daemon stopped: state = ${state.toUpperCase()}`);
    return null;
  }

  /** Stops whatever runs (the director is stopping). */
  stopAll(): void {
    if (this.master) this.stop('master');
    if (this.backup) this.stop('backup');
  }

  /** Applies changed settings: backup_only follows at once, a new sync_version starts a new message. */
  set(s: Partial<SyncSettings>): void {
    const version = this.settings.syncVersion;
    Object.assign(this.settings, s);
    if (this.master && this.settings.syncVersion !== version) {
      this.flush(this.d.conns.now);
      this.master.writer = this.newWriter(this.master.cfg);
    }
    this.backupOnlyChanged();
  }

  private backupOnlyChanged(): void {
    this.d.mutate.setBackupOnly(this.settings.backupOnly && this.backup !== null);
  }

  private newWriter(cfg: SyncDaemonConfig): IpvsSyncWriter {
    return new IpvsSyncWriter({ version: this.settings.syncVersion, syncid: cfg.syncid, maxlen: cfg.syncMaxlen });
  }

  // ------------------------------------------------------------ master

  /** The director's hook: a client packet of the conn in `slot` was forwarded (ip_vs_in's sync step). */
  inPacket(slot: number, now: number): void {
    const t = this.d.conns;
    const s = this.settings;
    const pkts = (t.flags[slot]! & CONN_F_ONE_PACKET) !== 0 ? s.syncThreshold : ++t.inPkts[slot]!;
    this.syncConn(slot, pkts, now);
  }

  /** ip_vs_sync_conn: the conn if it is due, then its controlling template counted by its own packets. */
  private syncConn(slot: number, pkts: number, now: number): void {
    const t = this.d.conns;
    const s = this.settings;
    const v0 = s.syncVersion === 0;
    let i = slot;
    let n = pkts;
    for (;;) {
      const onePacket = (t.flags[i]! & CONN_F_ONE_PACKET) !== 0;
      if (onePacket) {
        // v0 stops here; v1 still looks at the template
        if (v0) return;
      } else if (!(v0 && t.af[i] !== AF_INET) && this.needed(i, n, now)) {
        this.add(i, now);
      }
      const ctl = t.control[i]!;
      if (ctl < 0) return;
      n = (t.flags[ctl]! & CONN_F_TEMPLATE) !== 0 ? ++t.inPkts[ctl]! : s.syncThreshold;
      i = ctl;
    }
  }

  /** ip_vs_sync_conn_needed, on the ms clock. */
  private needed(i: number, pkts: number, now: number): boolean {
    const t = this.d.conns;
    const s = this.settings;
    const template = (t.flags[i]! & CONN_F_TEMPLATE) !== 0;
    const state = t.state[i]!;
    const timeout = t.timeout[i]!;
    const orig = t.syncEnd[i]!;
    const n = now + timeout;
    let retries = 0;
    let force = false;
    set: {
      if (template) {
        force = false;
      } else if (s.syncPersistMode && this.inPersistence(i)) {
        return false;
      } else if (t.proto[i] === IPPROTO_TCP || t.proto[i] === IPPROTO_SCTP) {
        const mask = t.proto[i] === IPPROTO_TCP ? TCP_SYNC_STATES : SCTP_SYNC_STATES;
        const est = t.proto[i] === IPPROTO_TCP ? TCP_S_ESTABLISHED : IP_VS_SCTP_S_ESTABLISHED;
        if (state >= 31 || ((1 << state) & mask) === 0) return false;
        force = state !== t.oldState[i];
        if (force && state !== est) break set;
      }
      const refresh = s.syncRefreshPeriod * 1000;
      if (refresh > 0) {
        const diff = n - orig;
        const minDiff = Math.max(timeout / 2, 10_000);
        if (Math.abs(diff) < Math.min(refresh, minDiff)) {
          const r = t.syncRetries[i]!;
          if (r >= s.syncRetries) return false;
          if (now < orig - timeout + refresh / 8) return false;
          retries = r + 1;
        }
      }
      if (s.syncPeriod > 0) {
        if (!template && pkts % s.syncPeriod !== s.syncThreshold) return false;
      } else if (refresh === 0 && pkts !== s.syncThreshold) {
        return false;
      }
    }
    t.oldState[i] = state;
    t.syncEnd[i] = n;
    t.syncRetries[i] = retries;
    return true;
  }

  private inPersistence(i: number): boolean {
    const t = this.d.conns;
    for (let c = t.control[i]!; c >= 0; c = t.control[c]!) if ((t.flags[c]! & CONN_F_TEMPLATE) !== 0) return true;
    return false;
  }

  /** Appends the conn's record to the message being filled; a full message goes out first. */
  private add(i: number, now: number): void {
    const m = this.master!;
    const r = this.fill(i);
    let rc = m.writer.add(r);
    if (rc === IPVS_SYNC_FULL) {
      this.flush(now);
      rc = m.writer.add(r);
    }
    if (rc !== WIRE_OK) return;
    if (m.writer.count === 1) m.firstUse = now;
  }

  /** The record of slot `i` in the kernel's numbering. */
  private fill(i: number): IpvsSyncConn {
    const t = this.d.conns;
    const r = this.rec;
    const template = (t.flags[i]! & CONN_F_TEMPLATE) !== 0;
    const proto = t.proto[i]!;
    r.af = t.af[i] === AF_INET6 ? AF_INET6_SYNC : AF_INET_SYNC;
    r.protocol = proto;
    r.flags = connFlagsToSync(t.flags[i]!);
    // an app's sequence offsets (FTP through NAT): the kernel's IN_SEQ/OUT_SEQ flags and the sequence-data option
    if ((t.flags[i]! & CONN_F_APP) !== 0) {
      const a = t.apps;
      const sf = a.seqFlags[i]!;
      if (sf !== 0) {
        if (sf & SEQ_IN) r.flags |= IP_VS_CONN_F_IN_SEQ;
        if (sf & SEQ_OUT) r.flags |= IP_VS_CONN_F_OUT_SEQ;
        r.inSeqInit = a.inInit[i]!;
        r.inSeqDelta = a.inDelta[i]! >>> 0;
        r.inSeqPrevDelta = a.inPrev[i]! >>> 0;
        r.outSeqInit = a.outInit[i]!;
        r.outSeqDelta = a.outDelta[i]! >>> 0;
        r.outSeqPrevDelta = a.outPrev[i]! >>> 0;
      }
    }
    const st = connStateToSync(proto, t.state[i]!, template);
    r.state = st < 0 ? 0 : st;
    r.cport = t.cport[i]!;
    r.vport = t.vport[i]!;
    r.dport = t.dport[i]!;
    r.fwmark = t.svc(i).fwmark >>> 0;
    r.timeout = Math.floor(t.timeout[i]! / 1000);
    if (r.af === AF_INET6_SYNC) {
      const o = i * 4;
      for (let k = 0; k < 4; k++) {
        r.caddr6[k] = t.caddr6[o + k]!;
        r.vaddr6[k] = t.vaddr6[o + k]!;
        r.daddr6[k] = t.daddr6[o + k]!;
      }
    } else {
      r.caddr = t.caddr[i]!;
      r.vaddr = t.vaddr[i]!;
      r.daddr = t.daddr[i]!;
    }
    return r;
  }

  /** Sends the message being filled, if it has records. */
  flush(now: number): void {
    const m = this.master;
    if (!m || m.writer.empty) return;
    const msg = m.writer.message();
    this.d.host.sendLocal(m.port.index, m.src, m.cfg.mcastGroup, IPPROTO_UDP, m.cfg.mcastTtl, 0, msg, 0, msg.length, m.sport, m.cfg.mcastPort, now);
    m.counters.messages++;
    m.counters.conns += m.writer.count;
    m.writer.reset();
  }

  /** Timers: a message that has waited IPVS_SYNC_FLUSH_MS since its first record goes out. */
  tick(now: number): void {
    const m = this.master;
    if (m && !m.writer.empty && now - m.firstUse >= IPVS_SYNC_FLUSH_MS) this.flush(now);
  }

  // ------------------------------------------------------------ backup

  private receive(pkt: Packet, off: number, len: number): void {
    const b = this.backup;
    if (!b || pkt.port !== b.port || pkt.dst !== b.cfg.mcastGroup) return;
    const r = this.reader;
    if (r.readHeader(pkt.buf, off, len) !== WIRE_OK) {
      b.counters.dropped++;
      return;
    }
    if (b.cfg.syncid !== 0 && r.syncid !== b.cfg.syncid) {
      b.counters.dropped++;
      return;
    }
    const now = pkt.now;
    const rc = r.read(pkt.buf, off, len, (c) => this.proc(b, c, r.version, now));
    b.counters.messages++;
    b.counters.skippedProto += r.skipped;
    if (rc !== WIRE_OK) b.counters.truncated++;
  }

  /** ip_vs_proc_sync_conn + ip_vs_proc_conn for one record. */
  private proc(b: Backup, c: IpvsSyncConn, version: number, now: number): void {
    const k = b.counters;
    k.conns++;
    const d = this.d;
    const t = d.conns;
    let flags = version === 1 ? c.flags & IP_VS_CONN_F_BACKUP_MASK : c.flags & ~IP_VS_CONN_F_HASHED;
    const template = (flags & IP_VS_CONN_F_TEMPLATE) !== 0;
    let state = c.state;
    if (!template) {
      const count = ipvsSyncStateCount(c.protocol);
      if (count === 0 || protoOps(c.protocol) === undefined) {
        k.skippedProto++;
        return;
      }
      if (state >= count) {
        k.skippedState++;
        return;
      }
      state = syncStateToConn(c.protocol, state);
      if (state < 0) {
        k.skippedState++;
        return;
      }
    } else if (state >= IP_VS_CTPL_S_LAST) {
      state = 0; // the kernel only notes it
    }
    const inactive = (flags & IP_VS_CONN_F_INACTIVE) !== 0;
    const v6 = c.af === AF_INET6_SYNC;
    const proto = c.protocol;
    let slot: number;
    if (v6) {
      slot = template
        ? t.lookupTemplate6(proto, c.caddr6, 0, c.vaddr6, 0, c.vport, now)
        : t.lookupIn6(proto, c.caddr6, 0, c.cport, c.vaddr6, 0, c.vport, now);
    } else {
      slot = template ? t.lookupTemplate(proto, c.caddr, c.vaddr, c.vport, now) : t.lookupIn(proto, c.caddr, c.cport, c.vaddr, c.vport, now);
    }
    if (slot >= 0 && !template && !this.sameDest(slot, c, v6)) {
      if (inactive) {
        // the expiry of a conn the master has already replaced: ignored
        k.replacedIgnored++;
        return;
      }
      t.expireNow(slot, now);
      k.replaced++;
      slot = -1;
    }
    let timeoutMs: number;
    if (c.timeout !== 0) timeoutMs = Math.min(c.timeout, MAX_SYNC_TIMEOUT_S) * 1000;
    else timeoutMs = template ? V0_TEMPLATE_TIMEOUT_MS : t.timeouts.of(proto, state);
    if (slot >= 0) {
      k.updated++;
    } else {
      const svc = this.serviceOf(c, v6);
      const dest = svc === undefined ? undefined : this.destOf(svc, c, v6, flags);
      if (dest === undefined) {
        k.noDest++;
        return;
      }
      const tf = template ? CONN_F_TEMPLATE : 0;
      slot = v6
        ? t.create6(proto, c.caddr6, 0, c.cport, c.vaddr6, 0, c.vport, dest, c.dport, tf, -1, timeoutMs, now)
        : t.create(proto, c.caddr, c.cport, c.vaddr, c.vport, dest, c.dport, tf, -1, timeoutMs, now);
      if (slot < 0) {
        k.tableFull++;
        return;
      }
      k.created++;
    }
    t.syncApply(slot, state, template ? false : inactive, timeoutMs, now);
    t.inPkts[slot] = this.settings.syncThreshold;
    // the sequence offsets, for a conn the app is bound to here too (ip_vs_proc_conn copies in_seq/out_seq)
    if (c.hasSeq && (t.flags[slot]! & CONN_F_APP) !== 0) {
      const a = t.apps;
      a.seqFlags[slot] = ((flags & IP_VS_CONN_F_IN_SEQ) !== 0 ? SEQ_IN : 0) | ((flags & IP_VS_CONN_F_OUT_SEQ) !== 0 ? SEQ_OUT : 0);
      a.inInit[slot] = c.inSeqInit >>> 0;
      a.inDelta[slot] = c.inSeqDelta | 0;
      a.inPrev[slot] = c.inSeqPrevDelta | 0;
      a.outInit[slot] = c.outSeqInit >>> 0;
      a.outDelta[slot] = c.outSeqDelta | 0;
      a.outPrev[slot] = c.outSeqPrevDelta | 0;
    }
  }

  private sameDest(slot: number, c: IpvsSyncConn, v6: boolean): boolean {
    const t = this.d.conns;
    if (t.dport[slot] !== c.dport) return false;
    if (!v6) return t.daddr[slot] === c.daddr >>> 0;
    const o = slot * 4;
    return t.daddr6[o] === c.daddr6[0] && t.daddr6[o + 1] === c.daddr6[1] && t.daddr6[o + 2] === c.daddr6[2] && t.daddr6[o + 3] === c.daddr6[3];
  }

  /** ip_vs_service_find: the fwmark service when the record has a mark, else proto/VIP/port, else the VIP's persistent port-0 service. */
  private serviceOf(c: IpvsSyncConn, v6: boolean): Service | undefined {
    const s = this.d.services;
    if (c.fwmark !== 0) return s.getByMark(c.fwmark, v6 ? AF_INET6 : AF_INET);
    if (v6) {
      const svc = s.get6(c.protocol, c.vaddr6, c.vport);
      if (svc) return svc;
      const wild = s.get6(c.protocol, c.vaddr6, 0);
      return wild?.persistent ? wild : undefined;
    }
    const svc = s.get(c.protocol, c.vaddr, c.vport);
    if (svc) return svc;
    const wild = s.get(c.protocol, c.vaddr, 0);
    return wild?.persistent ? wild : undefined;
  }

  /** ip_vs_find_dest: the real server at daddr:dport (a fwmark DR/TUN server at port 0), else at the other of the two. */
  private destOf(svc: Service, c: IpvsSyncConn, v6: boolean, flags: number): ReturnType<Service['findDest']> {
    let port = c.dport;
    if (c.fwmark !== 0 && (flags & IP_VS_CONN_F_FWD_MASK) !== IP_VS_CONN_F_MASQ) port = 0;
    const a6 = v6 ? c.daddr6 : undefined;
    return svc.findDest(c.daddr >>> 0, port, a6) ?? svc.findDest(c.daddr >>> 0, port ^ c.dport, a6);
  }

  /** What runs, with its counters (tapvs vrrp --json, metrics). */
  describe(): object {
    const m = this.master;
    const b = this.backup;
    return {
      master: m ? { ...m.cfg, sport: m.sport, pending: m.writer.count, counters: { ...m.counters } } : null,
      backup: b ? { ...b.cfg, counters: { ...b.counters } } : null,
      settings: { ...this.settings },
    };
  }
}
