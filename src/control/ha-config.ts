// The high-availability lines of a tapvs config file (docs in the README,
// "A high-availability pair"):
//
//   vrrp NAME port=PORT vrid=N priority=N vip=ADDR... [excluded=ADDR...]
//        [version=3|2] [advert=1s] [preempt=on|off] [preempt_delay=0s]
//        [garp_repeat=5] [garp_delay=5s]
//   sync master|backup port=PORT [syncid=N] [maxlen=N] [group=ADDR] [mcast_port=N] [ttl=N]
//   sync follow VRRP_NAME port=PORT [the same keys]
//   option sync_threshold 3 | sync_period 50 | sync_refresh_period 0 | sync_retries 0
//          | sync_version 1 | sync_persist_mode 0 | backup_only 0
//
// `sync master|backup` starts a daemon with the director, as `ipvsadm
// --start-daemon` would; `sync follow` is keepalived's lvs_sync_daemon: the
// daemon is master while the instance is, backup otherwise (syncid: the
// VRID unless given). Every VRRP address must be a VIP of the config (a
// `vip` line says which port answers for it).
import { isIp, parseIp } from '../wire/addr.js';
import { emptyHaConfig, type HaConfig, type SyncDaemonSpec, type SyncSettings, type VrrpInstanceConfig } from '../model/ha.js';

export const HA_DIRECTIVES = ['vrrp', 'sync'];

export const SYNC_OPTION_NAMES = ['sync_threshold', 'sync_period', 'sync_refresh_period', 'sync_retries', 'sync_version', 'sync_persist_mode', 'backup_only'];

type Err = (message: string, line?: number) => void;

function num(s: string | undefined, min: number, max: number): number | null {
  if (s === undefined || !/^[0-9]+$/.test(s)) return null;
  const n = Number(s);
  return n >= min && n <= max ? n : null;
}

/** "1s", "500ms", "2", a bare number of seconds: ms; null if not one. */
function duration(s: string): number | null {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)?$/.exec(s);
  if (!m) return null;
  const v = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(v * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60000));
}

function bool(s: string): boolean | null {
  if (['1', 'yes', 'true', 'on'].includes(s)) return true;
  if (['0', 'no', 'false', 'off'].includes(s)) return false;
  return null;
}

const NAME = /^[A-Za-z0-9_.-]{1,32}$/;

/** Parses key=value words; returns null (and reports) on a word it does not take. */
function keyValues(words: string[], allowed: string[], repeatable: string[], err: Err): Map<string, string[]> | null {
  const kv = new Map<string, string[]>();
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq <= 0) {
      err(`unexpected word '${w}' (expected key=value: ${allowed.join(', ')})`);
      return null;
    }
    const k = w.slice(0, eq);
    if (!allowed.includes(k)) {
      err(`unknown key '${k}' (known: ${allowed.join(', ')})`);
      return null;
    }
    const list = kv.get(k) ?? [];
    if (list.length > 0 && !repeatable.includes(k)) {
      err(`'${k}' given twice`);
      return null;
    }
    list.push(w.slice(eq + 1));
    kv.set(k, list);
  }
  return kv;
}

export class HaConfigParser {
  private readonly cfg: HaConfig = emptyHaConfig();
  private readonly seen = new Map<string, number>();

  /** A `vrrp` or `sync` line (words after the directive). */
  line(head: string, words: string[], line: number, err: Err): void {
    if (head === 'vrrp') this.vrrp(words, line, err);
    else this.sync(words, line, err);
  }

  private vrrp(words: string[], line: number, err: Err): void {
    const name = words[0];
    if (!name || name.includes('=')) return err('vrrp needs a name: vrrp VI_1 port=outside vrid=51 priority=100 vip=10.0.0.100');
    if (!NAME.test(name)) return err(`illegal vrrp instance name '${name}'`);
    const prev = this.cfg.vrrp.find((v) => v.name === name);
    if (prev) return err(`vrrp instance '${name}' is already defined (line ${prev.line})`);
    const kv = keyValues(words.slice(1), ['port', 'vrid', 'priority', 'version', 'advert', 'preempt', 'preempt_delay', 'vip', 'excluded', 'garp_repeat', 'garp_delay'],
      ['vip', 'excluded'], err);
    if (!kv) return;
    const get = (k: string): string | undefined => kv.get(k)?.[0];
    const port = get('port');
    if (!port) return err(`vrrp ${name} needs port=PORT (where its adverts go and come)`);
    const vrid = num(get('vrid'), 1, 255);
    if (vrid === null) return err(`vrrp ${name}: vrid must be 1..255`);
    const priority = get('priority') === undefined ? 100 : num(get('priority'), 1, 255);
    if (priority === null) return err(`vrrp ${name}: priority must be 1..255 (255: the address owner)`);
    const version = get('version') === undefined ? 3 : num(get('version'), 2, 3);
    if (version === null) return err(`vrrp ${name}: version must be 2 or 3`);
    const adv = get('advert') === undefined ? 1000 : duration(get('advert')!);
    let intervalCs: number;
    if (version === 2) {
      if (adv === null || adv % 1000 !== 0 || adv < 1000 || adv > 255_000) return err(`vrrp ${name}: a VRRPv2 advert interval is whole seconds, 1s..255s`);
      intervalCs = adv / 10;
    } else {
      if (adv === null || adv % 10 !== 0 || adv < 10 || adv > 40_950) return err(`vrrp ${name}: a VRRPv3 advert interval is 10ms..40.95s in steps of 10ms (centiseconds)`);
      intervalCs = adv / 10;
    }
    const preempt = get('preempt') === undefined ? true : bool(get('preempt')!);
    if (preempt === null) return err(`vrrp ${name}: preempt must be on or off`);
    const delay = get('preempt_delay') === undefined ? 0 : duration(get('preempt_delay')!);
    if (delay === null || delay > 1_000_000) return err(`vrrp ${name}: preempt_delay is a duration up to 1000s`);
    const garpRepeat = get('garp_repeat') === undefined ? 5 : num(get('garp_repeat'), 1, 255);
    if (garpRepeat === null) return err(`vrrp ${name}: garp_repeat must be 1..255`);
    const garpDelay = get('garp_delay') === undefined ? 5000 : duration(get('garp_delay')!);
    if (garpDelay === null) return err(`vrrp ${name}: garp_delay is a duration (0 for none)`);
    const addrs: number[] = [];
    const excluded: number[] = [];
    for (const [k, out] of [['vip', addrs], ['excluded', excluded]] as const) {
      for (const a of kv.get(k) ?? []) {
        if (!isIp(a)) return err(`vrrp ${name}: ${k}=${a} is not an IPv4 address (VRRP in tapvs moves IPv4 VIPs)`);
        const n = parseIp(a) >>> 0;
        if (addrs.includes(n) || excluded.includes(n)) return err(`vrrp ${name}: ${a} given twice`);
        out.push(n);
      }
    }
    if (addrs.length === 0) return err(`vrrp ${name} needs at least one vip=ADDR (the addresses in its adverts)`);
    if (addrs.length > 255) return err(`vrrp ${name}: an advert carries at most 255 addresses`);
    const v: VrrpInstanceConfig = {
      name, vrid, priority, version: version as 2 | 3, intervalCs, preempt, preemptDelayMs: delay, port, addrs, excluded,
      garpRepeat, garpDelayMs: garpDelay, line,
    };
    this.cfg.vrrp.push(v);
  }

  private sync(words: string[], line: number, err: Err): void {
    const kind = words[0];
    let rest = words.slice(1);
    let follow: string | undefined;
    if (kind === 'follow') {
      follow = rest[0];
      if (!follow || follow.includes('=')) return err('usage: sync follow VRRP_INSTANCE port=PORT [syncid=N] ...');
      rest = rest.slice(1);
    } else if (kind !== 'master' && kind !== 'backup') {
      return err('usage: sync master|backup port=PORT [syncid=N] [maxlen=N] [group=ADDR] [mcast_port=N] [ttl=N], or sync follow VRRP_INSTANCE port=PORT ...');
    }
    const kv = keyValues(rest, ['port', 'syncid', 'maxlen', 'group', 'mcast_port', 'ttl'], [], err);
    if (!kv) return;
    const get = (k: string): string | undefined => kv.get(k)?.[0];
    const port = get('port');
    if (!port) return err('sync needs port=PORT (the mcast interface)');
    const spec: Omit<SyncDaemonSpec, 'state'> = { mcastIfn: port };
    const n = (k: string, min: number, max: number, what: string): boolean => {
      const t = get(k);
      if (t === undefined) return true;
      const v = num(t, min, max);
      if (v === null) {
        err(`sync: ${k} must be ${min}..${max} (${what})`);
        return false;
      }
      (spec as Record<string, unknown>)[k === 'maxlen' ? 'syncMaxlen' : k === 'mcast_port' ? 'mcastPort' : k === 'ttl' ? 'mcastTtl' : 'syncid'] = v;
      return true;
    };
    if (!n('syncid', 0, 255, 'ipvsadm --syncid') || !n('maxlen', 1, 65535 - 20 - 8, '--sync-maxlen') ||
      !n('mcast_port', 1, 65535, '--mcast-port') || !n('ttl', 1, 255, '--mcast-ttl')) return;
    const g = get('group');
    if (g !== undefined) {
      if (!isIp(g)) return err(`sync: group=${g} is not an IPv4 address (tapvs sends sync messages over IPv4)`);
      const a = parseIp(g) >>> 0;
      if (a >>> 28 !== 0xe) return err(`sync: group ${g} is not a multicast address`);
      spec.mcastGroup = a;
    }
    if (follow !== undefined) {
      if (this.cfg.syncFollow) return err(`sync follow is already set (line ${this.cfg.syncFollow.line})`);
      this.cfg.syncFollow = { instance: follow, spec, line };
      return;
    }
    const state = kind as 'master' | 'backup';
    const prev = this.seen.get(`sync ${state}`);
    if (prev !== undefined) return err(`a ${state} sync daemon is already set (line ${prev})`);
    this.seen.set(`sync ${state}`, line);
    this.cfg.sync.push({ ...spec, state });
  }

  /** `option NAME VALUE` for a sync sysctl (SYNC_OPTION_NAMES). */
  option(name: string, value: string, err: Err): void {
    const s = this.cfg.syncSettings;
    const set = (k: keyof SyncSettings, v: number | boolean | null, what: string): void => {
      if (v === null) err(`option ${name}: '${value}' ${what}`);
      else (s as Record<string, unknown>)[k] = v;
    };
    switch (name) {
      case 'sync_threshold': return set('syncThreshold', num(value, 0, 0x7fffffff), 'is not a packet count');
      case 'sync_period': return set('syncPeriod', num(value, 0, 0x7fffffff), 'is not a packet count (0: sync once)');
      case 'sync_refresh_period': return set('syncRefreshPeriod', num(value, 0, 0x7fffffff), 'is not a number of seconds');
      case 'sync_retries': return set('syncRetries', num(value, 0, 3), 'is not 0..3');
      case 'sync_version': return set('syncVersion', num(value, 0, 1), 'is not 0 or 1');
      case 'sync_persist_mode': return set('syncPersistMode', bool(value), 'is not a boolean');
      case 'backup_only': return set('backupOnly', bool(value), 'is not a boolean');
    }
  }

  /**
   * The checks that need the whole file: the ports and VIPs named exist, a
   * followed instance exists, VRIDs are unique per port, the kernel's rule
   * that sync_threshold is below sync_period.
   */
  finish(ports: readonly { name: string; addrs: unknown[] }[], vips: readonly { addr: number; addr6?: unknown }[], err: Err): void {
    const portNames = new Set(ports.map((p) => p.name));
    const vipSet = new Set(vips.filter((v) => v.addr6 === undefined).map((v) => v.addr >>> 0));
    const byPortVrid = new Map<string, string>();
    for (const v of this.cfg.vrrp) {
      if (!portNames.has(v.port)) err(`vrrp ${v.name}: no port '${v.port}'`, v.line);
      else if (ports.find((p) => p.name === v.port)!.addrs.length === 0) err(`vrrp ${v.name}: port '${v.port}' has no IPv4 address to advertise from`, v.line);
      for (const a of [...v.addrs, ...v.excluded]) {
        if (!vipSet.has(a)) err(`vrrp ${v.name}: ${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255} is not a VIP: add 'vip ADDR on PORT' for it`, v.line);
      }
      const k = `${v.port}/${v.vrid}`;
      const other = byPortVrid.get(k);
      if (other) err(`vrrp ${v.name}: vrid ${v.vrid} on ${v.port} is already ${other}'s`, v.line);
      byPortVrid.set(k, v.name);
    }
    for (const v of this.cfg.vrrp) for (const w of this.cfg.vrrp) {
      if (v !== w && v.line! < w.line! && [...v.addrs, ...v.excluded].some((a) => w.addrs.includes(a) || w.excluded.includes(a))) {
        err(`vrrp ${w.name}: an address of ${v.name} (line ${v.line}) again: an address moves with one instance`, w.line);
      }
    }
    const f = this.cfg.syncFollow;
    if (f) {
      if (!this.cfg.vrrp.some((v) => v.name === f.instance)) err(`sync follow: no vrrp instance '${f.instance}'`, f.line);
      if (this.cfg.sync.length > 0) err(`sync follow starts and stops the daemons itself: leave out the sync master/backup lines`, f.line);
    }
    for (const spec of [...this.cfg.sync, ...(f ? [f.spec] : [])]) {
      if (!portNames.has(spec.mcastIfn)) err(`sync: no port '${spec.mcastIfn}'`, f?.line);
    }
    const s = this.cfg.syncSettings;
    const th = s.syncThreshold ?? 3;
    const pe = s.syncPeriod ?? 50;
    if (pe > 0 && th >= pe) err(`option sync_threshold ${th} must be below sync_period ${pe} (the kernel refuses it)`);
  }

  /** The HA part of the config, or undefined when the file has none. */
  result(): HaConfig | undefined {
    const c = this.cfg;
    return c.vrrp.length + c.sync.length > 0 || c.syncFollow || Object.keys(c.syncSettings).length > 0 ? c : undefined;
  }
}
